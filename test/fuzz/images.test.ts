// Fuzzing the image reader (PNG through pngjs, JPEG through jpeg-js, behind our header checks): byte mutations,
// truncation, and header sizes that lie (with the PNG chunk CRCs recomputed so the lie reaches our checks, not
// only the CRC check). A file must either fail with a plain Error naming it, or decode to the size its header
// declares with the pixels an independent decode of the same bytes gives.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { readImageFile } from "../../src/node/data/index.js";
import { resizeBilinear } from "../../src/data/resize.js";
import { FUZZ_TIMEOUT, assertClean, fuzz, FUZZ_CASES, mutateBytes, type FuzzRng } from "./harness.js";

function png(width: number, height: number, colorType: 0 | 2 | 4 | 6): Uint8Array {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height * 4; i++) image.data[i] = (i * 53) % 256;
  return new Uint8Array(PNG.sync.write(image, { colorType }));
}

function jpg(width: number, height: number): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 29) % 256;
  return new Uint8Array(jpeg.encode({ data, width, height }, 80).data);
}

const SEEDS: { bytes: Uint8Array; ext: string }[] = [
  { bytes: png(7, 5, 6), ext: ".png" },
  { bytes: png(9, 4, 2), ext: ".png" },
  { bytes: png(6, 6, 0), ext: ".png" },
  { bytes: png(5, 3, 4), ext: ".png" },
  { bytes: jpg(16, 8), ext: ".jpg" },
];

/** Recomputes every PNG chunk CRC, so a mutation inside a chunk is seen by the decoder, not only by the CRC. */
function fixCrcs(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  for (let at = 8; at + 12 <= out.length;) {
    const length = view.getUint32(at);
    if (at + 12 + length > out.length) break;
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)) >>> 0);
    at += 12 + length;
  }
  return out;
}

function mutate(rng: FuzzRng): { bytes: Uint8Array; ext: string; what: string } {
  const seed = rng.pick(SEEDS);
  const isPng = seed.ext === ".png";
  if (rng.next() < 0.3) {
    // A header size that lies: PNG IHDR (CRC fixed) or JPEG SOF.
    const out = seed.bytes.slice();
    const view = new DataView(out.buffer);
    const [w, h] = [
      rng.pick([1, 2, 100, 2000, 7000, 20000, 65535]),
      rng.pick([1, 3, 100, 2000, 6000, 65535]),
    ];
    if (isPng) {
      view.setUint32(16, w);
      view.setUint32(20, h);
    } else {
      const sof = out.findIndex((b, i) => b === 0xff && out[i + 1] === 0xc0);
      view.setUint16(sof + 5, h);
      view.setUint16(sof + 7, w);
    }
    return { bytes: isPng ? fixCrcs(out) : out, ext: seed.ext, what: `header says ${w}×${h}` };
  }
  const m = mutateBytes(rng, seed.bytes, isPng ? 40 : 200);
  const crc = isPng && rng.next() < 0.5;
  return {
    bytes: crc ? fixCrcs(m.bytes) : m.bytes,
    ext: seed.ext,
    what: `${m.what}${crc ? ", CRCs fixed" : ""}`,
  };
}

/** An independent decode of the same bytes (the decoders alone, strict), as CHW RGBA in [0, 1]. */
function reference(bytes: Uint8Array): { width: number; height: number; chw: Float32Array } {
  const isPng = bytes[0] === 0x89;
  const decoded = isPng
    ? PNG.sync.read(Buffer.from(bytes))
    : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
  const { width, height } = decoded;
  const rgba = decoded.data;
  const chw = new Float32Array(4 * width * height);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 4; c++) chw[c * width * height + p] = rgba[4 * p + c] / 255;
  }
  return { width, height, chw };
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "striate-fuzz-images-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test(
  `image folder: ${FUZZ_CASES} mutated PNG/JPEG files give clean errors naming the file or exact pixels`,
  FUZZ_TIMEOUT,
  async () => {
    const result = await fuzz("image folder (PNG/JPEG)", FUZZ_CASES, 9006, (rng, i) => {
      const { bytes, ext, what } = mutate(rng);
      const path = join(dir, `case-${i}${ext}`);
      // Half the cases resize down, which decodes a PNG row by row instead of through pngjs.
      const size = rng.next() < 0.5 ? ([2, 3] as const) : undefined;
      return {
        name: `case-${i}${ext}`,
        what: `${what}${size ? ", resized to 2×3" : ""}`,
        run: async () => {
          await writeFile(path, bytes);
          const got = await readImageFile(path, { channels: 4, size });
          const want = reference(bytes);
          assert.deepEqual([got.width, got.height], [want.width, want.height]);
          const chw = size ? resizeBilinear(want.chw, 4, want.height, want.width, ...size) : want.chw;
          assert.deepEqual(got.image, chw);
        },
      };
    });
    assertClean(result);
  },
);

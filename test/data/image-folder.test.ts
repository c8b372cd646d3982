// loadImageFolder on PNG and JPEG files written here with pngjs and jpeg-js: class folders in sorted order,
// pixel values read back per channel, grey and transparent sources, one-channel output, the size check naming
// the odd file, and resizing (checked against PyTorch's bilinear result for a known row).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { loadImageFolder, readImageFile } from "../../src/node/data/index.js";
import { resizeBilinear } from "../../src/data/resize.js";
import { crc32, deflateSync } from "node:zlib";

type Rgba = [number, number, number, number];

function pngRgba(width: number, height: number, pixel: (x: number, y: number) => Rgba): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) png.data.set(pixel(x, y), 4 * (y * width + x));
  }
  return PNG.sync.write(png, { colorType: 6 });
}

function pngGrey(width: number, height: number, grey: (x: number, y: number) => number): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(
    Array.from({ length: width * height }, (_, i) => grey(i % width, Math.floor(i / width))),
  );
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

function jpegConstant(width: number, height: number, rgb: [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([...rgb, 255], 4 * p);
  return jpeg.encode({ data, width, height }, 100).data;
}

// 3 wide, 2 high, every channel distinct.
const rgbPixel = (x: number, y: number): Rgba => [10 * x + 50 * y, 200 - 30 * x, 7 * y + x, 255];
const greyPixel = (x: number, y: number) => 40 * x + 100 * y;

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "striate-images-"));
  const root = join(dir, "two-classes");
  await mkdir(join(root, "b_dog"), { recursive: true });
  await mkdir(join(root, "a_cat", "nested"), { recursive: true });
  await writeFile(join(root, "a_cat", "1.png"), pngRgba(3, 2, rgbPixel));
  await writeFile(join(root, "a_cat", "2.png"), pngGrey(3, 2, greyPixel));
  await writeFile(join(root, "a_cat", "notes.txt"), "not an image");
  await writeFile(join(root, "b_dog", "1.jpg"), jpegConstant(3, 2, [200, 100, 50]));
  // Transparent in the left column, opaque red elsewhere.
  await writeFile(
    join(root, "b_dog", "3.PNG"),
    pngRgba(3, 2, (x) => [255, 0, 0, x === 0 ? 0 : 255]),
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const at = (images: Float32Array, shape: readonly number[], n: number, c: number, y: number, x: number) =>
  images[((n * shape[0] + c) * shape[1] + y) * shape[2] + x];

test("class sub-folders in sorted order, PNG and JPEG pixels in CHW, non-images skipped", async () => {
  assert.equal(PNG.sync.read(pngGrey(3, 2, greyPixel)).colorType, 0, "the grey file really is a grey PNG");
  const ds = await loadImageFolder(join(dir, "two-classes"));
  assert.deepEqual(ds.classes, ["a_cat", "b_dog"]);
  assert.deepEqual(ds.shape, [3, 2, 3]);
  assert.equal(ds.length, 4);
  assert.deepEqual([...ds.labels], [0, 0, 1, 1]);
  assert.deepEqual(
    ds.files.map((f) => f.slice(dir.length + 1)),
    [
      "two-classes/a_cat/1.png",
      "two-classes/a_cat/2.png",
      "two-classes/b_dog/1.jpg",
      "two-classes/b_dog/3.PNG",
    ],
  );
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) {
      const rgba = rgbPixel(x, y);
      for (let c = 0; c < 3; c++)
        assert.equal(at(ds.images, ds.shape, 0, c, y, x), Math.fround(rgba[c] / 255));
      // A grey PNG gives R = G = B.
      for (let c = 0; c < 3; c++)
        assert.equal(at(ds.images, ds.shape, 1, c, y, x), Math.fround(greyPixel(x, y) / 255));
      // JPEG at quality 100 of a flat colour decodes to within a couple of levels.
      [200, 100, 50].forEach((v, c) =>
        assert.ok(Math.abs(at(ds.images, ds.shape, 2, c, y, x) * 255 - v) <= 3),
      );
      // Alpha is dropped by default: the transparent pixels keep their stored red.
      assert.equal(at(ds.images, ds.shape, 3, 0, y, x), 1);
    }
  }
});

test("transparency composited over a background, grey and RGBA output", async () => {
  const white = await loadImageFolder(join(dir, "two-classes"), { background: 1 });
  // Left column was transparent: now white; the rest stays red.
  assert.deepEqual(
    [0, 1, 2].map((c) => at(white.images, white.shape, 3, c, 1, 0)),
    [1, 1, 1],
  );
  assert.deepEqual(
    [0, 1, 2].map((c) => at(white.images, white.shape, 3, c, 1, 2)),
    [1, 0, 0],
  );

  const grey = await loadImageFolder(join(dir, "two-classes"), { channels: 1 });
  assert.deepEqual(grey.shape, [1, 2, 3]);
  const [r, g, b] = rgbPixel(2, 1);
  assert.ok(
    Math.abs(at(grey.images, grey.shape, 0, 0, 1, 2) - (0.299 * r + 0.587 * g + 0.114 * b) / 255) < 1e-6,
  );
  assert.ok(Math.abs(at(grey.images, grey.shape, 1, 0, 1, 1) - greyPixel(1, 1) / 255) < 1e-6);

  const rgba = await loadImageFolder(join(dir, "two-classes"), { channels: 4 });
  assert.deepEqual(rgba.shape, [4, 2, 3]);
  assert.equal(at(rgba.images, rgba.shape, 3, 3, 0, 0), 0);
  assert.equal(at(rgba.images, rgba.shape, 3, 3, 0, 1), 1);
});

test("images of different sizes: an error naming the odd file, or a common size with { size }", async () => {
  const root = join(dir, "mixed");
  await mkdir(join(root, "only"), { recursive: true });
  await writeFile(
    join(root, "only", "a.png"),
    pngRgba(2, 1, (x) => [255 * x, 0, 0, 255]),
  );
  await writeFile(join(root, "only", "b.jpg"), jpegConstant(5, 4, [30, 60, 90]));
  await assert.rejects(loadImageFolder(root), (error: Error) => {
    assert.match(error.message, /only\/b\.jpg is 5×4 but .*only\/a\.png is 2×1/);
    assert.match(error.message, /pass \{ size \}/);
    return true;
  });
  const ds = await loadImageFolder(root, { size: [1, 4] });
  assert.deepEqual(ds.shape, [3, 1, 4]);
  // torch.nn.functional.interpolate([[0, 1]], size=4, mode="linear"/"bilinear", align_corners=False)
  // is [0, 0.25, 0.75, 1].
  assert.deepEqual([...ds.images.subarray(0, 4)], [0, 0.25, 0.75, 1]);
  // A flat colour stays flat under resizing.
  for (let c = 0; c < 3; c++) {
    for (let x = 0; x < 4; x++)
      assert.ok(Math.abs(at(ds.images, ds.shape, 1, c, 0, x) * 255 - 30 * (c + 1)) <= 3);
  }
});

test("missing folder, empty folder and undecodable files give clear errors", async () => {
  await assert.rejects(
    loadImageFolder(join(dir, "none")),
    /folder .*none does not exist; expected one sub-folder of images per class/,
  );
  const empty = join(dir, "empty");
  await mkdir(join(empty, "cls"), { recursive: true });
  await assert.rejects(
    loadImageFolder(empty),
    /no \.png, \.jpg or \.jpeg files in the class folders .*\(cls\)/,
  );
  await writeFile(join(empty, "cls", "broken.png"), "definitely not a png");
  await assert.rejects(
    loadImageFolder(empty),
    /cls\/broken\.png: not a PNG or JPEG image \(it starts with 64 65 66 69 6e 69 74 65\)$/,
  );
});

// Issue 9 defect 6: dimensions come from the header and are checked before decoding; data must match them.

/** A copy of `png` with its IHDR width and height replaced (CRC recomputed, so only the sizes lie). */
function withDeclaredSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)) >>> 0, 29);
  return out;
}

async function writeImage(name: string, bytes: Uint8Array | string): Promise<string> {
  const folder = join(dir, "single");
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, name), bytes);
  return join(folder, name);
}

test("a PNG declaring 20000×20000 is refused from its header, before decoding; maxPixels raises the limit", async () => {
  const small = pngRgba(8, 8, rgbPixel);
  const path = await writeImage("huge.png", withDeclaredSize(small, 20000, 20000));
  await assert.rejects(
    readImageFile(path),
    /huge\.png: PNG of 20000×20000 = 400000000 pixels exceeds maxPixels 40000000 \(raise it with the maxPixels option\)/,
  );
  const ok = await writeImage("ok.png", small);
  await assert.rejects(readImageFile(ok, { maxPixels: 63 }), /8×8 = 64 pixels exceeds maxPixels 63/);
  assert.equal((await readImageFile(ok, { maxPixels: 64 })).width, 8);
});

test("a PNG whose header says 2000×2000 but whose data holds 8×8 is an error, not silent zeros", async () => {
  const path = await writeImage("liar.png", withDeclaredSize(pngRgba(8, 8, rgbPixel), 2000, 2000));
  await assert.rejects(
    readImageFile(path),
    /liar\.png: PNG data holds 264 bytes but its 2000×2000 header needs 16002000 \(truncated or corrupt\)/,
  );
  const truncated = await writeImage("cut.png", pngRgba(8, 8, rgbPixel).subarray(0, 60));
  await assert.rejects(readImageFile(truncated), /cut\.png: PNG is truncated/);
});

test("a JPEG header claiming 8000×8000 is refused before decoding; truncated JPEG data is an error", async () => {
  const jpg = Buffer.from(jpegConstant(16, 16, [10, 20, 30]));
  const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
  const big = Buffer.from(jpg);
  big.writeUInt16BE(8000, sof + 5);
  big.writeUInt16BE(8000, sof + 7);
  await assert.rejects(
    readImageFile(await writeImage("big.jpg", big), { maxPixels: 1e6 }),
    /big\.jpg: JPEG of 8000×8000 = 64000000 pixels exceeds maxPixels 1000000/,
  );
  await assert.rejects(
    readImageFile(await writeImage("cut.jpg", jpg.subarray(0, jpg.length - 200))),
    /cut\.jpg could not be decoded as JPEG/,
  );
  // The format comes from the signature, not the extension.
  const named = await readImageFile(await writeImage("really-a-jpeg.png", jpg));
  assert.equal(named.width, 16);
});

test("resizing straight from the decoded bytes equals converting then resizeBilinear", async () => {
  const path = await writeImage(
    "grad.png",
    pngRgba(37, 23, (x, y) => [7 * x, 11 * y, (x * y) % 256, 128 + x]),
  );
  const full = await readImageFile(path, { channels: 4 });
  for (const channels of [1, 3, 4] as const) {
    const whole = await readImageFile(path, { channels, background: 0.25 });
    const resized = await readImageFile(path, { channels, background: 0.25, size: [5, 9] });
    assert.deepEqual([...resized.image], [...resizeBilinear(whole.image, channels, 23, 37, 5, 9)]);
  }
  assert.equal(full.image.length, 4 * 37 * 23);
});

test("a JPEG too small to hold its declared size is refused before the decoder allocates for it", async () => {
  const jpg = Buffer.from(jpegConstant(16, 16, [10, 20, 30]));
  const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
  jpg.writeUInt16BE(6000, sof + 5);
  jpg.writeUInt16BE(6000, sof + 7);
  await assert.rejects(
    readImageFile(await writeImage("liar.jpg", jpg)),
    new RegExp(`liar\\.jpg: JPEG of ${jpg.length} bytes is too small to hold 6000×6000 pixels`),
  );
});

/**
 * An 8-bit PNG built by hand (pngjs writes neither interlaced nor palette images): samples per pixel from
 * `pixel`, every row stored with filter None, optionally Adam7-interlaced, with extra chunks (PLTE, tRNS)
 * before the image data.
 */
function handPng(
  width: number,
  height: number,
  pixel: (x: number, y: number) => number[],
  options: { colorType?: number; interlace?: boolean; chunks?: [string, Buffer][] } = {},
): Buffer {
  const passes = options.interlace
    ? [
        [0, 0, 8, 8],
        [4, 0, 8, 8],
        [0, 4, 4, 8],
        [2, 0, 4, 4],
        [0, 2, 2, 4],
        [1, 0, 2, 2],
        [0, 1, 1, 2],
      ]
    : [[0, 0, 1, 1]];
  const raw: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    for (let y = y0; y < height; y += dy) {
      if (x0 >= width) break;
      raw.push(0); // filter type None
      for (let x = x0; x < width; x += dx) raw.push(...pixel(x, y));
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, options.colorType ?? 2, 0, 0, options.interlace ? 1 : 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...(options.chunks ?? []).map(([type, data]) => chunk(type, data)),
    chunk("IDAT", deflateSync(Buffer.from(raw))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const interlacedPng = (width: number, height: number, pixel: (x: number, y: number) => number[]): Buffer =>
  handPng(width, height, pixel, { interlace: true });

test("an interlaced PNG passes the data-size check (Adam7 passes counted) and decodes to its pixels", async () => {
  const pixel = (x: number, y: number) => [20 * x, 30 * y, (x * y) % 256];
  for (const [w, h] of [
    [13, 7],
    [1, 1],
    [3, 9],
  ]) {
    const path = await writeImage(`interlaced-${w}x${h}.png`, interlacedPng(w, h, pixel));
    const { image, width, height } = await readImageFile(path);
    assert.deepEqual([width, height], [w, h]);
    for (let p = 0; p < w * h; p++) {
      const [r, g, b] = pixel(p % w, Math.floor(p / w));
      assert.deepEqual(
        [image[p], image[w * h + p], image[2 * w * h + p]],
        [r, g, b].map((v) => Math.fround(v / 255)),
      );
    }
    const cut = interlacedPng(w, h, pixel);
    await assert.rejects(
      readImageFile(await writeImage("cut-interlaced.png", withDeclaredSize(cut, w + 1, h))),
      /PNG data holds \d+ bytes but its/,
    );
  }
});

test("resizing a PNG down decodes it row by row, equal to pngjs's full decode then resizeBilinear", async () => {
  // Every colour type pngjs writes, with each of PNG's five row filters forced, plus a hand-built palette PNG
  // with per-entry transparency.
  const noisy = (x: number, y: number): Rgba => [
    (x * 37 + y * 11) % 256,
    (x * y * 7) % 256,
    (x + 3 * y) % 256,
    (x * 13 + y) % 256,
  ];
  const files: [string, Buffer][] = [];
  for (const colorType of [0, 2, 4, 6] as const) {
    for (const filterType of [0, 1, 2, 3, 4]) {
      const image = new PNG({ width: 23, height: 19 });
      for (let y = 0; y < 19; y++) for (let x = 0; x < 23; x++) image.data.set(noisy(x, y), 4 * (y * 23 + x));
      files.push([`ct${colorType}-f${filterType}.png`, PNG.sync.write(image, { colorType, filterType })]);
    }
  }
  const palette = Buffer.from([0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30]);
  const alphas = Buffer.from([255, 128, 0]);
  files.push([
    "palette.png",
    handPng(23, 19, (x, y) => [(x + y) % 4 === 3 ? 2 : (x + y) % 3], {
      colorType: 3,
      chunks: [
        ["PLTE", palette],
        ["tRNS", alphas],
      ],
    }),
  ]);
  for (const [name, bytes] of files) {
    const path = await writeImage(name, bytes);
    const whole = await readImageFile(path, { channels: 4 });
    const small = await readImageFile(path, { channels: 4, size: [6, 9] });
    assert.deepEqual([...small.image], [...resizeBilinear(whole.image, 4, 19, 23, 6, 9)], name);
  }
  // A palette index past the palette's end is an error on both paths.
  const bad = await writeImage(
    "bad-index.png",
    handPng(23, 19, () => [7], { colorType: 3, chunks: [["PLTE", palette]] }),
  );
  await assert.rejects(
    readImageFile(bad, { size: [6, 9] }),
    /bad-index\.png: PNG palette index 7 is outside the 4-colour palette/,
  );
  await assert.rejects(
    readImageFile(bad),
    /bad-index\.png could not be decoded as PNG \(index 7 not in palette\)/,
  );
});

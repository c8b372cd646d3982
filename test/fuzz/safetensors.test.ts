// Fuzzing the safetensors reader with byte-level mutations (truncation, flips, huge lengths) and header-level
// ones (fields with wrong types, renamed or deleted, deep nesting), on files written by our encoder and by the
// Python safetensors library (test/fixtures/interop). A file that still decodes must satisfy the format's
// invariants and hold exactly the values an independent reading of its bytes gives.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { tensor } from "../../src/index.js";
import {
  FUZZ_TIMEOUT,
  assertClean,
  deepText,
  fuzz,
  FUZZ_CASES,
  mutateBytes,
  mutateJson,
  type FuzzRng,
} from "./harness.js";

const interop = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "interop");
const SEEDS: Uint8Array[] = [
  encodeSafetensors(
    {
      w: tensor([0.0924, -1, 2.5, 3, 4, 5], [2, 3]),
      i: tensor(new Int32Array([7, -8]), [2]),
      d: tensor([0.25], [1], { dtype: "float64" }),
    },
    { format: "pt" },
  ),
  new Uint8Array(readFileSync(join(interop, "resnet_bn.safetensors"))),
  new Uint8Array(readFileSync(join(interop, "resnet_bn_f16.safetensors"))),
];

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
}

/** Re-serialises a (mutated) header in front of the original data, with a correct length field. */
function withHeader(header: unknown, data: Uint8Array, padding: number): Uint8Array {
  return withHeaderText(JSON.stringify(header) + " ".repeat(padding), data);
}

function withHeaderText(text: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function mutate(rng: FuzzRng): { bytes: Uint8Array; what: string } {
  const seed = rng.pick(SEEDS);
  const n = headerLength(seed);
  if (rng.next() < 0.5) return mutateBytes(rng, seed, 8 + n);
  if (rng.next() < 0.1) {
    // 100,000-deep nesting in place of a tensor's shape, offsets or dtype.
    const text = new TextDecoder().decode(seed.subarray(8, 8 + n));
    const field = rng.pick(["shape", "data_offsets", "dtype"]);
    const deep = text.replace(
      new RegExp(`"${field}":("[^"]*"|\\[[^\\]]*\\])`),
      `"${field}":${deepText(100_000)}`,
    );
    return { bytes: withHeaderText(deep, seed.subarray(8 + n)), what: `100000-deep ${field}` };
  }
  const header = JSON.parse(new TextDecoder().decode(seed.subarray(8, 8 + n))) as unknown;
  let { value, what } = mutateJson(rng, header);
  if (rng.next() < 0.3) ({ value, what } = { ...mutateJson(rng, value), what: `${what}, then more` });
  return { bytes: withHeader(value, seed.subarray(8 + n), rng.int(8)), what: `header: ${what}` };
}

function float16(bits: number): number {
  const sign = bits >> 15 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const f = bits & 1023;
  if (e === 31) return f ? NaN : sign * Infinity;
  return e === 0 ? sign * f * 2 ** -24 : sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Independent reading of the bytes: the invariants the reader promises, and every value. */
function checkAgainstBytes(bytes: Uint8Array, tensors: ReturnType<typeof decodeSafetensors>): void {
  const n = headerLength(bytes);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const entries = Object.entries(header).filter(([k]) => k !== "__metadata__");
  assert.deepEqual(
    [...tensors.keys()],
    entries.map(([k]) => k),
  );
  const spans = entries.map(([, e]) => e.data_offsets).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end] of spans) {
    assert.equal(begin, at, "tensors tile the data");
    at = end;
  }
  assert.equal(at, bytes.length - 8 - n, "the tensors cover the data exactly");
  const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + n);
  for (const [
    name,
    {
      dtype,
      shape,
      data_offsets: [begin],
    },
  ] of entries) {
    const t = tensors.get(name)!;
    assert.deepEqual(t.shape, shape);
    const values = t.toArray();
    const size = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 }[dtype]!;
    for (let i = 0; i < values.length; i++) {
      const o = begin + size * i;
      const expected =
        dtype === "F64"
          ? view.getFloat64(o, true)
          : dtype === "F32"
            ? view.getFloat32(o, true)
            : dtype === "F16"
              ? float16(view.getUint16(o, true))
              : dtype === "BF16"
                ? new Float32Array(new Uint32Array([view.getUint16(o, true) << 16]).buffer)[0]
                : dtype === "I64"
                  ? Number(view.getBigInt64(o, true))
                  : view.getInt32(o, true);
      assert.ok(
        Object.is(values[i], expected) || values[i] === expected,
        `${name}[${i}]: ${values[i]} vs ${expected}`,
      );
    }
  }
}

test(
  `safetensors: ${FUZZ_CASES} mutated files give clean errors naming the file or exact values`,
  FUZZ_TIMEOUT,
  async () => {
    const result = await fuzz("safetensors", FUZZ_CASES, 9004, (rng) => {
      const { bytes, what } = mutate(rng);
      return {
        name: "fuzz.safetensors",
        what,
        run: () => checkAgainstBytes(bytes, decodeSafetensors(bytes, { source: "fuzz.safetensors" })),
      };
    });
    assertClean(result);
  },
);

// safetensors reader/writer: the byte layout of the format (checked by hand-building files, not only by
// round trips), dtype conversions on read, and errors that name the tensor.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsMetadata,
} from "../../src/io/safetensors.js";
import { tensor } from "../../src/index.js";

/** A safetensors file from a header object and raw data bytes, built by hand. */
function build(header: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test("encode writes the documented layout: u64 header length, padded JSON header, little-endian data", () => {
  const bytes = encodeSafetensors(
    { a: tensor([1.5, -2], [2]), "b.weight": tensor(new Int32Array([7, 8, 9]), [3, 1]) },
    { format: "pt" },
  );
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header, {
    __metadata__: { format: "pt" },
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    "b.weight": { dtype: "I32", shape: [3, 1], data_offsets: [8, 20] },
  });
  assert.equal(bytes.length, 8 + n + 20);
  assert.equal(view.getFloat32(8 + n + 4, true), -2);
  assert.equal(view.getInt32(8 + n + 16, true), 9);
  assert.deepEqual(readSafetensorsMetadata(bytes), { format: "pt" });
});

test("decode round-trips float32, float64 and int32 tensors in order", () => {
  const tensors = new Map([
    [
      "x",
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    ],
    ["y", tensor([0.1, 0.2], [2], { dtype: "float64" })],
    ["z", tensor(new Int32Array([-3]), [])],
  ]);
  const back = decodeSafetensors(encodeSafetensors(tensors));
  assert.deepEqual([...back.keys()], ["x", "y", "z"]);
  for (const [k, t] of tensors) {
    assert.equal(back.get(k)!.dtype, t.dtype);
    assert.deepEqual(back.get(k)!.shape, t.shape);
    assert.deepEqual([...back.get(k)!.toArray()], [...t.toArray()]);
  }
});

test("decode converts F16, BF16 and I64 (as written by PyTorch) and reads unaligned data", () => {
  const data = new Uint8Array(4 + 4 + 16);
  const view = new DataView(data.buffer);
  view.setUint16(0, 0x3c00, true); // f16 1.0
  view.setUint16(2, 0xc100, true); // f16 -2.5
  view.setUint16(4, 0x3fc0, true); // bf16 1.5
  view.setUint16(6, 0x0000, true); // bf16 0
  view.setBigInt64(8, 123n, true);
  view.setBigInt64(16, -4n, true);
  const header = {
    h: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
    b: { dtype: "BF16", shape: [2], data_offsets: [4, 8] },
    n: { dtype: "I64", shape: [2], data_offsets: [8, 24] },
  };
  const file = build(header, data);
  assert.notEqual((file.length - data.length) % 8, 0, "the data must start unaligned for this test");
  const t = decodeSafetensors(file);
  assert.deepEqual([...t.get("h")!.toArray()], [1, -2.5]);
  assert.deepEqual([...t.get("b")!.toArray()], [1.5, 0]);
  assert.equal(t.get("n")!.dtype, "int32");
  assert.deepEqual([...t.get("n")!.toArray()], [123, -4]);
});

test("decode errors name the file, the tensor, its dtype, shape and offsets", () => {
  const bad = build({ w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(24));
  assert.throws(
    () => decodeSafetensors(bad, { source: "m.safetensors" }),
    /^Error: decodeSafetensors: m\.safetensors: tensor 'w' F32 \[2,\s?3\] needs 24 bytes but data_offsets \[0, 20\] hold 20$/,
  );
  const odd = build({ w: { dtype: "U8", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1));
  assert.throws(() => decodeSafetensors(odd), /tensor 'w': dtype "U8" is not supported; supported: F64, F32/);
  const unknown = build({ w: { dtype: "F31", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
  assert.throws(() => decodeSafetensors(unknown), /dtype "F31" is not a safetensors dtype/);
  assert.throws(
    () => decodeSafetensors(new Uint8Array(3), { source: "x.st" }),
    /x\.st: 3 bytes is too short/,
  );
});

// Regression tests for issue 9 (defects 5-7): every malformed header is an error naming the file and the
// tensor, never silently shifted weights or an internal TypeError/SyntaxError/RangeError.

/** A valid two-tensor file written by our encoder (header padded with spaces, as the reference does). */
function validFile(): Uint8Array {
  return encodeSafetensors({ a: tensor([0.0924, -1, 2, 3], [4]), b: tensor([5, 6], [2]) });
}

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

test("a header length shortened into the padding is detected (it would shift every tensor)", () => {
  const file = validFile();
  const n = headerLength(file);
  const text = new TextDecoder().decode(file.subarray(8, 8 + n));
  const padding = text.length - text.trimEnd().length;
  assert.ok(padding > 0, "the encoder pads the header");
  const shortened = file.slice();
  new DataView(shortened.buffer).setBigUint64(0, BigInt(n - padding), true);
  assert.throws(
    () => decodeSafetensors(shortened, { source: "w.safetensors" }),
    new RegExp(
      `w\\.safetensors: the tensors cover 24 data bytes but the file holds ${24 + padding} after the header`,
    ),
  );
});

test("trailing garbage, gaps, overlaps and fractional or negative offsets are rejected", () => {
  const data = new Uint8Array(16);
  const cases: [object, Uint8Array, RegExp][] = [
    [
      { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } },
      data,
      /cover 8 data bytes but the file holds 16/,
    ],
    [
      {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [1], data_offsets: [12, 16] },
      },
      data,
      /tensor 'b' starts at byte 12 but tensor 'a' ends at 8: 4 bytes belong to no tensor/,
    ],
    [
      {
        a: { dtype: "F32", shape: [3], data_offsets: [0, 12] },
        b: { dtype: "F32", shape: [2], data_offsets: [8, 16] },
      },
      data,
      /tensor 'b' data_offsets \[8, 16\] overlap tensor 'a' \[0, 12\]/,
    ],
    [
      { a: { dtype: "F32", shape: [1], data_offsets: [0.5, 4.5] } },
      data,
      /tensor 'a': data_offsets must be \[begin, end\] integers/,
    ],
    [{ a: { dtype: "F32", shape: [1], data_offsets: [-4, 0] } }, data, /tensor 'a': data_offsets must be/],
    [
      { a: { dtype: "F32", shape: [1], data_offsets: "0,4" } },
      data,
      /tensor 'a': data_offsets must be .* found "0,4"/,
    ],
    [{ a: { dtype: "F32", shape: [4, 2], data_offsets: [0, 32] } }, data, /run past the 16 data bytes/],
    [
      { a: { dtype: "F32", shape: [-4], data_offsets: [0, 16] } },
      data,
      /tensor 'a': shape must be an array of non-negative integers/,
    ],
    [
      { a: { dtype: "F32", shape: [4], data_offsets: [0, 16], extra: 1 } },
      data,
      /tensor 'a' has unknown field 'extra'/,
    ],
    [{ a: 7 }, data, /tensor 'a' must be an object/],
    [
      { __metadata__: { format: 3 }, a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } },
      data,
      /__metadata__\.format must be a string/,
    ],
  ];
  for (const [header, bytes, pattern] of cases) {
    assert.throws(
      () => decodeSafetensors(build(header, bytes), { source: "f.st" }),
      (e: Error) => {
        assert.match(e.message, /^decodeSafetensors: f\.st: /);
        assert.match(e.message, pattern);
        return true;
      },
    );
  }
});

test("a header that is not JSON, not an object, or declared too large is a clean error", () => {
  const text = new TextEncoder().encode('{"a": {"dtype": "F32", "sh');
  const truncated = new Uint8Array(8 + text.length);
  new DataView(truncated.buffer).setBigUint64(0, BigInt(text.length), true);
  truncated.set(text, 8);
  assert.throws(
    () => decodeSafetensors(truncated, { source: "t.st" }),
    /^Error: decodeSafetensors: t\.st: header is not valid JSON \(/,
  );
  assert.throws(
    () => decodeSafetensors(build([1, 2] as unknown as object, new Uint8Array(0))),
    /does not start with '\{'/,
  );
  const huge = new Uint8Array(64);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
  assert.throws(
    () => decodeSafetensors(huge),
    /header length 9223372036854775808 exceeds the limit of 100000000 bytes \(raise it with maxHeaderBytes\)/,
  );
  const file = validFile();
  assert.throws(() => decodeSafetensors(file, { maxHeaderBytes: 16 }), /exceeds the limit of 16 bytes/);
  assert.throws(
    () => decodeSafetensors(file.subarray(0, 40)),
    /header length \d+ runs past the end of the 40-byte file/,
  );
});

test("an int64 outside the int32 range names the tensor and index", () => {
  const data = new Uint8Array(16);
  new DataView(data.buffer).setBigInt64(8, 2n ** 40n, true);
  const file = build({ steps: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, data);
  assert.throws(
    () => decodeSafetensors(file, { source: "c.st" }),
    /c\.st: tensor 'steps' holds int64 value 1099511627776 at index 1, outside the int32 range/,
  );
});

test("readSafetensors returns tensors and metadata from one parse; empty tensors take no bytes", () => {
  const file = encodeSafetensors({ e: tensor([], [0, 3]), a: tensor([1, 2], [2]) }, { format: "pt" });
  const { tensors, metadata } = readSafetensors(file);
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(tensors.get("e")!.shape, [0, 3]);
  assert.deepEqual([...tensors.get("a")!.toArray()], [1, 2]);
});

test("a 100k-entry header is read in linear time (each entry checked once)", () => {
  const header: Record<string, object> = {};
  for (let i = 0; i < 100_000; i++)
    header[`t${i}`] = { dtype: "F32", shape: [1], data_offsets: [4 * i, 4 * i + 4] };
  const data = new Uint8Array(400_000);
  new DataView(data.buffer).setFloat32(4 * 99_999, 7.5, true);
  const tensors = decodeSafetensors(build(header, data));
  assert.equal(tensors.size, 100_000);
  assert.deepEqual([...tensors.get("t99999")!.toArray()], [7.5]);
});

test("a header nested 100,000 deep is refused before JSON.parse (which would overflow the stack)", () => {
  const text = new TextEncoder().encode(
    `{"a":{"dtype":"F32","shape":${"[".repeat(100_000)}1${"]".repeat(100_000)},"data_offsets":[0,4]}}`,
  );
  const file = new Uint8Array(8 + text.length + 4);
  new DataView(file.buffer).setBigUint64(0, BigInt(text.length), true);
  file.set(text, 8);
  assert.throws(
    () => decodeSafetensors(file, { source: "deep.st" }),
    /^Error: decodeSafetensors: deep\.st: header nests arrays\/objects more than 16 deep/,
  );
});

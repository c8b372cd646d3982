// safetensors reader/writer: the byte layout of the format (checked by hand-building files, not only by
// round trips), dtype conversions on read, and errors that name the tensor.

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors, readSafetensorsMetadata } from "../../src/io/safetensors.js";
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
  const data = new Uint8Array(1 + 4 + 4 + 16);
  const view = new DataView(data.buffer);
  view.setUint16(1, 0x3c00, true); // f16 1.0
  view.setUint16(3, 0xc100, true); // f16 -2.5
  view.setUint16(5, 0x3fc0, true); // bf16 1.5
  view.setUint16(7, 0x0000, true); // bf16 0
  view.setBigInt64(9, 123n, true);
  view.setBigInt64(17, -4n, true);
  const file = build(
    {
      h: { dtype: "F16", shape: [2], data_offsets: [1, 5] },
      b: { dtype: "BF16", shape: [2], data_offsets: [5, 9] },
      n: { dtype: "I64", shape: [2], data_offsets: [9, 25] },
    },
    data,
  );
  const t = decodeSafetensors(file);
  assert.deepEqual([...t.get("h")!.toArray()], [1, -2.5]);
  assert.deepEqual([...t.get("b")!.toArray()], [1.5, 0]);
  assert.equal(t.get("n")!.dtype, "int32");
  assert.deepEqual([...t.get("n")!.toArray()], [123, -4]);
});

test("decode errors name the tensor, its dtype, shape and offsets", () => {
  const bad = build({ w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(24));
  assert.throws(
    () => decodeSafetensors(bad),
    /'w' F32 \[2,\s?3\] needs 24 bytes but data_offsets are \[0, 20\]/,
  );
  const odd = build({ w: { dtype: "U8", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1));
  assert.throws(() => decodeSafetensors(odd), /'w' has dtype U8/);
  assert.throws(() => decodeSafetensors(new Uint8Array(3)), /too short/);
});

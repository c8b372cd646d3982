// safetensors (Hugging Face's tensor file format), read and written over a Uint8Array so it works in the
// browser as well as in Node. Layout: an 8-byte little-endian header length N, N bytes of JSON
// `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }` (offsets
// relative to the end of the header), then the raw little-endian, row-major tensor bytes. Checkpoints use
// it, and torchvision weights converted with `safetensors.torch.save_file(model.state_dict(), path)` load
// into the zoo's models with `loadWeights`.

import { tensor, type Tensor } from "../tensor/tensor.js";
import { formatShape, sizeOf } from "../tensor/shape.js";
import type { Module } from "../nn/module.js";

/** Element types this reader understands. F16/BF16/I64 are converted on read (to float32/int32). */
export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32";

const BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 };

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function readValues(
  name: string,
  dtype: SafetensorsDType,
  view: DataView,
  count: number,
): Float32Array | Float64Array | Int32Array {
  switch (dtype) {
    case "F64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case "F32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case "F16": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = float16ToNumber(view.getUint16(2 * i, true));
      return out;
    }
    case "BF16": {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(count);
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        word.setUint32(0, view.getUint16(2 * i, true) << 16, true);
        out[i] = word.getFloat32(0, true);
      }
      return out;
    }
    case "I32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    case "I64": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new Error(`decodeSafetensors: '${name}' holds int64 value ${v}, outside the int32 range`);
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.byteLength < 8)
    throw new Error(`safetensors: ${bytes.byteLength} bytes is too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) {
    throw new Error(`safetensors: header length ${headerLength} exceeds the file size ${bytes.byteLength}`);
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    unknown
  >;
  return { header, dataStart: 8 + headerLength };
}

/** The free-form `__metadata__` string map of a safetensors file ({} when absent). */
export function readSafetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return (readHeader(bytes).header.__metadata__ as Record<string, string> | undefined) ?? {};
}

/**
 * Parses a safetensors file into tensors by name, in file order (float32/float64/int32; F16 and BF16 become
 * float32, I64 int32), on `backend` (the default when omitted).
 * @example const tensors = decodeSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: { backend?: string } = {},
): Map<string, Tensor> {
  const { header, dataStart } = readHeader(bytes);
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: offsets } = raw as HeaderEntry;
    if (!(dtype in BYTES)) {
      throw new Error(
        `decodeSafetensors: '${name}' has dtype ${dtype}; supported: ${Object.keys(BYTES).join(", ")}`,
      );
    }
    const [begin, end] = offsets;
    const count = sizeOf(shape);
    const expected = count * BYTES[dtype as SafetensorsDType];
    if (end - begin !== expected || begin < 0 || end > dataLength) {
      throw new Error(
        `decodeSafetensors: '${name}' ${dtype} ${formatShape(shape)} needs ${expected} bytes but data_offsets are [${begin}, ${end}] of ${dataLength}`,
      );
    }
    const slice = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    tensors.set(
      name,
      tensor(readValues(name, dtype as SafetensorsDType, slice, count), shape, { backend: options.backend }),
    );
  }
  return tensors;
}

const WRITE_DTYPE = { float32: "F32", float64: "F64", int32: "I32" } as const;

/**
 * Serialises tensors (in the given order) to safetensors bytes. The header is padded with spaces to a
 * multiple of 8 bytes, as the reference implementation does, so the data is aligned.
 * @example const bytes = encodeSafetensors(model.stateDict(), { format: "pt" });
 */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const arrays = entries.map(([name, t]) => {
    const values = t.toArray();
    const bytesPer = t.dtype === "float64" ? 8 : 4;
    header[name] = {
      dtype: WRITE_DTYPE[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + values.length * bytesPer],
    };
    offset += values.length * bytesPer;
    return { dtype: t.dtype, values };
  });
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const { dtype, values } of arrays) {
    for (let i = 0; i < values.length; i++) {
      if (dtype === "float64") view.setFloat64(at + 8 * i, values[i], true);
      else if (dtype === "float32") view.setFloat32(at + 4 * i, values[i], true);
      else view.setInt32(at + 4 * i, values[i], true);
    }
    at += values.length * (dtype === "float64" ? 8 : 4);
  }
  return out;
}

/**
 * Loads a safetensors file's tensors into `model` by state_dict name (e.g. torchvision weights into the
 * zoo's ResNet-50). Every name must match and every shape agree, unless `strict: false` (then missing and
 * unexpected names are returned, but shapes must still agree); the error lists every offending name.
 * @example loadWeights(getModel("resnet18"), readFileSync("resnet18.safetensors"));
 */
export function loadWeights(
  model: Module,
  bytes: Uint8Array,
  options: { strict?: boolean } = {},
): { missingKeys: string[]; unexpectedKeys: string[] } {
  const tensors = decodeSafetensors(bytes);
  try {
    return model.loadStateDict(tensors, options.strict ?? true);
  } catch (error) {
    throw new Error(`loadWeights: ${(error as Error).message}`);
  }
}

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

/** The other dtypes of the format: named in the error so the user knows the file is valid but unsupported. */
const KNOWN_UNSUPPORTED = ["BOOL", "U8", "I8", "U16", "I16", "U32", "U64", "F8_E4M3", "F8_E5M2", "C64"];

/**
 * Largest header accepted by default: 100 MB, the limit of the reference (Rust) implementation. A header
 * that large describes millions of tensors; pass `maxHeaderBytes` to raise it.
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Options of the safetensors readers. */
export interface SafetensorsReadOptions {
  /** Backend of the created tensors (the default backend when omitted). */
  backend?: string;
  /** The file's name or path, used in every error message. */
  source?: string;
  /** Largest accepted JSON header in bytes (default {@link SAFETENSORS_MAX_HEADER_BYTES}). */
  maxHeaderBytes?: number;
}

/** One tensor's entry in a checked header: where its bytes are, relative to the start of the data. */
interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** A checked header: the tensors in file order, the metadata and where the data starts. */
interface CheckedHeader {
  entries: TensorEntry[];
  metadata: Record<string, string>;
  dataStart: number;
}

// Every error starts with the function and the file, so the user knows which of several files is bad.
function failer(op: string, source: string | undefined): (message: string) => never {
  const where = source === undefined ? op : `${op}: ${source}`;
  return (message: string) => {
    throw new Error(`${where}: ${message}`);
  };
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return v.length > 8 ? `an array of ${v.length} items` : JSON.stringify(v);
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

function parseHeader(bytes: Uint8Array, op: string, options: SafetensorsReadOptions): CheckedHeader {
  const fail = failer(op, options.source);
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  const limit = options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES;
  if (declared > BigInt(limit)) {
    fail(`header length ${declared} exceeds the limit of ${limit} bytes (raise it with maxHeaderBytes)`);
  }
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.byteLength) {
    fail(`header length ${headerLength} runs past the end of the ${bytes.byteLength}-byte file`);
  }
  if (headerLength < 2 || bytes[8] !== 0x7b /* { */) {
    fail(`header does not start with '{' (header length ${headerLength}); not a safetensors file?`);
  }
  if (isNestedDeeperThan(bytes, 8, 8 + headerLength, MAX_HEADER_DEPTH)) {
    fail(`header nests arrays/objects more than ${MAX_HEADER_DEPTH} deep (a valid header has 3 levels)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail(`header must be a JSON object, found ${describeValue(header)}`);
  }
  const dataStart = 8 + headerLength;
  const record = header as Record<string, unknown>;
  const entries: TensorEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const name of Object.keys(record)) {
    if (name === "__metadata__") metadata = checkMetadata(record[name], fail);
    else entries.push(checkEntry(name, record[name], fail));
  }
  checkLayout(entries, bytes.byteLength - dataStart, fail);
  return { entries, metadata, dataStart };
}

/** Deepest nesting accepted before JSON.parse, which recurses per level and overflows the stack near 10^4. */
const MAX_HEADER_DEPTH = 16;

// True when [ and { nest deeper than `limit` in bytes[begin, end), counting outside strings only.
function isNestedDeeperThan(bytes: Uint8Array, begin: number, end: number, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = begin; i < end; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function checkMetadata(value: unknown, fail: (m: string) => never): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`__metadata__ must be an object of strings, found ${describeValue(value)}`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(`__metadata__.${key} must be a string, found ${describeValue(v)}`);
  }
  return value as Record<string, string>;
}

const ENTRY_KEYS = new Set(["dtype", "shape", "data_offsets"]);

function checkEntry(name: string, raw: unknown, fail: (m: string) => never): TensorEntry {
  const where = `tensor '${name}'`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail(`${where} must be an object { dtype, shape, data_offsets }, found ${describeValue(raw)}`);
  }
  const entry = raw as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (!ENTRY_KEYS.has(key))
      fail(`${where} has unknown field '${key}'; expected dtype, shape, data_offsets`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string") fail(`${where}: dtype must be a string, found ${describeValue(dtype)}`);
  if (!(dtype in BYTES)) {
    const known = KNOWN_UNSUPPORTED.includes(dtype) ? "is not supported" : "is not a safetensors dtype";
    fail(`${where}: dtype ${describeValue(dtype)} ${known}; supported: ${Object.keys(BYTES).join(", ")}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: shape must be an array of non-negative integers, found ${describeValue(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    fail(
      `${where}: data_offsets must be [begin, end] integers with 0 <= begin <= end, found ${describeValue(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = count * BYTES[dtype as SafetensorsDType];
  if (end - begin !== expected) {
    fail(
      `${where} ${dtype} ${formatShape(shape as number[])} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end };
}

/** The tensors must tile the data exactly: from byte 0, each starting where the previous ends, to the end. */
function checkLayout(entries: readonly TensorEntry[], dataLength: number, fail: (m: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: TensorEntry | null = null;
  for (const e of sorted) {
    if (e.begin < at) {
      fail(
        `tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap tensor '${previous!.name}' [${previous!.begin}, ${previous!.end}]`,
      );
    }
    if (e.begin > at) {
      const after = previous ? `tensor '${previous.name}' ends` : "the data starts";
      fail(
        `tensor '${e.name}' starts at byte ${e.begin} but ${after} at ${at}: ${e.begin - at} bytes belong to no tensor`,
      );
    }
    at = e.end;
    previous = e;
  }
  if (at > dataLength) {
    fail(
      `tensor '${previous!.name}' data_offsets [${previous!.begin}, ${previous!.end}] run past the ${dataLength} data bytes (file truncated?)`,
    );
  }
  if (at < dataLength) {
    fail(
      `the tensors cover ${at} data bytes but the file holds ${dataLength} after the header (a wrong header length, or trailing bytes)`,
    );
  }
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
  entry: TensorEntry,
  view: DataView,
  count: number,
  fail: (m: string) => never,
): Float32Array | Float64Array | Int32Array {
  const { name, dtype } = entry;
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
          fail(`tensor '${name}' holds int64 value ${v} at index ${i}, outside the int32 range`);
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

/** The free-form `__metadata__` string map of a safetensors file ({} when absent). */
export function readSafetensorsMetadata(
  bytes: Uint8Array,
  options: Pick<SafetensorsReadOptions, "source" | "maxHeaderBytes"> = {},
): Record<string, string> {
  return parseHeader(bytes, "readSafetensorsMetadata", options).metadata;
}

/**
 * Parses a safetensors file (header parsed once) into its tensors by name, in file order, and its
 * `__metadata__`. The header is checked strictly: known dtypes, integer offsets that tile the data exactly
 * (no gaps, overlaps or trailing bytes), shape × dtype size = byte length. Errors name `source`.
 * @example const { tensors, metadata } = readSafetensors(bytes, { source: "model.safetensors" });
 */
export function readSafetensors(
  bytes: Uint8Array,
  options: SafetensorsReadOptions = {},
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  return decodeWith("readSafetensors", bytes, options);
}

/**
 * Parses a safetensors file into tensors by name, in file order (float32/float64/int32; F16 and BF16 become
 * float32, I64 int32), on `backend` (the default when omitted). See {@link readSafetensors} for the checks.
 * @example const tensors = decodeSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: SafetensorsReadOptions = {},
): Map<string, Tensor> {
  return decodeWith("decodeSafetensors", bytes, options).tensors;
}

function decodeWith(
  op: string,
  bytes: Uint8Array,
  options: SafetensorsReadOptions,
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const fail = failer(op, options.source);
  const { entries, metadata, dataStart } = parseHeader(bytes, op, options);
  const tensors = new Map<string, Tensor>();
  for (const entry of entries) {
    const view = new DataView(
      bytes.buffer,
      bytes.byteOffset + dataStart + entry.begin,
      entry.end - entry.begin,
    );
    const values = readValues(entry, view, sizeOf(entry.shape), fail);
    tensors.set(entry.name, tensor(values, entry.shape, { backend: options.backend }));
  }
  return { tensors, metadata };
}

/** Options of encodeSafetensors. */
export interface SafetensorsWriteOptions {
  /** How int32 tensors are stored: "I32" (default) or "I64", the dtype of torch's integer buffers. */
  intDtype?: "I32" | "I64";
}

/**
 * Serialises tensors (in the given order) to safetensors bytes. The header is padded with spaces to a
 * multiple of 8 bytes, as the reference implementation does, so the data is aligned.
 * @example const bytes = encodeSafetensors(model.stateDict(), { format: "pt" });
 */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
  options: SafetensorsWriteOptions = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const intDtype = options.intDtype ?? "I32";
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const arrays = entries.map(([name, t]) => {
    const values = t.toArray();
    const dtype: SafetensorsDType = t.dtype === "float64" ? "F64" : t.dtype === "float32" ? "F32" : intDtype;
    const bytes = values.length * BYTES[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
    return { dtype, values };
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
      if (dtype === "F64") view.setFloat64(at + 8 * i, values[i], true);
      else if (dtype === "F32") view.setFloat32(at + 4 * i, values[i], true);
      else if (dtype === "I64") view.setBigInt64(at + 8 * i, BigInt(values[i]), true);
      else view.setInt32(at + 4 * i, values[i], true);
    }
    at += values.length * BYTES[dtype];
  }
  return out;
}

/**
 * Serialises a model's weights — its state_dict, under torch/torchvision names such as
 * `layer1.0.conv1.weight` and `bn1.running_mean` — to safetensors bytes that PyTorch loads with
 * `model.load_state_dict(safetensors.torch.load_file(path))`. Float tensors keep their dtype (F32 for
 * float32), integer buffers (BatchNorm's num_batches_tracked) are written as I64 like torch's.
 * Browser-safe; `saveWeights` in striate/node writes the bytes to a file.
 * @example const bytes = serializeWeights(getModel("resnet18")); // load in torch: resnet18().load_state_dict(…)
 */
export function serializeWeights(
  model: Module,
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  return encodeSafetensors(model.stateDict(), metadata, { intDtype: "I64" });
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
  options: { strict?: boolean; source?: string } = {},
): { missingKeys: string[]; unexpectedKeys: string[] } {
  const tensors = decodeWith("loadWeights", bytes, { source: options.source }).tensors;
  try {
    return model.loadStateDict(tensors, options.strict ?? true);
  } catch (error) {
    const where = options.source === undefined ? "" : ` ${options.source}:`;
    throw new Error(`loadWeights:${where} ${(error as Error).message}`);
  }
}

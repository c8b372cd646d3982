// The JSON files of a checkpoint: how config.json and optimizer.json encode what JSON cannot hold
// (non-finite numbers as { "$number": "NaN" }, state tensors as { "$tensor": { shape, dtype, base64 } }),
// and the validation every value goes through when read back. A bad value is an error naming the file,
// the field and what was expected — never a TypeError later, nor a silently poisoned resume (an Adam
// `step: -1`, a `globalStep: 1e999`, a `batch: {}`).

import { parseJsonBounded, type JsonLimits } from "../io/json.js";
import type { Tensor } from "../tensor/tensor.js";
import type { ArchitectureConfig } from "../spec/builtins.js";
import type { EpochLogs } from "../train/history.js";
import { firstNonFinite } from "../train/weight-guard.js";
import { CHECKPOINT_FORMAT } from "./checkpoint-store.js";

/** The contents of config.json. */
export interface CheckpointConfig {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  /** How to rebuild the model; null when the caller builds it. */
  architecture: ArchitectureConfig | null;
  /** Training settings (optimizer, lr, batch size, augmentation, seed, …) for the record and for resuming. */
  hyperParameters: Record<string, unknown>;
  /** Epochs completed. */
  epoch: number;
  /** Batches already trained in epoch `epoch` (non-zero for a checkpoint written mid-epoch, e.g. on Ctrl-C). */
  batch: number;
  /** Optimizer steps taken. */
  globalStep: number;
  /** State of the global random generator (dropout, initialisation). */
  rng: { global: (number | null)[] };
  history: EpochLogs[];
  /** Class names of the dataset, when known (predict prints them). */
  classes?: string[];
  /** Input shape [C, H, W] the model was trained on. */
  inputShape?: number[];
  /** Metrics at save time (e.g. the monitored value of a best checkpoint). */
  metrics?: Record<string, number>;
  optimizer?: string;
  scheduler?: string;
  /** Whether optimizer.json belongs to this checkpoint (absent in checkpoints written before it existed). */
  hasOptimizerState?: boolean;
  /** "sha256:<hex>" of model.safetensors and optimizer.json, checked when loading. */
  checksums?: Record<string, string>;
  savedAt: string;
}

/** A tensor as optimizer.stateDict() serialises it. */
interface SerializedTensor {
  shape: number[];
  dtype: string;
  data: number[];
}

const TENSOR_DTYPES: Record<string, { bytes: number; array: (b: ArrayBuffer) => ArrayLike<number> }> = {
  float32: { bytes: 4, array: (b) => new Float32Array(b) },
  float64: { bytes: 8, array: (b) => new Float64Array(b) },
  int32: { bytes: 4, array: (b) => new Int32Array(b) },
};

/** A value that is not what `file`'s `field` must hold. */
export class CheckpointFieldError extends Error {
  constructor(file: string, field: string, expected: string, found: unknown) {
    super(`${file}: field '${field}' must be ${expected}, found ${describe(found)}`);
    this.name = "CheckpointFieldError";
  }
}

/** A finding already worded for a message ("3 bytes"), printed as it is. */
class Found {
  constructor(readonly text: string) {}
}

function describe(value: unknown): string {
  if (value instanceof Found) return value.text;
  if (value === undefined) return "nothing";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return typeof value;
}

function isSerializedTensor(v: unknown): v is SerializedTensor {
  return (
    typeof v === "object" &&
    v !== null &&
    Array.isArray((v as { shape?: unknown }).shape) &&
    typeof (v as { dtype?: unknown }).dtype === "string" &&
    Array.isArray((v as { data?: unknown }).data)
  );
}

/**
 * JSON with non-finite numbers and state tensors encoded compactly and exactly. Unless `allowNonFinite`,
 * a state tensor holding NaN or ±Infinity is refused with an error naming `what` and the tensor's path.
 */
export function encodeState(value: unknown, what: string, allowNonFinite = true): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) };
    if (!isSerializedTensor(v)) return v;
    const dtype = TENSOR_DTYPES[v.dtype] ? v.dtype : "float32";
    const typed =
      dtype === "float64"
        ? Float64Array.from(v.data)
        : dtype === "int32"
          ? Int32Array.from(v.data)
          : Float32Array.from(v.data);
    const bad = allowNonFinite ? null : firstNonFinite(typed);
    if (bad) {
      throw new Error(
        `${what}: state tensor '${key}' holds ${bad[1]} at index ${bad[0]}; refusing to save non-finite values (pass allowNonFinite: true to save them anyway)`,
      );
    }
    return {
      $tensor: {
        shape: v.shape,
        dtype,
        base64: Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString("base64"),
      },
    };
  });
}

const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

/** Undoes encodeState's $number and $tensor objects, checking each; `field` is the dotted path so far. */
function revive(value: unknown, file: string, field: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => revive(v, file, `${field}[${i}]`));
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if ("$number" in record) {
    const text = record.$number;
    if (typeof text !== "string" || !NON_FINITE.has(text))
      throw new CheckpointFieldError(file, field, `"NaN", "Infinity" or "-Infinity"`, text);
    return Number(text);
  }
  if ("$tensor" in record) return reviveTensor(record.$tensor, file, field);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) out[k] = revive(v, file, field ? `${field}.${k}` : k);
  return out;
}

function reviveTensor(t: unknown, file: string, field: string): SerializedTensor {
  const spec = (typeof t === "object" && t !== null ? t : {}) as Record<string, unknown>;
  const shape = spec.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    throw new CheckpointFieldError(
      file,
      `${field}.$tensor.shape`,
      "an array of non-negative integers",
      shape,
    );
  const dtype = spec.dtype;
  if (typeof dtype !== "string" || !TENSOR_DTYPES[dtype])
    throw new CheckpointFieldError(file, `${field}.$tensor.dtype`, "float32, float64 or int32", dtype);
  if (typeof spec.base64 !== "string")
    throw new CheckpointFieldError(file, `${field}.$tensor.base64`, "a base64 string", spec.base64);
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const bytes = Buffer.from(spec.base64, "base64");
  const info = TENSOR_DTYPES[dtype];
  if (bytes.byteLength !== count * info.bytes) {
    throw new CheckpointFieldError(
      file,
      `${field}.$tensor.base64`,
      `${count * info.bytes} bytes of ${dtype} for shape [${(shape as number[]).join(", ")}]`,
      new Found(`${bytes.byteLength} bytes`),
    );
  }
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { shape: shape as number[], dtype, data: Array.from(info.array(copy)) };
}

/** Parses one of a checkpoint's JSON files (bounded; see src/io/json.ts) and revives its values. */
export function decodeState(bytes: Uint8Array, file: string, limits: Partial<JsonLimits> = {}): unknown {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return revive(parseJsonBounded(text, file, limits), file, "");
}

// ---- config.json ----

type Check = (value: unknown) => boolean;

const isObject: Check = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isNumber: Check = (v) => typeof v === "number";

function requireField(
  file: string,
  record: Record<string, unknown>,
  field: string,
  ok: Check,
  expected: string,
) {
  if (!ok(record[field])) throw new CheckpointFieldError(file, field, expected, record[field]);
}

function optional(file: string, record: Record<string, unknown>, field: string, ok: Check, expected: string) {
  if (record[field] !== undefined) requireField(file, record, field, ok, expected);
}

function checkHistory(file: string, history: unknown): void {
  if (!Array.isArray(history)) throw new CheckpointFieldError(file, "history", "an array", history);
  history.forEach((entry, i) => {
    if (!isObject(entry)) throw new CheckpointFieldError(file, `history[${i}]`, "an object", entry);
    const e = entry as Record<string, unknown>;
    if (!Number.isSafeInteger(e.epoch) || (e.epoch as number) < 1)
      throw new CheckpointFieldError(file, `history[${i}].epoch`, "a positive integer", e.epoch);
    for (const [k, v] of Object.entries(e))
      if (!isNumber(v)) throw new CheckpointFieldError(file, `history[${i}].${k}`, "a number", v);
  });
}

/** Checks every field of a decoded config.json; throws a CheckpointFieldError naming the first bad one. */
export function validateConfig(value: unknown, file: string): CheckpointConfig {
  if (!isObject(value)) throw new CheckpointFieldError(file, "(top level)", "an object", value);
  const c = value as Record<string, unknown>;
  if (c.format !== CHECKPOINT_FORMAT)
    throw new CheckpointFieldError(file, "format", `"${CHECKPOINT_FORMAT}" (a Striate checkpoint)`, c.format);
  requireField(file, c, "version", (v) => v === 1, "1");
  const arch = c.architecture;
  if (arch !== null && !(isObject(arch) && typeof (arch as { kind?: unknown }).kind === "string"))
    throw new CheckpointFieldError(file, "architecture", "null or an object with a 'kind'", arch);
  requireField(file, c, "hyperParameters", isObject, "an object");
  for (const field of ["epoch", "batch", "globalStep"])
    requireField(file, c, field, isCount, "a non-negative integer");
  const rng = c.rng as { global?: unknown } | undefined;
  const words = isObject(rng) ? rng!.global : undefined;
  const wordsOk =
    Array.isArray(words) &&
    words.length >= 4 &&
    words.length <= 5 &&
    words.slice(0, 4).every((w) => Number.isSafeInteger(w) && Math.abs(w as number) < 2 ** 32) &&
    (words[4] === undefined || words[4] === null || Number.isFinite(words[4]));
  if (!wordsOk)
    throw new CheckpointFieldError(file, "rng.global", "4 32-bit integer words and a spare normal", words);
  checkHistory(file, c.history);
  optional(
    file,
    c,
    "classes",
    (v) => Array.isArray(v) && v.every((s) => typeof s === "string"),
    "an array of strings",
  );
  optional(
    file,
    c,
    "inputShape",
    (v) => Array.isArray(v) && v.length > 0 && v.every((d) => Number.isSafeInteger(d) && (d as number) > 0),
    "an array of positive integers [C, H, W]",
  );
  optional(
    file,
    c,
    "metrics",
    (v) => isObject(v) && Object.values(v as object).every(isNumber),
    "an object of numbers",
  );
  optional(file, c, "hasOptimizerState", (v) => typeof v === "boolean", "true or false");
  optional(
    file,
    c,
    "checksums",
    (v) =>
      isObject(v) &&
      Object.values(v as object).every((d) => typeof d === "string" && /^sha256:[0-9a-f]{64}$/.test(d)),
    'an object of "sha256:<64 hex digits>" strings',
  );
  return value as unknown as CheckpointConfig;
}

// ---- optimizer.json ----

/** optimizer.json's two parts, checked generically (the optimizer's loadStateDict checks the rest). */
export function validateOptimizerFile(
  value: unknown,
  file: string,
): { optimizer: unknown; scheduler: unknown } {
  if (!isObject(value)) throw new CheckpointFieldError(file, "(top level)", "an object", value);
  const v = value as Record<string, unknown>;
  const optimizer = v.optimizer;
  if (!isObject(optimizer)) throw new CheckpointFieldError(file, "optimizer", "an object", optimizer);
  const { state, paramGroups } = optimizer as Record<string, unknown>;
  if (!isObject(state)) throw new CheckpointFieldError(file, "optimizer.state", "an object", state);
  if (!Array.isArray(paramGroups))
    throw new CheckpointFieldError(file, "optimizer.paramGroups", "an array", paramGroups);
  // stateDict() numbers the parameters 0, 1, 2, … across the groups, in order.
  let next = 0;
  paramGroups.forEach((g, i) => {
    const params = isObject(g) ? (g as { params?: unknown }).params : undefined;
    const start = next;
    if (!Array.isArray(params) || !params.every((p) => p === next++))
      throw new CheckpointFieldError(
        file,
        `optimizer.paramGroups[${i}].params`,
        `the indices ${start}, ${start + 1}, … in order`,
        params,
      );
  });
  let layout: string | null = null;
  for (const [index, entry] of Object.entries(state as object)) {
    const where = `optimizer.state.${index}`;
    if (!/^\d+$/.test(index) || Number(index) >= next)
      throw new CheckpointFieldError(file, where, `keyed by a parameter index below ${next}`, index);
    if (!isObject(entry)) throw new CheckpointFieldError(file, where, "an object", entry);
    // Every parameter's state has the same entries of the same kinds (Adam: step, expAvg, expAvgSq).
    const kinds = Object.entries(entry as object)
      .map(([name, item]) => `${name}: ${typeof item === "number" ? "number" : "tensor"}`)
      .sort()
      .join(", ");
    layout ??= kinds;
    if (kinds !== layout)
      throw new CheckpointFieldError(
        file,
        where,
        `the same entries as the other parameters' (${layout})`,
        new Found(kinds),
      );
    for (const [name, item] of Object.entries(entry as object)) {
      if (name === "step" && !isCount(item))
        throw new CheckpointFieldError(file, `${where}.step`, "a non-negative integer", item);
      if (typeof item === "number" && !Number.isFinite(item))
        throw new CheckpointFieldError(file, `${where}.${name}`, "a finite number", item);
      if (typeof item !== "number" && !isSerializedTensor(item))
        throw new CheckpointFieldError(file, `${where}.${name}`, "a number or a $tensor", item);
      const bad = isSerializedTensor(item) ? firstNonFinite(item.data) : null;
      if (bad) throw new CheckpointFieldError(file, `${where}.${name}[${bad[0]}]`, "a finite number", bad[1]);
    }
  }
  const scheduler = v.scheduler ?? undefined;
  if (scheduler !== undefined && !isObject(scheduler))
    throw new CheckpointFieldError(file, "scheduler", "null or an object", scheduler);
  return { optimizer, scheduler };
}

/** The first tensor of a state dict holding NaN or ±Infinity, as a description, or null. */
export function findNonFiniteTensor(state: Map<string, Tensor>): string | null {
  for (const [name, t] of state) {
    if (t.dtype === "int32") continue;
    const bad = firstNonFinite(t.toArray());
    if (bad) return `'${name}' holds ${bad[1]} at index ${bad[0]}`;
  }
  return null;
}

// Small helpers shared by the op families: scalar promotion, result wrapping, shape checks.

import type { Storage } from "../backend/backend.js";
import { Tensor, type TensorLike, full } from "../tensor/tensor.js";
import { formatShape, type Shape } from "../tensor/shape.js";
import type { TypedArray } from "../tensor/dtype.js";

/** Wraps a kernel result on the backend of `like`. */
export function wrapLike(like: Tensor, storage: Storage, shape: Shape): Tensor {
  return new Tensor(storage, shape, like.backend);
}

/**
 * The values of `t` if they can be read without waiting: always on backends that read synchronously (js,
 * wasm); on webgpu only when they are already on the host (made from an array, or awaited). Else null.
 */
export function hostValues(t: Tensor): TypedArray | null {
  if (t.backend.syncReads !== false) return t.toArray();
  return t.backend.toArrayIfHost?.(t.storage) ?? null;
}

/**
 * Values an op reads on the host (class labels it checks, indices it validates). On webgpu, values computed
 * on the GPU must be awaited first; the error names the op and what to await.
 */
export function valuesOnHost(op: string, t: Tensor, name: string): TypedArray {
  const values = hostValues(t);
  if (values === null)
    throw new Error(
      `${op}: ${name} ${formatShape(t.shape)} were computed on ${t.backend.name} and ${op} reads them on the host, ` +
        `which cannot wait for the GPU; \`await ${name}.data()\` first (the tensor then keeps a host copy)`,
    );
  return values;
}

/** A number becomes a 0-d tensor of `like`'s dtype and backend. */
export function asTensor(value: TensorLike, like: Tensor, op = "asTensor"): Tensor {
  if (typeof value !== "number") return value;
  // An int32 tensor cannot hold 0.5: it would silently become 0.
  if (like.dtype === "int32" && !Number.isInteger(value)) {
    throw new Error(
      `${op}: the number ${value} cannot combine with int32 tensor ${formatShape(like.shape)}; convert with .to("float32")`,
    );
  }
  return full([], value, { dtype: like.dtype, backend: like.backend.name });
}

/** Throws unless all tensors share a backend and (for floats) a dtype. */
export function checkCompatible(op: string, ...tensors: Tensor[]): void {
  const [first] = tensors;
  for (const t of tensors) {
    if (t.backend !== first.backend) {
      throw new Error(
        `${op}: tensors live on different backends (${first.backend.name} and ${t.backend.name})`,
      );
    }
    if (t.dtype !== first.dtype) {
      throw new Error(
        `${op}: dtypes differ (${first.dtype} ${formatShape(first.shape)} and ${t.dtype} ${formatShape(t.shape)}); ` +
          `convert with .to(dtype)`,
      );
    }
  }
}

export function checkFloat(op: string, t: Tensor, name = "input"): void {
  if (t.dtype === "int32")
    throw new Error(`${op}: ${name} must be a float tensor, got int32 ${formatShape(t.shape)}`);
}

/**
 * The valid name closest to `name`, if any is close: the same up to case and '_'/'-' (ceil_mode, ceilMode), a
 * prefix or part of it (kernel, kernelSize; slope, negativeSlope), a shared stem of 4+ letters (reduce,
 * reduction), or a small edit distance (strdie, stride).
 */
export function closestName(name: string, valid: readonly string[]): string | undefined {
  const norm = (v: string): string => v.toLowerCase().replace(/[_-]/g, "");
  const key = norm(name);
  const candidates = valid.map((v) => ({ v, n: norm(v) }));
  const rules: ((n: string) => boolean)[] = [
    (n) => n === key,
    (n) => key.length >= 2 && (n.startsWith(key) || key.startsWith(n)),
    (n) => key.length >= 3 && (n.includes(key) || key.includes(n)),
    (n) => commonPrefix(n, key) >= 4,
  ];
  for (const rule of rules) {
    const hit = candidates.find((c) => rule(c.n));
    if (hit) return hit.v;
  }
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const { v, n } of candidates) {
    const d = editDistance(key, n);
    if (d < bestDistance) [best, bestDistance] = [v, d];
  }
  return best;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64; // long keys are never typos
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/** ", did you mean 'x'?" when a valid name is close to `name`, else "; valid: a, b, c". */
export function suggestion(name: string, valid: readonly string[]): string {
  const close = closestName(name, valid);
  return close ? `; did you mean '${close}'?` : `; valid: ${valid.join(", ") || "(none)"}`;
}

/**
 * Throws when an options object has a key outside `valid` (a misspelt or unimplemented option would otherwise be
 * silently ignored), or is not a plain object. `op` names the op in the message.
 */
export function checkOptionKeys(op: string, options: unknown, valid: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new Error(
      `${op}: options must be an object { ${valid.join(", ")} }, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if ((options as Record<string, unknown>)[key] === undefined) continue;
    if (!valid.includes(key)) {
      const close = closestName(key, valid);
      const hint = close ? `; did you mean '${close}'?` : "";
      throw new Error(`${op}: unknown option '${key}'${hint} (valid options: ${valid.join(", ") || "none"})`);
    }
  }
}

/** A short description of any value for an error message (never walks deep structures). */
export function describeValue(v: unknown): string {
  if (Array.isArray(v))
    return v.length <= 4 && v.every((x) => typeof x === "number")
      ? `[${v.join(",")}]`
      : `an array of ${v.length}`;
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

/** Throws unless `v` is a finite number (optionally an integer, optionally within [min, max]). */
export function checkNumber(
  where: string,
  name: string,
  v: unknown,
  rule: { integer?: boolean; min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  const kind = rule.integer ? "an integer" : "a finite number";
  const range =
    rule.min !== undefined && rule.max !== undefined
      ? ` in [${rule.min}, ${rule.max}]`
      : rule.min !== undefined
        ? rule.minExclusive
          ? ` > ${rule.min}`
          : ` >= ${rule.min}`
        : "";
  const ok =
    typeof v === "number" &&
    Number.isFinite(v) &&
    (!rule.integer || Number.isSafeInteger(v)) &&
    (rule.min === undefined || (rule.minExclusive ? v > rule.min : v >= rule.min)) &&
    (rule.max === undefined || v <= rule.max);
  if (!ok) throw new Error(`${where}: ${name} must be ${kind}${range}, got ${describeValue(v)}`);
  return v as number;
}

/**
 * Largest element count of one tensor: 2^30 float32 values fill the 4 GiB a wasm memory can address, and
 * typed arrays beyond that are not portable either.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/** Throws, naming `where` and the shape, when a tensor of `shape` could not be allocated. */
export function checkAllocatable(where: string, what: string, shape: readonly number[]): void {
  const elements = shape.reduce((a, b) => a * b, 1);
  if (!(elements <= MAX_TENSOR_ELEMENTS)) {
    throw new Error(
      `${where}: ${what} [${shape.join(",")}] would hold ${elements} elements, more than the ${MAX_TENSOR_ELEMENTS} (2^30) a tensor can hold`,
    );
  }
}

/**
 * A scalar keyword argument given positionally or in an options object (the README promises options objects
 * for keyword arguments): `leakyRelu(x, 0.2)` and `leakyRelu(x, { negativeSlope: 0.2 })` mean the same. The
 * value must be a finite number.
 */
export function scalarOption(op: string, key: string, value: unknown, fallback: number): number {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    checkOptionKeys(op, value, [key]);
    value = (value as Record<string, unknown>)[key];
  }
  return checkNumber(op, key, value ?? fallback);
}

// Shape and layout ops: reshape, permute, expand, slice, pad, concat (and the sugar built on them).
// All produce contiguous tensors; reshape shares its input's storage since the layout does not change.

import { registerRules, type Rule } from "../autograd/primitive.js";
import { Tensor, full } from "../tensor/tensor.js";
import {
  broadcastStrides,
  formatShape,
  normalizeAxis,
  sizeOf,
  stridesOf,
  type Shape,
} from "../tensor/shape.js";
import { checkCompatible, wrapLike } from "./util.js";
import { sumTo } from "./reduce.js";

interface SliceAttrs {
  axis: number;
  start: number;
  step: number;
  length: number;
}

interface PadAttrs {
  /** [before, after] per dimension, outermost first. */
  widths: [number, number][];
  value: number;
}

function sliceRaw(x: Tensor, { axis, start, step, length }: SliceAttrs): Tensor {
  const strides = stridesOf(x.shape);
  const outShape = [...x.shape];
  outShape[axis] = length;
  const viewStrides = [...strides];
  viewStrides[axis] = strides[axis] * step;
  return wrapLike(x, x.backend.gather(x.storage, outShape, viewStrides, start * strides[axis]), outShape);
}

/** Writes `src` into a tensor of `shape` filled with `value`, at `offsets` per dim with `steps`. */
function embed(
  src: Tensor,
  shape: Shape,
  offsets: readonly number[],
  steps: readonly number[],
  value: number,
): Tensor {
  const base = full(shape, value, { dtype: src.dtype, backend: src.backend.name });
  const strides = stridesOf(shape);
  const offset = offsets.reduce((s, o, i) => s + o * strides[i], 0);
  const viewStrides = strides.map((s, i) => s * steps[i]);
  return wrapLike(
    src,
    src.backend.scatterInto(base.storage, src.storage, src.shape, viewStrides, offset),
    shape,
  );
}

const rules = {
  reshape: {
    forward: ([x], shape) => new Tensor(x.storage, shape, x.backend),
    backward: (g, [x]) => [reshape(g, x.shape)],
  } satisfies Rule<readonly number[]>,
  permute: {
    forward: ([x], dims) => {
      const strides = stridesOf(x.shape);
      const outShape = dims.map((d) => x.shape[d]);
      return wrapLike(
        x,
        x.backend.gather(
          x.storage,
          outShape,
          dims.map((d) => strides[d]),
          0,
        ),
        outShape,
      );
    },
    backward: (g, _x, _y, dims) => {
      const inverse = new Array<number>(dims.length);
      dims.forEach((d, i) => (inverse[d] = i));
      return [permute(g, inverse)];
    },
  } satisfies Rule<readonly number[]>,
  expand: {
    forward: ([x], shape) =>
      wrapLike(x, x.backend.gather(x.storage, shape, broadcastStrides(x.shape, shape), 0), shape),
    backward: (g, [x]) => [sumTo(g, x.shape)],
  } satisfies Rule<readonly number[]>,
  slice: {
    forward: ([x], attrs) => sliceRaw(x, attrs),
    backward: (g, [x], _y, { axis, start, step }) => {
      const offsets = x.shape.map((_, i) => (i === axis ? start : 0));
      const steps = x.shape.map((_, i) => (i === axis ? step : 1));
      return [embed(g, x.shape, offsets, steps, 0)];
    },
  } satisfies Rule<SliceAttrs>,
  pad: {
    forward: ([x], { widths, value }) => {
      const outShape = x.shape.map((d, i) => d + widths[i][0] + widths[i][1]);
      return embed(
        x,
        outShape,
        widths.map((w) => w[0]),
        x.shape.map(() => 1),
        value,
      );
    },
    backward: (g, [x], _y, { widths }) => {
      let out = g;
      widths.forEach(([before], axis) => {
        if (g.shape[axis] !== x.shape[axis])
          out = sliceRaw(out, { axis, start: before, step: 1, length: x.shape[axis] });
      });
      return [out];
    },
  } satisfies Rule<PadAttrs>,
  concat: {
    forward: (parts, axis) => {
      const outShape = [...parts[0].shape];
      outShape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
      const storage = parts[0].backend.concat(
        parts.map((p) => p.storage),
        parts.map((p) => p.shape),
        axis,
      );
      return wrapLike(parts[0], storage, outShape);
    },
    backward: (g, parts, _y, axis) => {
      let start = 0;
      return parts.map((p) => {
        const piece = sliceRaw(g, { axis, start, step: 1, length: p.shape[axis] });
        start += p.shape[axis];
        return piece;
      });
    },
  } satisfies Rule<number>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type MovementPrimitive = keyof typeof rules;

/** Same data, new shape; one dim may be -1 (inferred). Shares storage with the input. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new Error(`reshape: only one dim can be -1 in ${formatShape(shape)}`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  let resolved = [...shape];
  if (inferred === 1) {
    if (known === 0 || x.size % known !== 0) {
      throw new Error(
        `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`,
      );
    }
    resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (resolved.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(resolved) !== x.size) {
    throw new Error(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`,
    );
  }
  if (resolved.length === x.ndim && resolved.every((d, i) => d === x.shape[i])) return x;
  return apply("reshape", [x], resolved);
}

/** Flattens dims startDim..endDim (inclusive) into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis("flatten", startDim, x.ndim);
  const e = normalizeAxis("flatten", endDim, x.ndim);
  if (s > e)
    throw new Error(
      `flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`,
    );
  const merged = sizeOf(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** Reorders dims: output dim i is input dim dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(
      `permute: ${dims.length} dims [${dims.join(",")}] given for a tensor of shape ${formatShape(x.shape)}`,
    );
  }
  const resolved = dims.map((d) => normalizeAxis("permute", d, x.ndim));
  if (new Set(resolved).size !== resolved.length)
    throw new Error(`permute: dims [${dims.join(",")}] repeat an axis`);
  if (resolved.every((d, i) => d === i)) return x;
  return apply("permute", [x], resolved);
}

/** Swaps dimensions `dim0` and `dim1` (`torch.transpose`). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeAxis("transpose", dim0, x.ndim);
  const b = normalizeAxis("transpose", dim1, x.ndim);
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Removes dimension `dim` if it has size 1, or every size-1 dimension when omitted (`torch.squeeze`). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis("squeeze", dim, x.ndim);
  if (x.shape[a] !== 1) return x;
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}

/** Inserts a size-1 dimension at `dim` (`torch.unsqueeze`). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const a = normalizeAxis("unsqueeze", dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Broadcasts to `shape` (copying); -1 keeps a dim. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  const resolved = shape.map((d, i) => (d === -1 ? x.shape[i - lead] : d));
  const ok =
    lead >= 0 &&
    resolved.every((d) => Number.isInteger(d) && d >= 0) &&
    x.shape.every((d, i) => d === resolved[i + lead] || d === 1);
  if (!ok)
    throw new Error(`expand: shape ${formatShape(x.shape)} cannot be broadcast to ${formatShape(shape)}`);
  if (lead === 0 && resolved.every((d, i) => d === x.shape[i])) return x;
  return apply("expand", [x], resolved);
}

/** Elements start..end-1 (stepping by `step`) along `dim`; negative start/end count from the end. */
export function slice(x: Tensor, dim: number, start: number, end?: number, step = 1): Tensor {
  const axis = normalizeAxis("slice", dim, x.ndim);
  const len = x.shape[axis];
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`slice: step must be a positive integer, got ${step}`);
  // A fractional start would read between elements (undefined, i.e. NaN) instead of failing.
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new Error(
      `slice: start ${start} and end ${end} must be integers (dim ${dim} of ${formatShape(x.shape)})`,
    );
  }
  const clampIndex = (i: number) => Math.min(Math.max(i < 0 ? i + len : i, 0), len);
  const s = clampIndex(start);
  const e = clampIndex(end ?? len);
  const length = Math.max(0, Math.ceil((e - s) / step));
  if (s === 0 && length === len && step === 1) return x;
  return apply("slice", [x], { axis, start: s, step, length });
}

/** Splits along `dim` into pieces of the given sizes. */
export function split(x: Tensor, sizes: readonly number[], dim = 0): Tensor[] {
  const axis = normalizeAxis("split", dim, x.ndim);
  if (sizes.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new Error(`split: sizes [${sizes.join(",")}] must be non-negative integers`);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== x.shape[axis]) {
    throw new Error(
      `split: sizes [${sizes.join(",")}] sum to ${total}, but dim ${dim} of ${formatShape(x.shape)} is ${x.shape[axis]}`,
    );
  }
  let start = 0;
  return sizes.map((size) => {
    const piece = slice(x, axis, start, start + size);
    start += size;
    return piece;
  });
}

/** How `pad` fills the border (torch's `mode`). */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";

/** Options of `pad` (torch.nn.functional.pad's `mode` and `value`). */
export interface PadOptions {
  /** "constant" (default) fills with `value`; "reflect" mirrors without repeating the edge, "replicate"
   * repeats the edge, "circular" wraps around. */
  mode?: PadMode;
  /** Fill value of "constant" mode. Default 0. */
  value?: number;
}

const padModes: readonly PadMode[] = ["constant", "reflect", "replicate", "circular"];

/**
 * Padding in torch's order (torch.nn.functional.pad): `pad` holds [before, after] pairs starting from the
 * LAST dim, e.g. [left, right, top, bottom] for NCHW. The third argument is the constant fill value, a
 * mode name, or `{ mode, value }`. Non-constant modes pad at most ndim - 1 dims; reflect needs each width
 * below the dim's size, circular at most the size.
 * @example pad(x, [1, 1, 1, 1], "reflect") // [N, C, H, W] -> [N, C, H+2, W+2]
 */
export function pad(
  x: Tensor,
  padding: readonly number[],
  options: number | PadMode | PadOptions = 0,
): Tensor {
  const { mode = "constant", value = 0 } =
    typeof options === "number"
      ? { value: options }
      : typeof options === "string"
        ? { mode: options }
        : options;
  if (!padModes.includes(mode)) {
    throw new Error(`pad: mode must be one of ${padModes.join(", ")}, got ${JSON.stringify(mode)}`);
  }
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new Error(`pad: value must be a number, got ${JSON.stringify(value)}`);
  }
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw new Error(
      `pad: padding [${padding.join(",")}] must hold before/after pairs for at most ${x.ndim} dims`,
    );
  }
  if (padding.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new Error(`pad: padding [${padding.join(",")}] must be non-negative integers`);
  }
  const widths: [number, number][] = x.shape.map(() => [0, 0]);
  for (let i = 0; i < padding.length / 2; i++) widths[x.ndim - 1 - i] = [padding[2 * i], padding[2 * i + 1]];
  if (widths.every(([a, b]) => a === 0 && b === 0)) return x;
  if (mode === "constant") return apply("pad", [x], { widths, value });
  if (padding.length / 2 > x.ndim - 1) {
    throw new Error(
      `pad: ${mode} padding [${padding.join(",")}] pads ${padding.length / 2} dims of ${formatShape(x.shape)}; ` +
        `at most ${x.ndim - 1} (the batch/channel dims are never padded)`,
    );
  }
  let out = x;
  widths.forEach(([before, after], axis) => {
    if (before > 0 || after > 0) out = padAxis(out, axis, before, after, mode);
  });
  return out;
}

/** One axis of reflect/replicate/circular padding as slices joined by concat (their gradients are free). */
function padAxis(x: Tensor, axis: number, before: number, after: number, mode: PadMode): Tensor {
  const size = x.shape[axis];
  const limit = mode === "reflect" ? size - 1 : mode === "circular" ? size : Infinity;
  if (before > limit || after > limit || size === 0) {
    throw new Error(
      `pad: ${mode} padding (${before}, ${after}) of dim ${axis} needs ${mode === "reflect" ? "widths below" : "widths at most"} ` +
        `its size ${size}; input ${formatShape(x.shape)}`,
    );
  }
  const one = (i: number) => slice(x, axis, i, i + 1);
  const repeat = (t: Tensor, n: number) =>
    expand(
      t,
      x.shape.map((d, i) => (i === axis ? n : d)),
    );
  const parts: Tensor[] = [];
  if (mode === "circular") {
    if (before > 0) parts.push(slice(x, axis, size - before));
    parts.push(x);
    if (after > 0) parts.push(slice(x, axis, 0, after));
  } else if (mode === "replicate") {
    if (before > 0) parts.push(repeat(one(0), before));
    parts.push(x);
    if (after > 0) parts.push(repeat(one(size - 1), after));
  } else {
    // Mirror images without the edge element: x[before], …, x[1] | x | x[size-2], …, x[size-1-after].
    for (let i = before; i >= 1; i--) parts.push(one(i));
    parts.push(x);
    for (let i = 1; i <= after; i++) parts.push(one(size - 1 - i));
  }
  return concat(parts, axis);
}

/** Joins tensors along an existing dim; all other dims must match. */
export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("concat: no tensors given");
  checkCompatible("concat", ...tensors);
  const first = tensors[0];
  const axis = normalizeAxis("concat", dim, first.ndim);
  for (const t of tensors) {
    const fits = t.ndim === first.ndim && t.shape.every((d, i) => i === axis || d === first.shape[i]);
    if (!fits) {
      throw new Error(
        `concat: shapes ${tensors.map((p) => formatShape(p.shape)).join(", ")} differ outside dim ${dim}`,
      );
    }
  }
  if (tensors.length === 1) return first;
  // The graph records its own copy: a caller that pushes to its array afterwards (DenseNet's running list of
  // feature maps) would otherwise change the recorded inputs and make the graph cyclic.
  return apply("concat", [...tensors], axis);
}

/** Joins tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("stack: no tensors given");
  const first = tensors[0];
  if (tensors.some((t) => t.ndim !== first.ndim || t.shape.some((d, i) => d !== first.shape[i]))) {
    throw new Error(`stack: shapes ${tensors.map((t) => formatShape(t.shape)).join(", ")} must all be equal`);
  }
  const axis = normalizeAxis("stack", dim, tensors[0].ndim + 1);
  return concat(
    tensors.map((t) => unsqueeze(t, axis)),
    axis,
  );
}

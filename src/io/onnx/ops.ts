// The ONNX operators an imported graph may use (opsets 9-18 of the CNN operator set), each mapped onto
// Striate ops so that an imported model runs, trains and exports again. Every entry states the attributes
// it understands and checks their values when the file is imported, so that an unsupported op, attribute or
// attribute value is an error naming the node before anything runs. Shapes, indices, pads and scales are
// computed on the host (HostArray); activations are Tensors.

import { Tensor, tensor } from "../../tensor/tensor.js";
import { formatShape, sizeOf } from "../../tensor/shape.js";
import * as F from "../../ops/index.js";
import { LogSoftmax, Softmax } from "../../nn/activation.js";
import { HostArray } from "./host.js";
import type { TensorProto } from "./proto.js";

/** A value flowing through the graph: an activation (Tensor) or a small host-side array. */
export type Value = Tensor | HostArray;

/** An attribute value as read from AttributeProto. */
export type AttrValue = number | string | number[] | string[] | TensorProto;

/** What an op sees when it runs. */
export interface RunContext {
  /** The node's inputs in order; an omitted optional input (empty name) is undefined. */
  inputs: readonly (Value | undefined)[];
  attrs: Attrs;
  opset: number;
  /** The imported module's training flag (dropout, batch statistics). */
  training: boolean;
  /** Number of outputs the node declares. */
  outputCount: number;
  /** Replaces the value of a buffer input (batch norm's running statistics in training). */
  updateBuffer(input: number, value: Tensor): void;
  /** Converts an attribute tensor (Constant's value) to a host array. */
  hostTensor(t: TensorProto): HostArray;
  /** An error naming the node: "Conv node 'conv1' (opset 13): …". */
  fail(message: string): Error;
}

export interface OpSpec {
  /** Attribute names the op understands; any other attribute is an import error. */
  attrs: readonly string[];
  /** Input slots holding shapes, axes, pads or scales: their initializers stay host constants. */
  hostInputs?: readonly number[];
  /** Input slots whose initializers are state but not trained (batch norm's running statistics). */
  bufferInputs?: readonly number[];
  /** Checks attribute values at import; returns a problem or null. */
  check?(attrs: Attrs, opset: number): string | null;
  run(ctx: RunContext): Value[];
  /** What the coverage table says beyond the op name. */
  notes: string;
}

/** Attribute lookup with defaults, typed by use. */
export class Attrs {
  constructor(private readonly values: ReadonlyMap<string, AttrValue>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  int(name: string, fallback: number): number {
    const v = this.values.get(name);
    return typeof v === "number" ? v : fallback;
  }

  float(name: string, fallback: number): number {
    return this.int(name, fallback);
  }

  ints(name: string): number[] | undefined {
    const v = this.values.get(name);
    return Array.isArray(v) ? (v as number[]) : undefined;
  }

  string(name: string, fallback: string): string {
    const v = this.values.get(name);
    return typeof v === "string" ? v : fallback;
  }

  tensor(name: string): TensorProto | undefined {
    const v = this.values.get(name);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  }
}

// ---- value helpers --------------------------------------------------------------------------------------

function asTensor(v: Value, like?: Tensor): Tensor {
  if (v instanceof Tensor) return v;
  return tensor(Float32Array.from(v.data), [...v.shape], like ? { backend: like.backend.name } : {});
}

function asHost(v: Value): HostArray {
  if (v instanceof HostArray) return v;
  return new HostArray(Array.from(v.toArray()), [...v.shape], v.dtype === "int32");
}

function required(ctx: RunContext, i: number, what: string): Value {
  const v = ctx.inputs[i];
  if (v === undefined) throw ctx.fail(`input ${i} (${what}) is missing`);
  return v;
}

function tensorInput(ctx: RunContext, i: number, what: string): Tensor {
  const v = required(ctx, i, what);
  const first = ctx.inputs.find((x): x is Tensor => x instanceof Tensor);
  return asTensor(v, first);
}

function intsInput(ctx: RunContext, i: number, what: string): number[] {
  return [...asHost(required(ctx, i, what)).data];
}

function optionalInts(ctx: RunContext, i: number): number[] | undefined {
  const v = ctx.inputs[i];
  return v === undefined ? undefined : [...asHost(v).data];
}

function normalize(ctx: RunContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank)
    throw ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Outputs larger than this (elements) are refused before they are allocated: a corrupt pad or shape. */
const MAX_OUTPUT = 1 << 28;

function guardSize(ctx: RunContext, shape: readonly number[]): void {
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(shape) > MAX_OUTPUT)
    throw ctx.fail(`output [${shape.join(",")}] is not a valid size (at most ${MAX_OUTPUT} elements)`);
}

function spatialRank(ctx: RunContext, x: Tensor): void {
  if (x.ndim !== 4)
    throw ctx.fail(`only 2-D images [N, C, H, W] are supported, got input ${formatShape(x.shape)}`);
}

// ---- checks -------------------------------------------------------------------------------------------

const oneOf =
  (name: string, allowed: readonly string[], fallback: string) =>
  (a: Attrs): string | null => {
    const v = a.string(name, fallback);
    return allowed.includes(v) ? null : `${name}='${v}' is not supported (supported: ${allowed.join(", ")})`;
  };

function checkAll(...checks: ((a: Attrs, opset: number) => string | null)[]) {
  return (a: Attrs, opset: number) => {
    for (const c of checks) {
      const problem = c(a, opset);
      if (problem) return problem;
    }
    return null;
  };
}

const twoD =
  (name: string) =>
  (a: Attrs): string | null => {
    const k = a.ints(name);
    return k && k.length !== 2
      ? `${name} [${k.join(",")}] has ${k.length} dims; only 2-D is supported`
      : null;
  };

const autoPad = oneOf("auto_pad", ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"], "NOTSET");

// ---- windowed ops (conv, pooling) ------------------------------------------------------------------

interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
}

function windowOf(ctx: RunContext, x: Tensor, kernel: readonly number[]): Window {
  const a = ctx.attrs;
  const strides = (a.ints("strides") ?? [1, 1]) as [number, number];
  const dilations = (a.ints("dilations") ?? [1, 1]) as [number, number];
  const k = [kernel[0], kernel[1]] as [number, number];
  let pads = (a.ints("pads") ?? [0, 0, 0, 0]) as [number, number, number, number];
  const mode = a.string("auto_pad", "NOTSET");
  if (mode === "VALID") pads = [0, 0, 0, 0];
  if (mode === "SAME_UPPER" || mode === "SAME_LOWER") {
    const total = [0, 1].map((i) => {
      const size = x.shape[2 + i];
      const out = Math.ceil(size / strides[i]);
      return Math.max(0, (out - 1) * strides[i] + (k[i] - 1) * dilations[i] + 1 - size);
    });
    const begin = total.map((t) => (mode === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]];
  }
  if ([...strides, ...dilations].some((v) => !Number.isInteger(v) || v < 1) || pads.some((p) => p < 0))
    throw ctx.fail(`strides [${strides}], dilations [${dilations}] and pads [${pads}] must be positive`);
  return { kernel: k, strides, dilations, pads };
}

const symmetric = (p: Window["pads"]) => p[0] === p[2] && p[1] === p[3];

/** Pads H and W explicitly ([top, left, bottom, right]) with `value`. */
function padHW(x: Tensor, p: Window["pads"], value = 0): Tensor {
  return F.pad(x, [p[1], p[3], p[0], p[2]], value);
}

function kernelOf(ctx: RunContext, fallback: readonly number[]): readonly number[] {
  const k = ctx.attrs.ints("kernel_shape") ?? fallback;
  if (k.length !== 2) throw ctx.fail(`kernel_shape [${k}] must be 2-D`);
  return k;
}

/** X, W and the optional B of Conv and ConvTranspose, with X an image batch. */
function convOperands(ctx: RunContext): { x: Tensor; w: Tensor; b: Tensor | null } {
  const x = tensorInput(ctx, 0, "X");
  const w = tensorInput(ctx, 1, "W");
  const b = ctx.inputs[2] === undefined ? null : tensorInput(ctx, 2, "B");
  spatialRank(ctx, x);
  if (w.ndim !== 4) throw ctx.fail(`weight ${formatShape(w.shape)} must be 4-D`);
  return { x, w, b };
}

/** Refuses a padded input that would be too large to allocate. */
function guardPadded(ctx: RunContext, x: Tensor, pads: Window["pads"]): void {
  guardSize(ctx, [x.shape[0], x.shape[1], x.shape[2] + pads[0] + pads[2], x.shape[3] + pads[1] + pads[3]]);
}

const conv: OpSpec = {
  attrs: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
  check: checkAll(autoPad, twoD("kernel_shape"), twoD("strides"), twoD("dilations")),
  notes: "2-D; group, dilations, asymmetric pads, auto_pad",
  run(ctx) {
    const { x, w, b } = convOperands(ctx);
    const win = windowOf(ctx, x, kernelOf(ctx, w.shape.slice(2)));
    guardPadded(ctx, x, win.pads);
    const groups = ctx.attrs.int("group", 1);
    const options = { stride: win.strides, dilation: win.dilations, groups };
    if (symmetric(win.pads)) return [F.conv2d(x, w, b, { ...options, padding: [win.pads[0], win.pads[1]] })];
    return [F.conv2d(padHW(x, win.pads), w, b, options)];
  },
};

const convTranspose: OpSpec = {
  attrs: [
    "auto_pad",
    "dilations",
    "group",
    "kernel_shape",
    "output_padding",
    "output_shape",
    "pads",
    "strides",
  ],
  check: checkAll(autoPad, twoD("kernel_shape"), twoD("strides"), twoD("output_padding")),
  notes: "2-D; output_padding, output_shape, pads, group, dilations",
  run(ctx) {
    const { x, w, b } = convOperands(ctx);
    const a = ctx.attrs;
    const [kh, kw] = kernelOf(ctx, w.shape.slice(2));
    const strides = a.ints("strides") ?? [1, 1];
    const dilations = a.ints("dilations") ?? [1, 1];
    const groups = a.int("group", 1);
    let outputPadding = a.ints("output_padding") ?? [0, 0];
    const full = [0, 1].map((i) => (x.shape[2 + i] - 1) * strides[i] + dilations[i] * ([kh, kw][i] - 1) + 1);
    guardSize(ctx, [x.shape[0], w.shape[1] * a.int("group", 1), ...full]);
    let pads = a.ints("pads") ?? [0, 0, 0, 0];
    const mode = a.string("auto_pad", "NOTSET");
    const outputShape = a.ints("output_shape");
    if (outputShape || mode === "SAME_UPPER" || mode === "SAME_LOWER") {
      const target = outputShape ? outputShape.slice(-2) : [0, 1].map((i) => x.shape[2 + i] * strides[i]);
      const total = [0, 1].map((i) => full[i] + outputPadding[i] - target[i]);
      if (total.some((t) => t < 0)) {
        outputPadding = [0, 1].map((i) => Math.max(0, target[i] - full[i]));
        total.forEach((t, i) => (total[i] = Math.max(0, t)));
      }
      // The spec's split: SAME_UPPER puts the extra pixel at the end, anything else at the start.
      const upper = mode === "SAME_UPPER";
      const begin = total.map((t) => (upper ? Math.floor(t / 2) : t - Math.floor(t / 2)));
      const end = total.map((t, i) => t - begin[i]);
      pads = [begin[0], begin[1], end[0], end[1]];
    }
    if (pads[0] === pads[2] && pads[1] === pads[3]) {
      return [
        F.convTranspose2d(x, w, b, {
          stride: [strides[0], strides[1]],
          padding: [pads[0], pads[1]],
          dilation: [dilations[0], dilations[1]],
          groups,
          outputPadding: [outputPadding[0], outputPadding[1]],
        }),
      ];
    }
    // Asymmetric pads crop the full result; output padding then extends it, which cropping covers only
    // while it does not exceed the end padding.
    if (outputPadding[0] > pads[2] || outputPadding[1] > pads[3])
      throw ctx.fail(`output_padding [${outputPadding}] larger than the end pads [${pads}] is not supported`);
    const y = F.convTranspose2d(x, w, b, {
      stride: [strides[0], strides[1]],
      dilation: [dilations[0], dilations[1]],
      groups,
    });
    const cropped = F.slice(y, 2, pads[0], full[0] - pads[2] + outputPadding[0]);
    return [F.slice(cropped, 3, pads[1], full[1] - pads[3] + outputPadding[1])];
  },
};

function poolWindow(ctx: RunContext, x: Tensor): Window {
  spatialRank(ctx, x);
  const kernel = ctx.attrs.ints("kernel_shape");
  if (!kernel) throw ctx.fail("kernel_shape is required");
  const win = windowOf(ctx, x, kernelOf(ctx, kernel));
  guardPadded(ctx, x, win.pads);
  return win;
}

/** Whether the library's pooling can take these pads directly (symmetric, at most half the kernel). */
function nativePads(win: Window): boolean {
  return symmetric(win.pads) && 2 * win.pads[0] <= win.kernel[0] && 2 * win.pads[1] <= win.kernel[1];
}

const singleOutput = (ctx: RunContext, what: string) => {
  if (ctx.outputCount > 1) throw ctx.fail(`the ${what} output is not supported`);
};

const maxPool: OpSpec = {
  attrs: ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"],
  check: checkAll(autoPad, twoD("kernel_shape"), (a) =>
    a.int("storage_order", 0) !== 0 ? "storage_order=1 is not supported" : null,
  ),
  notes: "2-D; ceil_mode, pads (asymmetric too), dilations, auto_pad; no Indices output",
  run(ctx) {
    singleOutput(ctx, "Indices");
    const x = tensorInput(ctx, 0, "X");
    const win = poolWindow(ctx, x);
    const ceilMode = ctx.attrs.int("ceil_mode", 0) === 1;
    const options = { stride: win.strides, dilation: win.dilations, ceilMode };
    if (nativePads(win))
      return [F.maxPool2d(x, win.kernel, { ...options, padding: [win.pads[0], win.pads[1]] })];
    if (ceilMode) throw ctx.fail(`ceil_mode with pads [${win.pads}] is not supported`);
    return [F.maxPool2d(padHW(x, win.pads, -Infinity), win.kernel, options)];
  },
};

const averagePool: OpSpec = {
  attrs: ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"],
  check: checkAll(autoPad, twoD("kernel_shape")),
  notes: "2-D; count_include_pad, ceil_mode, pads (asymmetric too), auto_pad",
  run(ctx) {
    const x = tensorInput(ctx, 0, "X");
    const win = poolWindow(ctx, x);
    const ceilMode = ctx.attrs.int("ceil_mode", 0) === 1;
    const countIncludePad = ctx.attrs.int("count_include_pad", 0) === 1;
    const options = { stride: win.strides, ceilMode };
    if (nativePads(win))
      return [
        F.avgPool2d(x, win.kernel, { ...options, padding: [win.pads[0], win.pads[1]], countIncludePad }),
      ];
    if (ceilMode) throw ctx.fail(`ceil_mode with pads [${win.pads}] is not supported`);
    const sums = F.avgPool2d(padHW(x, win.pads), win.kernel, options);
    if (countIncludePad) return [sums];
    // Divide by the share of each window that lies inside the input instead of the full window.
    const inside = tensor(new Float32Array(x.shape[2] * x.shape[3]).fill(1), [1, 1, x.shape[2], x.shape[3]], {
      backend: x.backend.name,
    });
    return [F.div(sums, F.avgPool2d(padHW(inside, win.pads), win.kernel, options))];
  },
};

function globalPool(kind: "mean" | "max"): OpSpec {
  return {
    attrs: [],
    notes: "any rank >= 3",
    run(ctx) {
      const x = tensorInput(ctx, 0, "X");
      if (x.ndim < 3) throw ctx.fail(`input ${formatShape(x.shape)} has no spatial dims`);
      const axes = x.shape.map((_, i) => i).slice(2);
      return [kind === "mean" ? F.mean(x, axes, true) : F.max(x, axes, true)];
    },
  };
}

// ---- arithmetic and activations -------------------------------------------------------------------

function binary(
  tensorOp: (a: Tensor, b: Tensor) => Tensor,
  hostOp: (a: number, b: number, ints: boolean) => number,
): OpSpec {
  return {
    attrs: [],
    notes: "numpy broadcasting",
    run(ctx) {
      const a = required(ctx, 0, "A");
      const b = required(ctx, 1, "B");
      if (a instanceof HostArray && b instanceof HostArray) {
        const ints = a.isInt && b.isInt;
        const out = HostArray.binary(a, b, (x, y) => hostOp(x, y, ints));
        if (!out)
          throw ctx.fail(`shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
        return [out];
      }
      const like = a instanceof Tensor ? a : (b as Tensor);
      return [tensorOp(asTensor(a, like), asTensor(b, like))];
    },
  };
}

/** Greater, Less, Equal: 1/0 (float), on host values too; not differentiable, like ONNX's bool output. */
function comparison(kind: "gt" | "lt" | "eq"): OpSpec {
  const host = {
    gt: (a: number, b: number) => a > b,
    lt: (a: number, b: number) => a < b,
    eq: (a: number, b: number) => a === b,
  }[kind];
  return {
    attrs: [],
    notes: "numpy broadcasting; the result is 1/0",
    run(ctx) {
      const a = required(ctx, 0, "A");
      const b = required(ctx, 1, "B");
      if (a instanceof HostArray && b instanceof HostArray) {
        const out = HostArray.binary(a, b, (x, y) => (host(x, y) ? 1 : 0));
        if (!out)
          throw ctx.fail(`shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
        return [out];
      }
      const like = a instanceof Tensor ? a : (b as Tensor);
      return [F.recordedCompare(kind, asTensor(a, like), asTensor(b, like))];
    },
  };
}

function unary(f: (x: Tensor, a: Attrs) => Tensor, attrs: readonly string[] = [], notes = ""): OpSpec {
  return { attrs, notes, run: (ctx) => [f(tensorInput(ctx, 0, "X"), ctx.attrs)] };
}

/** max(0, min(1, alpha·x + beta)) */
const hardSigmoid = (x: Tensor, alpha: number, beta: number) => F.clamp(F.add(F.mul(x, alpha), beta), 0, 1);

const clip: OpSpec = {
  attrs: ["min", "max"],
  hostInputs: [1, 2],
  notes: "min/max attributes before opset 11, inputs from 11",
  run(ctx) {
    const x = tensorInput(ctx, 0, "input");
    const bound = (i: number, name: string, fallback: number) => {
      if (ctx.opset < 11) return ctx.attrs.float(name, fallback);
      const v = ctx.inputs[i];
      return v === undefined ? fallback : asHost(v).data[0];
    };
    const lo = bound(1, "min", -Infinity);
    const hi = bound(2, "max", Infinity);
    if (lo === 0 && hi === 6) return [F.relu6(x)];
    return [F.clamp(x, lo, hi)];
  },
};

function softmaxLike(kind: "softmax" | "logSoftmax"): OpSpec {
  return {
    attrs: ["axis"],
    notes: "axis semantics before opset 13 (flatten to 2-D at axis) and from 13 (one axis)",
    run(ctx) {
      const x = tensorInput(ctx, 0, "input");
      // Through the layers, so that exportOnnx sees Softmax / LogSoftmax nodes rather than the composite
      // (whose max shift is a constant computed outside the autograd graph).
      const f = (t: Tensor, dim: number) =>
        kind === "softmax" ? new Softmax(dim).forward(t) : new LogSoftmax(dim).forward(t);
      if (ctx.opset >= 13) return [f(x, normalize(ctx, ctx.attrs.int("axis", -1), x.ndim))];
      const axis = normalize(ctx, ctx.attrs.int("axis", 1), x.ndim);
      if (axis === x.ndim - 1) return [f(x, axis)];
      const rows = sizeOf(x.shape.slice(0, axis));
      return [F.reshape(f(F.reshape(x, [rows, -1]), 1), x.shape)];
    },
  };
}

const batchNormalization: OpSpec = {
  attrs: ["epsilon", "momentum", "spatial", "training_mode"],
  bufferInputs: [3, 4],
  check: (a) =>
    a.int("spatial", 1) !== 1
      ? "spatial=0 is not supported"
      : a.int("training_mode", 0) !== 0
        ? "training_mode=1 is not supported (the imported module's train() decides)"
        : null,
  notes: "inference form; in train() batch statistics and running-stat updates like torch",
  run(ctx) {
    singleOutput(ctx, "running statistics");
    const x = tensorInput(ctx, 0, "X");
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => tensorInput(ctx, i, "statistics"));
    const momentum = ctx.attrs.float("momentum", 0.9);
    const result = F.batchNormWithStats(x, {
      weight: scale,
      bias,
      runningMean: mean,
      runningVar: variance,
      training: ctx.training,
      momentum: 1 - momentum,
      eps: ctx.attrs.float("epsilon", 1e-5),
    });
    if (ctx.training) {
      ctx.updateBuffer(3, result.runningMean!);
      ctx.updateBuffer(4, result.runningVar!);
    }
    return [result.output];
  },
};

const lrn: OpSpec = {
  attrs: ["alpha", "beta", "bias", "size"],
  check: (a) => (a.int("size", 0) >= 1 ? null : "size must be a positive integer"),
  notes: "window [c - floor((size-1)/2), c + ceil((size-1)/2)] as ONNX defines it",
  run(ctx) {
    const x = tensorInput(ctx, 0, "X");
    const a = ctx.attrs;
    const size = a.int("size", 1);
    const before = Math.floor((size - 1) / 2);
    const after = size - 1 - before;
    const channels = x.shape[1];
    const widths = new Array<number>(2 * (x.ndim - 2)).fill(0);
    const padded = F.pad(F.square(x), [...widths, before, after]);
    let windowSum = F.slice(padded, 1, 0, channels);
    for (let i = 1; i < size; i++) windowSum = F.add(windowSum, F.slice(padded, 1, i, i + channels));
    const denominator = F.pow(
      F.add(F.mul(windowSum, a.float("alpha", 1e-4) / size), a.float("bias", 1)),
      a.float("beta", 0.75),
    );
    return [F.div(x, denominator)];
  },
};

const gemm: OpSpec = {
  attrs: ["alpha", "beta", "transA", "transB"],
  notes: "transA/transB, alpha, beta, C broadcast",
  run(ctx) {
    const a = tensorInput(ctx, 0, "A");
    const b = tensorInput(ctx, 1, "B");
    if (a.ndim !== 2 || b.ndim !== 2)
      throw ctx.fail(`A ${formatShape(a.shape)} and B ${formatShape(b.shape)} must be 2-D`);
    const at = ctx.attrs;
    let y = F.gemm(a, b, at.int("transA", 0) === 1, at.int("transB", 0) === 1);
    const alpha = at.float("alpha", 1);
    if (alpha !== 1) y = F.mul(y, alpha);
    if (ctx.inputs[2] === undefined) return [y];
    const beta = at.float("beta", 1);
    const c = tensorInput(ctx, 2, "C");
    return [F.add(y, beta === 1 ? c : F.mul(c, beta))];
  },
};

// ---- reductions ---------------------------------------------------------------------------------------

function reduce(kind: "mean" | "sum" | "max" | "min", axesInputSince: number): OpSpec {
  return {
    attrs: ["axes", "keepdims", "noop_with_empty_axes"],
    hostInputs: [1],
    notes: `axes as attribute, or input from opset ${axesInputSince}; keepdims`,
    run(ctx) {
      const x = tensorInput(ctx, 0, "data");
      const given = ctx.opset >= axesInputSince ? optionalInts(ctx, 1) : ctx.attrs.ints("axes");
      if ((!given || given.length === 0) && ctx.attrs.int("noop_with_empty_axes", 0) === 1) return [x];
      const axes =
        given && given.length > 0 ? given.map((a) => normalize(ctx, a, x.ndim)) : x.shape.map((_, i) => i);
      const keep = ctx.attrs.int("keepdims", 1) === 1;
      const f = { mean: F.mean, sum: F.sum, max: F.max, min: F.min }[kind];
      return [f(x, axes, keep)];
    },
  };
}

// ---- shapes and layout ------------------------------------------------------------------------------

function reshapeValue(v: Value, shape: readonly number[]): Value {
  return v instanceof HostArray ? v.reshape(shape) : F.reshape(v, shape);
}

const reshapeOp: OpSpec = {
  attrs: ["allowzero"],
  hostInputs: [1],
  notes: "0 copies the input dim, -1 is inferred",
  run(ctx) {
    const data = required(ctx, 0, "data");
    const allowZero = ctx.attrs.int("allowzero", 0) === 1;
    const target = intsInput(ctx, 1, "shape").map((d, i) => (d === 0 && !allowZero ? data.shape[i] : d));
    const total = sizeOf(data.shape);
    const known = sizeOf(target.filter((d) => d !== -1));
    const inferred = target.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
    if (
      target.filter((d) => d === -1).length > 1 ||
      inferred.some((d) => !Number.isInteger(d) || d < 0) ||
      sizeOf(inferred) !== total
    )
      throw ctx.fail(`cannot reshape ${formatShape(data.shape)} into [${target.join(",")}]`);
    return [reshapeValue(data, inferred)];
  },
};

const flattenOp: OpSpec = {
  attrs: ["axis"],
  notes: "any axis",
  run(ctx) {
    const x = required(ctx, 0, "input");
    const rank = x.shape.length;
    const axis = ctx.attrs.int("axis", 1);
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a > rank) throw ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
    return [reshapeValue(x, [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))])];
  },
};

const transposeOp: OpSpec = {
  attrs: ["perm"],
  notes: "",
  run(ctx) {
    const x = required(ctx, 0, "data");
    const rank = x.shape.length;
    const perm = ctx.attrs.ints("perm") ?? x.shape.map((_, i) => rank - 1 - i);
    if (perm.length !== rank || new Set(perm.map((p) => normalize(ctx, p, rank))).size !== rank)
      throw ctx.fail(`perm [${perm}] is not a permutation of ${rank} axes`);
    return [x instanceof HostArray ? x.transpose(perm) : F.permute(x, perm)];
  },
};

const concatOp: OpSpec = {
  attrs: ["axis"],
  notes: "",
  run(ctx) {
    const parts = ctx.inputs.filter((v): v is Value => v !== undefined);
    if (parts.length === 0) throw ctx.fail("no inputs");
    const axis = normalize(ctx, ctx.attrs.int("axis", 0), parts[0].shape.length);
    for (const p of parts) {
      if (
        p.shape.length !== parts[0].shape.length ||
        p.shape.some((d, i) => i !== axis && d !== parts[0].shape[i])
      )
        throw ctx.fail(
          `shapes ${parts.map((q) => formatShape(q.shape)).join(", ")} differ outside axis ${axis}`,
        );
    }
    if (parts.every((p) => p instanceof HostArray)) return [HostArray.concat(parts as HostArray[], axis)];
    const like = parts.find((p): p is Tensor => p instanceof Tensor)!;
    return [
      F.concat(
        parts.map((p) => asTensor(p, like)),
        axis,
      ),
    ];
  },
};

const splitOp: OpSpec = {
  attrs: ["axis", "split", "num_outputs"],
  hostInputs: [1],
  notes: "sizes as attribute before opset 13, input from 13; equal parts otherwise",
  run(ctx) {
    const x = tensorInput(ctx, 0, "input");
    const axis = normalize(ctx, ctx.attrs.int("axis", 0), x.ndim);
    const size = x.shape[axis];
    const n = ctx.outputCount;
    let sizes = ctx.opset >= 13 ? optionalInts(ctx, 1) : ctx.attrs.ints("split");
    if (!sizes) {
      const part = Math.ceil(size / n);
      sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(part, size - i * part)));
    }
    if (sizes.length !== n) throw ctx.fail(`${sizes.length} split sizes for ${n} outputs`);
    try {
      return F.split(x, sizes, axis);
    } catch (e) {
      throw ctx.fail((e as Error).message);
    }
  },
};

const sliceOp: OpSpec = {
  attrs: ["starts", "ends", "axes"],
  hostInputs: [1, 2, 3, 4],
  notes: "attributes before opset 10, inputs from 10; negative steps on host values only",
  run(ctx) {
    const data = required(ctx, 0, "data");
    const rank = data.shape.length;
    const a = ctx.attrs;
    const starts = ctx.opset < 10 ? (a.ints("starts") ?? []) : intsInput(ctx, 1, "starts");
    const ends = ctx.opset < 10 ? (a.ints("ends") ?? []) : intsInput(ctx, 2, "ends");
    const axes = (ctx.opset < 10 ? a.ints("axes") : optionalInts(ctx, 3)) ?? starts.map((_, i) => i);
    const steps = (ctx.opset < 10 ? undefined : optionalInts(ctx, 4)) ?? starts.map(() => 1);
    if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
      throw ctx.fail("starts, ends, axes and steps differ in length");
    let out = data;
    axes.forEach((axisGiven, i) => {
      const axis = normalize(ctx, axisGiven, rank);
      const dim = out.shape[axis];
      const step = steps[i];
      if (step === 0 || !Number.isFinite(step)) throw ctx.fail("a step of 0 is not allowed");
      const resolve = (v: number) => (v < 0 ? v + dim : v);
      const [lo, hi] = step > 0 ? [0, dim] : [-1, dim - 1];
      const start = Math.min(Math.max(resolve(starts[i]), lo), hi);
      const end = Math.min(Math.max(resolve(ends[i]), lo), hi);
      const length = Math.max(0, Math.ceil((end - start) / step));
      if (out instanceof HostArray) out = out.slice(axis, start, step, length);
      else if (step < 0) throw ctx.fail("negative steps on activations are not supported");
      else out = F.slice(out, axis, start, start + length * step - (step - 1), step);
    });
    return [out];
  },
};

function squeezeLike(kind: "squeeze" | "unsqueeze"): OpSpec {
  return {
    attrs: ["axes"],
    hostInputs: [1],
    notes: "axes as attribute before opset 13, input from 13",
    run(ctx) {
      const x = required(ctx, 0, "data");
      const axes = ctx.opset >= 13 ? optionalInts(ctx, 1) : ctx.attrs.ints("axes");
      let shape: number[];
      if (kind === "squeeze") {
        const drop = (axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) =>
          normalize(ctx, a, x.shape.length),
        );
        if (drop.some((a) => x.shape[a] !== 1))
          throw ctx.fail(`cannot squeeze a dim that is not 1 in ${formatShape(x.shape)}`);
        shape = x.shape.filter((_, i) => !drop.includes(i));
      } else {
        if (!axes) throw ctx.fail("axes are required");
        const rank = x.shape.length + axes.length;
        const added = axes.map((a) => normalize(ctx, a, rank));
        shape = [];
        let k = 0;
        for (let i = 0; i < rank; i++) shape.push(added.includes(i) ? 1 : x.shape[k++]);
      }
      return [reshapeValue(x, shape)];
    },
  };
}

const padOp: OpSpec = {
  attrs: ["mode", "pads", "value"],
  hostInputs: [1, 2, 3],
  check: oneOf("mode", ["constant", "reflect", "edge"], "constant"),
  notes: "constant, reflect, edge; pads as attribute before opset 11, inputs from 11 (axes from 18)",
  run(ctx) {
    const x = tensorInput(ctx, 0, "data");
    const mode = ctx.attrs.string("mode", "constant");
    const given = ctx.opset < 11 ? (ctx.attrs.ints("pads") ?? []) : intsInput(ctx, 1, "pads");
    const value =
      ctx.opset < 11
        ? ctx.attrs.float("value", 0)
        : ctx.inputs[2] === undefined
          ? 0
          : (asHost(ctx.inputs[2]).data[0] ?? 0);
    const axes =
      (ctx.opset >= 18 ? optionalInts(ctx, 3) : undefined)?.map((a) => normalize(ctx, a, x.ndim)) ??
      x.shape.map((_, i) => i);
    if (given.length !== 2 * axes.length)
      throw ctx.fail(`pads [${given}] must hold 2 values per axis (${axes.length} axes)`);
    const widths = x.shape.map(() => [0, 0]);
    axes.forEach((a, i) => (widths[a] = [given[i], given[i + axes.length]]));
    guardSize(
      ctx,
      x.shape.map((d, i) => d + Math.max(0, widths[i][0]) + Math.max(0, widths[i][1])),
    );
    let out = x;
    // Negative pads crop.
    widths.forEach(([b, e], axis) => {
      if (b < 0 || e < 0) out = F.slice(out, axis, Math.max(0, -b), out.shape[axis] - Math.max(0, -e));
    });
    const positive = widths.map(([b, e]) => [Math.max(0, b), Math.max(0, e)]);
    // F.pad takes [before, after] pairs from the last dim; reflect and edge never pad the batch dim.
    const padding = [...positive].reverse().flat();
    if (mode === "constant") return [F.pad(out, padding, value)];
    while (padding.length > 0 && padding[padding.length - 1] === 0 && padding[padding.length - 2] === 0)
      padding.length -= 2;
    try {
      return [F.pad(out, padding, mode === "edge" ? "replicate" : "reflect")];
    } catch (e) {
      throw ctx.fail((e as Error).message);
    }
  },
};

// ---- resize -------------------------------------------------------------------------------------------

/** The [out, in] interpolation matrix of one spatial axis. */
function interpolation(
  inSize: number,
  outSize: number,
  scale: number,
  a: Attrs,
  legacy: boolean,
): Float32Array {
  const mode = a.string("mode", "nearest");
  const coord = legacy ? "asymmetric" : a.string("coordinate_transformation_mode", "half_pixel");
  const nearestMode = legacy ? "floor" : a.string("nearest_mode", "round_prefer_floor");
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    let x: number;
    if (coord === "align_corners") x = outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    else if (coord === "asymmetric") x = o / scale;
    else if (coord === "pytorch_half_pixel") x = outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    else x = (o + 0.5) / scale - 0.5;
    if (mode === "nearest") {
      let i: number;
      if (nearestMode === "floor") i = Math.floor(x);
      else if (nearestMode === "ceil") i = Math.ceil(x);
      else if (nearestMode === "round_prefer_ceil") i = Math.floor(x + 0.5);
      else i = x % 1 === 0.5 ? Math.floor(x) : Math.round(x);
      m[o * inSize + Math.min(Math.max(i, 0), inSize - 1)] = 1;
    } else {
      const clamped = Math.min(Math.max(x, 0), inSize - 1);
      const i0 = Math.floor(clamped);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const w = clamped - i0;
      m[o * inSize + i0] += 1 - w;
      m[o * inSize + i1] += w;
    }
  }
  return m;
}

function resize(legacy: "upsample" | "resize"): OpSpec {
  return {
    attrs:
      legacy === "upsample"
        ? ["mode"]
        : [
            "mode",
            "coordinate_transformation_mode",
            "nearest_mode",
            "cubic_coeff_a",
            "exclude_outside",
            "extrapolation_value",
            "antialias",
            "keep_aspect_ratio_policy",
            "axes",
          ],
    hostInputs: [1, 2, 3],
    check: checkAll(
      oneOf("mode", ["nearest", "linear", "bilinear"], "nearest"),
      oneOf(
        "coordinate_transformation_mode",
        ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"],
        "half_pixel",
      ),
      oneOf(
        "nearest_mode",
        ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"],
        "round_prefer_floor",
      ),
      (a) =>
        a.int("exclude_outside", 0) !== 0 || a.int("antialias", 0) !== 0 || a.has("axes")
          ? "exclude_outside, antialias and axes are not supported"
          : null,
    ),
    notes: "nearest and (bi)linear over H and W; scales or sizes",
    run(ctx) {
      const x = tensorInput(ctx, 0, "X");
      spatialRank(ctx, x);
      // Upsample and opset-10 Resize take (X, scales); from opset 11 Resize takes (X, roi, scales, sizes).
      const twoInputs = legacy === "upsample" || ctx.opset < 11;
      const scales = twoInputs
        ? ctx.opset < 9
          ? ctx.attrs.ints("scales")
          : optionalInts(ctx, 1)
        : optionalInts(ctx, 2);
      const sizes = twoInputs ? undefined : optionalInts(ctx, 3);
      let outHW: number[];
      let scaleHW: number[];
      if (sizes && sizes.length > 0) {
        if (sizes.length !== 4 || sizes[0] !== x.shape[0] || sizes[1] !== x.shape[1])
          throw ctx.fail(`sizes [${sizes}] must keep N and C of ${formatShape(x.shape)}`);
        outHW = sizes.slice(2);
        scaleHW = [0, 1].map((i) => outHW[i] / x.shape[2 + i]);
      } else if (scales && scales.length === 4) {
        if (scales[0] !== 1 || scales[1] !== 1) throw ctx.fail(`scales [${scales}] must be 1 for N and C`);
        scaleHW = scales.slice(2);
        outHW = [0, 1].map((i) => Math.floor(x.shape[2 + i] * scaleHW[i]));
      } else throw ctx.fail("needs 4 scales or 4 sizes");
      if (outHW.some((d) => !(d >= 1))) throw ctx.fail(`output size [${outHW}] is out of range`);
      guardSize(ctx, [x.shape[0], x.shape[1], ...outHW]);
      const old = twoInputs;
      const mh = interpolation(x.shape[2], outHW[0], scaleHW[0], ctx.attrs, old);
      const mw = interpolation(x.shape[3], outHW[1], scaleHW[1], ctx.attrs, old);
      const opts = { backend: x.backend.name };
      // y = Mh · x · Mwᵀ, as two matrix products over the last axis.
      const alongW = F.matmul(x, F.transpose(tensor(mw, [outHW[1], x.shape[3]], opts), 0, 1));
      const alongH = F.matmul(
        F.transpose(alongW, 2, 3),
        F.transpose(tensor(mh, [outHW[0], x.shape[2]], opts), 0, 1),
      );
      return [F.transpose(alongH, 2, 3)];
    },
  };
}

// ---- constants, shapes, casts ---------------------------------------------------------------------------

const constantOp: OpSpec = {
  attrs: ["value", "value_float", "value_floats", "value_int", "value_ints"],
  notes: "value, value_float(s), value_int(s)",
  run(ctx) {
    const a = ctx.attrs;
    const t = a.tensor("value");
    if (t) return [ctx.hostTensor(t)];
    if (a.has("value_float")) return [new HostArray([a.float("value_float", 0)], [], false)];
    if (a.has("value_int")) return [new HostArray([a.int("value_int", 0)], [], true)];
    const floats = a.ints("value_floats");
    if (floats) return [new HostArray(floats, [floats.length], false)];
    const ints = a.ints("value_ints");
    if (ints) return [HostArray.ints(ints)];
    throw ctx.fail("has no value");
  },
};

const shapeOp: OpSpec = {
  attrs: ["start", "end"],
  notes: "start/end (opset 15)",
  run(ctx) {
    const shape = [...required(ctx, 0, "data").shape];
    const rank = shape.length;
    const clampAxis = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    return [
      HostArray.ints(
        shape.slice(clampAxis(ctx.attrs.int("start", 0)), clampAxis(ctx.attrs.int("end", rank))),
      ),
    ];
  },
};

const gatherOp: OpSpec = {
  attrs: ["axis"],
  hostInputs: [1],
  notes: "any data with constant indices",
  run(ctx) {
    const data = required(ctx, 0, "data");
    const indices = asHost(required(ctx, 1, "indices"));
    const axis = normalize(ctx, ctx.attrs.int("axis", 0), data.shape.length);
    if (data instanceof HostArray) {
      try {
        return [data.gather(indices, axis)];
      } catch (e) {
        throw ctx.fail((e as Error).message);
      }
    }
    const size = data.shape[axis];
    const picks = indices.data.map((i) => {
      const k = i < 0 ? i + size : i;
      if (!(k >= 0 && k < size))
        throw ctx.fail(`index ${i} is out of range for dim ${axis} of ${formatShape(data.shape)}`);
      return F.slice(data, axis, k, k + 1);
    });
    const joined = picks.length === 1 ? picks[0] : F.concat(picks, axis);
    const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
    return [F.reshape(joined, shape)];
  },
};

const FLOAT_TYPES = [1, 10, 11, 16];
const castOp: OpSpec = {
  attrs: ["to", "saturate"],
  check: (a) =>
    [1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 16].includes(a.int("to", 0))
      ? null
      : `to=${a.int("to", 0)} is not a numeric type`,
  notes: "between float and integer types",
  run(ctx) {
    const x = required(ctx, 0, "input");
    const toFloat = FLOAT_TYPES.includes(ctx.attrs.int("to", 1));
    if (x instanceof Tensor) {
      if (toFloat) return [x];
      return [asHost(x).map((v) => Math.trunc(v), true)];
    }
    return [toFloat ? x.map((v) => v, false) : x.map((v) => Math.trunc(v), true)];
  },
};

const constantOfShape: OpSpec = {
  attrs: ["value"],
  hostInputs: [0],
  notes: "",
  run(ctx) {
    const shape = intsInput(ctx, 0, "input");
    if (shape.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(shape) > 1 << 24)
      throw ctx.fail(`shape [${shape}] is not a valid size`);
    const t = ctx.attrs.tensor("value");
    const fill = t ? ctx.hostTensor(t) : new HostArray([0], [1], false);
    return [new HostArray(new Array<number>(sizeOf(shape)).fill(fill.data[0] ?? 0), shape, fill.isInt)];
  },
};

const expandOp: OpSpec = {
  attrs: [],
  hostInputs: [1],
  notes: "bidirectional broadcast",
  run(ctx) {
    const x = tensorInput(ctx, 0, "input");
    const shape = intsInput(ctx, 1, "shape");
    const rank = Math.max(x.ndim, shape.length);
    const xs = [...new Array<number>(rank - x.ndim).fill(1), ...x.shape];
    const ts = [...new Array<number>(rank - shape.length).fill(1), ...shape];
    const out = xs.map((d, i) => (d === 1 ? ts[i] : d));
    if (xs.some((d, i) => d !== 1 && ts[i] !== 1 && ts[i] !== d))
      throw ctx.fail(`cannot expand ${formatShape(x.shape)} to [${shape}]`);
    guardSize(ctx, out);
    return [F.expand(F.reshape(x, xs), out)];
  },
};

const dropoutOp: OpSpec = {
  attrs: ["ratio", "seed", "is_test"],
  hostInputs: [1, 2],
  notes: "identity in eval(); inverted dropout in train()",
  run(ctx) {
    if (ctx.outputCount > 1) throw ctx.fail("the mask output is not supported");
    const x = tensorInput(ctx, 0, "data");
    if (!ctx.training) return [x];
    const ratio =
      ctx.opset >= 12
        ? ctx.inputs[1] === undefined
          ? 0.5
          : asHost(ctx.inputs[1]).data[0]
        : ctx.attrs.float("ratio", 0.5);
    return [F.dropout(x, ratio, { training: true })];
  },
};

const identity: OpSpec = { attrs: [], notes: "", run: (ctx) => [required(ctx, 0, "input")] };

// ---- the table ----------------------------------------------------------------------------------------

const floorDiv = (a: number, b: number, ints: boolean) => (ints ? Math.trunc(a / b) : a / b);

/** Every supported op_type of the default ONNX domain. */
export const ONNX_OPS: Readonly<Record<string, OpSpec>> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: {
    attrs: [],
    notes: "numpy-style batch broadcasting",
    run: (ctx) => [F.matmul(tensorInput(ctx, 0, "A"), tensorInput(ctx, 1, "B"))],
  },
  Add: binary(F.add, (a, b) => a + b),
  Sub: binary(F.sub, (a, b) => a - b),
  Mul: binary(F.mul, (a, b) => a * b),
  Div: binary(F.div, floorDiv),
  Max: binary(F.maximum, (a, b) => Math.max(a, b)),
  Min: binary(F.minimum, (a, b) => Math.min(a, b)),
  Pow: {
    attrs: [],
    hostInputs: [1],
    notes: "scalar exponent",
    run(ctx) {
      const e = asHost(required(ctx, 1, "Y"));
      if (e.data.length !== 1) throw ctx.fail("only a scalar exponent is supported");
      return [F.pow(tensorInput(ctx, 0, "X"), e.data[0])];
    },
  },
  Neg: unary((x) => F.neg(x)),
  Abs: unary((x) => F.abs(x)),
  Exp: unary((x) => F.exp(x)),
  Log: unary((x) => F.log(x)),
  Sqrt: unary((x) => F.sqrt(x)),
  Reciprocal: unary((x) => F.div(1, x)),
  Relu: unary((x) => F.relu(x)),
  Sign: unary((x) => F.sign(x)),
  Softplus: unary((x) => F.softplus(x)),
  Greater: comparison("gt"),
  Less: comparison("lt"),
  Equal: comparison("eq"),
  Where: {
    attrs: [],
    notes: "condition from a comparison, numpy broadcasting",
    run(ctx) {
      const like = ctx.inputs.find((v): v is Tensor => v instanceof Tensor);
      const [cond, a, b] = [0, 1, 2].map((i) => asTensor(required(ctx, i, ["condition", "X", "Y"][i]), like));
      return [F.where(cond, a, b)];
    },
  },
  LeakyRelu: unary((x, a) => F.leakyRelu(x, a.float("alpha", 0.01)), ["alpha"]),
  PRelu: {
    attrs: [],
    notes: "slope broadcast (per channel or shared)",
    run(ctx) {
      const x = tensorInput(ctx, 0, "X");
      const slope = tensorInput(ctx, 1, "slope");
      return [F.add(F.relu(x), F.mul(slope, F.neg(F.relu(F.neg(x)))))];
    },
  },
  Elu: unary((x, a) => F.elu(x, a.float("alpha", 1)), ["alpha"]),
  Sigmoid: unary((x) => F.sigmoid(x)),
  HardSigmoid: unary(
    (x, a) => hardSigmoid(x, a.float("alpha", 0.2), a.float("beta", 0.5)),
    ["alpha", "beta"],
  ),
  HardSwish: unary((x) => F.mul(x, hardSigmoid(x, 1 / 6, 0.5))),
  Tanh: unary((x) => F.tanh(x)),
  Erf: unary((x) => F.erf(x)),
  Clip: clip,
  Softmax: softmaxLike("softmax"),
  LogSoftmax: softmaxLike("logSoftmax"),
  BatchNormalization: batchNormalization,
  LRN: lrn,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalPool("mean"),
  GlobalMaxPool: globalPool("max"),
  ReduceMean: reduce("mean", 18),
  ReduceSum: reduce("sum", 13),
  ReduceMax: reduce("max", 18),
  ReduceMin: reduce("min", 18),
  Flatten: flattenOp,
  Reshape: reshapeOp,
  Transpose: transposeOp,
  Concat: concatOp,
  Split: splitOp,
  Slice: sliceOp,
  Squeeze: squeezeLike("squeeze"),
  Unsqueeze: squeezeLike("unsqueeze"),
  Pad: padOp,
  Resize: resize("resize"),
  Upsample: resize("upsample"),
  Dropout: dropoutOp,
  Identity: identity,
  Constant: constantOp,
  ConstantOfShape: constantOfShape,
  Shape: shapeOp,
  Gather: gatherOp,
  Cast: castOp,
  Expand: expandOp,
};

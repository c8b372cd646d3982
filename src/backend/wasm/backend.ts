// The wasm Backend: every kernel of the Backend interface over the SIMD kernels, with all storage in the
// one wasm memory (no copies between ops). Shapes and geometry are translated into the typed wrappers'
// arguments here; threads are decided by the wrappers.
//
// Cold paths written as JavaScript loops over the memory (docs/wasm-backend.md): int32 arithmetic
// (unary, binary, reduce, argmax on int32 go through the js reference kernels), oneHot, full (a native
// TypedArray.fill) and the same-dtype cast (a native copyWithin).

import type {
  AdaptivePool2dGeometry,
  AvgPool2dGeometry,
  Backend,
  BinaryKind,
  Conv2dGeometry,
  GemmGeometry,
  MemoryInfo,
  Pool2dGeometry,
  ScopeOptions,
  ReduceKind,
  Storage,
  UnaryKind,
  UnaryParams,
} from "../backend.js";
import { jsBackend } from "../js/index.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { dtypeOf } from "../../tensor/dtype.js";
import { sizeOf, type Shape } from "../../tensor/shape.js";
import type { WasmRuntime } from "./runtime.js";
import { StorageManager, type WasmStorage } from "./storage.js";
import * as ew from "./elementwise.js";
import { sgemm } from "./gemm.js";
import * as conv from "./conv.js";
import * as dw from "./depthwise.js";
import * as pool from "./pool.js";
import { createBatchNormMethods } from "./normalization.js";
import { createLossMethods } from "./losses.js";
import { createOptimMethods } from "./optim.js";
import { stridedCopy } from "./movement.js";

/** The wasm Backend plus what only it has: its runtime (threads) and storage manager. */
export interface WasmBackend extends Backend {
  readonly runtime: WasmRuntime;
  readonly storages: StorageManager;
  scope<T>(fn: () => T, options?: ScopeOptions<T>): T;
  keep(storage: Storage): void;
  pin(storage: Storage): void;
  free(storage: Storage): void;
  startStep(): () => void;
  memory(): MemoryInfo;
}

const UNARY: Record<UnaryKind, ew.UnaryOp> = {
  neg: "neg",
  exp: "exp",
  log: "log",
  sqrt: "sqrt",
  abs: "abs",
  sign: "sign",
  square: "square",
  reciprocal: "reciprocal",
  relu: "relu",
  relu6: "relu6",
  sigmoid: "sigmoid",
  tanh: "tanh",
  erf: "erf",
  gelu: "gelu",
  geluGrad: "geluGrad",
  leakyRelu: "leakyRelu",
  elu: "elu",
  powScalar: "pow",
  clamp: "clamp",
  greaterScalar: "greaterScalar",
};

const BINARY: Record<BinaryKind, ew.BinaryOp> = {
  add: "add",
  sub: "sub",
  mul: "mul",
  div: "div",
  maximum: "max",
  minimum: "min",
  pow: "pow",
  eq: "eq",
  gt: "gt",
  lt: "lt",
};

const ELEMENT_WORK = 16;

export function createWasmBackend(rt: WasmRuntime, storages: StorageManager): WasmBackend {
  const mem = rt.mem;
  const ptr = (s: Storage) => storages.ptr(s);
  const alloc = (dtype: DType, size: number): WasmStorage => storages.alloc(dtype, size);

  function fromArray(data: TypedArray): Storage {
    const s = alloc(dtypeOf(data), data.length);
    if (s.dtype === "int32") mem.writeI32(s.ptr, data);
    else mem.writeF32(s.ptr, data);
    return s;
  }

  function toArray(s: Storage): TypedArray {
    return storages.read(s);
  }

  /** Runs a js reference kernel on copies (cold int32 paths only). */
  function viaJs(inputs: readonly Storage[], run: (js: Storage[]) => Storage): Storage {
    const js = inputs.map((s) => jsBackend.fromArray(toArray(s)));
    return fromArray(jsBackend.toArray(run(js)));
  }

  function full(dtype: DType, size: number, value: number): Storage {
    const s = alloc(dtype, size);
    const start = s.ptr >>> 2;
    if (dtype === "int32") mem.i32().fill(value, start, start + size);
    else mem.f32().fill(value, start, start + size);
    return s;
  }

  function copy(x: Storage): WasmStorage {
    const p = ptr(x);
    const out = alloc(x.dtype, x.size);
    mem.u8().copyWithin(out.ptr, p, p + 4 * x.size);
    return out;
  }

  function cast(x: Storage, dtype: DType): Storage {
    const p = ptr(x);
    if (dtype === x.dtype) return copy(x);
    const out = alloc(dtype, x.size);
    rt.parallel({
      name: "cast",
      args: [p, out.ptr, dtype === "int32" ? 1 : 0],
      units: x.size,
      work: x.size * ELEMENT_WORK,
      granularity: 16,
    });
    return out;
  }

  function unary(kind: UnaryKind, x: Storage, params: UnaryParams): Storage {
    if (x.dtype === "int32") return viaJs([x], ([j]) => jsBackend.unary(kind, j, params));
    const p = ptr(x);
    const out = alloc(x.dtype, x.size);
    if (x.size > 0) ew.unary(rt, UNARY[kind], p, out.ptr, x.size, params.a ?? 0, params.b ?? 0);
    return out;
  }

  function binary(kind: BinaryKind, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape) {
    if (a.dtype === "int32") {
      return viaJs([a, b], ([ja, jb]) => jsBackend.binary(kind, ja, aShape, jb, bShape, outShape));
    }
    const pa = ptr(a);
    const pb = ptr(b);
    const out = alloc(a.dtype, sizeOf(outShape));
    ew.binary(rt, BINARY[kind], pa, aShape, pb, bShape, out.ptr);
    return out;
  }

  function where(cond: Storage, a: Storage, b: Storage): Storage {
    const pc = ptr(cond);
    const pa = ptr(a);
    const pb = ptr(b);
    const out = alloc(a.dtype, a.size);
    rt.parallel({
      name: "where",
      args: [pc, pa, pb, out.ptr, cond.dtype === "int32" ? 1 : 0],
      units: a.size,
      work: a.size * ELEMENT_WORK,
      granularity: 16,
    });
    return out;
  }

  function reduce(kind: ReduceKind, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    if (x.dtype === "int32") return viaJs([x], ([j]) => jsBackend.reduce(kind, j, shape, axes));
    const p = ptr(x);
    const outSize = sizeOf(shape.filter((_, i) => !axes.includes(i)));
    if (x.size === 0)
      return full(x.dtype, outSize, kind === "sum" ? 0 : kind === "max" ? -Infinity : Infinity);
    const out = alloc(x.dtype, outSize);
    ew.reduce(rt, kind, p, shape, axes, out.ptr);
    return out;
  }

  function argmax(x: Storage, shape: Shape, axis: number): Storage {
    if (x.dtype === "int32") return viaJs([x], ([j]) => jsBackend.argmax(j, shape, axis));
    const p = ptr(x);
    const outer = sizeOf(shape.slice(0, axis));
    const len = shape[axis];
    const inner = sizeOf(shape.slice(axis + 1));
    const out = alloc("int32", outer * inner);
    if (out.size > 0) {
      rt.parallel({
        name: "argmax",
        args: [p, out.ptr, len, inner],
        units: outer,
        work: x.size * ELEMENT_WORK,
      });
    }
    return out;
  }

  function gather(x: Storage, shape: Shape, strides: readonly number[], offset: number): Storage {
    const p = ptr(x);
    const out = alloc(x.dtype, sizeOf(shape));
    stridedCopy(rt, p, offset, out.ptr, shape, strides, false);
    return out;
  }

  function scatterInto(
    dst: Storage,
    src: Storage,
    shape: Shape,
    strides: readonly number[],
    offset: number,
  ): Storage {
    const ps = ptr(src);
    const out = copy(dst);
    stridedCopy(rt, out.ptr, offset, ps, shape, strides, true);
    return out;
  }

  function concat(parts: readonly Storage[], shapes: readonly Shape[], axis: number): Storage {
    const ptrs = parts.map(ptr);
    const outShape = [...shapes[0]];
    outShape[axis] = shapes.reduce((s, sh) => s + sh[axis], 0);
    const out = alloc(parts[0].dtype, sizeOf(outShape));
    const outer = sizeOf(outShape.slice(0, axis));
    const outRow = sizeOf(outShape.slice(axis));
    let start = 0;
    parts.forEach((_, i) => {
      const row = sizeOf(shapes[i].slice(axis));
      stridedCopy(rt, out.ptr, start, ptrs[i], [outer, row], [outRow, 1], true);
      start += row;
    });
    return out;
  }

  function gemm(a: Storage, b: Storage, g: GemmGeometry): Storage {
    const pa = ptr(a);
    const pb = ptr(b);
    const { batch, m, n, k } = g;
    if (k === 0) return full(a.dtype, batch * m * n, 0);
    const out = alloc(a.dtype, batch * m * n);
    for (let t = 0; t < batch; t++) {
      sgemm(rt, {
        M: m,
        N: n,
        K: k,
        a: pa + 4 * t * g.batchStrideA,
        b: pb + 4 * t * g.batchStrideB,
        c: out.ptr + 4 * t * m * n,
        transA: g.transA,
        transB: g.transB,
      });
    }
    return out;
  }

  function convShape(g: Conv2dGeometry): conv.Conv2dShape {
    return {
      N: g.batch,
      C: g.inChannels,
      H: g.inH,
      W: g.inW,
      O: g.outChannels,
      KH: g.kernelH,
      KW: g.kernelW,
      strideH: g.strideH,
      strideW: g.strideW,
      padH: g.padH,
      padW: g.padW,
      dilationH: g.dilationH,
      dilationW: g.dilationW,
      groups: g.groups,
      OH: g.outH,
      OW: g.outW,
    };
  }

  /** groups == C (with any channel multiplier): the direct depthwise kernels beat a GEMM per channel. */
  const isDepthwise = (g: Conv2dGeometry) =>
    g.groups > 1 && g.groups === g.inChannels && g.outChannels % g.inChannels === 0;

  function conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeometry): Storage {
    const px = ptr(x);
    const pw = ptr(w);
    const pb = bias ? ptr(bias) : 0;
    const out = alloc(x.dtype, g.batch * g.outChannels * g.outH * g.outW);
    if (out.size === 0) return out;
    const s = convShape(g);
    // ptr(w) checked that w is a WasmStorage: its identity keys the Winograd weight cache.
    if (isDepthwise(g)) dw.depthwiseConv2dForward(rt, s, px, pw, pb, out.ptr);
    else conv.conv2dForward(rt, s, px, pw, pb, out.ptr, false, "auto", w as WasmStorage);
    return out;
  }

  function conv2dBackwardInput(gy: Storage, w: Storage, g: Conv2dGeometry): Storage {
    const pg = ptr(gy);
    const pw = ptr(w);
    const size = g.batch * g.inChannels * g.inH * g.inW;
    if (g.batch * g.outChannels * g.outH * g.outW === 0) return full(gy.dtype, size, 0);
    const out = alloc(gy.dtype, size);
    const s = convShape(g);
    if (isDepthwise(g)) dw.depthwiseConv2dBackwardInput(rt, s, pg, pw, out.ptr);
    else conv.conv2dBackwardInput(rt, s, pg, pw, out.ptr, false, "auto", w as WasmStorage);
    return out;
  }

  function conv2dBackwardWeight(x: Storage, gy: Storage, g: Conv2dGeometry): Storage {
    const px = ptr(x);
    const pg = ptr(gy);
    const size = g.outChannels * (g.inChannels / g.groups) * g.kernelH * g.kernelW;
    if (g.batch * g.outH * g.outW === 0) return full(x.dtype, size, 0);
    const out = alloc(x.dtype, size);
    const s = convShape(g);
    if (isDepthwise(g)) dw.depthwiseConv2dBackwardWeight(rt, s, px, pg, out.ptr, 0);
    else conv.conv2dBackwardWeight(rt, s, px, pg, out.ptr);
    return out;
  }

  function poolShape(g: Pool2dGeometry): pool.Pool2dShape {
    return {
      planes: g.batch * g.channels,
      H: g.inH,
      W: g.inW,
      KH: g.kernelH,
      KW: g.kernelW,
      strideH: g.strideH,
      strideW: g.strideW,
      padH: g.padH,
      padW: g.padW,
      dilationH: g.dilationH,
      dilationW: g.dilationW,
      OH: g.outH,
      OW: g.outW,
    };
  }

  const poolOutSize = (g: AdaptivePool2dGeometry) => g.batch * g.channels * g.outH * g.outW;
  const poolInSize = (g: AdaptivePool2dGeometry) => g.batch * g.channels * g.inH * g.inW;

  function maxPool2d(x: Storage, g: Pool2dGeometry): { y: Storage; indices: Storage } {
    const px = ptr(x);
    const y = alloc(x.dtype, poolOutSize(g));
    const indices = alloc("int32", poolOutSize(g));
    if (y.size > 0) pool.maxPool2dForward(rt, poolShape(g), px, y.ptr, indices.ptr);
    return { y, indices };
  }

  function maxPool2dBackward(gy: Storage, indices: Storage, g: Pool2dGeometry): Storage {
    const pg = ptr(gy);
    const pi = ptr(indices);
    if (poolOutSize(g) === 0) return full(gy.dtype, poolInSize(g), 0);
    const dx = alloc(gy.dtype, poolInSize(g));
    pool.maxPool2dBackward(rt, poolShape(g), pg, pi, dx.ptr);
    return dx;
  }

  const avgOptions = (g: AvgPool2dGeometry): pool.AvgPoolOptions => ({
    countIncludePad: g.countIncludePad,
    divisorOverride: g.divisorOverride ?? undefined,
  });

  function avgPool2d(x: Storage, g: AvgPool2dGeometry): Storage {
    const px = ptr(x);
    const y = alloc(x.dtype, poolOutSize(g));
    if (y.size > 0) pool.avgPool2dForward(rt, poolShape(g), px, y.ptr, avgOptions(g));
    return y;
  }

  function avgPool2dBackward(gy: Storage, g: AvgPool2dGeometry): Storage {
    const pg = ptr(gy);
    if (poolOutSize(g) === 0) return full(gy.dtype, poolInSize(g), 0);
    const dx = alloc(gy.dtype, poolInSize(g));
    pool.avgPool2dBackward(rt, poolShape(g), pg, dx.ptr, avgOptions(g));
    return dx;
  }

  function adaptiveAvgPool2d(x: Storage, g: AdaptivePool2dGeometry): Storage {
    const px = ptr(x);
    const y = alloc(x.dtype, poolOutSize(g));
    if (y.size > 0) pool.adaptiveAvgPool2dForward(rt, g, px, y.ptr);
    return y;
  }

  function adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePool2dGeometry): Storage {
    const pg = ptr(gy);
    const dx = alloc(gy.dtype, poolInSize(g));
    if (dx.size > 0) pool.adaptiveAvgPool2dBackward(rt, g, pg, dx.ptr);
    return dx;
  }

  function oneHot(labels: Storage, classes: number, dtype: DType): Storage {
    const pl = ptr(labels) >>> 2;
    const out = full(dtype, labels.size * classes, 0) as WasmStorage;
    const l = mem.i32();
    const view = dtype === "int32" ? l : mem.f32();
    const base = out.ptr >>> 2;
    for (let i = 0; i < labels.size; i++) view[base + i * classes + l[pl + i]] = 1;
    return out;
  }

  return {
    name: "wasm",
    runtime: rt,
    storages,
    supports: (dtype: DType) => dtype !== "float64",
    fromArray,
    toArray,
    full,
    cast,
    unary,
    binary,
    where,
    reduce,
    argmax,
    gather,
    scatterInto,
    concat,
    gemm,
    conv2d,
    conv2dBackwardInput,
    conv2dBackwardWeight,
    maxPool2d,
    maxPool2dBackward,
    avgPool2d,
    avgPool2dBackward,
    adaptiveAvgPool2d,
    adaptiveAvgPool2dBackward,
    ...createBatchNormMethods(rt, storages),
    oneHot,
    ...createLossMethods(rt, storages),
    ...createOptimMethods(rt, storages),
    scope: <T>(fn: () => T, options?: ScopeOptions<T>) => storages.scope(fn, options),
    keep: (s: Storage) => storages.keep(s),
    pin: (s: Storage) => storages.pin(s),
    free: (s: Storage) => storages.freeAdopted(s),
    startStep: () => storages.startStep(),
    memory: () => storages.info(),
  };
}

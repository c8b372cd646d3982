// Typed wrappers of the elementwise and reduction kernels (kernels/elementwise.ts, kernels/reduce.ts):
// unary ops, binary ops with NumPy/PyTorch broadcasting, sum/max/mean over axes.

import type { Backend, BinaryKind, ReduceKind, UnaryKind } from "../backend.js";
import { jsBackend } from "../js/index.js";
import { sizeOf } from "../../tensor/shape.js";
import type { WasmContext } from "./context.js";
import { BinaryCode, ReduceCode, UnaryCode } from "./op-codes.js";
import type { WasmRuntime } from "./runtime.js";

function product(s: readonly number[]): number {
  return s.reduce((p, q) => p * q, 1);
}

// Memory-bound kernels: weigh an element like this many multiply-adds for the thread threshold.
const ELEMENT_WORK = 16;

/** y = op(x) over n floats (y may equal x). alpha: leaky slope / elu scale / power / clamp min; beta: clamp max. */
export function unary(
  rt: WasmRuntime,
  op: UnaryKind,
  x: number,
  y: number,
  n: number,
  alpha = 0,
  beta = 0,
): void {
  rt.parallel({
    name: "unary",
    args: [UnaryCode[op], x, y, alpha, beta],
    units: n,
    work: n * ELEMENT_WORK,
    granularity: 16,
  });
}

/** Broadcast output shape of two shapes (PyTorch rules), or throws. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new Error(`broadcast: shapes [${a}] and [${b}] do not match`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function denseStrides(shape: readonly number[], out: readonly number[]): number[] {
  // Element strides of `shape` right-aligned to `out`, 0 on broadcast axes.
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const j = out.length - shape.length + i;
    strides[j] = shape[i] === 1 && out[j] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Merges adjacent axes whose strides stay linear; pads to at least 4 axes with leading 1s. */
function collapse(out: number[], sa: number[], sb: number[]): { d: number[]; sa: number[]; sb: number[] } {
  const d: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 1) continue;
    const k = d.length - 1;
    if (k >= 0 && sa[i] * out[i] === a[k] && sb[i] * out[i] === b[k]) {
      d[k] *= out[i];
      a[k] = sa[i];
      b[k] = sb[i];
    } else {
      d.push(out[i]);
      a.push(sa[i]);
      b.push(sb[i]);
    }
  }
  while (d.length < 4) {
    d.unshift(1);
    a.unshift(0);
    b.unshift(0);
  }
  return { d, sa: a, sb: b };
}

/** y (dense, broadcast shape) = a op b. */
export function binary(
  rt: WasmRuntime,
  op: BinaryKind,
  a: number,
  aShape: readonly number[],
  b: number,
  bShape: readonly number[],
  y: number,
): number[] {
  const out = broadcastShape(aShape, bShape);
  const n = out.reduce((p, q) => p * q, 1);
  if (n === 0) return out;
  const c = collapse(out, denseStrides(aShape, out), denseStrides(bShape, out));
  // The kernel takes 4 axes; any further leading axes are looped here.
  const lead = c.d.length - 4;
  const d = c.d.slice(lead);
  const inner = product(d);
  const leadCount = product(c.d.slice(0, lead));
  for (let l = 0; l < leadCount; l++) {
    let offA = 0;
    let offB = 0;
    for (let i = lead - 1, t = l; i >= 0; i--) {
      const k = t % c.d[i];
      t = Math.floor(t / c.d[i]);
      offA += k * c.sa[i];
      offB += k * c.sb[i];
    }
    rt.parallel({
      name: "binary",
      // prettier-ignore
      args: [
        BinaryCode[op], a + 4 * offA, b + 4 * offB, y + 4 * l * inner, d[1], d[2], d[3],
        c.sa[lead], c.sa[lead + 1], c.sa[lead + 2], c.sa[lead + 3],
        c.sb[lead], c.sb[lead + 1], c.sb[lead + 2], c.sb[lead + 3],
      ],
      units: d[0] * d[1] * d[2],
      work: inner * ELEMENT_WORK,
    });
  }
  return out;
}

/** The Backend's reductions and mean (a sum scaled by 1/count in the kernel). */
export type ReduceOp = ReduceKind | "mean";

/**
 * y = reduction of x (shape) over `axes`, as a dense tensor of the kept axes (keepdim is only a reshape).
 * Non-adjacent reduced axes take one pass per run of reduced axes, through a temporary buffer.
 */
export function reduce(
  rt: WasmRuntime,
  op: ReduceOp,
  x: number,
  shape: readonly number[],
  axes: readonly number[],
  y: number,
): void {
  const rank = shape.length;
  const red = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  // Runs of [size, reduced?] with size-1 axes dropped.
  const runs: { size: number; red: boolean }[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    if (red.has(i)) count *= shape[i];
    if (shape[i] === 1) continue;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.red === red.has(i)) last.size *= shape[i];
    else runs.push({ size: shape[i], red: red.has(i) });
  }
  const kernelOp = ReduceCode[op === "mean" ? "sum" : op];
  if (!runs.some((r) => r.red)) {
    const n = shape.reduce((p, q) => p * q, 1);
    rt.mem.u8().copyWithin(y, x, x + 4 * n);
    return;
  }
  let src = x;
  const temps: number[] = [];
  try {
    // Reduce the innermost reduced run first; each pass removes one run.
    for (;;) {
      let k = -1;
      for (let i = runs.length - 1; i >= 0; i--) {
        if (runs[i].red) {
          k = i;
          break;
        }
      }
      if (k < 0) break;
      const outer = runs.slice(0, k).reduce((p, r) => p * r.size, 1);
      const inner = runs.slice(k + 1).reduce((p, r) => p * r.size, 1);
      const r = runs[k].size;
      runs.splice(k, 1);
      // merge neighbours that became adjacent
      if (k > 0 && k < runs.length && runs[k - 1].red === runs[k].red) {
        runs[k - 1].size *= runs[k].size;
        runs.splice(k, 1);
      }
      const last = !runs.some((q) => q.red);
      const dst = last ? y : rt.mem.alloc(outer * inner * 4);
      if (!last) temps.push(dst);
      const scale = last && op === "mean" ? 1 / count : 1;
      rt.parallel({
        name: "reduce",
        args: [kernelOp, src, dst, r, inner, scale],
        units: outer,
        work: outer * r * inner * ELEMENT_WORK,
      });
      src = dst;
    }
  } finally {
    for (const t of temps) rt.mem.free(t);
  }
}

type ElementwiseMethods = Pick<Backend, "cast" | "unary" | "binary" | "where" | "reduce" | "argmax">;

/**
 * The Backend's elementwise and reduction methods (spread into the wasm Backend object). int32 tensors
 * (labels, counters) take the js reference kernels on copies, except cast and where.
 */
export function createElementwiseMethods(cx: WasmContext): ElementwiseMethods {
  const { rt, ptr, alloc } = cx;
  return {
    cast(x, dtype) {
      const p = ptr(x);
      if (dtype === x.dtype) return cx.copy(x);
      const out = alloc(dtype, x.size);
      rt.parallel({
        name: "cast",
        args: [p, out.ptr, dtype === "int32" ? 1 : 0],
        units: x.size,
        work: x.size * ELEMENT_WORK,
        granularity: 16,
      });
      return out;
    },

    unary(kind, x, params) {
      if (x.dtype === "int32") return cx.viaJs([x], ([j]) => jsBackend.unary(kind, j, params));
      const p = ptr(x);
      const out = alloc(x.dtype, x.size);
      if (x.size > 0) unary(rt, kind, p, out.ptr, x.size, params.a ?? 0, params.b ?? 0);
      return out;
    },

    binary(kind, a, aShape, b, bShape, outShape) {
      if (a.dtype === "int32") {
        return cx.viaJs([a, b], ([ja, jb]) => jsBackend.binary(kind, ja, aShape, jb, bShape, outShape));
      }
      const pa = ptr(a);
      const pb = ptr(b);
      const out = alloc(a.dtype, sizeOf(outShape));
      binary(rt, kind, pa, aShape, pb, bShape, out.ptr);
      return out;
    },

    where(cond, a, b) {
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
    },

    reduce(kind, x, shape, axes) {
      if (x.dtype === "int32") return cx.viaJs([x], ([j]) => jsBackend.reduce(kind, j, shape, axes));
      const p = ptr(x);
      const outSize = sizeOf(shape.filter((_, i) => !axes.includes(i)));
      if (x.size === 0)
        return cx.full(x.dtype, outSize, kind === "sum" ? 0 : kind === "max" ? -Infinity : Infinity);
      const out = alloc(x.dtype, outSize);
      reduce(rt, kind, p, shape, axes, out.ptr);
      return out;
    },

    argmax(x, shape, axis) {
      if (x.dtype === "int32") return cx.viaJs([x], ([j]) => jsBackend.argmax(j, shape, axis));
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
    },
  };
}

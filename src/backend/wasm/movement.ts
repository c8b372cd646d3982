// Typed wrapper of the strided-copy kernel (kernels/movement.ts): gather from and scatter into a strided
// view of a buffer, the kernels behind permute, slice, expand, pad and concat. Addresses are byte offsets;
// strides and offsets are in elements (4-byte values, float32 or int32 alike).

import type { Backend } from "../backend.js";
import { sizeOf } from "../../tensor/shape.js";
import type { WasmContext } from "./context.js";
import type { WasmRuntime } from "./runtime.js";

// Memory-bound: weigh an element like this many multiply-adds for the thread threshold.
const ELEMENT_WORK = 16;

/** Drops size-1 axes and merges neighbours whose strides chain; pads to at least 4 axes. */
function collapseView(shape: readonly number[], strides: readonly number[]): { d: number[]; s: number[] } {
  const d: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const k = d.length - 1;
    if (k >= 0 && s[k] === strides[i] * shape[i]) {
      d[k] *= shape[i];
      s[k] = strides[i];
    } else {
      d.push(shape[i]);
      s.push(strides[i]);
    }
  }
  while (d.length < 4) {
    d.unshift(1);
    s.unshift(0);
  }
  return { d, s };
}

/**
 * Gather (scatter = false): dense[i] = strided[offset + index(i)·strides] for every index of `shape`.
 * Scatter (scatter = true): strided[offset + index(i)·strides] = dense[i].
 * `strided` is the base address of the strided buffer (offset not included).
 */
export function stridedCopy(
  rt: WasmRuntime,
  strided: number,
  offset: number,
  dense: number,
  shape: readonly number[],
  strides: readonly number[],
  scatter: boolean,
): void {
  const n = shape.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  const { d, s } = collapseView(shape, strides);
  // The kernel takes 4 axes; further leading axes are looped here.
  const lead = d.length - 4;
  const inner = d.slice(lead).reduce((p, q) => p * q, 1);
  const leadCount = d.slice(0, lead).reduce((p, q) => p * q, 1);
  for (let l = 0; l < leadCount; l++) {
    let off = offset;
    for (let i = lead - 1, t = l; i >= 0; i--) {
      off += (t % d[i]) * s[i];
      t = Math.floor(t / d[i]);
    }
    rt.parallel({
      name: "stridedCopy",
      // prettier-ignore
      args: [
        strided + 4 * off, dense + 4 * l * inner, d[lead + 1], d[lead + 2], d[lead + 3],
        s[lead], s[lead + 1], s[lead + 2], s[lead + 3], scatter ? 1 : 0,
      ],
      units: d[lead] * d[lead + 1] * d[lead + 2],
      work: inner * ELEMENT_WORK,
    });
  }
}

type MovementMethods = Pick<Backend, "gather" | "scatterInto" | "concat">;

/** The Backend's movement methods over stridedCopy (spread into the wasm Backend object). */
export function createMovementMethods(cx: WasmContext): MovementMethods {
  const { rt, ptr, alloc } = cx;
  return {
    gather(x, shape, strides, offset) {
      const p = ptr(x);
      const out = alloc(x.dtype, sizeOf(shape));
      stridedCopy(rt, p, offset, out.ptr, shape, strides, false);
      return out;
    },

    scatterInto(dst, src, shape, strides, offset) {
      const ps = ptr(src);
      const out = cx.copy(dst);
      stridedCopy(rt, out.ptr, offset, ps, shape, strides, true);
      return out;
    },

    concat(parts, shapes, axis) {
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
    },
  };
}

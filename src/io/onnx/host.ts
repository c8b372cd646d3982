// Small arrays computed on the host while an imported ONNX graph runs: shapes, indices, pads, scales and the
// constant chains exporters emit around them (PyTorch's Shape -> Gather -> Unsqueeze -> Concat -> Reshape
// for x.view(x.size(0), -1)). They never carry gradients, so plain number arrays in row-major order do.

import { formatShape, sizeOf, stridesOf } from "../../tensor/shape.js";

export class HostArray {
  constructor(
    readonly data: readonly number[],
    readonly shape: readonly number[],
    /** Integer element type (int64, int32, bool, …) rather than float. */
    readonly isInt: boolean,
  ) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`host array: ${data.length} values do not fill shape ${formatShape(shape)}`);
    }
  }

  static ints(values: readonly number[]): HostArray {
    return new HostArray(values, [values.length], true);
  }

  get ndim(): number {
    return this.shape.length;
  }

  reshape(shape: readonly number[]): HostArray {
    return new HostArray(this.data, shape, this.isInt);
  }

  /** The value at a multi-index. */
  private at(index: readonly number[], strides: readonly number[]): number {
    let offset = 0;
    for (let i = 0; i < index.length; i++) offset += index[i] * strides[i];
    return this.data[offset];
  }

  /** Builds an array of `shape` whose element at each index is `f(index)`. */
  static generate(shape: readonly number[], isInt: boolean, f: (index: number[]) => number): HostArray {
    const size = sizeOf(shape);
    const out = new Array<number>(size);
    const index = new Array<number>(shape.length).fill(0);
    for (let n = 0; n < size; n++) {
      out[n] = f(index);
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) break;
        index[d] = 0;
      }
    }
    return new HostArray(out, shape, isInt);
  }

  transpose(perm: readonly number[]): HostArray {
    const strides = stridesOf(this.shape);
    const shape = perm.map((p) => this.shape[p]);
    const source = new Array<number>(this.ndim);
    return HostArray.generate(shape, this.isInt, (index) => {
      perm.forEach((p, i) => (source[p] = index[i]));
      return this.at(source, strides);
    });
  }

  /** Elements start + k·step along each axis (negative steps walk backwards), for k < length. */
  slice(axis: number, start: number, step: number, length: number): HostArray {
    const strides = stridesOf(this.shape);
    const shape = [...this.shape];
    shape[axis] = length;
    return HostArray.generate(shape, this.isInt, (index) => {
      const source = [...index];
      source[axis] = start + index[axis] * step;
      return this.at(source, strides);
    });
  }

  static concat(parts: readonly HostArray[], axis: number): HostArray {
    const shape = [...parts[0].shape];
    shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
    const starts: number[] = [];
    let total = 0;
    for (const p of parts) {
      starts.push(total);
      total += p.shape[axis];
    }
    const strides = parts.map((p) => stridesOf(p.shape));
    return HostArray.generate(
      shape,
      parts.every((p) => p.isInt),
      (index) => {
        let k = parts.length - 1;
        while (starts[k] > index[axis]) k--;
        const source = [...index];
        source[axis] -= starts[k];
        return parts[k].at(source, strides[k]);
      },
    );
  }

  /** numpy.take along `axis` with integer `indices` (negative ones count from the end). */
  gather(indices: HostArray, axis: number): HostArray {
    const strides = stridesOf(this.shape);
    const indexStrides = stridesOf(indices.shape);
    const size = this.shape[axis];
    const shape = [...this.shape.slice(0, axis), ...indices.shape, ...this.shape.slice(axis + 1)];
    return HostArray.generate(shape, this.isInt, (index) => {
      const which = index.slice(axis, axis + indices.ndim);
      let i = indices.at(which, indexStrides);
      if (i < 0) i += size;
      if (!(i >= 0 && i < size)) throw new Error(`index ${i} is out of range for a dim of size ${size}`);
      return this.at([...index.slice(0, axis), i, ...index.slice(axis + indices.ndim)], strides);
    });
  }

  map(f: (v: number) => number, isInt = this.isInt): HostArray {
    return new HostArray(this.data.map(f), this.shape, isInt);
  }

  /** Elementwise f(a, b) with numpy broadcasting, or null when the shapes do not broadcast. */
  static binary(a: HostArray, b: HostArray, f: (x: number, y: number) => number): HostArray | null {
    const rank = Math.max(a.ndim, b.ndim);
    const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
    const sa = pad(a.shape);
    const sb = pad(b.shape);
    const shape: number[] = [];
    for (let i = 0; i < rank; i++) {
      if (sa[i] !== sb[i] && sa[i] !== 1 && sb[i] !== 1) return null;
      shape.push(sa[i] === 1 ? sb[i] : sa[i]);
    }
    const ta = stridesOf(sa).map((s, i) => (sa[i] === 1 ? 0 : s));
    const tb = stridesOf(sb).map((s, i) => (sb[i] === 1 ? 0 : s));
    return HostArray.generate(shape, a.isInt && b.isInt, (index) => f(a.at(index, ta), b.at(index, tb)));
  }
}

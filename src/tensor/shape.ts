// Shape arithmetic shared by ops and kernels: sizes, strides, broadcasting, axis normalisation.

/** A tensor's dimensions, outermost first: [N, C, H, W] for an image batch. */
export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting; returns null when the shapes do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides to read `shape` as if broadcast to `outShape` (0 along broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : own[j];
  });
}

/** Resolves a possibly negative axis against a rank, throwing with the op name when out of range. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new Error(`${op}: dim ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

export function normalizeAxes(
  op: string,
  axes: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : [...axes];
  const out = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== out.length) throw new Error(`${op}: dims [${list.join(",")}] repeat an axis`);
  return out.sort((x, y) => x - y);
}

export function pair(value: number | readonly [number, number], name: string, op: string): [number, number] {
  const p: [number, number] = typeof value === "number" ? [value, value] : [value[0], value[1]];
  if (!Number.isInteger(p[0]) || !Number.isInteger(p[1])) {
    throw new Error(`${op}: ${name} must be an integer or a pair of integers, got ${JSON.stringify(value)}`);
  }
  return p;
}

/** `pair`, then each of the two values must be at least `min` (stride >= 1, padding >= 0, …). */
export function pairAtLeast(
  value: number | readonly [number, number],
  name: string,
  op: string,
  min: number,
): [number, number] {
  const p = pair(value, name, op);
  if (p[0] < min || p[1] < min)
    throw new Error(`${op}: ${name} must be >= ${min}, got ${JSON.stringify(value)}`);
  return p;
}

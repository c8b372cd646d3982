// Shared helpers for the wasm kernel tests: runtimes per build variant, a seeded RNG, and upload/download.
import { createWasmRuntime, type WasmRuntime } from "../../../src/backend/wasm/runtime.js";

const runtimes = new Map<string, Promise<WasmRuntime>>();

/** A runtime of the plain-SIMD or the relaxed-SIMD (FMA) build, with `threads` threads; cached. */
export function runtime(relaxed: boolean, threads = 1): Promise<WasmRuntime> {
  const key = `${relaxed}/${threads}`;
  let rt = runtimes.get(key);
  if (rt === undefined) {
    rt = createWasmRuntime({ relaxed, threads });
    runtimes.set(key, rt);
  }
  return rt;
}

export const VARIANTS: { name: string; relaxed: boolean }[] = [
  { name: "simd", relaxed: false },
  { name: "relaxed", relaxed: true },
];

/** Deterministic uniform random numbers in [lo, hi). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0 || 1;
  return (lo = -1, hi = 1) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return lo + ((s >>> 0) / 4294967296) * (hi - lo);
  };
}

export function randomArray(
  n: number,
  rand: (lo?: number, hi?: number) => number,
  lo = -1,
  hi = 1,
): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand(lo, hi);
  return a;
}

export function randInt(rand: (lo?: number, hi?: number) => number, lo: number, hi: number): number {
  return Math.floor(rand(lo, hi + 1));
}

export function upload(rt: WasmRuntime, data: ArrayLike<number>): number {
  const ptr = rt.mem.alloc(Math.max(1, data.length) * 4);
  rt.mem.writeF32(ptr, data);
  return ptr;
}

export function uploadI32(rt: WasmRuntime, data: ArrayLike<number>): number {
  const ptr = rt.mem.alloc(Math.max(1, data.length) * 4);
  rt.mem.writeI32(ptr, data);
  return ptr;
}

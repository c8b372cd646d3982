// The kernel module's exports as the TypeScript side sees them: KernelExports is generated from the
// AssemblyScript sources (kernel-exports.ts, by scripts/build-kernels.mjs), so calling a kernel with the
// wrong number of arguments is a compile error. Every function that ends in (ws, u0, u1) computes work
// units [u0, u1) with workspace ws, so the thread pool can hand the same call to several threads with
// different ranges; RangeKernel names them and KernelArgs gives the arguments a caller passes.

import type { KernelExports } from "./kernel-exports.js";

export type { KernelExports } from "./kernel-exports.js";

/** The parameters of F before its trailing (ws, u0, u1), or never when F has fewer than three. */
type BeforeRange<F> = F extends (...args: [...infer A, number, number, number]) => void ? A : never;

/** Kernels the thread pool can split: their last three parameters are (ws, u0, u1). */
export type RangeKernel = {
  [K in keyof KernelExports]: [BeforeRange<KernelExports[K]>] extends [never] ? never : K;
}[keyof KernelExports];

/** What a caller passes to a range kernel: its parameters without (ws, u0, u1). */
export type KernelArgs<K extends RangeKernel> = BeforeRange<KernelExports[K]>;

/** A kernel's arguments after the first N (the addresses), as the geometry flattening functions return. */
export type GeometryArgs<K extends RangeKernel, Addresses extends number> =
  KernelArgs<K> extends [...Tuple<Addresses>, ...infer Rest] ? Rest : never;

type Tuple<N extends number, T extends number[] = []> = T["length"] extends N ? T : Tuple<N, [...T, number]>;

/** A tuple without its last element (a kernel's trailing flag after its geometry). */
export type DropLast<T extends unknown[]> = T extends [...infer Head, unknown] ? Head : never;

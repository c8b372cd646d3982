// Typed wrapper of the Winograd conv2d forward (kernels/winograd.ts): 3x3 (F(2x2, 3x3), F(4x4, 3x3)) or 5x5
// (F(2x2, 5x5)), stride 1, dilation 1, groups 1.
// Plans the tile blocks and output-channel chunks that units of work cover, transforms the weights (once
// per call into a buffer freed afterwards, inside each unit when the call is a single tile block, or, from
// the second call with the same weight storage on, once into the transformed-weight cache of
// winograd-cache.ts), and runs the units across the thread pool. conv.ts decides when this path is used.

import type { Conv2dGeometry } from "../backend.js";
import type { WasmRuntime } from "./runtime.js";
import type { WasmStorage } from "./storage.js";
import { winogradWeightCache, type CachedWeights } from "./winograd-cache.js";

/**
 * Output tile size m: F(2x2, 3x3) (4x4 input tiles, 16 GEMMs) or F(4x4, 3x3) (6x6 tiles, 36 GEMMs) for 3x3
 * kernels; 5x5 kernels have F(2x2, 5x5) only (6x6 tiles, 36 GEMMs).
 */
export type WinogradTile = 2 | 4;

export interface WinogradOptions {
  /** Output tile size m (default 4 for 3x3 kernels, 2 for 5x5). */
  tile?: WinogradTile;
  /**
   * Bytes of the transformed-input and GEMM-result blocks a unit keeps in its workspace (default
   * BLOCK_BYTES): more tiles per block read the transformed weights fewer times, fewer stay in L2.
   */
  blockBytes?: number;
  /**
   * "transformed": transform all weights first (one pass, read by every tile block); "fused": each unit
   * transforms the weights of its output channels on the fly (the call must be one tile block; with
   * several threads each repeats the input transform); "auto" (default): fused when all tiles fit one block
   * of FUSED_BYTES and there are many output channels per tile (O >= 1.5 x tiles x threads).
   * Weights found in the cache (`weightStorage`) are used by "auto" and "transformed" without a transform:
   * cached beat fused on every layer measured (docs/performance.md, "Kernel choices in the wasm backend").
   */
  weights?: "auto" | "fused" | "transformed";
  /**
   * The storage holding `w`, when the caller has one (the backend): identifies the weights (and their
   * version) across calls, so that their transform is cached from the second call on (winograd-cache.ts).
   * Ignored with "fused".
   */
  weightStorage?: WasmStorage;
}

/** Default working set of one unit's transformed input and GEMM results (see bench/winograd.ts). */
export const BLOCK_BYTES = 1 << 20;
/** Largest single block for which "auto" transforms the weights on the fly (see `weights`). */
export const FUSED_BYTES = 4 << 20;
/** Output channels per fused weight-transform group (kernels/winograd.ts FUSED_ROWS). */
const FUSED_ROWS = 20;

/**
 * Whether the Winograd kernels can compute this conv2d at all: 3x3 or 5x5, stride 1, dilation 1, groups 1,
 * and the output size the input gives (conv-transpose passes a larger one).
 */
export function winogradApplies(g: Conv2dGeometry): boolean {
  const r = g.kernelH;
  return (
    (r === 3 || r === 5) &&
    g.kernelW === r &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.dilationH === 1 &&
    g.dilationW === 1 &&
    g.groups === 1 &&
    g.outH === g.inH + 2 * g.padH - (r - 1) &&
    g.outW === g.inW + 2 * g.padW - (r - 1)
  );
}

/** The output tiles the kernels have for an r x r kernel. */
function tileFits(m: number, r: number): boolean {
  return r === 3 ? m === 2 || m === 4 : m === 2;
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

interface Plan {
  /** Tiles per block (a multiple of 8) and output channels per chunk (a multiple of 5, or 20 if fused). */
  TB: number;
  ocSize: number;
  fused: boolean;
  units: number;
}

/**
 * Splits the tiles into blocks that fit `blockBytes` and, when there are too few blocks to give every
 * thread some, also splits the output channels (each chunk then repeats its block's input transform,
 * cheap next to the GEMMs of small images with many channels).
 */
function plan(
  rt: WasmRuntime,
  m: number,
  r: number,
  C: number,
  O: number,
  OW: number,
  tiles: number,
  work: number,
  options: WinogradOptions,
): Plan {
  const t2 = (m + r - 1) * (m + r - 1);
  const threads = rt.threadsFor(work, Math.max(tiles, O));
  const bytesPerTile = (oc: number) => t2 * (C + oc) * 4;
  const fits = (oc: number, TB: number, fused: boolean) =>
    (rt.exports.winogradWorkspaceBytes(C, oc, TB, OW, m, r, fused ? 1 : 0) as number) <=
    rt.exports.gemmWorkspaceBytes();
  const mode = options.weights ?? "auto";
  if (mode !== "transformed") {
    const oc = roundUp(Math.ceil(O / threads), FUSED_ROWS);
    const TB = roundUp(tiles, 8);
    const pays = TB * bytesPerTile(oc) <= FUSED_BYTES && O >= 1.5 * tiles * threads;
    if ((mode === "fused" || pays) && fits(oc, TB, true)) {
      return { TB, ocSize: oc, fused: true, units: Math.ceil(O / oc) };
    }
    if (mode === "fused")
      throw new Error(`winogradConv2d: ${tiles} tiles of ${C} channels do not fit one block`);
  }
  const blockBytes = options.blockBytes ?? BLOCK_BYTES;
  let ocSize = roundUp(O, 5);
  const blocksFor = (oc: number) => {
    const tbMax = Math.max(8, Math.floor(blockBytes / bytesPerTile(oc) / 8) * 8);
    return Math.ceil(tiles / tbMax);
  };
  let nb = blocksFor(ocSize);
  if (threads > 1 && nb < 2 * threads && O >= 10 * threads) {
    ocSize = roundUp(Math.ceil(O / threads), 5);
    nb = blocksFor(ocSize);
  } else if (threads > 1) {
    nb = roundUp(nb, threads);
  }
  let TB = roundUp(Math.ceil(tiles / nb), 8);
  while (TB > 8 && !fits(ocSize, TB, false)) TB -= 8;
  if (!fits(ocSize, TB, false)) {
    throw new Error(`winogradConv2d: ${C} input channels at width ${OW} do not fit the workspace`);
  }
  return { TB, ocSize, fused: false, units: Math.ceil(tiles / TB) * Math.ceil(O / ocSize) };
}

/** y = conv2d(x, w) (+ bias[O] if bias != 0), by Winograd F(m x m, r x r). */
export function winogradConv2dForward(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  x: number,
  w: number,
  bias: number,
  y: number,
  options: WinogradOptions = {},
): void {
  if (!winogradApplies(g)) {
    throw new Error(
      `winogradConv2d: needs a 3x3 or 5x5 kernel, stride 1, dilation 1, groups 1; got ${JSON.stringify(g)}`,
    );
  }
  run(rt, g, x, w, bias, y, false, options);
}

/**
 * The input gradient of an r x r (3 or 5), stride-1 conv2d (geometry `g`, padding at most r - 1): dx =
 * conv2d(dy, w rotated by 180 degrees with O and C swapped), padding r - 1 - p, by Winograd. Overwrites dx.
 */
export function winogradConv2dBackwardInput(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  dy: number,
  w: number,
  dx: number,
  options: WinogradOptions = {},
): void {
  const back = winogradBackwardGeometry(g);
  if (back === null) {
    throw new Error(
      `winogradConv2dBackwardInput: needs a 3x3 or 5x5 kernel, stride 1, dilation 1, groups 1, padding < kernel size; got ${JSON.stringify(g)}`,
    );
  }
  run(rt, back, dy, w, 0, dx, true, options);
}

/** The forward conv that computes the input gradient of conv `g` (null if Winograd cannot run it). */
export function winogradBackwardGeometry(g: Conv2dGeometry): Conv2dGeometry | null {
  const r = g.kernelH;
  if (!winogradApplies(g) || g.padH > r - 1 || g.padW > r - 1 || g.outH <= 0 || g.outW <= 0) return null;
  return {
    ...g,
    ...{ inChannels: g.outChannels, inH: g.outH, inW: g.outW, outChannels: g.inChannels },
    ...{ outH: g.inH, outW: g.inW, padH: r - 1 - g.padH, padW: r - 1 - g.padW },
  };
}

function run(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  x: number,
  w: number,
  bias: number,
  y: number,
  transposed: boolean,
  options: WinogradOptions,
): void {
  const r = g.kernelH;
  const m = options.tile ?? (r === 3 ? 4 : 2);
  if (!tileFits(m, r)) throw new Error(`winogradConv2d: no F(${m}x${m}, ${r}x${r}) kernels (tile ${m})`);
  const t = m + r - 1;
  const { batch: N, inChannels: C, inH: H, inW: W, outChannels: O, outH: OH, outW: OW } = g;
  if (OH <= 0 || OW <= 0) {
    throw new Error(`winogradConv2d: empty output ${OH}x${OW} for ${JSON.stringify(g)}`);
  }
  const tiles = N * Math.ceil(OH / m) * Math.ceil(OW / m);
  const work = N * O * OH * OW * C * r * r;
  const weightBytes = (rt.exports.winogradWeightsSize(O, C, m, r) as number) * 4;
  const transformWeights = (up: number) =>
    rt.parallel({
      name: "winogradWeights",
      args: [w, O, C, m, r, transposed ? 1 : 0, up],
      units: Math.ceil(O / 20),
      work: O * C * t * t * 16,
    });
  const cached = cachedWeights(rt, g, w, m, transposed, weightBytes, transformWeights, options);
  const p = plan(
    rt,
    m,
    r,
    C,
    O,
    OW,
    tiles,
    work,
    cached === null ? options : { ...options, weights: "transformed" },
  );
  const layout = transposed ? 2 : 0;
  const forward = (up: number, flags: number) =>
    rt.parallel({
      name: "winogradConv2dForward",
      // prettier-ignore
      args: [x, up, bias, y, N, C, H, W, O, g.padH, g.padW, OH, OW, m, r, p.TB, p.ocSize, flags],
      units: p.units,
      work,
    });
  if (cached !== null) {
    forward(cached, layout);
  } else if (p.fused) {
    forward(w, 1 | layout);
  } else {
    const up = rt.mem.alloc(weightBytes);
    try {
      transformWeights(up);
      forward(up, layout);
    } finally {
      rt.mem.free(up);
    }
  }
}

/**
 * The address of this call's transformed weights in the cache (filled now if this is their second use),
 * or null when they are not cached: no weight storage, forced "fused", first use, or over budget.
 */
function cachedWeights(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  w: number,
  m: number,
  transposed: boolean,
  bytes: number,
  transform: (up: number) => void,
  options: WinogradOptions,
): number | null {
  const storage = options.weightStorage;
  if (storage === undefined || options.weights === "fused") return null;
  if (storage.ptr !== w) throw new Error(`winogradConv2d: weightStorage is not the storage at ${w}`);
  const cache = winogradWeightCache(rt);
  // U depends only on the weights, the tile, the kernel size and the orientation (O, C and r pin down how w
  // is read).
  const key = `${m}${transposed ? "t" : "f"}${g.outChannels}x${g.inChannels}x${g.kernelH}`;
  const got: CachedWeights | null = cache.acquire(storage, key, bytes);
  if (got === null) return null;
  if (got.fresh) {
    try {
      transform(got.ptr);
    } catch (e) {
      cache.discard(storage, key);
      throw e;
    }
  }
  return got.ptr;
}

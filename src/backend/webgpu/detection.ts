// RoI Align and RoI max pooling of the webgpu backend (torchvision.ops semantics, the rules of the js
// reference in js/detection.ts). Forward kernels run one thread per output cell over its samples or window;
// backward kernels one thread per input element, which gathers from the cells of every RoI on its image
// whose samples or argmax reach it (no atomics, so results do not depend on scheduling).

import type { RoiAlignGeometry, RoiGeometry, Storage } from "../backend.js";
import { buf, elementKernel, IS_NAN_WGSL, launchElements, out, type GpuContext } from "./context.js";
import type { Param } from "./runtime.js";

/** Accessors for the RoI geometry (params 1..10) and the per-RoI quantities both ops need. */
const ROI_WGSL = /* wgsl */ `
fn pBatch() -> i32 { return pi(1u); }
fn pChannels() -> i32 { return pi(2u); }
fn pHeight() -> i32 { return pi(3u); }
fn pWidth() -> i32 { return pi(4u); }
fn pRois() -> i32 { return pi(5u); }
fn pPooledH() -> i32 { return pi(6u); }
fn pPooledW() -> i32 { return pi(7u); }
fn pScale() -> f32 { return pf(8u); }
fn pSampling() -> i32 { return pi(9u); }
fn pAligned() -> bool { return pu(10u) != 0u; }
fn pCells() -> i32 { return pPooledH() * pPooledW(); }
// The RoI's image, or -1 when its batch index names none (it then contributes nothing).
fn roiImage(k: i32) -> i32 {
  let v = R[5 * k];
  let n = i32(v);
  if (f32(n) != v || n < 0 || n >= pBatch()) { return -1; }
  return n;
}
${IS_NAN_WGSL}`;

function roiParams(g: RoiGeometry, align?: RoiAlignGeometry): Param[] {
  const ints = [g.batch, g.channels, g.height, g.width, g.numRois, g.pooledH, g.pooledW];
  return [
    ...ints.map((i) => ({ i })),
    { f: g.spatialScale },
    { i: align?.samplingRatio ?? 0 },
    align?.aligned ? 1 : 0,
  ];
}

/** RoI Align's frame of RoI k: start (y, x), bin size (y, x), samples per bin side and their count. */
const ALIGN_WGSL = /* wgsl */ `
struct Frame { start: vec2<f32>, bin: vec2<f32>, grid: vec2<i32>, count: f32 }
fn alignFrame(k: i32) -> Frame {
  let offset = select(0.0, 0.5, pAligned());
  let start = vec2<f32>(R[5 * k + 2], R[5 * k + 1]) * pScale() - offset;
  var size = vec2<f32>(R[5 * k + 4], R[5 * k + 3]) * pScale() - offset - start;
  if (!pAligned()) { size = max(size, vec2<f32>(1.0)); }
  let bin = size / vec2<f32>(f32(pPooledH()), f32(pPooledW()));
  var grid = vec2<i32>(pSampling());
  if (pSampling() <= 0) { grid = vec2<i32>(ceil(bin)); }
  return Frame(start, bin, grid, f32(max(grid.x * grid.y, 1)));
}
// Sample coordinate s of bin p along one side.
fn samplePoint(start: f32, bin: f32, p: i32, s: i32, grid: i32) -> f32 {
  return start + f32(p) * bin + ((f32(s) + 0.5) * bin) / f32(grid);
}
// The bilinear taps along one side of a point v inside [-1, size]: (low, high) positions, (low, high) weights.
struct Taps { at: vec2<i32>, w: vec2<f32> }
fn taps(v0: f32, size: i32) -> Taps {
  var v = max(v0, 0.0);
  var lo = i32(floor(v));
  var hi = lo + 1;
  if (lo >= size - 1) { lo = size - 1; hi = size - 1; v = f32(lo); }
  let l = v - f32(lo);
  return Taps(vec2<i32>(lo, hi), vec2<f32>(1.0 - l, l));
}
fn outside(v: f32, size: i32) -> bool { return v < -1.0 || v > f32(size); }`;

const ALIGN_FORWARD_WGSL = () =>
  elementKernel(
    [`read> X: array<f32>`, `read> R: array<f32>`, `read_write> Y: array<f32>`],
    `let o = i32(i);
  let k = o / (pChannels() * pCells()); let c = (o / pCells()) % pChannels();
  let ph = (o / pPooledW()) % pPooledH(); let pw = o % pPooledW();
  let n = roiImage(k);
  if (n < 0) { Y[o] = 0.0; return; }
  let f = alignFrame(k);
  let base = (n * pChannels() + c) * pHeight() * pWidth();
  var acc = 0.0;
  for (var iy = 0; iy < f.grid.x; iy++) {
    let y = samplePoint(f.start.x, f.bin.x, ph, iy, f.grid.x);
    for (var ix = 0; ix < f.grid.y; ix++) {
      let x = samplePoint(f.start.y, f.bin.y, pw, ix, f.grid.y);
      if (outside(y, pHeight()) || outside(x, pWidth())) { continue; }
      let ty = taps(y, pHeight()); let tx = taps(x, pWidth());
      for (var a = 0; a < 2; a++) {
        for (var b = 0; b < 2; b++) {
          acc += ty.w[a] * tx.w[b] * X[base + ty.at[a] * pWidth() + tx.at[b]];
        }
      }
    }
  }
  Y[o] = acc / f.count;`,
    ROI_WGSL + ALIGN_WGSL,
  );

const outputSize = (g: RoiGeometry) => g.numRois * g.channels * g.pooledH * g.pooledW;
const inputSize = (g: RoiGeometry) => g.batch * g.channels * g.height * g.width;

/** Launches a one-thread-per-element RoI kernel over a fresh output of `size` after `inputs`; returns it. */
function runRoi(
  ctx: GpuContext,
  key: string,
  code: () => string,
  inputs: Storage[],
  size: number,
  params: Param[],
): Storage {
  const result = out(ctx, inputs[0].dtype, size);
  launchElements(ctx, key, code, [...inputs.map((s) => buf(ctx, s)), buf(ctx, result)], size, params);
  return result;
}

export function roiAlign(ctx: GpuContext, x: Storage, rois: Storage, g: RoiAlignGeometry): Storage {
  return runRoi(ctx, "roi-align", ALIGN_FORWARD_WGSL, [x, rois], outputSize(g), roiParams(g, g));
}

/** Input element (n, c, h, w) of thread i; `plane` is h*width+w. */
const INPUT_ELEMENT = `let e = i32(i);
  let plane = e % (pHeight() * pWidth()); let h = plane / pWidth(); let w = plane % pWidth();
  let c = (e / (pHeight() * pWidth())) % pChannels(); let n = e / (pChannels() * pHeight() * pWidth());
  var acc = 0.0;`;

// The sample weights are separable: the taps of (y, x) on (h, w) weigh wy(h)·wx(w), so each bin row's
// weight on h is summed first and bins whose rows miss h are skipped.
const ALIGN_BACKWARD_WGSL = () =>
  elementKernel(
    [`read> GY: array<f32>`, `read> R: array<f32>`, `read_write> DX: array<f32>`],
    `${INPUT_ELEMENT}
  for (var k = 0; k < pRois(); k++) {
    if (roiImage(k) != n) { continue; }
    let f = alignFrame(k);
    for (var ph = 0; ph < pPooledH(); ph++) {
      for (var iy = 0; iy < f.grid.x; iy++) {
        let y = samplePoint(f.start.x, f.bin.x, ph, iy, f.grid.x);
        if (outside(y, pHeight())) { continue; }
        let ty = taps(y, pHeight());
        let wy = select(0.0, ty.w.x, ty.at.x == h) + select(0.0, ty.w.y, ty.at.y == h);
        if (wy == 0.0) { continue; }
        for (var pw = 0; pw < pPooledW(); pw++) {
          var wx = 0.0;
          for (var ix = 0; ix < f.grid.y; ix++) {
            let x = samplePoint(f.start.y, f.bin.y, pw, ix, f.grid.y);
            if (outside(x, pWidth())) { continue; }
            let tx = taps(x, pWidth());
            wx += select(0.0, tx.w.x, tx.at.x == w) + select(0.0, tx.w.y, tx.at.y == w);
          }
          acc += GY[((k * pChannels() + c) * pPooledH() + ph) * pPooledW() + pw] * wy * wx / f.count;
        }
      }
    }
  }
  DX[e] = acc;`,
    ROI_WGSL + ALIGN_WGSL,
  );

export function roiAlignBackward(ctx: GpuContext, gy: Storage, rois: Storage, g: RoiAlignGeometry): Storage {
  return runRoi(ctx, "roi-align-dx", ALIGN_BACKWARD_WGSL, [gy, rois], inputSize(g), roiParams(g, g));
}

/** RoI pooling's rounded box of RoI k (x1, y1) and bin size (y, x); a cell's window along one side. */
const POOL_WGSL = /* wgsl */ `
// C's round(): halves away from zero (WGSL's round() rounds halves to even).
fn roundHalfAway(v: f32) -> f32 {
  let a = abs(v);
  var r = floor(a);
  if (a - r >= 0.5) { r += 1.0; }
  return sign(v) * r;
}
struct Box { lo: vec2<i32>, bin: vec2<f32> }
fn poolBox(k: i32) -> Box {
  let x1 = i32(roundHalfAway(R[5 * k + 1] * pScale())); let y1 = i32(roundHalfAway(R[5 * k + 2] * pScale()));
  let x2 = i32(roundHalfAway(R[5 * k + 3] * pScale())); let y2 = i32(roundHalfAway(R[5 * k + 4] * pScale()));
  let bin = vec2<f32>(f32(max(y2 - y1 + 1, 1)) / f32(pPooledH()), f32(max(x2 - x1 + 1, 1)) / f32(pPooledW()));
  return Box(vec2<i32>(y1, x1), bin);
}
// Rows (or columns) [start, end) of cell p.
fn poolWindow(start: i32, bin: f32, p: i32, limit: i32) -> vec2<i32> {
  let a = clamp(i32(floor(f32(p) * bin)) + start, 0, limit);
  let b = clamp(i32(ceil(f32(p + 1) * bin)) + start, 0, limit);
  return vec2<i32>(a, b);
}`;

const POOL_FORWARD_WGSL = () =>
  elementKernel(
    [
      `read> X: array<f32>`,
      `read> R: array<f32>`,
      `read_write> Y: array<f32>`,
      `read_write> ARG: array<i32>`,
    ],
    `let o = i32(i);
  let k = o / (pChannels() * pCells()); let c = (o / pCells()) % pChannels();
  let ph = (o / pPooledW()) % pPooledH(); let pw = o % pPooledW();
  let n = roiImage(k);
  if (n < 0) { Y[o] = 0.0; ARG[o] = -1; return; }
  let box = poolBox(k);
  let hs = poolWindow(box.lo.x, box.bin.x, ph, pHeight());
  let ws = poolWindow(box.lo.y, box.bin.y, pw, pWidth());
  let base = (n * pChannels() + c) * pHeight() * pWidth();
  var best = -infinity();
  if (hs.y <= hs.x || ws.y <= ws.x) { best = 0.0; }
  var at = -1;
  for (var h = hs.x; h < hs.y; h++) {
    for (var w = ws.x; w < ws.y; w++) {
      let v = X[base + h * pWidth() + w];
      if (v > best && !isNan(v)) { best = v; at = h * pWidth() + w; }
    }
  }
  Y[o] = best; ARG[o] = at;`,
    ROI_WGSL + POOL_WGSL,
  );

export function roiPool(
  ctx: GpuContext,
  x: Storage,
  rois: Storage,
  g: RoiGeometry,
): { y: Storage; argmax: Storage } {
  const size = outputSize(g);
  const y = out(ctx, x.dtype, size);
  const argmax = out(ctx, "int32", size);
  const buffers = [buf(ctx, x), buf(ctx, rois), buf(ctx, y), buf(ctx, argmax)];
  launchElements(ctx, "roi-pool", POOL_FORWARD_WGSL, buffers, size, roiParams(g));
  return { y, argmax };
}

const POOL_BACKWARD_WGSL = () =>
  elementKernel(
    [`read> GY: array<f32>`, `read> ARG: array<i32>`, `read> R: array<f32>`, `read_write> DX: array<f32>`],
    `${INPUT_ELEMENT}
  for (var k = 0; k < pRois(); k++) {
    if (roiImage(k) != n) { continue; }
    let box = poolBox(k);
    for (var ph = 0; ph < pPooledH(); ph++) {
      let hs = poolWindow(box.lo.x, box.bin.x, ph, pHeight());
      if (h < hs.x || h >= hs.y) { continue; }
      for (var pw = 0; pw < pPooledW(); pw++) {
        let ws = poolWindow(box.lo.y, box.bin.y, pw, pWidth());
        if (w < ws.x || w >= ws.y) { continue; }
        let o = ((k * pChannels() + c) * pPooledH() + ph) * pPooledW() + pw;
        if (ARG[o] == plane) { acc += GY[o]; }
      }
    }
  }
  DX[e] = acc;`,
    ROI_WGSL + POOL_WGSL,
  );

export function roiPoolBackward(
  ctx: GpuContext,
  gy: Storage,
  argmax: Storage,
  rois: Storage,
  g: RoiGeometry,
): Storage {
  return runRoi(ctx, "roi-pool-dx", POOL_BACKWARD_WGSL, [gy, argmax, rois], inputSize(g), roiParams(g));
}

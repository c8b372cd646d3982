// Fused optimizer updates: torch's single-tensor SGD (momentum, dampening, Nesterov, weight decay,
// maximize) and Adam/AdamW (coupled or decoupled weight decay, AMSGrad), one pass per parameter.
//
// Memory layout
// - Every tensor is n contiguous f32 (param, grad, state in; new param and new state out, never aliasing
//   the inputs). Units are elements [u0, u1); `ws` is unused.
// Numerics: separate f32 multiplies and adds (never fmadd, even in the relaxed build) in the order of the
// op-by-op formulation, so results are bit-identical to it and to the js reference; the scalars arrive
// as f64 and are rounded to f32 here, as 0-d float32 tensors were. The bias corrections are computed by
// the caller in f64, like torch.

// SGD flags.
const SGD_MAXIMIZE = 1;
const SGD_WEIGHT_DECAY = 2;
const SGD_MOMENTUM = 4;
const SGD_HAS_BUFFER = 8;
const SGD_NESTEROV = 16;
const SGD_DAMPENING = 32;

// Adam flags.
const ADAM_MAXIMIZE = 1;
const ADAM_L2 = 2;
const ADAM_DECOUPLED = 4;
const ADAM_AMSGRAD = 8;

/** Four f32 at p, or (tail) one in lane 0 with zeros in the others. */
function ld(p: usize, wide: bool): v128 {
  return wide ? v128.load(p) : v128.load32_zero(p);
}

function st(p: usize, v: v128, wide: bool): void {
  if (wide) v128.store(p, v);
  else v128.store32_lane(p, v, 0);
}

/** One SGD step on the 4 (wide) or 1 element(s) at byte offset o. */
function sgdAt(
  o: usize,
  wide: bool,
  p: usize,
  g: usize,
  buf: usize,
  outP: usize,
  outBuf: usize,
  lr: v128,
  momentum: v128,
  keep: v128,
  wd: v128,
  flags: i32,
): void {
  const pv = ld(p + o, wide);
  let d = ld(g + o, wide);
  if (flags & SGD_MAXIMIZE) d = f32x4.neg(d);
  if (flags & SGD_WEIGHT_DECAY) d = f32x4.add(d, f32x4.mul(pv, wd));
  let direction = d;
  if (flags & SGD_MOMENTUM) {
    let b = d;
    if (flags & SGD_HAS_BUFFER) {
      b = f32x4.add(f32x4.mul(ld(buf + o, wide), momentum), flags & SGD_DAMPENING ? f32x4.mul(d, keep) : d);
    }
    st(outBuf + o, b, wide);
    direction = flags & SGD_NESTEROV ? f32x4.add(d, f32x4.mul(b, momentum)) : b;
  }
  st(outP + o, f32x4.sub(pv, f32x4.mul(direction, lr)), wide);
}

/** SGD over elements [u0, u1); outBuf is written (and buf read, when SGD_HAS_BUFFER) only with SGD_MOMENTUM. */
export function sgdUpdate(
  p: usize,
  g: usize,
  buf: usize,
  outP: usize,
  outBuf: usize,
  lr: f64,
  momentum: f64,
  keep: f64,
  wd: f64,
  flags: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const vlr = f32x4.splat(<f32>lr);
  const vm = f32x4.splat(<f32>momentum);
  const vk = f32x4.splat(<f32>keep);
  const vwd = f32x4.splat(<f32>wd);
  // One call site (so Binaryen inlines sgdAt): four elements per step, then the tail one by one.
  for (let i = u0; i < u1;) {
    const wide = i + 4 <= u1;
    sgdAt(<usize>(i * 4), wide, p, g, buf, outP, outBuf, vlr, vm, vk, vwd, flags);
    i += wide ? 4 : 1;
  }
}

/** One Adam step on the 4 (wide) or 1 element(s) at byte offset o (scalars as in adamUpdate). */
function adamAt(
  o: usize,
  wide: bool,
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  vmax: usize,
  outP: usize,
  outM: usize,
  outV: usize,
  outVmax: usize,
  beta1: v128,
  beta2: v128,
  keep1: v128,
  keep2: v128,
  eps: v128,
  wd: v128,
  decay: v128,
  stepSize: v128,
  bias2: v128,
  flags: i32,
): void {
  let pv = ld(p + o, wide);
  if (flags & ADAM_DECOUPLED) pv = f32x4.mul(pv, decay);
  let gv = ld(g + o, wide);
  if (flags & ADAM_MAXIMIZE) gv = f32x4.neg(gv);
  if (flags & ADAM_L2) gv = f32x4.add(gv, f32x4.mul(pv, wd));
  const mv = f32x4.add(f32x4.mul(ld(m + o, wide), beta1), f32x4.mul(gv, keep1));
  const vv = f32x4.add(f32x4.mul(ld(v + o, wide), beta2), f32x4.mul(f32x4.mul(gv, gv), keep2));
  st(outM + o, mv, wide);
  st(outV + o, vv, wide);
  let second = vv;
  if (flags & ADAM_AMSGRAD) {
    second = f32x4.max(ld(vmax + o, wide), vv);
    st(outVmax + o, second, wide);
  }
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(second), bias2), eps);
  st(outP + o, f32x4.sub(pv, f32x4.mul(f32x4.div(mv, denom), stepSize)), wide);
}

/**
 * Adam/AdamW over elements [u0, u1). keep1 = 1−β1, keep2 = 1−β2, decay = 1 − lr·wd (AdamW),
 * stepSize = lr/(1−β1ᵗ), bias2 = √(1−β2ᵗ). vmax and outVmax are used only with ADAM_AMSGRAD.
 */
export function adamUpdate(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  vmax: usize,
  outP: usize,
  outM: usize,
  outV: usize,
  outVmax: usize,
  beta1: f64,
  beta2: f64,
  keep1: f64,
  keep2: f64,
  eps: f64,
  wd: f64,
  decay: f64,
  stepSize: f64,
  bias2: f64,
  flags: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const b1 = f32x4.splat(<f32>beta1);
  const b2 = f32x4.splat(<f32>beta2);
  const k1 = f32x4.splat(<f32>keep1);
  const k2 = f32x4.splat(<f32>keep2);
  const e = f32x4.splat(<f32>eps);
  const w = f32x4.splat(<f32>wd);
  const dc = f32x4.splat(<f32>decay);
  const ss = f32x4.splat(<f32>stepSize);
  const bc = f32x4.splat(<f32>bias2);
  // One call site (so Binaryen inlines adamAt): four elements per step, then the tail one by one.
  for (let i = u0; i < u1;) {
    const wide = i + 4 <= u1;
    adamAt(
      <usize>(i * 4),
      wide,
      p,
      g,
      m,
      v,
      vmax,
      outP,
      outM,
      outV,
      outVmax,
      b1,
      b2,
      k1,
      k2,
      e,
      w,
      dc,
      ss,
      bc,
      flags,
    );
    i += wide ? 4 : 1;
  }
}

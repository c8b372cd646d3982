// Weight initialisation (torch.nn.init): Xavier/Glorot and Kaiming/He, uniform and normal, plus constants.
// Each function replaces the tensor's values in place and returns it.

import { noGrad } from "../autograd/engine.js";
import { full, rand, randn, tensor, type Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { globalRng, type Rng } from "../tensor/rng.js";

/**
 * The layer a weight feeds, for `calculateGain` and the Kaiming initialisers (torch's `nonlinearity` names).
 */
export type Nonlinearity = "linear" | "conv2d" | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "selu";

/** Recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv2d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
  }
}

/** fan_in and fan_out of a weight: [out, in] for linear, [out, in/groups, kH, kW] for conv. */
export function calculateFans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2)
    throw new Error(`init: fan in and fan out need at least 2 dims, got ${formatShape(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

function fill(t: Tensor, make: () => Tensor): Tensor {
  // Meta tensors hold no values: drawing 138M random numbers for a VGG summary would only be thrown away.
  if (t.backend.name === "meta") return t;
  noGrad(() => t.assign(make()));
  return t;
}

const opts = (t: Tensor, rng?: Rng) => ({ dtype: t.dtype, backend: t.backend.name, rng: rng ?? globalRng });

/**
 * Fills `t` in place with draws from U(low, high) and returns it (`torch.nn.init.uniform_`). Default U(0, 1),
 * from the global generator unless `rng`.
 */
export function uniform_(t: Tensor, low = 0, high = 1, rng?: Rng): Tensor {
  return fill(t, () => rand(t.shape, { ...opts(t, rng), low, high }));
}

/**
 * Fills `t` in place with draws from N(mean, std²) and returns it (`torch.nn.init.normal_`). Default N(0, 1).
 */
export function normal_(t: Tensor, mean = 0, std = 1, rng?: Rng): Tensor {
  return fill(t, () => randn(t.shape, { ...opts(t, rng), mean, std }));
}

/** Fills `t` in place with `value` and returns it (`torch.nn.init.constant_`). */
export function constant_(t: Tensor, value: number): Tensor {
  return fill(t, () => full(t.shape, value, { dtype: t.dtype, backend: t.backend.name }));
}

/** Fills `t` in place with 0 and returns it (`torch.nn.init.zeros_`). */
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
/** Fills `t` in place with 1 and returns it (`torch.nn.init.ones_`). */
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** Glorot & Bengio 2010: U(-a, a) with a = gain·sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1, rng?: Rng): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, rng);
}

/** N(0, std²) with std = gain·sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1, rng?: Rng): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), rng);
}

/**
 * Options of `kaimingUniform_` and `kaimingNormal_` (He et al. 2015; torch's arguments): `a` the negative
 * slope of the following rectifier (default 0), `mode` "fanIn" (default: preserves the forward pass's
 * variance) or "fanOut" (the backward pass's), `nonlinearity` (default "leaky_relu", which with a = 0 is
 * ReLU's gain √2), `rng` (default the global generator).
 */
export interface KaimingOptions {
  /** Negative slope of the rectifier that follows (0 for ReLU); torch's `a`. */
  a?: number;
  mode?: "fanIn" | "fanOut";
  nonlinearity?: Nonlinearity;
  rng?: Rng;
}

function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const { fanIn, fanOut } = calculateFans(t);
  const fan = options.mode === "fanOut" ? fanOut : fanIn;
  const gain = calculateGain(options.nonlinearity ?? "leaky_relu", options.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He et al. 2015: U(-b, b) with b = gain·sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound, options.rng);
}

/** He et al. 2015: N(0, (gain / sqrt(fan))²). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options), options.rng);
}

/** Normal truncated to [a, b] by redrawing values outside (torch.nn.init.trunc_normal_). */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, rng?: Rng): Tensor {
  const r = rng ?? globalRng;
  const values = new Float32Array(t.size);
  for (let i = 0; i < values.length; i++) {
    let v: number;
    do v = mean + std * r.normal();
    while (v < a || v > b);
    values[i] = v;
  }
  return fill(t, () => tensor(values, t.shape, { dtype: t.dtype, backend: t.backend.name }));
}

// Feature visualisation (Erhan et al. 2009; Olah, Mordvintsev & Schubert 2017, "Feature visualization",
// Distill, and its Lucid library): the input that maximises one channel (or one neuron) of a layer, found
// by optimising an image parameterisation with Adam. Unregularised ascent on pixels gives high-frequency
// noise that excites the unit without looking like anything, so the usual remedies are here:
//   - jitter: the image is rolled by a random offset every step, so the pattern must work at every position;
//   - total variation and L2 penalties, and optional Gaussian blur of the pixels every few steps
//     (Yosinski et al. 2015);
//   - the Fourier parameterisation: the image is the inverse DFT of a spectrum whose coefficients are scaled
//     by 1/frequency, so Adam's equal steps favour low frequencies (Lucid's `fft_image`);
//   - colour decorrelation: for RGB, the parameters live in a decorrelated colour space (Lucid's ImageNet
//     colour-correlation square root), then a sigmoid maps to valid pixels in [0, 1].
// The inverse DFT is written as matrix products with cosine/sine tables: differentiable with the ops we
// have, and cheap at the image sizes this is used at.

import type { Module } from "../nn/module.js";
import { Tensor, randn, tensor } from "../tensor/tensor.js";
import { Rng, globalRng } from "../tensor/rng.js";
import { enableGrad, noGrad } from "../autograd/engine.js";
import { concat, reshape, slice } from "../ops/movement.js";
import { matmul } from "../ops/matmul.js";
import { conv2d } from "../ops/conv.js";
import { sigmoid } from "../ops/activations.js";
import { Adam } from "../optim/adam.js";
import { formatShape } from "../tensor/shape.js";
import { resolveLayer, type LayerRef } from "./layers.js";
import { withFrozenParameters } from "./attribution.js";
import { forwardOf } from "./model-calls.js";

/** Options of {@link featureVisualization}. */
export interface FeatureVisualizationOptions {
  /** The layer whose output holds the unit (module or dotted name). */
  layer: LayerRef;
  /** Channel of a [N, C, H, W] output, or unit of a [N, K] output. */
  channel: number;
  /** Maximise one spatial position [y, x] of the channel instead of its mean. */
  neuron?: readonly [number, number];
  /** Input shape [C, H, W]. */
  shape: readonly [number, number, number];
  /** Optimisation steps. Default 256 (Lucid's default). */
  steps?: number;
  /** Adam learning rate. Default 0.05. */
  lr?: number;
  /** "fourier" (default) or "pixel" parameterisation. */
  parameterization?: "fourier" | "pixel";
  /** Decorrelate colours (3-channel inputs only). Default true for 3 channels. */
  decorrelate?: boolean;
  /** Largest random roll in pixels per step. Default 4 (0 turns jitter off). */
  jitter?: number;
  /** Weight of the total-variation penalty (mean |difference| of neighbouring pixels). Default 0. */
  tv?: number;
  /** Weight of the L2 penalty (mean squared pixel). Default 0. */
  l2?: number;
  /** Blur the pixels with a 3×3 Gaussian every this many steps ("pixel" only). Default 0 (never). */
  blurEvery?: number;
  /** Per-channel normalisation the model expects: it sees (image - mean) / std. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Seed of the initial parameters and the jitter; drawn from the global generator when omitted. */
  seed?: number;
}

/** What {@link featureVisualization} returns. */
export interface FeatureVisualization {
  /** The image [1, C, H, W], in [0, 1]. */
  image: Tensor;
  /** The objective (mean activation of the channel, or the neuron's value) on the final image. */
  activation: number;
}

// Lucid's colour-correlation square root for ImageNet (rows: R, G, B), scaled by its largest column norm.
const COLOR_CORRELATION = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];
const MAX_COLUMN_NORM = Math.max(
  ...[0, 1, 2].map((j) => Math.hypot(...COLOR_CORRELATION.map((row) => row[j]))),
);

/** |frequency| of DFT bin (k, l) for an H×W image, as numpy's fftfreq gives them. */
function frequency(k: number, l: number, h: number, w: number): number {
  const fy = (k <= h / 2 ? k : k - h) / h;
  const fx = (l <= w / 2 ? l : l - w) / w;
  return Math.hypot(fy, fx);
}

/** cos and sin tables [n, n] of 2πmk/n. */
function dftTables(n: number, backend: string): { cos: Tensor; sin: Tensor } {
  const c = new Float32Array(n * n);
  const s = new Float32Array(n * n);
  for (let m = 0; m < n; m++)
    for (let k = 0; k < n; k++) {
      const a = (2 * Math.PI * m * k) / n;
      c[m * n + k] = Math.cos(a);
      s[m * n + k] = Math.sin(a);
    }
  return { cos: tensor(c, [n, n], { backend }), sin: tensor(s, [n, n], { backend }) };
}

/** The parameters and the function from them to an image [1, C, H, W] in [0, 1]. */
interface Parameterization {
  params: Tensor[];
  image(): Tensor;
}

function pixelParameterization(
  shape: readonly number[],
  rng: Rng,
  decorrelate: boolean,
  backend: string,
): Parameterization {
  const p = randn([1, ...shape], { backend, rng, std: 0.01 });
  p.requiresGrad = true;
  return { params: [p], image: () => toValidPixels(p, shape, decorrelate, backend) };
}

function fourierParameterization(
  shape: readonly number[],
  rng: Rng,
  decorrelate: boolean,
  backend: string,
): Parameterization {
  const [c, h, w] = shape;
  const re = randn([c, h, w], { backend, rng, std: 0.01 });
  const im = randn([c, h, w], { backend, rng, std: 0.01 });
  re.requiresGrad = true;
  im.requiresGrad = true;
  const scaleValues = new Float32Array(h * w);
  for (let k = 0; k < h; k++)
    for (let l = 0; l < w; l++)
      scaleValues[k * w + l] = 1 / Math.max(frequency(k, l, h, w), 1 / Math.max(h, w)) / Math.sqrt(h * w);
  const scale = tensor(scaleValues, [h, w], { backend });
  const eh = dftTables(h, backend);
  const ew = dftTables(w, backend);
  const cwT = ew.cos.transpose(0, 1);
  const swT = ew.sin.transpose(0, 1);
  return {
    params: [re, im],
    image: () => {
      const a = re.mul(scale);
      const b = im.mul(scale);
      // Re((Ch + i Sh)(A + i B)(Cw + i Sw)^T), the real part of the inverse DFT.
      const real = matmul(matmul(eh.cos, a).sub(matmul(eh.sin, b)), cwT).sub(
        matmul(matmul(eh.cos, b).add(matmul(eh.sin, a)), swT),
      );
      // Lucid divides by 4 so the sigmoid starts in its linear range.
      return toValidPixels(reshape(real, [1, c, h, w]).div(4), shape, decorrelate, backend);
    },
  };
}

/** Decorrelated colours (3 channels) then a sigmoid into [0, 1]. */
function toValidPixels(t: Tensor, shape: readonly number[], decorrelate: boolean, backend: string): Tensor {
  const [c, h, w] = shape;
  if (!decorrelate) return sigmoid(t);
  const m = tensor(
    COLOR_CORRELATION.flat().map((v) => v / MAX_COLUMN_NORM),
    [3, 3],
    { backend },
  );
  return sigmoid(reshape(matmul(m, reshape(t, [c, h * w])), [1, c, h, w]));
}

/** Rolls the last two dims by (dy, dx) (content wraps around), differentiably. */
function roll2d(x: Tensor, dy: number, dx: number): Tensor {
  const rollDim = (t: Tensor, shift: number, dim: number) => {
    const n = t.shape[dim];
    const s = ((shift % n) + n) % n;
    return s === 0 ? t : concat([slice(t, dim, n - s, n), slice(t, dim, 0, n - s)], dim);
  };
  return rollDim(rollDim(x, dy, 2), dx, 3);
}

/** Mean |difference| of vertically and horizontally neighbouring pixels. */
function totalVariation(x: Tensor): Tensor {
  const [, , h, w] = x.shape;
  const dy = slice(x, 2, 1, h)
    .sub(slice(x, 2, 0, h - 1))
    .abs()
    .mean();
  const dx = slice(x, 3, 1, w)
    .sub(slice(x, 3, 0, w - 1))
    .abs()
    .mean();
  return dy.add(dx);
}

/** Blurs a pixel parameter [1, C, H, W] in place with a 3×3 Gaussian (sigma ≈ 0.85), per channel. */
function blurInPlace(p: Tensor): void {
  const c = p.shape[1];
  const k = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  // Depthwise: output channel o reads input channel o only.
  const w = new Float32Array(c * c * 9);
  for (let o = 0; o < c; o++) w.set(k, (o * c + o) * 9);
  const weight = tensor(w, [c, c, 3, 3], { backend: p.backend.name });
  noGrad(() => p.assign(conv2d(p, weight, null, { padding: 1 })));
}

function checkOptions(model: Module, o: FeatureVisualizationOptions): void {
  const shape = o.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
    throw new Error(
      `featureVisualization: shape must be [C, H, W] of positive integers, got [${String(shape)}]`,
    );
  if (o.decorrelate && shape[0] !== 3)
    throw new Error(`featureVisualization: decorrelate needs 3 input channels, the shape has ${shape[0]}`);
  if (o.parameterization !== undefined && o.parameterization !== "fourier" && o.parameterization !== "pixel")
    throw new Error(
      `featureVisualization: parameterization must be "fourier" or "pixel", got '${String(o.parameterization)}'`,
    );
  const steps = o.steps ?? 256;
  if (!(Number.isInteger(steps) && steps >= 1))
    throw new Error(`featureVisualization: steps must be an integer ≥ 1, got ${steps}`);
  resolveLayer(model, o.layer, "featureVisualization");
}

/** The objective on a captured layer output: the channel's mean (or the neuron), checked against its shape. */
function unitObjective(out: Tensor, o: FeatureVisualizationOptions, name: string): Tensor {
  const channels = out.shape[1];
  if (!(Number.isInteger(o.channel) && o.channel >= 0 && o.channel < channels))
    throw new Error(
      `featureVisualization: channel ${o.channel} is out of range for layer '${name}' with ${channels} channels (output ${formatShape(out.shape)})`,
    );
  const unit = slice(out, 1, o.channel, o.channel + 1);
  if (!o.neuron) return unit.mean();
  if (out.ndim !== 4)
    throw new Error(
      `featureVisualization: neuron [y, x] needs a [N, C, H, W] output, layer '${name}' gives ${formatShape(out.shape)}`,
    );
  const [y, x] = o.neuron;
  const [h, w] = [out.shape[2], out.shape[3]];
  if (!(Number.isInteger(y) && Number.isInteger(x) && y >= 0 && y < h && x >= 0 && x < w))
    throw new Error(`featureVisualization: neuron [${y}, ${x}] is outside layer '${name}''s ${h}×${w} maps`);
  return slice(slice(unit, 2, y, y + 1), 3, x, x + 1).sum();
}

/**
 * The image that maximises a channel's mean activation (or one neuron) at `layer`: Adam on a Fourier (or
 * pixel) parameterisation with jitter and optional total-variation, L2 and blur regularisation, as in Lucid.
 * @returns the image [1, C, H, W] in [0, 1] and the final objective value
 * @example const { image } = featureVisualization(model, { layer: "layer3.1.conv2", channel: 7, shape: [3, 32, 32] });
 */
export function featureVisualization(
  model: Module,
  options: FeatureVisualizationOptions,
): FeatureVisualization {
  checkOptions(model, options);
  const { name, module } = resolveLayer(model, options.layer, "featureVisualization");
  const shape = options.shape;
  const be = model.parameters()[0]?.backend.name ?? tensor([0]).backend.name;
  const rng = new Rng(options.seed ?? Math.floor(globalRng.uniform() * 2 ** 31));
  const decorrelate = options.decorrelate ?? shape[0] === 3;
  const param =
    (options.parameterization ?? "fourier") === "fourier"
      ? fourierParameterization(shape, rng, decorrelate, be)
      : pixelParameterization(shape, rng, decorrelate, be);
  const optimizer = new Adam(param.params, { lr: options.lr ?? 0.05 });
  const normalize = (img: Tensor) =>
    options.mean && options.std
      ? img
          .sub(tensor(Float32Array.from(options.mean), [1, shape[0], 1, 1], { backend: be }))
          .div(tensor(Float32Array.from(options.std), [1, shape[0], 1, 1], { backend: be }))
      : img;
  let captured: Tensor | undefined;
  const handle = module.registerForwardHook((_m, _i, out) => {
    if (out instanceof Tensor) captured = out;
  });
  const objective = (img: Tensor): Tensor => {
    captured = undefined;
    forwardOf(model)(normalize(img));
    if (!captured)
      throw new Error(`featureVisualization: layer '${name}' did not run in the model's forward pass`);
    return unitObjective(captured, options, name);
  };
  const jitter = options.jitter ?? 4;
  const steps = options.steps ?? 256;
  try {
    withFrozenParameters(model, () =>
      enableGrad(() => {
        for (let step = 0; step < steps; step++) {
          optimizer.zeroGrad();
          let img = param.image();
          if (jitter > 0)
            img = roll2d(img, rng.int(2 * jitter + 1) - jitter, rng.int(2 * jitter + 1) - jitter);
          let loss = objective(img).neg();
          if (options.tv) loss = loss.add(totalVariation(img).mul(options.tv));
          if (options.l2) loss = loss.add(img.square().mean().mul(options.l2));
          if (!loss.requiresGrad)
            throw new Error(
              `featureVisualization: layer '${name}' does not depend differentiably on the input (a part of the model runs under noGrad or detaches)`,
            );
          loss.backward();
          optimizer.step();
          if (
            options.blurEvery &&
            options.parameterization === "pixel" &&
            (step + 1) % options.blurEvery === 0
          )
            blurInPlace(param.params[0]);
        }
      }),
    );
    const image = noGrad(() => param.image());
    const activation = noGrad(() => objective(image).item());
    return { image: image.detach(), activation };
  } finally {
    handle.remove();
  }
}

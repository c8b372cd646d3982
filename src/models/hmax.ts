// HMAX (Riesenhuber & Poggio 1999; Serre, Wolf, Bileschi, Riesenhuber & Poggio 2007): the model of the
// ventral stream the notes put between Hubel & Wiesel and CNNs. Alternating "simple" layers (S: tuning,
// template matching) and "complex" layers (C: max pooling for invariance):
//   S1  Gabor filters at several sizes and orientations, |response| normalised by the patch's norm
//   C1  max over a local neighbourhood and over the two sizes of each scale band
//   S2  Gaussian tuning y = exp(−β‖x − w‖²) to prototypes w sampled from C1 maps of training images
//   C2  the global max of each prototype's S2 map over positions and bands: a shift- and
//       scale-tolerant feature vector
// Only the classifier on top of C2 learns by gradient descent; S1 is fixed and S2 is sampled.

import { Tensor, tensor, zeros } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { Rng } from "../tensor/rng.js";
import { noGrad } from "../autograd/engine.js";
import { abs, add, div, exp, maximum, mul, sqrt, square, sub } from "../ops/elementwise.js";
import { conv2d } from "../ops/conv.js";
import { maxPool2d } from "../ops/pool.js";
import { concat } from "../ops/movement.js";
import { max, mean, sum } from "../ops/reduce.js";
import { BatchNorm1d, Linear, Module, Sequential } from "../nn/index.js";
import { type ModelOptions, layerOptions } from "./common.js";

/** Options of `HMAX` (Serre et al. 2007's S1/C1/S2/C2 layers, sized for 28×28 digits by default). */
export interface HmaxOptions extends ModelOptions {
  /** S1 Gabor filter sizes (odd), two per scale band. Default [7, 9, 11, 13] (two bands, for 28×28). */
  s1Sizes?: number[];
  /** Gabor orientations, evenly spaced over 180°. Default 4 (0°, 45°, 90°, 135°). */
  orientations?: number;
  /** C1 pooling window per band (stride half of it, as in Serre et al.). Default [4, 6]. */
  c1Pool?: number[];
  /** Side lengths of the S2 prototypes, in C1 units. Default [2, 4]. */
  prototypeSizes?: number[];
  /** Prototypes per size. Default 250. */
  prototypesPerSize?: number;
  /** Sharpness β of the S2 tuning exp(−β‖x − w‖²). Default 3. */
  beta?: number;
}

/**
 * A Gabor filter of the given odd size, as Serre et al. parameterise it: σ = 0.0036·s² + 0.35·s + 0.18,
 * λ = σ / 0.8, aspect ratio γ = 0.3; zero outside the inscribed circle, zero-mean, unit L2 norm.
 * @returns `size × size` values, row-major
 */
export function gaborFilter(size: number, theta: number): Float32Array {
  const sigma = 0.0036 * size * size + 0.35 * size + 0.18;
  const lambda = sigma / 0.8;
  const gamma = 0.3;
  const half = (size - 1) / 2;
  const values = new Float64Array(size * size);
  const inside: number[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const [y, x] = [i - half, j - half];
      if (x * x + y * y > half * half) continue;
      const u = x * Math.cos(theta) + y * Math.sin(theta);
      const v = -x * Math.sin(theta) + y * Math.cos(theta);
      values[i * size + j] =
        Math.exp(-(u * u + gamma * gamma * v * v) / (2 * sigma * sigma)) *
        Math.cos((2 * Math.PI * u) / lambda);
      inside.push(i * size + j);
    }
  }
  const average = inside.reduce((s, k) => s + values[k], 0) / inside.length;
  for (const k of inside) values[k] -= average;
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  return Float32Array.from(values, (v) => v / norm);
}

/** Options that put a new tensor where `x` lives. */
const like = (x: Tensor) => ({ backend: x.backend.name, dtype: x.dtype });

function positiveIntegers(name: string, values: readonly number[]): void {
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`HMAX: ${name} must be positive integers, got [${values.join(", ")}]`);
}

/**
 * HMAX with a linear classifier on its C2 features (Serre et al. 2007, "Robust object recognition with
 * cortex-like mechanisms"). Call {@link HMAX.samplePrototypes} with training images before use: S2's
 * prototypes are C1 patches of real images, not learned weights. Only `classifier` has parameters.
 * @example
 * const hmax = new HMAX({ numClasses: 10 });
 * hmax.samplePrototypes(trainImages, 0); // trainImages [M, 1, 28, 28]
 * hmax.forward(x); // x [N, 1, 28, 28] -> logits [N, 10]
 */
export class HMAX extends Module {
  readonly s1Sizes: number[];
  readonly orientations: number;
  readonly c1Pool: number[];
  readonly prototypeSizes: number[];
  readonly prototypesPerSize: number;
  readonly beta: number;
  readonly inChannels: number;
  /** BatchNorm1d (no affine) then Linear over the C2 features. */
  classifier: Sequential;

  constructor(options: HmaxOptions = {}) {
    super();
    this.s1Sizes = options.s1Sizes ?? [7, 9, 11, 13];
    this.orientations = options.orientations ?? 4;
    this.c1Pool = options.c1Pool ?? [4, 6];
    this.prototypeSizes = options.prototypeSizes ?? [2, 4];
    this.prototypesPerSize = options.prototypesPerSize ?? 250;
    this.beta = options.beta ?? 3;
    this.inChannels = options.inChannels ?? 1;
    positiveIntegers("s1Sizes", this.s1Sizes);
    if (this.s1Sizes.some((s) => s % 2 === 0) || this.s1Sizes.length % 2 !== 0)
      throw new Error(
        `HMAX: s1Sizes must be odd and come in pairs (one pair per band), got [${this.s1Sizes}]`,
      );
    positiveIntegers("c1Pool", this.c1Pool);
    if (this.c1Pool.length !== this.s1Sizes.length / 2)
      throw new Error(
        `HMAX: c1Pool needs one window per band (${this.s1Sizes.length / 2}), got [${this.c1Pool}]`,
      );
    positiveIntegers("orientations, prototypeSizes, prototypesPerSize", [
      this.orientations,
      ...this.prototypeSizes,
      this.prototypesPerSize,
    ]);
    if (!(Number.isFinite(this.beta) && this.beta > 0))
      throw new Error(`HMAX: beta must be positive, got ${this.beta}`);
    const layer = layerOptions(options);
    for (const size of this.s1Sizes) this.registerBuffer(`s1_${size}`, this.gaborBank(size, layer));
    for (const n of this.prototypeSizes)
      this.registerBuffer(`s2_${n}`, zeros([this.prototypesPerSize, this.orientations, n, n], layer));
    const features = this.prototypesPerSize * this.prototypeSizes.length;
    this.classifier = new Sequential(
      new BatchNorm1d(features, { affine: false, ...layer }),
      new Linear(features, options.numClasses ?? 10, layer),
    );
  }

  private gaborBank(size: number, layer: ReturnType<typeof layerOptions>): Tensor {
    const filters = new Float32Array(this.orientations * size * size);
    for (let o = 0; o < this.orientations; o++)
      filters.set(gaborFilter(size, (o * Math.PI) / this.orientations), o * size * size);
    return tensor(filters, [this.orientations, 1, size, size], layer);
  }

  private grey(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels)
      throw new Error(`HMAX: input must be [N, ${this.inChannels}, H, W], got ${formatShape(x.shape)}`);
    return this.inChannels === 1 ? x : mean(x, 1, true);
  }

  /** S1 at one filter size: |g * x| / ‖x patch‖, `[N, orientations, H, W]`. */
  private s1(x: Tensor, size: number): Tensor {
    const padding = (size - 1) / 2;
    const response = abs(conv2d(x, this.getBuffer(`s1_${size}`), null, { padding }));
    const energy = conv2d(
      square(x),
      tensor(new Float32Array(size * size).fill(1), [1, 1, size, size], like(x)),
      null,
      {
        padding,
      },
    );
    return div(response, add(sqrt(energy), 1e-6));
  }

  /** C1 maps, one per band: `[N, orientations, h_b, w_b]`. */
  c1(x: Tensor): Tensor[] {
    const grey = this.grey(x);
    return this.c1Pool.map((pool, band) => {
      const [small, large] = [this.s1Sizes[2 * band], this.s1Sizes[2 * band + 1]];
      const stride = Math.max(1, Math.floor(pool / 2));
      const pooled = (size: number) => maxPool2d(this.s1(grey, size), pool, { stride });
      return maximum(pooled(small), pooled(large));
    });
  }

  /** S2 responses of the prototypes of side n on one C1 band: exp(−β‖x − w‖²), `[N, P, h, w]`. */
  private s2(c1: Tensor, n: number): Tensor {
    const prototypes = this.getBuffer(`s2_${n}`);
    const ones = tensor(
      new Float32Array(this.orientations * n * n).fill(1),
      [1, this.orientations, n, n],
      like(c1),
    );
    const patchEnergy = conv2d(square(c1), ones, null); // ‖x‖² per position
    const cross = conv2d(c1, prototypes, null); // x·w
    const prototypeEnergy = sum(square(prototypes), [1, 2, 3]).reshape([1, -1, 1, 1]); // ‖w‖²
    const distance = add(sub(patchEnergy, mul(cross, 2)), prototypeEnergy);
    return exp(mul(distance, -this.beta));
  }

  /** C2 features: each prototype's best S2 response over all positions and bands, `[N, P]`. */
  features(x: Tensor): Tensor {
    const c1 = this.c1(x);
    const perSize = this.prototypeSizes.map((n) => {
      const bands = c1.filter((map) => map.shape[2] >= n && map.shape[3] >= n);
      if (bands.length === 0)
        throw new Error(
          `HMAX: prototypes of side ${n} do not fit any C1 map of input ${formatShape(x.shape)}`,
        );
      return bands.map((map) => max(this.s2(map, n), [2, 3])).reduce((a, b) => maximum(a, b));
    });
    return concat(perSize, 1);
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features(x)) as Tensor;
  }

  /**
   * Fills S2's prototypes with C1 patches of the given images at random images, bands and positions
   * (Serre et al.'s learning stage: imprinting, not gradient descent).
   * @param images `[M, C, H, W]` training images
   */
  samplePrototypes(images: Tensor, seed = 0): void {
    const rng = new Rng(seed);
    noGrad(() => {
      const c1 = this.c1(images).map((map) => ({ map, values: map.toArray() }));
      for (const n of this.prototypeSizes) {
        const usable = c1.filter(({ map }) => map.shape[2] >= n && map.shape[3] >= n);
        if (usable.length === 0)
          throw new Error(`HMAX.samplePrototypes: prototypes of side ${n} fit no C1 map`);
        const out = new Float32Array(this.prototypesPerSize * this.orientations * n * n);
        for (let p = 0; p < this.prototypesPerSize; p++) {
          const { map, values } = usable[Math.floor(rng.uniform() * usable.length)];
          const [count, channels, h, w] = map.shape;
          const image = Math.floor(rng.uniform() * count);
          const top = Math.floor(rng.uniform() * (h - n + 1));
          const left = Math.floor(rng.uniform() * (w - n + 1));
          for (let c = 0; c < channels; c++)
            for (let i = 0; i < n; i++)
              for (let j = 0; j < n; j++)
                out[((p * channels + c) * n + i) * n + j] =
                  values[((image * channels + c) * h + top + i) * w + left + j];
        }
        this.setBuffer(
          `s2_${n}`,
          tensor(out, [this.prototypesPerSize, this.orientations, n, n], like(images)),
        );
      }
    });
  }

  override extraRepr(): string {
    return `s1Sizes=[${this.s1Sizes}], orientations=${this.orientations}, prototypes=${this.prototypesPerSize}x[${this.prototypeSizes}]`;
  }
}

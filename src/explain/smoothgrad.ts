// SmoothGrad (Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise"): an attribution averaged
// over copies of the input with Gaussian noise, as Captum's NoiseTunnel computes it (smoothgrad,
// smoothgrad_sq and vargrad).

import { Module } from "../nn/module.js";
import { randn, type Tensor } from "../tensor/tensor.js";
import type { Rng } from "../tensor/rng.js";
import { checkBatch, type Attribution, type TargetOptions } from "./attribution.js";
import { Saliency, type SaliencyOptions } from "./gradients.js";

/** The noise options of {@link SmoothGrad.attribute}; the rest goes to the wrapped method. */
export interface NoiseOptions {
  /** Standard deviation of the Gaussian noise, in input units (default 1.0, Captum's `stdevs`). */
  stdevs?: number;
  /** Noisy copies averaged (default 5, Captum's `nt_samples`). */
  nSamples?: number;
  /** "smoothgrad" (mean, default), "smoothgrad_sq" (mean of squares) or "vargrad" (variance), Captum's `nt_type`. */
  ntType?: "smoothgrad" | "smoothgrad_sq" | "vargrad";
  /** Random source of the noise (default the global one, seeded by manualSeed). */
  rng?: Rng;
}

/**
 * SmoothGrad (Smilkov et al. 2017): the mean of an attribution over `nSamples` copies of x + N(0, stdevs²).
 * Given a model it smooths the signed gradient (Saliency with `abs: false` unless `abs` is passed); given
 * an attribution method (e.g. `new IntegratedGradients(model)`) it wraps that one, like Captum's
 * `NoiseTunnel`. Each sample is one batch of N, so memory stays that of the wrapped method.
 *
 * @example const map = new SmoothGrad(model).attribute(x, { target: 3, stdevs: 0.15, nSamples: 25 });
 */
export class SmoothGrad<O extends TargetOptions = SaliencyOptions> implements Attribution<O & NoiseOptions> {
  private readonly base: Attribution<O>;
  private readonly wrapsModel: boolean;

  constructor(modelOrMethod: Module | Attribution<O>) {
    this.wrapsModel = modelOrMethod instanceof Module;
    this.base =
      modelOrMethod instanceof Module
        ? (new Saliency(modelOrMethod) as Attribution<TargetOptions> as Attribution<O>)
        : modelOrMethod;
  }

  /** The smoothed attribution, shaped as the wrapped method's. */
  attribute(x: Tensor, options: O & NoiseOptions = {} as O & NoiseOptions): Tensor {
    checkBatch(x, "SmoothGrad");
    const { stdevs = 1, nSamples = 5, ntType = "smoothgrad", rng, ...rest } = options;
    if (!(stdevs >= 0) || !Number.isFinite(stdevs))
      throw new Error(`SmoothGrad: stdevs must be a finite number >= 0, got ${stdevs}`);
    if (!Number.isInteger(nSamples) || nSamples < 1)
      throw new Error(`SmoothGrad: nSamples must be a positive integer, got ${nSamples}`);
    if (!["smoothgrad", "smoothgrad_sq", "vargrad"].includes(ntType))
      throw new Error(
        `SmoothGrad: ntType must be smoothgrad, smoothgrad_sq or vargrad, got ${String(ntType)}`,
      );
    const baseOptions = (this.wrapsModel ? { abs: false, ...rest } : rest) as unknown as O;
    let sum: Tensor | null = null;
    let sumSq: Tensor | null = null;
    for (let s = 0; s < nSamples; s++) {
      const noise = randn([...x.shape], { std: stdevs, rng, dtype: x.dtype, backend: x.backend.name });
      const a = this.attributeWrapped(x.detach().add(noise), baseOptions);
      sum = sum ? sum.add(a) : a;
      sumSq = ntType === "smoothgrad" ? null : sumSq ? sumSq.add(a.square()) : a.square();
    }
    const mean = sum!.div(nSamples);
    if (ntType === "smoothgrad") return mean;
    const meanSq = sumSq!.div(nSamples);
    return ntType === "smoothgrad_sq" ? meanSq : meanSq.sub(mean.square());
  }

  /** The wrapped method on a noisy batch; its errors are prefixed with SmoothGrad, naming both methods. */
  private attributeWrapped(x: Tensor, options: O): Tensor {
    try {
      return this.base.attribute(x, options);
    } catch (e) {
      throw new Error(`SmoothGrad: ${(e as Error).message}`);
    }
  }
}

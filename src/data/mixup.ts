// Mixup (Zhang et al., 2018), browser-safe: each image is blended with another of the same batch,
// x̃ = λ·xᵢ + (1 − λ)·xⱼ, and so are the one-hot targets, with λ ~ Beta(α, α) drawn once per batch and the
// partners j given by a random permutation, as in the authors' code. The soft targets [N, K] go straight into
// F.crossEntropy, which accepts class probabilities.

import { sampleBeta } from "./distributions.js";
import type { Transform } from "./transforms.js";

/** Options of `mixup`. */
export interface MixupOptions {
  /** Number of classes K of the soft targets; by default the dataset's class count. */
  numClasses?: number;
}

/**
 * Mixes pairs of samples and their targets; the batch's `y` becomes soft targets [N, K] whose rows sum to 1.
 * α = 0 leaves the images as they are (λ = 1) but still yields one-hot soft targets.
 *
 * @example new DataLoader(train, { batchSize: 128, transform: mixup(0.2) })
 */
export function mixup(alpha: number, options: MixupOptions = {}): Transform {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new Error(`mixup: alpha must be ≥ 0, got ${alpha}`);
  return (batch, rng) => {
    const [n] = batch.shape;
    const k = options.numClasses ?? batch.numClasses;
    const base = batch.targets ?? oneHot(batch.y, k);
    if (base.length !== n * k) {
      throw new Error(`mixup: soft targets have ${base.length / n} classes per sample, expected ${k}`);
    }
    const lam = alpha > 0 ? sampleBeta(rng, alpha, alpha) : 1;
    const partner = rng.permutation(n);
    const per = batch.x.length / n;
    const x = new Float32Array(batch.x.length);
    const targets = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const j = partner[i];
      for (let p = 0; p < per; p++)
        x[i * per + p] = lam * batch.x[i * per + p] + (1 - lam) * batch.x[j * per + p];
      for (let c = 0; c < k; c++) targets[i * k + c] = lam * base[i * k + c] + (1 - lam) * base[j * k + c];
    }
    return { ...batch, x, targets };
  };
}

function oneHot(labels: Int32Array, k: number): Float32Array {
  if (!Number.isInteger(k) || k <= 0)
    throw new Error(`mixup: the number of classes must be positive, got ${k}`);
  const out = new Float32Array(labels.length * k);
  labels.forEach((label, i) => {
    if (label < 0 || label >= k)
      throw new Error(`mixup: label ${label} at batch row ${i} is not a class 0..${k - 1}`);
    out[i * k + label] = 1;
  });
  return out;
}

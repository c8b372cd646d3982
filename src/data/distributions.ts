// Gamma and Beta samplers over the seeded Rng (browser-safe), for mixup's λ ~ Beta(α, α). Gamma uses
// Marsaglia & Tsang's squeeze method (2000); for shape < 1 it uses Gamma(a) = Gamma(a + 1)·U^(1/a), kept in log
// space so that small shapes (α = 0.1 gives values near 1e-40) do not underflow to 0 and make Beta 0/0.

import type { Rng } from "../tensor/rng.js";

/**
 * Natural log of a Gamma(shape, 1) sample.
 */
export function sampleLogGamma(rng: Rng, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape))
    throw new Error(`sampleGamma: shape must be positive, got ${shape}`);
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return sampleLogGamma(rng, shape + 1) + Math.log(u) / shape;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
      return Math.log(d * v);
    }
  }
}

/**
 * A Gamma(shape, 1) sample (mean = variance = shape).
 *
 * @example sampleGamma(new Rng(0), 2.5)
 */
export function sampleGamma(rng: Rng, shape: number): number {
  return Math.exp(sampleLogGamma(rng, shape));
}

/**
 * A Beta(a, b) sample, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
 *
 * @example const lam = sampleBeta(rng, 0.2, 0.2); // mixup's mixing weight
 */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const logX = sampleLogGamma(rng, a);
  const logY = sampleLogGamma(rng, b);
  // X / (X + Y) = 1 / (1 + exp(log Y − log X)), which stays finite when both are tiny.
  return 1 / (1 + Math.exp(logY - logX));
}

// Shared by the zoo's training tests: a few plain-SGD steps on one fixed batch, and the loss on that batch
// before and after, measured with the same dropout masks (the RNG is reseeded) so the comparison is fair.

import { manualSeed, noGrad, randn, randint, type Tensor } from "../../src/index.js";
import { crossEntropy } from "../../src/ops/losses.js";
import type { Module } from "../../src/nn/index.js";

export interface TrainResult {
  before: number;
  after: number;
  losses: number[];
}

export function trainFixedBatch(
  model: Module,
  inputShape: number[],
  numClasses: number,
  options: {
    steps?: number;
    lr?: number;
    seed?: number;
    /**
     * Reseed before every training step too, so that dropout and stochastic depth draw the evaluation's
     * masks: the steps then descend the very function that is evaluated (a deep net with stochastic depth
     * otherwise takes its few small steps on other masks' losses, which need not lower this one).
     */
    fixedMasks?: boolean;
  } = {},
): TrainResult {
  manualSeed(options.seed ?? 7);
  const x = randn(inputShape);
  const y = randint(0, numClasses, [inputShape[0]]);
  const lossOf = () => crossEntropy((model as unknown as { forward(t: Tensor): Tensor }).forward(x), y);
  const evaluate = () => {
    manualSeed(1234);
    return noGrad(() => lossOf().item());
  };
  model.train();
  const before = evaluate();
  const losses: number[] = [];
  for (let step = 0; step < (options.steps ?? 2); step++) {
    if (options.fixedMasks) manualSeed(1234);
    const loss = lossOf();
    loss.backward();
    losses.push(loss.item());
    noGrad(() => {
      for (const p of model.parameters()) {
        if (p.grad) p.assign(p.sub(p.grad.mul(options.lr ?? 0.01)));
        p.grad = null;
      }
    });
  }
  return { before, after: evaluate(), losses };
}

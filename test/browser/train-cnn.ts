// A few SGD-momentum steps of a small CNN with a fixed seed, written once for both sides of the browser
// test: Node runs it on src/ (through tsx), the page runs it on the browser build (dist/index.js; the test
// server transpiles this file). Only type imports, so the page gets no import to resolve.
import type * as Striate from "../../src/index.js";

export type StriateApi = typeof Striate;

export interface TrainResult {
  losses: number[];
  /** Every parameter after the last step, by name. */
  params: Record<string, number[]>;
}

export const TRAIN_STEPS = 4;

/**
 * conv(3→16, 3×3, pad 1)-ReLU-maxpool(2)-linear(1024→10) on a batch of 32 random 16×16 images. The conv
 * is big enough (32·16·256·27 ≈ 3.5M multiply-adds) to be split across threads (PARALLEL_THRESHOLD).
 */
export function trainCnn(S: StriateApi, seed = 7, steps = TRAIN_STEPS): TrainResult {
  S.manualSeed(seed);
  const model = new S.nn.Sequential(
    new S.nn.Conv2d(3, 16, 3, { padding: 1 }),
    new S.nn.ReLU(),
    new S.nn.MaxPool2d(2),
    new S.nn.Flatten(),
    new S.nn.Linear(16 * 8 * 8, 10),
  );
  const rng = new S.Rng(seed + 1);
  const x = S.randn([32, 3, 16, 16], { rng });
  const y = S.randint(0, 10, [32], { rng });
  const opt = new S.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = S.scope(() => {
      const l = S.F.crossEntropy(model.forward(x), y);
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l.item();
    });
    losses.push(loss);
  }
  const params: Record<string, number[]> = {};
  for (const [name, p] of model.namedParameters())
    params[name] = Array.from(p.toArray() as ArrayLike<number>);
  return { losses, params };
}

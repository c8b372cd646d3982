// Small models shared by the attribution tests: a seeded conv net (conv relu pool conv relu pool linear,
// 3 channels so channel reductions matter) and a linear model whose gradients are its weights.

import { F, manualSeed, nn, tensor, type Tensor } from "../../src/index.js";

/** A conv net on [N, 3, 8, 8] with 4 classes; `functionalRelu` uses F.relu instead of nn.ReLU modules. */
export class SmallConvNet extends nn.Module {
  features: nn.Sequential;
  classifier: nn.Linear;
  constructor(
    readonly functionalRelu = false,
    seed = 7,
  ) {
    super();
    manualSeed(seed);
    const act = () => (functionalRelu ? new nn.Identity() : new nn.ReLU());
    this.features = new nn.Sequential(
      new nn.Conv2d(3, 5, 3, { padding: 1 }),
      act(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(5, 6, 3, { padding: 1 }),
      act(),
      new nn.MaxPool2d(2),
    );
    this.classifier = new nn.Linear(24, 4);
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.features) {
      h = (layer as unknown as { forward(t: Tensor): Tensor }).forward(h);
      if (this.functionalRelu && layer instanceof nn.Conv2d) h = F.relu(h);
    }
    return this.classifier.forward(F.flatten(h, 1));
  }
}

/** A seeded batch [n, 3, 8, 8] in [0, 1) (a small LCG, so it does not depend on the global generator). */
export function imageBatch(n: number, seed = 3): Tensor {
  let state = seed >>> 0;
  const data = Array.from({ length: n * 3 * 64 }, () => {
    state = (1664525 * state + 1013904223) >>> 0;
    return state / 2 ** 32;
  });
  return tensor(data, [n, 3, 8, 8]);
}

/** The values of a tensor as a plain array. */
export const values = (t: Tensor): number[] => Array.from(t.toArray());

/** Largest |a - b| over two tensors of the same shape. */
export function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.toArray();
  const y = b.toArray();
  if (x.length !== y.length) throw new Error(`maxDiff: ${x.length} vs ${y.length} values`);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

// Maxout networks on permutation-invariant MNIST (Goodfellow et al. 2013; docs/experiments.md): two maxout
// layers of 240 units with 5 pieces each, dropout 0.2 on the input and 0.5 on the hidden layers, softmax
// on top. Run: node --import tsx scripts/experiments/maxout.ts [--epochs 10] [--seed 0]

import { parseArgs } from "node:util";
import { F, Rng, manualSeed, nn, noGrad, optim, scope, tensor } from "../../src/index-node.js";
import { loadMnist } from "../../src/node/data/index.js";

const { values } = parseArgs({
  options: { epochs: { type: "string", default: "10" }, seed: { type: "string", default: "0" } },
});
const [epochs, seed] = [Number(values.epochs), Number(values.seed)];
manualSeed(seed);

const maxoutLayer = (inFeatures: number) => [
  new nn.Linear(inFeatures, 240 * 5),
  new nn.Maxout(5),
  new nn.Dropout(0.5),
];
const model = new nn.Sequential(
  new nn.Dropout(0.2),
  ...maxoutLayer(784),
  ...maxoutLayer(240),
  new nn.Linear(240, 10),
);
console.log(`maxout MLP: ${model.numParameters().toLocaleString("en-US")} parameters`);

const [trainSet, testSet] = await Promise.all([loadMnist({ split: "train" }), loadMnist({ split: "test" })]);
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
const scheduler = new optim.CosineAnnealingLR(optimizer, { tMax: epochs });
const rng = new Rng(seed);
const t0 = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  const order = rng.permutation(60000);
  for (let i = 0; i < 60000; i += 128) {
    const rows = order.subarray(i, i + 128);
    const x = new Float32Array(rows.length * 784);
    rows.forEach((r, k) => x.set(trainSet.images.subarray(r * 784, (r + 1) * 784), k * 784));
    const y = Int32Array.from(rows, (r) => trainSet.labels[r]);
    scope(() => {
      const loss = F.crossEntropy(
        model.forward(tensor(x, [rows.length, 784])),
        tensor(y, [rows.length], { dtype: "int32" }),
      );
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    });
  }
  scheduler.step();
  model.eval();
  let correct = 0;
  for (let i = 0; i < 10000; i += 1000) {
    const predicted = scope(() =>
      noGrad(() =>
        F.argmax(
          model.forward(tensor(testSet.images.subarray(i * 784, (i + 1000) * 784), [1000, 784])),
          1,
        ).toArray(),
      ),
    );
    predicted.forEach((p, k) => (correct += p === testSet.labels[i + k] ? 1 : 0));
  }
  console.log(
    `epoch ${epoch}: test accuracy ${(correct / 100).toFixed(2)}% (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
}

// HMAX on the full MNIST (docs/experiments.md): imprint S2 prototypes from training digits, compute C2
// features of all 70,000 digits, train the linear classifier on top, report test accuracy.
// Run: node --import tsx scripts/experiments/hmax.ts [--prototypes 250] [--epochs 30] [--seed 0]

import { parseArgs } from "node:util";
import { F, Rng, manualSeed, noGrad, optim, scope, tensor, type Tensor } from "../../src/index-node.js";
import { HMAX } from "../../src/models/index.js";
import { loadMnist } from "../../src/node/data/index.js";
import type { TensorDataset } from "../../src/data/dataset.js";

const { values } = parseArgs({
  options: {
    prototypes: { type: "string", default: "250" },
    epochs: { type: "string", default: "30" },
    seed: { type: "string", default: "0" },
  },
});
const seed = Number(values.seed);
manualSeed(seed);

const images = (ds: TensorDataset) => tensor(ds.images, [ds.labels.length, 1, 28, 28]);
const labels = (ds: TensorDataset) => tensor(ds.labels, [ds.labels.length], { dtype: "int32" });

function c2Features(model: HMAX, x: Tensor): Tensor {
  const chunks: Tensor[] = [];
  for (let i = 0; i < x.shape[0]; i += 200)
    chunks.push(scope(() => noGrad(() => model.features(x.slice(0, i, i + 200)))));
  return F.concat(chunks, 0);
}

function accuracy(model: HMAX, features: Tensor, y: Tensor): number {
  const predicted = noGrad(() => F.argmax(model.classifier.forward(features) as Tensor, 1).toArray());
  const truth = y.toArray();
  return predicted.filter((p, i) => p === truth[i]).length / truth.length;
}

const t0 = performance.now();
const [train, test] = await Promise.all([loadMnist({ split: "train" }), loadMnist({ split: "test" })]);
const model = new HMAX({ numClasses: 10, prototypesPerSize: Number(values.prototypes) });
model.samplePrototypes(images(train).slice(0, 0, 1000), seed);
const [fTrain, fTest] = [c2Features(model, images(train)), c2Features(model, images(test))];
const yTrain = labels(train);
console.log(`C2 features of 70,000 digits: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const opt = new optim.Adam(model.parameters(), { lr: 0.003 });
const rows = fTrain.toArray();
const width = fTrain.shape[1];
const targets = yTrain.toArray();
const rng = new Rng(seed);
for (let epoch = 1; epoch <= Number(values.epochs); epoch++) {
  model.train();
  const order = rng.permutation(targets.length);
  for (let i = 0; i < order.length; i += 128) {
    const batch = order.subarray(i, i + 128);
    const x = new Float32Array(batch.length * width);
    batch.forEach((row, k) => x.set(rows.subarray(row * width, (row + 1) * width), k * width));
    const y = Int32Array.from(batch, (row) => targets[row]);
    scope(() => {
      const logits = model.classifier.forward(tensor(x, [batch.length, width])) as Tensor;
      const loss = F.crossEntropy(logits, tensor(y, [batch.length], { dtype: "int32" }));
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  }
  model.eval();
  if (epoch % 5 === 0 || epoch === Number(values.epochs)) {
    const [trainAcc, testAcc] = [accuracy(model, fTrain, yTrain), accuracy(model, fTest, labels(test))];
    console.log(`epoch ${epoch}: train ${(100 * trainAcc).toFixed(2)}%, test ${(100 * testAcc).toFixed(2)}%`);
  }
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// Greedy layer-wise pre-training on MNIST (docs/experiments.md): a deep tanh MLP fine-tuned with plain SGD
// from autoencoder-pretrained layers against the same net from random weights.
// Run: node --import tsx scripts/experiments/layerwise.ts [--train 10000] [--width 256] [--depth 4] [--epochs 3]

import { parseArgs } from "node:util";
import { F, manualSeed, nn, noGrad, optim, tensor, type Tensor } from "../../src/index-node.js";
import { pretrainLayerwise } from "../../src/train/pretrain.js";
import { loadMnist } from "../../src/node/data/index.js";

const { values } = parseArgs({
  options: {
    train: { type: "string", default: "10000" },
    width: { type: "string", default: "256" },
    depth: { type: "string", default: "4" },
    epochs: { type: "string", default: "3" },
    pretrainEpochs: { type: "string", default: "5" },
  },
});
const [n, width, depth, epochs, pretrainEpochs] = [
  values.train,
  values.width,
  values.depth,
  values.epochs,
  values.pretrainEpochs,
].map(Number);

const [trainSet, testSet] = await Promise.all([loadMnist({ split: "train" }), loadMnist({ split: "test" })]);
const x = tensor(trainSet.images.slice(0, n * 784), [n, 784]);
const y = tensor(trainSet.labels.slice(0, n), [n], { dtype: "int32" });
const xTest = tensor(testSet.images, [10000, 784]);

const encoders = () =>
  Array.from(
    { length: depth },
    (_, i) => new nn.Sequential(new nn.Linear(i === 0 ? 784 : width, width), new nn.Tanh()),
  );

function fineTune(layers: nn.TensorModule[]): number[] {
  const net = new nn.Sequential(...layers, new nn.Linear(width, 10));
  const optimizer = new optim.SGD(net.parameters(), { lr: 0.05 });
  const accuracies: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < n; i += 64) {
      const loss = F.crossEntropy(net.forward(x.slice(0, i, i + 64)), y.slice(0, i, i + 64));
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    }
    const predicted = noGrad(() => F.argmax(net.forward(xTest) as Tensor, 1).toArray());
    accuracies.push(predicted.filter((p, i) => p === testSet.labels[i]).length / 10000);
  }
  return accuracies;
}

const pct = (v: number[]) => v.map((a) => `${(100 * a).toFixed(2)}%`).join(" ");
manualSeed(0);
console.log(`${depth} tanh layers of ${width}, ${n} training digits, SGD lr 0.05, test accuracy per epoch:`);
console.log(`random weights: ${pct(fineTune(encoders()))}`);
manualSeed(0);
const layers = encoders();
const t0 = performance.now();
const report = pretrainLayerwise(layers, x, { epochs: pretrainEpochs });
console.log(
  `pre-training ${((performance.now() - t0) / 1000).toFixed(0)} s, reconstruction MSE per layer ${report.reconstructionLoss.map((l) => l.toExponential(2)).join(", ")}`,
);
console.log(`pretrained:     ${pct(fineTune(layers))}`);

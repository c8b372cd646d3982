// Transfer learning on MNIST (docs/experiments.md): LeNet-5 trained on digits 0-4 becomes the starting
// point for digits 5-9 with few labels. Linear probe, fine-tuning the top 2 blocks, and fine-tuning
// everything, against the same net trained from scratch on the same labels; no download needed.
// Run: node --import tsx scripts/experiments/transfer.ts [--labels 100] [--epochs 30] [--seed 0]

import { parseArgs } from "node:util";
import { F, manualSeed, noGrad, optim, tensor, type Tensor } from "../../src/index-node.js";
import { call, getModel } from "../../src/models/index.js";
import { prepareFinetune, type FinetuneStrategy } from "../../src/train/finetune.js";
import type { Module, Parameter } from "../../src/nn/index.js";
import type { ParamGroupInput } from "../../src/optim/optimizer.js";
import { loadMnist } from "../../src/node/data/index.js";
import { selectClasses, type TensorDataset } from "../../src/data/dataset.js";

const { values } = parseArgs({
  options: {
    labels: { type: "string", default: "100" },
    epochs: { type: "string", default: "30" },
    seed: { type: "string", default: "0" },
  },
});
const [perClass, epochs, seed] = [values.labels, values.epochs, values.seed].map(Number);

/** The digits of `classes` relabelled 0.., at most `perClass` of each, as tensors. */
function digits(ds: TensorDataset, classes: number[], perClass?: number): [Tensor, Tensor] {
  const picked = selectClasses(ds, classes, { perClass });
  const n = picked.labels.length;
  return [tensor(picked.images, [n, 1, 28, 28]), tensor(picked.labels, [n], { dtype: "int32" })];
}

function train(
  model: Module,
  params: ParamGroupInput[] | Parameter[],
  x: Tensor,
  y: Tensor,
  passes: number,
): void {
  const opt = new optim.Adam(params, { lr: 1e-3 });
  model.train();
  for (let pass = 0; pass < passes; pass++)
    for (let i = 0; i < x.shape[0]; i += 50) {
      const loss = F.crossEntropy(call(model, x.slice(0, i, i + 50)), y.slice(0, i, i + 50));
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
}

function accuracy(model: Module, x: Tensor, y: Tensor): number {
  model.eval();
  const truth = y.toArray();
  let correct = 0;
  for (let i = 0; i < x.shape[0]; i += 500) {
    const predicted = noGrad(() => F.argmax(call(model, x.slice(0, i, i + 500)), 1).toArray());
    predicted.forEach((p, k) => (correct += p === truth[i + k] ? 1 : 0));
  }
  return correct / truth.length;
}

manualSeed(seed);
const [trainSet, testSet] = await Promise.all([loadMnist({ split: "train" }), loadMnist({ split: "test" })]);
const source = digits(trainSet, [0, 1, 2, 3, 4]);
const few = digits(trainSet, [5, 6, 7, 8, 9], perClass);
const target = digits(testSet, [5, 6, 7, 8, 9]);
const pretrained = getModel("lenet5", { numClasses: 5 });
train(pretrained, pretrained.parameters(), ...source, 2);
const state = pretrained.stateDict();
console.log(
  `source: LeNet-5 on ${source[1].shape[0]} digits 0-4, test accuracy ${(100 * accuracy(pretrained, ...digits(testSet, [0, 1, 2, 3, 4]))).toFixed(2)}%`,
);
console.log(
  `target: digits 5-9, ${few[1].shape[0]} labels, ${target[1].shape[0]} test digits, ${epochs} passes`,
);

const runs: [string, FinetuneStrategy | "scratch", number][] = [
  ["linear probe (head only, lr 1e-2)", "linear-probe", 1e-2],
  ["fine-tune top 2 blocks + head (lr 3e-3)", "top-k", 3e-3],
  ["fine-tune everything (lr 1e-3)", "full", 1e-3],
  ["from scratch (lr 1e-3)", "scratch", 1e-3],
];
for (const [label, strategy, lr] of runs) {
  manualSeed(seed + 1);
  const model = getModel("lenet5", { numClasses: 5 });
  if (strategy === "scratch") train(model, model.parameters(), ...few, epochs);
  else {
    model.loadStateDict(state);
    const setup = prepareFinetune(model, { numClasses: 5, strategy, topK: 2, lr, backboneLrScale: 1 });
    train(model, setup.paramGroups, ...few, epochs);
  }
  console.log(`${label}: ${(100 * accuracy(model, ...target)).toFixed(2)}%`);
}

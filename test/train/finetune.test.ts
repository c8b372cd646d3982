// Transfer learning: head replacement (setSubmodule), freezing by strategy with batch norms kept in eval
// mode, parameter groups, penultimate features; and the notes' experiment in small: a LeNet trained on
// MNIST digits 0-4 transfers to 5-9 from 100 labels better than the same net trained from scratch on them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, manualSeed, nn, noGrad, optim, tensor, type Tensor } from "../../src/index-node.js";
import { call, getModel } from "../../src/models/index.js";
import { extractFeatures, parameterBlocks, prepareFinetune } from "../../src/train/finetune.js";
import { loadMnist } from "../../src/node/data/index.js";
import { selectClasses, type TensorDataset } from "../../src/data/dataset.js";

const small = { numClasses: 10, backend: "meta" };

test("setSubmodule replaces a child by its dotted name in properties, Sequentials and named sequentials", () => {
  const resnet = getModel("resnet18", small);
  resnet.setSubmodule("fc", new nn.Linear(512, 3));
  assert.deepEqual(resnet.stateDict().get("fc.weight")!.shape, [3, 512]);
  const vgg = getModel("vgg11", { ...small, backend: "meta" });
  const head = new nn.Linear(4096, 7, { backend: "meta" });
  vgg.setSubmodule("classifier.6", head);
  assert.equal(vgg.getSubmodule("classifier.6"), head);
  assert.deepEqual(
    call(vgg, tensor(new Float32Array(3 * 224 * 224), [1, 3, 224, 224], { backend: "meta" })).shape,
    [1, 7],
  );
  const dense = getModel("densenet121", { ...small, backend: "meta" });
  const relu = new nn.ReLU();
  dense.setSubmodule("features.relu0", relu);
  assert.equal(dense.getSubmodule("features.relu0"), relu);
  assert.throws(
    () => resnet.setSubmodule("layer9.fc", new nn.ReLU()),
    /no submodule 'layer9.fc' \('layer9' is not a child of ResNet; children: conv1, bn1/,
  );
});

test("prepareFinetune freezes by strategy, keeps frozen batch norms in eval mode and groups learning rates", () => {
  const model = getModel("resnet18", small);
  const probe = prepareFinetune(model, { numClasses: 4, strategy: "linear-probe", lr: 0.01 });
  assert.equal(probe.headName, "fc");
  assert.deepEqual(
    model.parameters().filter((p) => p.requiresGrad),
    probe.head.parameters(),
  );
  assert.equal(probe.paramGroups.length, 1);
  model.train();
  const bn = model.getSubmodule("layer1.0.bn1");
  assert.equal(bn.training, false, "a frozen block's batch norm must stay in eval mode");

  const topTwo = prepareFinetune(getModel("resnet18", small), {
    numClasses: 4,
    strategy: "top-k",
    topK: 2,
    lr: 0.01,
  });
  assert.deepEqual(
    topTwo.blocks.filter((b) => b.trainable).map((b) => b.name),
    ["layer4.0", "layer4.1", "fc"],
  );
  const full = prepareFinetune(getModel("resnet18", small), { numClasses: 4, strategy: "full", lr: 0.01 });
  assert.deepEqual(
    full.paramGroups.map((g) => g.lr),
    [0.01, 0.001],
  );
  assert.ok(full.blocks.every((b) => b.trainable));
  assert.deepEqual(parameterBlocks(getModel("lenet5", small)).map(([n]) => n).length, 5);
});

test("prepareFinetune and extractFeatures reject bad options clearly", () => {
  const model = getModel("lenet5", small);
  assert.throws(
    () => prepareFinetune(model, { numClasses: 0, strategy: "full" }),
    /numClasses must be a positive integer/,
  );
  assert.throws(
    () => prepareFinetune(model, { numClasses: 2, strategy: "some" as "full" }),
    /strategy must be/,
  );
  assert.throws(
    () => prepareFinetune(model, { numClasses: 2, strategy: "full", head: "nope" }),
    /no submodule 'nope'/,
  );
  assert.throws(
    () => prepareFinetune(new nn.Sequential(new nn.ReLU()), { numClasses: 2, strategy: "full" }),
    /has no Linear layer/,
  );
});

/** MNIST digits of the given classes, relabelled 0.., the first `perClass` of each, as tensors. */
function digits(ds: TensorDataset, classes: number[], perClass: number): [Tensor, Tensor] {
  const picked = selectClasses(ds, classes, { perClass });
  const n = picked.labels.length;
  return [tensor(picked.images, [n, 1, 28, 28]), tensor(picked.labels, [n], { dtype: "int32" })];
}

function train(
  model: nn.Module,
  params: optim.ParamGroupInput[] | nn.Parameter[],
  x: Tensor,
  y: Tensor,
  epochs: number,
): void {
  const opt = new optim.Adam(params, { lr: 1e-3 });
  model.train();
  for (let epoch = 0; epoch < epochs; epoch++)
    for (let i = 0; i < x.shape[0]; i += 50) {
      const loss = F.crossEntropy(call(model, x.slice(0, i, i + 50)), y.slice(0, i, i + 50));
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
}

function accuracy(model: nn.Module, x: Tensor, y: Tensor): number {
  model.eval();
  const predicted = noGrad(() => F.argmax(call(model, x), 1).toArray());
  const truth = y.toArray();
  return predicted.filter((p, i) => p === truth[i]).length / truth.length;
}

test("transfer from digits 0-4 beats training from scratch on 100 labels of 5-9", async (t) => {
  manualSeed(0);
  const [trainSet, testSet] = await Promise.all([
    loadMnist({ split: "train" }),
    loadMnist({ split: "test" }),
  ]);
  const [xSource, ySource] = digits(trainSet, [0, 1, 2, 3, 4], 1000);
  const [xFew, yFew] = digits(trainSet, [5, 6, 7, 8, 9], 20);
  const [xTest, yTest] = digits(testSet, [5, 6, 7, 8, 9], 200);
  const pretrained = getModel("lenet5", { numClasses: 5 });
  train(pretrained, pretrained.parameters(), xSource, ySource, 2);
  const state = pretrained.stateDict();

  const transferred = (strategy: "linear-probe" | "top-k" | "full", lr: number) => {
    manualSeed(1);
    const model = getModel("lenet5", { numClasses: 5 });
    model.loadStateDict(state);
    const setup = prepareFinetune(model, { numClasses: 5, strategy, topK: 2, lr, backboneLrScale: 1 });
    train(model, setup.paramGroups, xFew, yFew, 30);
    return model;
  };
  const [probe, topTwo, full] = [
    transferred("linear-probe", 1e-2),
    transferred("top-k", 3e-3),
    transferred("full", 1e-3),
  ];
  assert.deepEqual(extractFeatures(probe, xFew).shape, [100, 84]);
  manualSeed(1);
  const scratch = getModel("lenet5", { numClasses: 5 });
  train(scratch, scratch.parameters(), xFew, yFew, 30);

  const [probeAcc, topTwoAcc, fullAcc, scratchAcc] = [probe, topTwo, full, scratch].map((m) =>
    accuracy(m, xTest, yTest),
  );
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  t.diagnostic(
    `digits 5-9 from 100 labels: linear probe ${pct(probeAcc)}, top-2 ${pct(topTwoAcc)}, full ${pct(fullAcc)}, scratch ${pct(scratchAcc)}`,
  );
  // Measured 2026-12-03: probe 59.8%, top-2 78.1%, full 79.4%, scratch 71.8%. The probe of LeNet's
  // 84 features learned for 0-4 is too specialised; retraining the fully connected layers is what pays.
  assert.ok(topTwoAcc > scratchAcc + 0.03, `top-2 fine-tune ${topTwoAcc} vs scratch ${scratchAcc}`);
  assert.ok(fullAcc > scratchAcc + 0.03, `full fine-tune ${fullAcc} vs scratch ${scratchAcc}`);
});

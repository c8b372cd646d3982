// Layer constructors and optimizers reject option keys they do not know (a typo, a PyTorch keyword such as
// Adam's `beta1`, or JSON config passed through a cast), naming the class, the key and the valid keys,
// instead of ignoring them silently. TypeScript already types these options; this is for JS callers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, optim } from "../../src/index.js";

/** Calls `make` with options the types do not allow, as a JS caller or a JSON config would. */
function loose<T>(make: (options: never) => T, options: Record<string, unknown>): () => T {
  return () => make(options as never);
}

test("layer constructors name the class, the unknown key and the valid keys", () => {
  const cases: [() => unknown, RegExp][] = [
    [
      loose((o) => new nn.Conv2d(1, 6, 5, o), { pad: 2 }),
      /Conv2d: unknown option 'pad'; did you mean 'padding'\? \(valid options: stride, padding, dilation, groups, bias, paddingMode, dtype, backend\)$/,
    ],
    [
      loose((o) => new nn.Linear(4, 2, o), { biases: false }),
      /Linear: unknown option 'biases'; did you mean 'bias'\?/,
    ],
    [
      loose((o) => new nn.BatchNorm2d(4, o), { epsilon: 1e-3 }),
      /BatchNorm2d: unknown option 'epsilon'.*valid options: eps, momentum/,
    ],
    [
      loose((o) => new nn.MaxPool2d(2, o), { ceil_mode: true }),
      /MaxPool2d: unknown option 'ceil_mode'; did you mean 'ceilMode'\?/,
    ],
    [
      loose((o) => new nn.Dropout(0.5, o), { inplace: true }),
      /Dropout: unknown option 'inplace' \(valid options: rng, scaleAtTest\)$/,
    ],
    [
      loose((o) => new nn.CrossEntropyLoss(o), { label_smoothing: 0.1 }),
      /CrossEntropyLoss: unknown option 'label_smoothing'.*valid options: reduction, labelSmoothing, weight, ignoreIndex/,
    ],
    [
      loose((o) => new nn.MSELoss(o), { reduce: "sum" }),
      /MSELoss: unknown option 'reduce'; did you mean 'reduction'\?/,
    ],
    [
      loose((o) => new nn.GlobalMaxPool2d(o), { keepdim: true }),
      /GlobalMaxPool2d: unknown option 'keepdim' \(valid options: flatten\)$/,
    ],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
});

test("optimizers reject unknown hyperparameters, in the options and in parameter groups", () => {
  const params = new nn.Linear(2, 1).parameters();
  assert.throws(
    loose((o) => new optim.Adam(params, o), { beta1: 0.8 }),
    /Adam: unknown option 'beta1'; did you mean 'betas'\? \(valid options: lr, betas, eps, weightDecay, amsgrad, maximize\)$/,
  );
  assert.throws(
    loose((o) => new optim.SGD(params, o), { learningRate: 0.1 }),
    /SGD: unknown option 'learningRate'.*valid options: lr,/,
    "the typo is named before the lr it left missing",
  );
  assert.throws(
    () => new optim.SGD([{ params, lr: 0.1, moment: 0.9 } as never], { lr: 0.1 }),
    /SGD.*unknown option 'moment'; did you mean 'momentum'\?/,
  );
});

test("schedulers and AveragedModel reject unknown keys too", () => {
  const opt = new optim.SGD(new nn.Linear(2, 1).parameters(), { lr: 0.1 });
  assert.throws(
    loose((o) => new optim.StepLR(opt, o), { stepSize: 2, step_size: 2 }),
    /StepLR: unknown option 'step_size'; did you mean 'stepSize'\?/,
  );
  assert.throws(
    loose((o) => new optim.OneCycleLR(opt, o), { maxLr: 1, totalSteps: 10, pct_start: 0.3 }),
    /OneCycleLR: unknown option 'pct_start'; did you mean 'pctStart'\?/,
  );
  assert.throws(
    loose((o) => new optim.ReduceLROnPlateau(opt, o), { min_lr: 0 }),
    /ReduceLROnPlateau: unknown option 'min_lr'; did you mean 'minLr'\?/,
  );
  assert.throws(
    loose((o) => new optim.AveragedModel(new nn.Linear(2, 1), o), { decay: 0.9 }),
    /AveragedModel: unknown option 'decay' \(valid options: avgFn, useBuffers, copy\)/,
  );
  assert.equal(
    new optim.CosineAnnealingLR(opt, { tMax: 10, etaMin: 0 }).constructor.name,
    "CosineAnnealingLR",
  );
});

test("the options they document still pass, and undefined values are ignored", () => {
  const conv = new nn.Conv2d(1, 2, 3, {
    padding: "same",
    bias: false,
    paddingMode: "reflect",
    stride: undefined,
  });
  assert.equal(conv.bias, null);
  const params = new nn.Linear(2, 1).parameters();
  for (const make of [
    () => new optim.Adam(params, { lr: 1e-3, betas: [0.8, 0.99], amsgrad: true }),
    () => new optim.AdamW(params, { weightDecay: 0.05 }),
    () => new optim.SGD([{ params, momentum: 0.9 }], { lr: 0.1, nesterov: true }),
    () => new optim.RMSprop(params, { alpha: 0.9 }),
    () => new optim.Adagrad(params, { lrDecay: 0.01 }),
  ]) {
    assert.ok(make().paramGroups.length === 1);
  }
  assert.equal(new nn.CrossEntropyLoss({ labelSmoothing: 0.1, ignoreIndex: -1 }).labelSmoothing, 0.1);
  assert.equal(new nn.HuberLoss({ delta: 2 }).reduction, "mean");
});

// fit / evaluate / predict on real MNIST subsets: learning happens, modes are right, auxiliary heads are
// weighted, a NaN loss stops training before it touches the weights, the scheduler steps when asked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Adam, ReduceLROnPlateau, SGD, StepLR } from "../../src/optim/index.js";
import { Module } from "../../src/nn/module.js";
import { Linear, Flatten } from "../../src/nn/linear.js";
import { crossEntropy } from "../../src/ops/losses.js";
import { noGrad } from "../../src/autograd/engine.js";
import { manualSeed } from "../../src/tensor/rng.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import {
  NonFiniteLossError,
  NonFiniteWeightsError,
  evaluate,
  fit,
  predict,
  type Batch,
} from "../../src/train/fit.js";
import { mnistLoader, smallCnn } from "./helpers.js";

test("fit on 512 real MNIST digits lowers the loss and clearly beats chance", async () => {
  manualSeed(1);
  const model = smallCnn();
  const train = await mnistLoader("train", 512, { shuffle: true, seed: 1, batchSize: 32 });
  const val = await mnistLoader("test", 512, { batchSize: 256 });
  const before = await evaluate(model, val);
  const history = await fit(model, {
    train,
    val,
    epochs: 2,
    optimizer: new Adam(model.parameters(), { lr: 0.01 }),
  });
  assert.equal(history.epochs.length, 2);
  assert.equal(history.stopReason, "completed");
  const [e1, e2] = history.epochs;
  assert.ok(e2.loss < e1.loss, `train loss ${e1.loss} -> ${e2.loss}`);
  assert.ok(e2.valLoss! < before.loss - 0.5, `val loss ${before.loss} -> ${e2.valLoss}`);
  assert.ok(e2.valAccuracy! > 0.6, `val accuracy ${e2.valAccuracy} (chance 0.1)`);
  assert.ok(e2.imagesPerSec > 0 && e2.timeSec > 0 && e2.lr === 0.01);
  const after = await evaluate(model, val, { confusionMatrix: true });
  assert.equal(after.count, 512);
  assert.ok(Math.abs(after.accuracy - e2.valAccuracy!) < 1e-12);
  assert.equal(after.confusionMatrix!.total, 512);
  assert.ok(Math.abs(after.confusionMatrix!.accuracy() - after.accuracy) < 1e-12);
  assert.ok(after.top5! >= after.accuracy);
});

/** Records the mode it ran in and returns fixed logits. */
class ModeProbe extends Module {
  fc = new Linear(4, 3);
  modes: boolean[] = [];
  forward(x: Tensor): Tensor {
    this.modes.push(this.training);
    return this.fc.forward(new Flatten().forward(x));
  }
}

function toyBatches(n: number, poison?: number): Batch[] {
  return Array.from({ length: n }, (_, i) => ({
    x: tensor(
      Float32Array.from({ length: 8 }, (_, j) => (i === poison ? NaN : Math.sin(i + j))),
      [2, 1, 2, 2],
    ),
    y: tensor([i % 3, (i + 1) % 3], [2], { dtype: "int32" }),
  }));
}

test("train mode while training, eval mode for validation, evaluate and predict; mode restored", async () => {
  const model = new ModeProbe();
  await fit(model, {
    train: toyBatches(3),
    val: toyBatches(2),
    epochs: 1,
    optimizer: new SGD(model.parameters(), { lr: 0.1 }),
  });
  assert.deepEqual(model.modes, [true, true, true, false, false]);
  model.train();
  const probs = predict(model, toyBatches(1)[0].x);
  assert.equal(model.training, true);
  assert.deepEqual(probs.shape, [2, 3]);
  const rows = probs.toArray();
  assert.ok(Math.abs(rows[0] + rows[1] + rows[2] - 1) < 1e-6);
  assert.equal(probs.requiresGrad, false);
});

class AuxNet extends Module {
  main = new Linear(4, 3);
  aux1 = new Linear(4, 3);
  aux2 = new Linear(4, 3);
  forward(x: Tensor): Tensor | Record<string, Tensor> {
    const h = new Flatten().forward(x);
    const logits = this.main.forward(h);
    return this.training
      ? { logits, auxLogits1: this.aux1.forward(h), auxLogits2: this.aux2.forward(h) }
      : logits;
  }
}

test("auxiliary heads: total loss = main + 0.3·each (GoogLeNet), or custom weights", async () => {
  const batch = toyBatches(1);
  const model = new AuxNet();
  const [main, a1, a2] = noGrad(() => {
    const h = new Flatten().forward(batch[0].x);
    return [model.main, model.aux1, model.aux2].map((l) => crossEntropy(l.forward(h), batch[0].y).item());
  });
  const seen: number[] = [];
  const record = { onBatchEnd: (_c: unknown, logs: { loss: number }) => void seen.push(logs.loss) };
  await fit(model, {
    train: batch,
    epochs: 1,
    optimizer: new SGD(model.parameters(), { lr: 1e-9 }),
    callbacks: [record],
  });
  assert.ok(
    Math.abs(seen[0] - (main + 0.3 * a1 + 0.3 * a2)) < 1e-5,
    `${seen[0]} vs ${main + 0.3 * (a1 + a2)}`,
  );
  await fit(model, {
    train: batch,
    epochs: 1,
    optimizer: new SGD(model.parameters(), { lr: 1e-9 }),
    callbacks: [record],
    auxLossWeights: { auxLogits1: 1, auxLogits2: 0 },
  });
  assert.ok(Math.abs(seen[1] - (main + a1)) < 1e-4);
});

test("a NaN loss stops training with epoch, batch and lr, before the weights change", async () => {
  const model = new ModeProbe();
  const optimizer = new SGD(model.parameters(), { lr: 0.25 });
  const snapshot = new Map<string, Float32Array>();
  // Batch 3 of epoch 2 holds NaN images; remember the weights just before it.
  const cb = {
    onBatchEnd: (ctx: { epoch: number; batch: number }) => {
      if (ctx.epoch === 1 && ctx.batch === 2)
        for (const [k, t] of model.stateDict()) snapshot.set(k, t.toArray() as Float32Array);
    },
    onTrainEnd: () => void (ended = true),
  };
  let ended = false;
  const train = {
    *[Symbol.iterator]() {
      yield* toyBatches(4, epochCount++ === 1 ? 2 : undefined);
    },
  };
  let epochCount = 0;
  const error = await fit(model, { train, epochs: 3, optimizer, callbacks: [cb] }).then(
    () => assert.fail("fit should throw"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof NonFiniteLossError);
  assert.match(error.message, /loss is NaN at epoch 2, batch 3 \(lr 0\.25\)/);
  assert.equal(error.history.stopReason, "non-finite-loss");
  assert.equal(error.history.epochs.length, 1);
  assert.ok(ended, "onTrainEnd ran");
  for (const [k, t] of model.stateDict()) assert.deepEqual(t.toArray(), snapshot.get(k), k);
});

async function lrTrace(schedulerStep: "batch" | "epoch"): Promise<number[]> {
  const model = new ModeProbe();
  const optimizer = new SGD(model.parameters(), { lr: 1 });
  const lrs: number[] = [];
  await fit(model, {
    train: toyBatches(3),
    epochs: 2,
    optimizer,
    scheduler: new StepLR(optimizer, { stepSize: 1, gamma: 0.5 }),
    schedulerStep,
    callbacks: [{ onBatchEnd: (_c, logs) => void lrs.push(logs.lr) }],
  });
  return lrs;
}

test("scheduler steps per epoch or per batch", async () => {
  assert.deepEqual(await lrTrace("epoch"), [1, 1, 1, 0.5, 0.5, 0.5]);
  assert.deepEqual(await lrTrace("batch"), [1, 0.5, 0.25, 0.125, 0.0625, 0.03125]);
});

test("ReduceLROnPlateau is stepped with the monitored metric at each epoch end", async () => {
  const model = new ModeProbe();
  const optimizer = new SGD(model.parameters(), { lr: 1e-9 }); // the loss cannot improve meaningfully
  const history = await fit(model, {
    train: toyBatches(2),
    val: toyBatches(2),
    epochs: 4,
    optimizer,
    scheduler: new ReduceLROnPlateau(optimizer, { factor: 0.5, patience: 1, eps: 0 }),
  });
  // Epoch 1 sets the best val_loss; epochs 2 and 3 do not improve it, so the lr halves after epoch 3.
  assert.deepEqual(history.get("lr"), [1e-9, 1e-9, 1e-9, 5e-10]);
});

test("a finite loss whose step overflows the weights (SGD lr 1e300) stops fit, names the parameter and restores the weights", async () => {
  manualSeed(2);
  const model = smallCnn();
  const initial = new Map([...model.stateDict()].map(([k, t]) => [k, t.toArray()]));
  const train = await mnistLoader("train", 64, { batchSize: 64 });
  const error = await fit(model, {
    train,
    epochs: 2,
    optimizer: new SGD(model.parameters(), { lr: 1e300 }),
  }).then(
    () => assert.fail("fit should throw"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof NonFiniteWeightsError);
  assert.equal(error.tensorName, "0.weight");
  assert.match(
    error.message,
    /parameter '0\.weight' is -?(NaN|Infinity) \(first at index \d+\) after the step at epoch 1, batch 1 \(lr 1e\+300\) although the loss was finite/,
  );
  assert.equal(error.history.stopReason, "non-finite-weights");
  // The weights are those before the step that broke them, not NaN.
  for (const [k, t] of model.stateDict()) assert.deepEqual(t.toArray(), initial.get(k), k);
});

test("a NaN prediction is never counted correct, so val_acc cannot be 100% with val_loss NaN", async () => {
  const logits = tensor([Number.NaN, 0, 0, 1, 0, 0, Number.NaN, Number.NaN, Number.NaN], [3, 3]);
  const labels = tensor([0, 0, 2], [3], { dtype: "int32" });
  const batches: Batch[] = [{ x: tensor([1, 2, 3], [3, 1]), y: labels }];
  class Fixed extends Module {
    forward(): Tensor {
      return logits;
    }
  }
  const result = await evaluate(new Fixed(), batches);
  assert.ok(Number.isNaN(result.loss));
  // Row 0 is NaN where the label is; row 2 is all NaN; only row 1 (argmax 0, label 0) is correct.
  assert.equal(result.accuracy, 1 / 3);
});

// EarlyStopping (patience, minDelta, best-weight restore) unit by unit and inside fit(), and stopping from
// a callback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SGD } from "../../src/optim/index.js";
import { Linear } from "../../src/nn/linear.js";
import { noGrad } from "../../src/autograd/engine.js";
import { full, randn, tensor } from "../../src/tensor/tensor.js";
import { EarlyStopping, snapshotState, type TrainContext } from "../../src/train/callbacks.js";
import { History, type EpochLogs } from "../../src/train/history.js";
import { fit, type Batch } from "../../src/train/fit.js";

function fakeContext(model: Linear, history: History) {
  const ctx = {
    model,
    history,
    reason: "",
    stop(reason: string) {
      ctx.reason = reason;
    },
  };
  return ctx;
}

const logs = (epoch: number, valLoss: number): EpochLogs => ({
  epoch,
  loss: 1,
  accuracy: 0,
  valLoss,
  lr: 0.1,
  imagesPerSec: 1,
  timeSec: 1,
});

test("EarlyStopping waits `patience` epochs without improvement, then restores the best weights", () => {
  const model = new Linear(2, 1);
  const history = new History();
  const ctx = fakeContext(model, history);
  const es = new EarlyStopping({
    monitor: "val_loss",
    patience: 2,
    minDelta: 0.01,
    restoreBestWeights: true,
  });
  es.onTrainBegin();
  const losses = [1.0, 0.5, 0.495, 0.7];
  const weightsAt: number[][] = [];
  losses.forEach((v, i) => {
    noGrad(() => model.weight.assign(full([1, 2], i + 1)));
    weightsAt.push([...model.weight.toArray()]);
    history.epochs.push(logs(i + 1, v));
    es.onEpochEnd(ctx as unknown as TrainContext, logs(i + 1, v));
    // 0.495 is better than 0.5 but by less than minDelta: it counts as no improvement.
    assert.equal(ctx.reason === "", i < 3, `epoch ${i + 1}: ${ctx.reason}`);
  });
  assert.match(ctx.reason, /val_loss has not improved on 0\.50000 \(epoch 2\) for 2 epochs/);
  assert.equal(es.bestEpoch, 2);
  assert.equal(es.stoppedEpoch, 4);
  es.onTrainEnd(ctx as unknown as TrainContext);
  assert.deepEqual([...model.weight.toArray()], weightsAt[1]);
});

test("EarlyStopping on val_accuracy treats higher as better", () => {
  const model = new Linear(2, 1);
  const ctx = fakeContext(model, new History());
  const es = new EarlyStopping({ monitor: "val_accuracy", patience: 1 });
  es.onTrainBegin();
  for (const [i, acc] of [0.5, 0.6, 0.55].entries())
    es.onEpochEnd(ctx as unknown as TrainContext, { ...logs(i + 1, 1), valAccuracy: acc });
  assert.equal(es.best, 0.6);
  assert.equal(es.stoppedEpoch, 3);
});

test("EarlyStopping: a NaN or infinite metric is never an improvement nor the best epoch", () => {
  const model = new Linear(2, 1);
  const ctx = fakeContext(model, new History());
  const es = new EarlyStopping({ monitor: "val_loss", patience: 3 });
  es.onTrainBegin();
  for (const [i, loss] of [Number.NaN, 0.8, Number.NaN, Number.NEGATIVE_INFINITY].entries())
    es.onEpochEnd(ctx as unknown as TrainContext, logs(i + 1, loss));
  assert.equal(es.best, 0.8);
  assert.equal(es.bestEpoch, 2);
});

test("inside fit: stops after the val loss worsens and ends with the best epoch's weights", async () => {
  const model = new Linear(4, 3);
  const data: Batch[] = Array.from({ length: 4 }, (_, i) => ({
    x: randn([8, 4]),
    y: tensor(
      Array.from({ length: 8 }, (_, j) => (i + j) % 3),
      [8],
      { dtype: "int32" },
    ),
  }));
  let bestWeights: Map<string, Float32Array> | null = null;
  // From epoch 2 on, wreck the weights before training so that the val loss gets worse.
  const wreck = {
    onEpochBegin: (ctx: TrainContext) => {
      if (ctx.epoch >= 1) noGrad(() => model.weight.assign(full([3, 4], 10 * ctx.epoch).mul(randn([3, 4]))));
    },
    onEpochEnd: (ctx: TrainContext) => {
      if (ctx.epoch === 0)
        bestWeights = new Map([...snapshotState(model)].map(([k, t]) => [k, t.toArray() as Float32Array]));
    },
  };
  const es = new EarlyStopping({ patience: 1, restoreBestWeights: true });
  const history = await fit(model, {
    train: data,
    val: data,
    epochs: 10,
    optimizer: new SGD(model.parameters(), { lr: 1e-4 }),
    callbacks: [wreck, es],
  });
  assert.equal(history.epochs.length, 2);
  assert.equal(history.stopReason, "callback");
  assert.match(history.stopMessage, /EarlyStopping/);
  assert.ok(history.epochs[1].valLoss! > history.epochs[0].valLoss!);
  for (const [k, t] of model.stateDict()) assert.deepEqual(t.toArray(), bestWeights!.get(k), k);
});

test("a callback can stop training mid-epoch; the epoch is not recorded", async () => {
  const model = new Linear(4, 2);
  const data: Batch[] = Array.from({ length: 5 }, () => ({
    x: randn([2, 4]),
    y: tensor([0, 1], [2], { dtype: "int32" }),
  }));
  let steps = 0;
  const stopper = { onBatchEnd: (ctx: TrainContext) => void (++steps === 7 && ctx.stop("enough")) };
  const history = await fit(model, {
    train: data,
    epochs: 3,
    optimizer: new SGD(model.parameters(), { lr: 0.1 }),
    callbacks: [stopper],
  });
  assert.equal(steps, 7);
  assert.equal(history.epochs.length, 1);
  assert.equal(history.stopReason, "interrupted");
  assert.equal(history.stopMessage, "enough");
});

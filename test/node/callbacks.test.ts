// ModelCheckpoint keeps the best epoch (by the monitored metric) and the last one; CsvLogger and
// JsonlLogger write exactly the History fit() returns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SGD } from "../../src/optim/index.js";
import { manualSeed } from "../../src/tensor/rng.js";
import { fit } from "../../src/train/fit.js";
import { snapshotState, type TrainContext } from "../../src/train/callbacks.js";
import { loadCheckpoint, loadModel } from "../../src/node/checkpoint.js";
import { CsvLogger, JsonlLogger, ModelCheckpoint } from "../../src/node/callbacks.js";
import { mnistLoader } from "../train/helpers.js";
import { buildFromSpec, type ModelSpec } from "../../src/spec/spec.js";

const SPEC: ModelSpec = {
  input: [1, 28, 28],
  layers: [{ type: "maxpool2d", kernelSize: 4 }, { type: "flatten" }, { type: "linear", outFeatures: 10 }],
};

test("ModelCheckpoint writes last every epoch and best at the best val_loss; loggers mirror the history", async () => {
  manualSeed(2);
  const dir = mkdtempSync(join(tmpdir(), "striate-cb-"));
  const { model } = buildFromSpec(SPEC);
  const train = await mnistLoader("train", 256, { shuffle: true, seed: 3, batchSize: 32 });
  const val = await mnistLoader("test", 128);
  const weightsByEpoch: Map<string, Float32Array>[] = [];
  const capture = {
    onEpochEnd: () =>
      void weightsByEpoch.push(
        new Map([...snapshotState(model)].map(([k, t]) => [k, t.toArray() as Float32Array])),
      ),
  };
  // A large lr makes the val loss move up and down, so "best" is not simply the last epoch.
  const lrs = [0.5, 3, 0.05, 4];
  const shake = {
    onEpochBegin: (ctx: TrainContext) => void (ctx.optimizer.paramGroups[0].lr = lrs[ctx.epoch]),
  };
  const checkpoint = new ModelCheckpoint({
    dir,
    monitor: "val_loss",
    architecture: { kind: "spec", spec: SPEC },
  });
  const csv = join(dir, "history.csv");
  const jsonl = join(dir, "history.jsonl");
  const history = await fit(model, {
    train,
    val,
    epochs: 4,
    optimizer: new SGD(model.parameters(), { lr: 0.5 }),
    callbacks: [shake, capture, checkpoint, new CsvLogger(csv), new JsonlLogger(jsonl)],
  });
  const valLosses = history.get("valLoss");
  const bestEpoch = valLosses.indexOf(Math.min(...valLosses)) + 1;
  const best = await loadModel(checkpoint.bestDir);
  assert.equal(best.config.epoch, bestEpoch);
  assert.equal(best.config.metrics?.val_loss, valLosses[bestEpoch - 1]);
  for (const [k, t] of best.model.stateDict())
    assert.deepEqual(t.toArray(), weightsByEpoch[bestEpoch - 1].get(k), k);
  const last = await loadCheckpoint(checkpoint.lastDir);
  assert.equal(last.config.epoch, 4);
  assert.equal(last.config.history.length, 4);
  for (const [k, t] of last.weights) assert.deepEqual(t.toArray(), weightsByEpoch[3].get(k), k);
  assert.ok(last.optimizerState !== undefined);

  const rows = readFileSync(csv, "utf8").trim().split("\n");
  assert.equal(rows[0], "epoch,loss,accuracy,val_loss,val_accuracy,val_top5,lr,images_per_sec,time_sec");
  assert.equal(rows.length, 5);
  rows.slice(1).forEach((row, i) => {
    const cells = row.split(",");
    const e = history.epochs[i];
    assert.equal(Number(cells[0]), e.epoch);
    assert.equal(Number(cells[1]), e.loss);
    assert.equal(Number(cells[3]), e.valLoss);
    assert.equal(Number(cells[4]), e.valAccuracy);
    // Ten classes: top-5 accuracy is recorded without being asked for, as evaluate() and the CLI report it.
    assert.ok(e.valTop5 !== undefined && e.valTop5 >= e.valAccuracy!, `valTop5 ${e.valTop5}`);
    assert.equal(Number(cells[5]), e.valTop5);
    assert.equal(Number(cells[6]), lrs[i]);
  });
  const lines = readFileSync(jsonl, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.slice(0, 4), history.epochs);
  assert.deepEqual(lines[4], { event: "trainEnd", stopReason: "completed", stopMessage: "" });
});

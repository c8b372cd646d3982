// What a checkpoint's files may hold (issue 9, defects 4 and 7): every config.json and optimizer.json value
// is checked when loading, errors name the file and the field; a damaged optimizer.json does not stop
// loadModel (inference needs only config and weights); non-finite weights are refused when saving; a NaN
// metric never makes a "best" checkpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Adam } from "../../src/optim/index.js";
import { buildBuiltin } from "../../src/spec/index.js";
import { full, randn, type Tensor } from "../../src/tensor/tensor.js";
import { manualSeed } from "../../src/tensor/rng.js";
import { predict } from "../../src/train/fit.js";
import { History } from "../../src/train/history.js";
import type { TrainContext } from "../../src/train/callbacks.js";
import { loadCheckpoint, loadModel, restoreCheckpoint, saveCheckpoint } from "../../src/node/checkpoint.js";
import { ModelCheckpoint } from "../../src/node/callbacks.js";
import { editJson, generationFile, reseal } from "./checkpoint-files.js";

const predictLogits = (model: unknown, x: Tensor): Tensor =>
  (model as { forward(x: Tensor): Tensor }).forward(x);

const architecture = { kind: "builtin", name: "convnetjs-mnist" } as const;

async function trainedCheckpoint(): Promise<{ dir: string; model: ReturnType<typeof buildBuiltin> }> {
  manualSeed(5);
  const dir = join(mkdtempSync(join(tmpdir(), "striate-format-")), "ckpt");
  const model = buildBuiltin("convnetjs-mnist");
  const optimizer = new Adam(model.parameters());
  predictLogits(model, randn([2, 1, 28, 28]))
    .sum()
    .backward();
  optimizer.step();
  await saveCheckpoint(dir, { model, optimizer, architecture, epoch: 2, globalStep: 10 });
  return { dir, model };
}

test("bad values in config.json and optimizer.json are errors naming the file and the field", async () => {
  const cases: [string, (v: Record<string, unknown>) => void, RegExp][] = [
    [
      "config.json",
      (c) => (c.globalStep = "raw:1e999"),
      /config\.json: field 'globalStep' must be a non-negative integer, found Infinity/,
    ],
    [
      "config.json",
      (c) => (c.batch = {}),
      /config\.json: field 'batch' must be a non-negative integer, found an object/,
    ],
    [
      "config.json",
      (c) => (c.epoch = -1),
      /config\.json: field 'epoch' must be a non-negative integer, found -1/,
    ],
    [
      "config.json",
      (c) => (c.history = [{ epoch: 1, loss: "low" }]),
      /config\.json: field 'history\[0\]\.loss' must be a number, found "low"/,
    ],
    ["config.json", (c) => (c.format = "keras"), /config\.json: field 'format' must be "striate-checkpoint"/],
    [
      "config.json",
      (c) => (c.inputShape = [1, 0, 28]),
      /config\.json: field 'inputShape' must be an array of positive integers/,
    ],
    [
      "config.json",
      (c) => (c.rng = { global: [1, 2] }),
      /config\.json: field 'rng\.global' must be 4 32-bit integer words/,
    ],
    [
      "config.json",
      (c) => (c.epoch = { $number: "1e5" }),
      /config\.json: field 'epoch' must be "NaN", "Infinity" or "-Infinity", found "1e5"/,
    ],
    [
      "optimizer.json",
      (o) => ((o.optimizer as { state: Record<string, Record<string, unknown>> }).state["0"].step = -1),
      /optimizer\.json: field 'optimizer\.state\.0\.step' must be a non-negative integer, found -1/,
    ],
    [
      "optimizer.json",
      (o) =>
        ((o.optimizer as { state: Record<string, Record<string, unknown>> }).state["1"].exp_avg = {
          $tensor: { shape: [3], dtype: "float32", base64: "AAAA" },
        }),
      /optimizer\.json: field 'optimizer\.state\.1\.exp_avg\.\$tensor\.base64' must be 12 bytes of float32 for shape \[3\], found 3 bytes/,
    ],
    [
      "optimizer.json",
      (o) => (o.optimizer = []),
      /optimizer\.json: field 'optimizer' must be an object, found an array of 0/,
    ],
  ];
  for (const [file, edit, expected] of cases) {
    const { dir } = await trainedCheckpoint();
    editJson(dir, file, edit);
    await assert.rejects(loadCheckpoint(dir), (e: Error) => {
      assert.equal(e.name, "CheckpointLoadError");
      assert.match(e.message, expected);
      assert.ok(e.message.includes(generationFile(dir, file)), e.message);
      return true;
    });
  }
});

test("an optimizer.json the optimizer rejects names the file; a damaged one does not stop loadModel", async () => {
  const { dir, model } = await trainedCheckpoint();
  editJson(dir, "optimizer.json", (o) => {
    (o.optimizer as { paramGroups: Record<string, unknown>[] }).paramGroups[0].lr = -5;
  });
  const fresh = buildBuiltin("convnetjs-mnist");
  await assert.rejects(
    restoreCheckpoint(dir, { model: fresh, optimizer: new Adam(fresh.parameters()) }),
    /restoreCheckpoint: .*optimizer\.json: Adam\.loadStateDict .*lr/,
  );
  // 10,000-deep nesting: a clean error, not a stack overflow; loadModel does not read the file at all.
  writeFileSync(generationFile(dir, "optimizer.json"), `${"[".repeat(10000)}${"]".repeat(10000)}`);
  reseal(dir);
  await assert.rejects(loadCheckpoint(dir), /optimizer\.json: JSON nested more than 64 levels deep/);
  writeFileSync(generationFile(dir, "optimizer.json"), "{ not json");
  const { model: loaded } = await loadModel(dir);
  const x = randn([2, 1, 28, 28]);
  assert.deepEqual(predict(loaded, x).toArray(), predict(model, x).toArray());
});

test("saving refuses NaN or infinite weights unless allowNonFinite", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "striate-format-")), "nan");
  const model = buildBuiltin("convnetjs-mnist");
  const state = model.stateDict();
  const name = [...state.keys()][2];
  model.loadStateDict(new Map([...state].map(([k, t]) => [k, k === name ? full(t.shape, Number.NaN) : t])));
  await assert.rejects(
    saveCheckpoint(dir, { model }),
    new RegExp(
      `saveCheckpoint: tensor '${name.replace(".", "\\.")}' holds NaN at index 0; refusing to save non-finite weights`,
    ),
  );
  await saveCheckpoint(dir, { model, allowNonFinite: true });
  assert.ok(Number.isNaN((await loadCheckpoint(dir)).weights.get(name)!.toArray()[0]));
});

test("a NaN or infinite val_loss never becomes the best checkpoint", async () => {
  const dir = mkdtempSync(join(tmpdir(), "striate-format-"));
  const model = buildBuiltin("convnetjs-mnist");
  const history = new History();
  const ctx = {
    model,
    optimizer: new Adam(model.parameters()),
    history,
    globalStep: 0,
  } as unknown as TrainContext;
  const cb = new ModelCheckpoint({ dir, architecture });
  await cb.onTrainBegin(ctx);
  const epoch = (n: number, valLoss: number) => ({
    epoch: n,
    loss: 1,
    accuracy: 0.5,
    valLoss,
    valAccuracy: 0.5,
    lr: 1,
    imagesPerSec: 1,
    timeSec: 1,
  });
  await cb.onEpochEnd(ctx, epoch(1, Number.NaN));
  await cb.onEpochEnd(ctx, epoch(2, Number.POSITIVE_INFINITY));
  assert.ok(Number.isNaN(cb.best));
  await cb.onEpochEnd(ctx, epoch(3, 0.7));
  await cb.onEpochEnd(ctx, epoch(4, Number.NaN));
  assert.equal(cb.best, 0.7);
  assert.equal((await loadCheckpoint(cb.bestDir)).config.epoch, 3);
});

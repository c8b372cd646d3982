// Model directories: save/load round trip (identical predictions), atomic saves under SIGKILL at the worst
// moments (a child process paused by the test hook), and resuming — at an epoch boundary and mid-epoch —
// giving exactly the losses and weights of an uninterrupted run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Adam, StepLR } from "../../src/optim/index.js";
import { DataLoader, randomTranslate } from "../../src/data/index.js";
import { manualSeed } from "../../src/tensor/rng.js";
import { randn } from "../../src/tensor/tensor.js";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import { buildFromSpec, type ModelSpec } from "../../src/spec/spec.js";
import { fit, predict } from "../../src/train/fit.js";
import type { TrainContext } from "../../src/train/callbacks.js";
import { loadCheckpoint, loadModel, restoreCheckpoint, saveCheckpoint } from "../../src/node/checkpoint.js";
import { ModelCheckpoint } from "../../src/node/callbacks.js";
import { mnistSubset } from "../train/helpers.js";
import { getModel } from "../../src/models/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = () => mkdtempSync(join(tmpdir(), "striate-ckpt-"));

const SPEC: ModelSpec = {
  input: [1, 28, 28],
  layers: [
    { type: "conv2d", outChannels: 6, kernelSize: 5, stride: 2, padding: 2 },
    { type: "relu" },
    { type: "maxpool2d", kernelSize: 2 },
    { type: "flatten" },
    { type: "dropout", p: 0.25 },
    { type: "linear", outFeatures: 10 },
  ],
};

test("save then load gives a model with identical predictions and the saved config", async () => {
  const dir = join(tmp(), "model");
  manualSeed(4);
  const { model } = buildFromSpec(SPEC);
  const optimizer = new Adam(model.parameters());
  await saveCheckpoint(dir, {
    model,
    optimizer,
    architecture: { kind: "spec", spec: SPEC },
    epoch: 3,
    classes: ["a"],
    hyperParameters: { lr: 1e-3 },
  });
  // One generation directory named by the pointer file (docs/reliability.md, "Checkpoints").
  const [generation] = readdirSync(dir).filter((n) => n.startsWith("gen-"));
  assert.deepEqual(readdirSync(dir).sort(), ["checkpoint.json", generation]);
  assert.deepEqual(readdirSync(join(dir, generation)).sort(), [
    "config.json",
    "model.safetensors",
    "optimizer.json",
  ]);
  const x = randn([4, 1, 28, 28]);
  const { model: loaded, config } = await loadModel(dir);
  assert.equal(config.epoch, 3);
  assert.deepEqual(config.hyperParameters, { lr: 1e-3 });
  assert.deepEqual(predict(loaded, x).toArray(), predict(model, x).toArray());
  // torch-style names in the safetensors file.
  const names = [
    ...decodeSafetensors(new Uint8Array(await readFile(join(dir, generation, "model.safetensors")))).keys(),
  ];
  assert.deepEqual(names, ["0.weight", "0.bias", "5.weight", "5.bias"]);
  await assert.rejects(loadCheckpoint(join(dir, "nope")), /not a checkpoint directory/);
});

// A child that saves checkpoint 1, writes its weights as a reference, then pauses inside save 2 at `stage`.
const CHILD = `
import { writeFileSync } from "node:fs";
import { buildBuiltin } from ${JSON.stringify(join(ROOT, "src/spec/index.ts"))};
import { saveCheckpoint } from ${JSON.stringify(join(ROOT, "src/node/checkpoint.ts"))};
import { encodeSafetensors } from ${JSON.stringify(join(ROOT, "src/io/safetensors.ts"))};
import { manualSeed } from ${JSON.stringify(join(ROOT, "src/tensor/rng.ts"))};
const [dir, ref, stage] = process.argv.slice(2);
manualSeed(1);
const first = buildBuiltin("convnetjs-mnist");
await saveCheckpoint(dir, { model: first, architecture: { kind: "builtin", name: "convnetjs-mnist" }, epoch: 1 });
writeFileSync(ref, encodeSafetensors(first.stateDict()));
const second = buildBuiltin("convnetjs-mnist");
process.env.STRIATE_CHECKPOINT_TEST_PAUSE = stage;
await saveCheckpoint(dir, { model: second, architecture: { kind: "builtin", name: "convnetjs-mnist" }, epoch: 2 });
`;

async function killDuringSave(stage: "weights" | "swap"): Promise<{ dir: string; ref: string }> {
  const work = tmp();
  const script = join(work, "child.mts");
  writeFileSync(script, CHILD);
  const dir = join(work, "ckpt");
  const ref = join(work, "ref.safetensors");
  const child = spawn(process.execPath, ["--import", "tsx", script, dir, ref, stage], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  await new Promise<void>((done, fail) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      if (stderr.includes(`checkpoint-paused:${stage}`)) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? done() : fail(new Error(`child exited without pausing: ${stderr}`)),
    );
  });
  return { dir, ref };
}

for (const stage of ["weights", "swap"] as const) {
  test(`killed during a save (${stage === "weights" ? "after writing the new weights" : "just before the pointer rename"}): the previous checkpoint survives`, async () => {
    const { dir, ref } = await killDuringSave(stage);
    const before = listTree(dir);
    // The killed save left its unpublished generation behind (and, at 'swap', a pointer temporary).
    assert.equal(before.filter((n) => /^gen-\d+-[0-9a-f]+$/.test(n)).length, 2);
    assert.equal(
      before.some((n) => n.startsWith("checkpoint.json.tmp-")),
      stage === "swap",
    );
    const { model, config } = await loadModel(dir);
    assert.equal(config.epoch, 1);
    const expected = decodeSafetensors(new Uint8Array(await readFile(ref)));
    for (const [k, t] of model.stateDict()) assert.deepEqual(t.toArray(), expected.get(k)!.toArray(), k);
    // Loading only reads: the leftovers are still there; the next save collects them.
    assert.deepEqual(listTree(dir), before);
    await saveCheckpoint(dir, { model, epoch: 2 });
    await saveCheckpoint(dir, { model, epoch: 3 });
    assert.equal((await loadCheckpoint(dir)).config.epoch, 3);
    assert.equal(readdirSync(dir).filter((n) => n.startsWith("gen-")).length, 2, "current + previous");
  });
}

/** Every path under `dir`, relative, sorted. */
function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

async function setup(seed: number) {
  manualSeed(seed);
  const { model } = buildFromSpec(SPEC);
  const train = new DataLoader(await mnistSubset("train", 192), {
    batchSize: 32,
    shuffle: true,
    seed: 7,
    transform: randomTranslate(2),
    prefetch: false,
  });
  const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
  const scheduler = new StepLR(optimizer, { stepSize: 1, gamma: 0.7 });
  return { model, train, optimizer, scheduler };
}

async function uninterrupted() {
  const run = await setup(11);
  const losses: number[] = [];
  const history = await fit(run.model, {
    ...run,
    epochs: 3,
    callbacks: [{ onBatchEnd: (_c, l) => void losses.push(l.loss) }],
  });
  return { history, losses, weights: run.model.stateDict() };
}

async function resumed(stopAt: { epoch: number; batch: number }) {
  const dir = tmp();
  const first = await setup(11);
  const losses: number[] = [];
  const record = { onBatchEnd: (_c: TrainContext, l: { loss: number }) => void losses.push(l.loss) };
  const stopper = {
    onBatchEnd: (ctx: TrainContext) =>
      void (ctx.epoch === stopAt.epoch && ctx.batch === stopAt.batch && ctx.stop("test stop")),
  };
  const checkpoint = new ModelCheckpoint({ dir, saveBest: false });
  await fit(first.model, { ...first, epochs: 3, callbacks: [record, stopper, checkpoint] });
  // A fresh process would start from another seed and fresh objects; only the checkpoint carries over.
  const second = await setup(999);
  const resume = await restoreCheckpoint(checkpoint.lastDir, second);
  const history = await fit(second.model, { ...second, ...resume, epochs: 3, callbacks: [record] });
  return { history, losses, weights: second.model.stateDict(), resume };
}

test("resuming at an epoch boundary reproduces the uninterrupted run exactly", async () => {
  const a = await uninterrupted();
  // Stopping after the last batch of epoch 1 (6 batches) completes that epoch.
  const b = await resumed({ epoch: 0, batch: 6 });
  assert.equal(b.resume.initialEpoch, 1);
  assert.equal(b.resume.initialBatch, 0);
  assert.deepEqual(b.losses, a.losses);
  assert.deepEqual(b.history.get("loss"), a.history.get("loss"));
  assert.deepEqual(b.history.get("lr"), a.history.get("lr"));
  for (const [k, t] of a.weights) assert.deepEqual(b.weights.get(k)!.toArray(), t.toArray(), k);
});

test("resuming a checkpoint written mid-epoch continues with the same batches and losses", async () => {
  const a = await uninterrupted();
  const b = await resumed({ epoch: 1, batch: 2 });
  assert.equal(b.resume.initialEpoch, 1);
  assert.equal(b.resume.initialBatch, 2);
  assert.deepEqual(b.losses, a.losses);
  for (const [k, t] of a.weights) assert.deepEqual(b.weights.get(k)!.toArray(), t.toArray(), k);
});

test("loadModel rebuilds a zoo model's checkpoint without being given the zoo", async () => {
  const dir = join(tmp(), "zoo");
  manualSeed(8);
  const model = getModel("resnet20_cifar");
  await saveCheckpoint(dir, { model, architecture: { kind: "zoo", name: "resnet20_cifar" } });
  const { model: loaded } = await loadModel(dir);
  const x = randn([2, 3, 32, 32]);
  model.eval();
  assert.deepEqual(predict(loaded, x).toArray(), predict(model, x).toArray());
});

// The striate CLI end to end, as child processes on small real-MNIST subsets: train (outputs, checkpoints,
// plots), eval, predict, summary, --help on every command, usage errors (status 2), missing files
// (status 1), and Ctrl-C: SIGINT finishes the step, saves a checkpoint, exits 130, and --resume finishes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PNG } from "pngjs";
import { loadMnist } from "../../src/node/data/mnist.js";
import { loadCheckpoint, loadModel } from "../../src/node/checkpoint.js";
import { predict } from "../../src/train/fit.js";
import { tensor } from "../../src/tensor/tensor.js";
import { CONVNETJS_CIFAR10_LAYER_DEFS } from "../../src/spec/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "src/node/cli/main.ts");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("--help on every command; usage errors exit 2, missing files exit 1", () => {
  const top = run("--help");
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Commands:\n\s+train[\s\S]*eval[\s\S]*predict[\s\S]*summary/);
  for (const command of ["train", "eval", "predict", "summary"]) {
    const r = run(command, "--help");
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`^Usage: striate ${command} `), command);
  }
  const badFlag = run("train", "lenet5", "--learning-rate", "0.1");
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /Unknown option '--learning-rate'[\s\S]*striate train --help/);
  const badValue = run("train", "lenet5", "--optimizer", "lion");
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /--optimizer must be one of sgd, adam, adamw, rmsprop, adagrad; got 'lion'/);
  assert.equal(run("train", "lenet5", "--epochs", "0").code, 2);
  const unknown = run("frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const noModel = run("train", "missing/net.json");
  assert.equal(noModel.code, 1);
  assert.match(noModel.stderr, /model file not found: missing\/net\.json/);
  const noCheckpoint = run("eval", "no/such/run");
  assert.equal(noCheckpoint.code, 1);
  assert.match(noCheckpoint.stderr, /checkpoint directory not found: no\/such\/run/);
});

test("train → eval → predict → summary on 256 MNIST images", async () => {
  const work = mkdtempSync(join(tmpdir(), "striate-cli-"));
  const out = join(work, "run");
  const spec = join(work, "net.json");
  writeFileSync(
    spec,
    JSON.stringify({
      layer_defs: [
        { type: "input", out_sx: 28, out_sy: 28, out_depth: 1 },
        { type: "conv", sx: 5, filters: 4, stride: 2, pad: 2, activation: "relu" },
        { type: "pool", sx: 2, stride: 2 },
        { type: "softmax", num_classes: 10 },
      ],
    }),
  );
  // Outputs are replaced atomically, never written through a symlink planted at their path (defect 10).
  mkdirSync(out);
  const victim = join(work, "victim.txt");
  writeFileSync(victim, "precious");
  for (const name of ["history.csv", "history.jsonl", "training-curves.svg", "confusion-matrix.png"])
    symlinkSync(victim, join(out, name));
  const train = run(
    "train",
    spec,
    "--limit",
    "256",
    "--epochs",
    "2",
    "--batch-size",
    "32",
    "--lr",
    "0.01",
    "--augment",
    "translate",
    "--out",
    out,
  );
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stdout, /epoch 1\/2 .*\nepoch 2\/2 /);
  assert.match(train.stdout, /test accuracy \d+\.\d+%/);
  for (const f of [
    "best/checkpoint.json",
    "last/checkpoint.json",
    "history.csv",
    "history.jsonl",
    "training-curves.svg",
    "training-curves.png",
    "confusion-matrix.svg",
    "confusion-matrix.png",
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  assert.equal(readFileSync(join(out, "history.csv"), "utf8").trim().split("\n").length, 3);
  assert.equal(readFileSync(victim, "utf8"), "precious");
  assert.ok(!lstatSync(join(out, "history.csv")).isSymbolicLink());
  const accuracy = Number(/test accuracy (\d+\.\d+)%/.exec(train.stdout)![1]);
  assert.ok(accuracy > 30, `accuracy ${accuracy}% after 2 epochs on 256 images`);

  const evaluated = run("eval", join(out, "last"), "--limit", "256");
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.equal(Number(/accuracy (\d+\.\d+)%/.exec(evaluated.stdout)![1]), accuracy);

  // A real test digit as a PNG file.
  const test = await loadMnist({ split: "test" });
  const png = new PNG({ width: 28, height: 28 });
  const { x: pixels } = test.get(0);
  pixels.forEach((v, i) => png.data.set([v * 255, v * 255, v * 255, 255], 4 * i));
  const image = join(work, "digit.png");
  writeFileSync(image, PNG.sync.write(png));
  const predicted = run("predict", out, image, "--top-k", "3", "--json");
  assert.equal(predicted.code, 0, predicted.stderr);
  const [result] = JSON.parse(predicted.stdout) as {
    file: string;
    top: { class: string; probability: number }[];
  }[];
  assert.equal(result.file, image);
  assert.equal(result.top.length, 3);
  const { model } = await loadModel(join(out, "best"));
  const probs = predict(
    model,
    tensor(
      Float32Array.from(pixels, (v) => Math.round(v * 255) / 255),
      [1, 1, 28, 28],
    ),
  ).toArray();
  const best = probs.indexOf(Math.max(...probs));
  assert.equal(result.top[0].class, String(best));
  assert.ok(Math.abs(result.top[0].probability - probs[best]) < 1e-5);
  assert.ok(
    result.top[0].probability >= result.top[1].probability &&
      result.top[1].probability >= result.top[2].probability,
  );
  const text = run("predict", out, image);
  assert.match(text.stdout, new RegExp(`digit\\.png\\n  ${best}\\s+\\d+\\.\\d\\d%`));
  assert.equal(run("predict", out, join(work, "nope.png")).code, 1);

  const summary = run("summary", "convnetjs-mnist");
  assert.equal(summary.code, 0, summary.stderr);
  assert.match(summary.stdout, /Total params: 5,994/);
});

test("Ctrl-C saves a checkpoint and exits 130; --resume completes the run", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "striate-sigint-")), "run");
  const args = [
    "--import",
    "tsx",
    MAIN,
    "train",
    "lenet5",
    // Long enough (3 × 512 steps) that the run cannot finish before the signal lands, even on a fast
    // backend and an idle machine; the interrupt comes 200 ms after the first output.
    "--limit",
    "4096",
    "--epochs",
    "3",
    "--batch-size",
    "8",
    "--out",
    out,
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  const code = await new Promise<number | null>((done) => {
    child.stdout.on("data", (c: Buffer) => {
      const first = stdout === "";
      stdout += c;
      if (first) setTimeout(() => child.kill("SIGINT"), 200);
    });
    child.on("exit", (c) => done(c));
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupt received; finishing the current step/);
  const [, epoch, batch] = /interrupted at epoch (\d+), batch (\d+)/.exec(stdout)!.map(Number);
  const config = (await loadCheckpoint(join(out, "last"))).config;
  assert.deepEqual([config.epoch, config.batch], [epoch - 1, batch]);
  assert.ok(batch > 0);

  const resumed = run("train", "--resume", join(out, "last"));
  assert.equal(resumed.code, 0, resumed.stderr);
  const rows = readFileSync(join(out, "history.csv"), "utf8").trim().split("\n").slice(1);
  assert.deepEqual(
    rows.map((r) => r.split(",")[0]),
    ["1", "2", "3"],
  );
});

test("library errors print 'striate: <message>' and exit 1, the stack only with --debug; --version", () => {
  const work = mkdtempSync(join(tmpdir(), "striate-cli-errors-"));
  const spec = join(work, "bad.json");
  writeFileSync(spec, JSON.stringify({ input: [1, 28, 28], layers: [{ type: "linear", outFeatures: 10 }] }));
  const plain = run("summary", spec);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /^striate: .*linear/);
  assert.doesNotMatch(plain.stderr, /\n\s+at /);
  const debug = run("summary", spec, "--debug");
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /^striate: [\s\S]*\n\s+at /);
  const deep = join(work, "deep.json");
  writeFileSync(deep, `${"[".repeat(5000)}${"]".repeat(5000)}`);
  const nested = run("summary", deep);
  assert.equal(nested.code, 1);
  assert.match(nested.stderr, /deep\.json: JSON nested more than 64 levels deep/);
  const version = run("--version");
  assert.equal(version.code, 0);
  assert.equal(
    version.stdout.trim(),
    `striate ${(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version}`,
  );
});

test("summary of a CIFAR ConvNetJS layer_defs file uses its 3x32x32 input", () => {
  const work = mkdtempSync(join(tmpdir(), "striate-cli-cifar-"));
  const spec = join(work, "cifar.json");
  writeFileSync(spec, JSON.stringify(CONVNETJS_CIFAR10_LAYER_DEFS));
  const r = run("summary", spec);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /22,466/);
});

test("train refuses an --out whose best/ is not a checkpoint, before training, and keeps its files", () => {
  const out = mkdtempSync(join(tmpdir(), "striate-cli-out-"));
  mkdirSync(join(out, "best"));
  writeFileSync(join(out, "best", "paper.pdf"), "x");
  const r = run("train", "lenet5", "--limit", "64", "--epochs", "1", "--out", out);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /striate: saveCheckpoint: '.*best' exists and is not a Striate checkpoint \(it holds paper\.pdf\)/,
  );
  assert.doesNotMatch(r.stdout, /epoch 1\/1/);
  assert.equal(readFileSync(join(out, "best", "paper.pdf"), "utf8"), "x");
});

test("a learning rate that overflows float32 stops training naming the parameter; no NaN checkpoint is called good", () => {
  const out = join(mkdtempSync(join(tmpdir(), "striate-cli-nan-")), "o");
  const r = run(
    "train",
    "lenet5",
    "--optimizer",
    "sgd",
    "--lr",
    "1e300",
    "--limit",
    "64",
    "--batch-size",
    "64",
    "--epochs",
    "2",
    "--out",
    out,
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /striate: fit: parameter '[\w.]+' is -?(NaN|Infinity) .* at epoch 1, batch 1 \(lr 1e\+300\)/,
  );
  assert.doesNotMatch(r.stderr, /last good checkpoint/);
  const said = `${r.stdout}${r.stderr}`.match(/after the step at epoch 1, batch 1/g) ?? [];
  assert.equal(said.length, 1, `the non-finite-weights message is printed ${said.length} times`);
  assert.ok(!existsSync(join(out, "last")) && !existsSync(join(out, "best")));
});

test("node --input-type=module importing striate starts its wasm workers (no 'self is not defined')", () => {
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `import * as s from ${JSON.stringify(join(ROOT, "src/index-node.ts"))}; const t = s.randn([64, 64]); console.log(t.matmul(t).shape.join("x"));`,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "64x64");
});

test("--epochs -1 names the flag; --resume rejects the settings it keeps; a tiny image folder's empty test split is an error", () => {
  const negative = run("train", "lenet5", "--epochs", "-1");
  assert.equal(negative.code, 2);
  assert.match(negative.stderr, /--epochs must be ≥ 1, got -1/);
  const resumed = run(
    "train",
    "--resume",
    "runs/x/last",
    "--lr",
    "0.5",
    "--optimizer",
    "sgd",
    "--epochs",
    "3",
  );
  assert.equal(resumed.code, 2);
  assert.match(
    resumed.stderr,
    /--resume keeps the settings the run was started with; --lr, --optimizer cannot be changed \(only --epochs, --out and --backend/,
  );
  const folder = mkdtempSync(join(tmpdir(), "striate-cli-tiny-"));
  const png = new PNG({ width: 8, height: 8 });
  png.data.fill(255);
  for (const cls of ["cat", "dog"]) {
    mkdirSync(join(folder, cls));
    for (let i = 0; i < 4; i++) writeFileSync(join(folder, cls, `${i}.png`), PNG.sync.write(png));
  }
  const tiny = run(
    "train",
    "lenet5",
    "--dataset",
    folder,
    "--epochs",
    "1",
    "--out",
    join(folder, "..", "tiny-out"),
  );
  assert.equal(tiny.code, 1);
  assert.match(tiny.stderr, /striate: dataset .*: the test split has no images \(8 train, 0 test\)/);
});

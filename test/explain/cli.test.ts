// `striate explain`, `visualize` and `attack` end to end through the CLI's main() (in this process, with its
// output captured: a child process per call would cost seconds each) on the trained LeNet-5 of the explain
// fixtures saved as a checkpoint: pictures written (and not overwritten unasked), accuracies
// printed, and usage errors that name the unknown layer with the valid ones or the class out of range.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { getModel } from "../../src/models/index.js";
import { loadWeights } from "../../src/io/safetensors.js";
import { saveCheckpoint } from "../../src/node/checkpoint.js";
import { loadMnist } from "../../src/node/data/mnist.js";
import { imageToCanvas } from "../../src/explain/index.js";
import { writeImagePng } from "../../src/node/pictures.js";
import { main } from "../../src/node/cli/main.js";
import { explainFixtureDir } from "./plain-net.js";

/** Runs `striate ...args` through main(), capturing what it prints. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: "", stderr: "" };
  const [write1, write2] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((chunk: string) => ((out.stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((out.stderr += chunk), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, ...out };
  } finally {
    process.stdout.write = write1;
    process.stderr.write = write2;
  }
}

async function lenetCheckpoint(): Promise<{ dir: string; digit: string; work: string }> {
  const work = mkdtempSync(join(tmpdir(), "striate-explain-cli-"));
  const model = getModel("lenet5");
  loadWeights(model, readFileSync(join(explainFixtureDir, "lenet5-mnist.safetensors")));
  const dir = join(work, "lenet");
  await saveCheckpoint(dir, {
    model,
    architecture: { kind: "builtin", name: "lenet5", options: { numClasses: 10, inChannels: 1 } },
    inputShape: [1, 28, 28],
    classes: Array.from({ length: 10 }, (_, i) => String(i)),
    hyperParameters: { dataset: "mnist" },
  });
  const sample = (await loadMnist({ split: "test" })).get(0);
  const digit = await writeImagePng(
    join(work, "seven.png"),
    imageToCanvas({ data: sample.x, shape: [1, 28, 28] }),
  );
  return { dir, digit, work };
}

test("explain, visualize and attack: --help, pictures, accuracies and clear errors", async () => {
  const { dir, digit, work } = await lenetCheckpoint();
  for (const command of ["explain", "visualize", "attack"]) {
    const help = await run(command, "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`^Usage: striate ${command} `));
  }
  assert.match((await run("--help")).stdout, /explain[\s\S]*visualize[\s\S]*attack/);

  const out = join(work, "pictures");
  const vis = await run(
    "visualize",
    dir,
    "--filters",
    "--activations",
    digit,
    "--class-model",
    "3",
    "--steps",
    "5",
    "--out",
    out,
  );
  assert.equal(vis.code, 0, vis.stderr);
  assert.match(vis.stdout, /class model of 3: score/);
  for (const file of [
    "filters-conv1.png",
    "activations-conv1.png",
    "activations-conv2.png",
    "class-model-3.png",
  ])
    assert.ok(existsSync(join(out, file)), file);
  const filters = PNG.sync.read(readFileSync(join(out, "filters-conv1.png")));
  assert.ok(filters.width > 3 * 40, "6 filters of 5x5 at scale 8 in a 3-column grid");

  const again = await run("visualize", dir, "--filters", "--out", out);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /filters-conv1\.png exists; pass --overwrite to replace it/);

  const badLayer = await run("visualize", dir, "--filters", "--layer", "conv3", "--out", out);
  assert.equal(badLayer.code, 2);
  assert.match(
    badLayer.stderr,
    /no layer named 'conv3' in LeNet5; valid names: conv1 \(Conv2d\), pool1 \(MaxPool2d\), conv2 \(Conv2d\)/,
  );
  const badClass = await run("visualize", dir, "--class-model", "10", "--out", out);
  assert.equal(badClass.code, 2);
  assert.match(badClass.stderr, /class 10 at index 0 is out of range for a model with 10 classes/);
  assert.equal((await run("visualize", dir, "--out", out)).code, 2);

  const attack = await run(
    "attack",
    dir,
    "--method",
    "fgsm",
    "--eps",
    "0.25",
    "--limit",
    "200",
    "--out",
    out,
  );
  assert.equal(attack.code, 0, attack.stderr);
  const m = /clean accuracy ([\d.]+)%, under FGSM eps 0.25 ([\d.]+)%/.exec(attack.stdout);
  assert.ok(m, attack.stdout);
  assert.ok(Number(m[1]) >= 97 && Number(m[2]) < 50, attack.stdout);
  assert.ok(existsSync(join(out, "adversarial-examples.png")));
  for (const method of ["gradcam", "ig", "occlusion"]) {
    const explained = await run("explain", dir, digit, "--method", method, "--steps", "8", "--out", out);
    assert.equal(explained.code, 0, explained.stderr);
    const png = PNG.sync.read(readFileSync(join(out, `seven-${method}.png`)));
    assert.ok(png.width >= 3 * 112, "image, map and overlay side by side");
  }
  const explainLayer = await run("explain", dir, digit, "--layer", "fc9", "--out", out);
  assert.equal(explainLayer.code, 2);
  assert.match(explainLayer.stderr, /no layer named 'fc9' in LeNet5; valid names: conv1 \(Conv2d\)/);
  const explainTarget = await run("explain", dir, digit, "--target", "10", "--out", out);
  assert.equal(explainTarget.code, 2);
  assert.match(explainTarget.stderr, /--target 10 is out of range for a model with 10 classes/);
  const explainMethod = await run("explain", dir, digit, "--method", "lime");
  assert.equal(explainMethod.code, 2);
  assert.match(explainMethod.stderr, /--method must be one of gradcam, gradcam\+\+, saliency/);

  const badMethod = await run("attack", dir, "--method", "cw");
  assert.equal(badMethod.code, 2);
  assert.match(badMethod.stderr, /--method must be one of fgsm, pgd; got 'cw'/);
});

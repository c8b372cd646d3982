// striate finetune: from a checkpoint and from a model name with safetensors or ONNX weights; the result is
// a checkpoint that loadModel opens; weights that do not fit the model are a clear error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeSafetensors } from "../../src/io/safetensors.js";
import { exportOnnx } from "../../src/io/onnx/export.js";
import { getModel } from "../../src/models/index.js";
import { loadModel } from "../../src/node/checkpoint.js";
import { tensor } from "../../src/tensor/tensor.js";

const MAIN = fileURLToPath(new URL("../../src/node/cli/main.ts", import.meta.url));
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8" });

test("striate finetune trains a new head from safetensors weights and from a checkpoint", async () => {
  const dir = await mkdtemp(join(tmpdir(), "striate-finetune-"));
  try {
    const weights = join(dir, "lenet5.safetensors");
    await writeFile(weights, encodeSafetensors(getModel("lenet5", { numClasses: 10 }).stateDict()));
    const first = cli(
      "finetune",
      "lenet5",
      "--weights",
      weights,
      "--strategy",
      "linear-probe",
      "--epochs",
      "1",
      "--limit",
      "256",
      "--out",
      join(dir, "a"),
    );
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /strategy linear-probe: training fc3; frozen 4 blocks/);
    const { model } = await loadModel(join(dir, "a", "best"));
    assert.deepEqual(model.stateDict().get("fc3.weight")!.shape, [10, 84]);

    const second = cli(
      "finetune",
      join(dir, "a"),
      "--strategy",
      "top-k",
      "--top-k",
      "1",
      "--epochs",
      "1",
      "--limit",
      "256",
      "--out",
      join(dir, "b"),
    );
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /training fc2, fc3; frozen 3 blocks/);
    assert.match(second.stdout, /test accuracy \d+\.\d+%/);

    await writeFile(join(dir, "bad.safetensors"), encodeSafetensors({ "stem.weight": tensor([1, 2, 3]) }));
    const onnx = join(dir, "lenet5.onnx");
    await writeFile(
      onnx,
      exportOnnx(getModel("lenet5", { numClasses: 10 }), tensor(new Float32Array(784), [1, 1, 28, 28])),
    );
    const fromOnnx = cli(
      "finetune",
      "lenet5",
      "--weights",
      onnx,
      "--epochs",
      "1",
      "--limit",
      "128",
      "--out",
      join(dir, "d"),
    );
    assert.equal(fromOnnx.status, 0, fromOnnx.stderr);

    const bad = cli(
      "finetune",
      "lenet5",
      "--weights",
      join(dir, "bad.safetensors"),
      "--limit",
      "64",
      "--out",
      join(dir, "c"),
    );
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /bad\.safetensors does not fit lenet5: missing keys: conv1\.weight.*; unexpected keys: stem\.weight/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

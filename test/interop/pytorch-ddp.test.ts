// The path past one machine, end to end: a Striate checkpoint continues training on PyTorch's
// DistributedDataParallel (2 processes, gloo, CPU) with examples/pytorch-ddp/continue_training.py, which
// first checks torchvision's logits against Striate's; the ONNX file it exports comes back into Striate
// with the same outputs. Needs /usr/bin/python3 with torch and torchvision (.ci/run installs them and sets
// STRIATE_REQUIRE_TORCH=1; with it, or CI set, the test fails rather than skips without them).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { F, manualSeed, noGrad, optim, tensor } from "../../src/index-node.js";
import { call, getModel } from "../../src/models/index.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { importOnnx } from "../../src/io/onnx/import.js";
import { bundledMnistPath, loadMnist, saveCheckpoint } from "../../src/node/index.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../examples/pytorch-ddp/continue_training.py", import.meta.url));
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, torchvision"]).status === 0;
const skip =
  hasTorch || process.env.CI || process.env.STRIATE_REQUIRE_TORCH === "1"
    ? false
    : "no /usr/bin/python3 with torch (apt-get install python3-torch python3-torchvision)";
if (skip) console.log(`# skipped: ${skip}`);

test(
  "a Striate checkpoint continues training on PyTorch DDP and comes back through ONNX",
  { skip, timeout: 600_000 },
  async (t) => {
    assert.ok(hasTorch, "CI must have /usr/bin/python3 with torch and torchvision (.ci/run installs them)");
    const dir = await mkdtemp(join(tmpdir(), "striate-ddp-"));
    try {
      manualSeed(0);
      const mnist = await loadMnist({ split: "test" });
      const x = tensor(mnist.images.slice(0, 512 * 784), [512, 1, 28, 28]);
      const y = tensor(mnist.labels.slice(0, 512), [512], { dtype: "int32" });
      const options = { numClasses: 10, inChannels: 1 };
      const model = getModel("resnet18", options);
      const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      for (let i = 0; i < 256; i += 32) {
        const loss = F.crossEntropy(call(model, x.slice(0, i, i + 32)), y.slice(0, i, i + 32));
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
      model.eval();
      const checkpoint = join(dir, "ckpt");
      await saveCheckpoint(checkpoint, { model, architecture: { kind: "zoo", name: "resnet18", options } });
      const batch = x.slice(0, 448, 512);
      const striateLogits = noGrad(() => call(model, batch));
      await writeFile(
        join(dir, "reference.safetensors"),
        encodeSafetensors({ x: batch, logits: striateLogits }),
      );

      const out = join(dir, "ddp");
      const run = spawnSync(
        PYTHON,
        [
          SCRIPT,
          "--nproc",
          "2",
          "--port",
          "29517",
          "--checkpoint",
          checkpoint,
          "--mnist",
          bundledMnistPath(),
          "--out",
          out,
          "--reference",
          join(dir, "reference.safetensors"),
        ],
        { encoding: "utf8", timeout: 540_000, env: { ...process.env, OMP_NUM_THREADS: "1" } },
      );
      assert.equal(run.status, 0, `continue_training.py failed:\n${run.stdout}\n${run.stderr}`);
      const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Record<string, number>;
      assert.equal(summary.world_size, 2);
      assert.ok(
        summary.max_abs_logit_diff_vs_striate < 1e-4,
        `torchvision vs Striate logits differ by ${summary.max_abs_logit_diff_vs_striate}`,
      );
      assert.ok(
        summary.loss_last < summary.loss_first,
        `DDP loss ${summary.loss_first} -> ${summary.loss_last}`,
      );

      const imported = importOnnx(new Uint8Array(await readFile(join(out, "model.onnx"))));
      const torchAfter = decodeSafetensors(
        new Uint8Array(await readFile(join(out, "after.safetensors"))),
      ).get("logits")!;
      const back = noGrad(() => imported.forward(batch));
      const diff = F.max(F.abs(F.sub(back, torchAfter))).item();
      assert.ok(diff < 1e-4, `re-imported ONNX vs PyTorch logits differ by ${diff}`);
      const evalX = tensor(mnist.images.slice(2000 * 784, 3000 * 784), [1000, 1, 28, 28]);
      const predicted = noGrad(() => F.argmax(imported.forward(evalX), 1).toArray());
      const accuracy = predicted.filter((p, i) => p === mnist.labels[2000 + i]).length / 1000;
      t.diagnostic(
        `Striate vs torchvision logits ${summary.max_abs_logit_diff_vs_striate.toExponential(2)}; DDP (2 ranks, ${summary.steps} steps, ${summary.seconds} s) loss ${summary.loss_first.toFixed(3)} -> ${summary.loss_last.toFixed(3)}; ` +
          `ONNX back in Striate: logits within ${diff.toExponential(2)} of PyTorch, accuracy ${(100 * accuracy).toFixed(1)}% on 1,000 MNIST test digits`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

// FGSM and PGD against the PyTorch references (test/fixtures/explain/explain.json) and against a trained
// LeNet-5 (test/fixtures/explain/lenet5-mnist.safetensors, made by scripts/fixtures/train-lenet5-mnist.ts):
// clean accuracy on 1,000 MNIST test images, then under FGSM eps 0.25 and PGD eps 0.3 (40 steps).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { nn, noGrad, tensor, type Tensor } from "../../src/index.js";
import { adversarialAccuracy, fgsm, pgd } from "../../src/explain/index.js";
import { getModel } from "../../src/models/index.js";
import { loadWeights } from "../../src/io/safetensors.js";
import { DataLoader, subset } from "../../src/data/index.js";
import { loadMnist } from "../../src/node/data/mnist.js";
import { initWasm } from "../../src/backend/wasm/index.js";
import { toTensor } from "../helpers/fixtures.js";
import { explainFixtureDir, loadExplainCase, plainNet, withinTolerance } from "./plain-net.js";

const c = loadExplainCase();

test("fgsm matches PyTorch's FGSM (eps 0.1, clamp [0, 1]) and its logits", (t) => {
  const model = plainNet(c);
  const adv = fgsm(model, toTensor(c.inputs.x), toTensor(c.inputs.target), { eps: 0.1, clamp: [0, 1] });
  const cmp = withinTolerance(adv.toArray(), toTensor(c.references.fgsm).toArray());
  assert.ok(cmp.ok, `fgsm differs by ${cmp.maxAbs}`);
  const logits = withinTolerance(
    (model.forward(adv) as ReturnType<typeof toTensor>).toArray(),
    toTensor(c.references.fgsm_logits).toArray(),
  );
  assert.ok(logits.ok, `fgsm logits differ by ${logits.maxAbs}`);
  t.diagnostic(`worst |a-b|: fgsm ${cmp.maxAbs.toExponential(2)}, logits ${logits.maxAbs.toExponential(2)}`);
});

test("pgd matches PyTorch's L-inf PGD (eps 0.1, alpha 0.025, 5 steps, no random start)", (t) => {
  const model = plainNet(c);
  const adv = pgd(model, toTensor(c.inputs.x), toTensor(c.inputs.target), {
    eps: 0.1,
    alpha: 0.025,
    steps: 5,
    norm: "inf",
  });
  const cmp = withinTolerance(adv.toArray(), toTensor(c.references.pgd).toArray());
  assert.ok(cmp.ok, `pgd differs by ${cmp.maxAbs}`);
  t.diagnostic(`worst |a-b|: pgd ${cmp.maxAbs.toExponential(2)}`);
});

test("pgd stays in the eps-ball for both norms, with and without random start, targeted or not", () => {
  const model = plainNet(c);
  const x = toTensor(c.inputs.x);
  const y = toTensor(c.inputs.target);
  const xs = x.toArray();
  const perImage = xs.length / x.shape[0];
  for (const norm of ["inf", "2"] as const) {
    for (const randomStart of [false, true]) {
      const eps = norm === "inf" ? 0.05 : 0.5;
      const adv = pgd(model, x, y, { eps, alpha: eps / 4, steps: 6, norm, randomStart, seed: 3 }).toArray();
      for (let b = 0; b < x.shape[0]; b++) {
        let size = 0;
        for (let i = b * perImage; i < (b + 1) * perImage; i++) {
          const d = Math.abs(adv[i] - xs[i]);
          size = norm === "inf" ? Math.max(size, d) : size + d * d;
          assert.ok(adv[i] >= 0 && adv[i] <= 1, "clamped to [0, 1]");
        }
        if (norm === "2") size = Math.sqrt(size);
        assert.ok(
          size <= eps * (1 + 1e-5),
          `norm ${norm}, random start ${randomStart}: |delta| ${size} > ${eps}`,
        );
      }
    }
  }
  // A targeted attack raises the target's logit relative to the untargeted one.
  const target = tensor(new Int32Array([3, 3]), [2], { dtype: "int32" });
  const towards = model.forward(pgd(model, x, target, { eps: 0.3, alpha: 0.05, steps: 10, targeted: true }));
  const away = model.forward(pgd(model, x, target, { eps: 0.3, alpha: 0.05, steps: 10 }));
  const [t0, a0] = [towards.toArray(), away.toArray()];
  for (let b = 0; b < 2; b++)
    assert.ok(t0[b * 5 + 3] > a0[b * 5 + 3], "targeted pgd favours the target class");
});

test("attacks reject bad input clearly", () => {
  const model = plainNet(c);
  const x = toTensor(c.inputs.x);
  const y = toTensor(c.inputs.target);
  assert.throws(() => fgsm(model, x, tensor(new Int32Array([0, 7]), [2], { dtype: "int32" }), { eps: 0.1 }), {
    message: "fgsm: class 7 at index 1 is out of range for a model with 5 classes",
  });
  assert.throws(
    () => fgsm(model, x.reshape([2, 16, 16]), y, { eps: 0.1 }),
    /fgsm: expected a float image batch \[N, C, H, W\], got float32 \[2,16,16\]/,
  );
  assert.throws(() => fgsm(model, x, y, { eps: -1 }), /fgsm: eps must be a finite number ≥ 0, got -1/);
  assert.throws(
    () => pgd(model, x, y, { eps: 0.1, alpha: 0.01, steps: 0 }),
    /pgd: steps must be an integer ≥ 1/,
  );
  class Detached extends nn.Module {
    forward(input: Tensor): Tensor {
      return noGrad(() => model.forward(input));
    }
  }
  assert.throws(
    () => fgsm(new Detached(), x, y, { eps: 0.1 }),
    /fgsm: the model's output does not depend differentiably on its input/,
  );
  assert.throws(
    () => fgsm(model, tensor(new Float32Array(2 * 3 * 16 * 16), [2, 3, 16, 16]), y, { eps: 0.1 }),
    /3 channels/,
  );
});

test("the trained LeNet-5 keeps its clean accuracy and loses it under FGSM and PGD", async (t) => {
  // On the wasm backend: 40 PGD steps over 1,000 images are ~80,000 forward and backward passes.
  await initWasm({ setDefault: false });
  const model = getModel("lenet5", { backend: "wasm" });
  loadWeights(model, readFileSync(join(explainFixtureDir, "lenet5-mnist.safetensors")));
  const testSet = await loadMnist({ split: "test" });
  const first1000 = subset(
    testSet,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  const loader = new DataLoader(first1000, { batchSize: 1000, backend: "wasm" });
  const fgsmResult = await adversarialAccuracy(model, loader, (m, x, y) => fgsm(m, x, y, { eps: 0.25 }));
  const pgdResult = await adversarialAccuracy(model, loader, (m, x, y) =>
    pgd(m, x, y, { eps: 0.3, alpha: 0.01, steps: 40 }),
  );
  t.diagnostic(
    `1,000 MNIST test images: clean ${(100 * fgsmResult.clean).toFixed(1)}%, FGSM eps 0.25 ${(100 * fgsmResult.adversarial).toFixed(1)}%, PGD eps 0.3 x40 ${(100 * pgdResult.adversarial).toFixed(1)}%`,
  );
  assert.equal(fgsmResult.count, 1000);
  assert.ok(fgsmResult.clean >= 0.97, `clean accuracy ${fgsmResult.clean}`);
  assert.ok(fgsmResult.adversarial < 0.5, `FGSM accuracy ${fgsmResult.adversarial}`);
  assert.ok(pgdResult.adversarial < 0.1, `PGD accuracy ${pgdResult.adversarial}`);
});

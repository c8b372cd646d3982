// Integrated Gradients: the quadrature rules integrate what they should, completeness (|delta| shrinks as
// steps grow and is < 1% of |S(x) - S(x')| at 300 steps), batching and internalBatchSize do not change the
// result, baselines in every accepted shape, and named errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { noGrad, tensor, type Tensor } from "../../src/index.js";
import { IntegratedGradients, integrationPoints, type IntegrationMethod } from "../../src/explain/index.js";
import { SmallConvNet, imageBatch, maxDiff, values } from "./helpers.js";

const methods: IntegrationMethod[] = [
  "riemann_trapezoid",
  "riemann_left",
  "riemann_right",
  "riemann_middle",
  "gausslegendre",
];
const model = new SmallConvNet().eval();
const x = imageBatch(2);
const logit = (input: Tensor, i: number, k: number) =>
  noGrad(() => (model as unknown as { forward(t: Tensor): Tensor }).forward(input).toArray()[i * 4 + k]);

test("every rule's weights sum to 1; Gauss-Legendre with n points integrates t^k exactly for k < 2n", () => {
  for (const method of methods) {
    const { alphas, weights } = integrationPoints(method, 7);
    assert.ok(Math.abs(weights.reduce((a, b) => a + b) - 1) < 1e-12, method);
    assert.ok(
      alphas.every((a) => a >= 0 && a <= 1),
      method,
    );
  }
  for (const n of [1, 2, 5, 20, 50]) {
    const { alphas, weights } = integrationPoints("gausslegendre", n);
    for (let k = 0; k < 2 * n; k++) {
      const integral = alphas.reduce((s, a, i) => s + weights[i] * a ** k, 0);
      assert.ok(Math.abs(integral - 1 / (k + 1)) < 1e-10, `n=${n} k=${k}: ${integral}`);
    }
  }
  assert.deepEqual(integrationPoints("riemann_trapezoid", 3), {
    alphas: [0, 0.5, 1],
    weights: [0.25, 0.5, 0.25],
  });
  assert.deepEqual(integrationPoints("riemann_left", 4).alphas, [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(integrationPoints("riemann_right", 4).alphas, [0.25, 0.5, 0.75, 1]);
  assert.deepEqual(integrationPoints("riemann_middle", 2).alphas, [0.25, 0.75]);
});

test("completeness: |delta| shrinks as steps grow and is < 1% of |S(x) - S(0)| at 300 steps", (t) => {
  const zero = tensor(new Float32Array(x.size), [...x.shape]);
  const targets = [1, 3];
  for (const method of ["riemann_trapezoid", "gausslegendre", "riemann_middle"] as const) {
    const ig = new IntegratedGradients(model);
    const deltaAt = (nSteps: number) =>
      values(ig.attribute(x, { target: targets, nSteps, method, returnConvergenceDelta: true })[1]).map(
        Math.abs,
      );
    const coarse = deltaAt(4);
    const fine = deltaAt(300);
    targets.forEach((k, i) => {
      const gap = Math.abs(logit(x, i, k) - logit(zero, i, k));
      t.diagnostic(
        `${method} image ${i}: |delta| ${coarse[i].toExponential(2)} (4 steps) -> ${fine[i].toExponential(2)} (300), |S(x)-S(0)| ${gap.toFixed(3)}`,
      );
      assert.ok(fine[i] < coarse[i], `${method}: delta must shrink`);
      assert.ok(fine[i] < 0.01 * gap, `${method}: delta ${fine[i]} at 300 steps vs gap ${gap}`);
    });
  }
});

test("the delta is sum(attributions) - (S(x) - S(x')) for the baseline given", () => {
  const baseline = tensor(new Float32Array(3 * 64).fill(0.5), [3, 8, 8]);
  const [attr, delta] = new IntegratedGradients(model).attribute(x, {
    target: 2,
    baselines: baseline,
    nSteps: 16,
    returnConvergenceDelta: true,
  });
  const full = baseline.unsqueeze(0).expand([2, 3, 8, 8]);
  [0, 1].forEach((i) => {
    const sum = attr
      .slice(0, i, i + 1)
      .sum()
      .item();
    const expected = sum - (logit(x, i, 2) - logit(full, i, 2));
    assert.ok(Math.abs(delta.toArray()[i] - expected) < 1e-4);
  });
});

test("batched results equal per-image results, for any internalBatchSize and baseline shape", () => {
  const ig = new IntegratedGradients(model);
  const base = imageBatch(1, 9);
  const reference = ig.attribute(x, { target: [0, 2], nSteps: 10, baselines: base });
  for (const internalBatchSize of [1, 3, 7, 20]) {
    const chunked = ig.attribute(x, {
      target: [0, 2],
      nSteps: 10,
      baselines: base.squeeze(0),
      internalBatchSize,
    });
    assert.ok(maxDiff(chunked, reference) < 1e-6, `internalBatchSize ${internalBatchSize}`);
  }
  const twice = tensor([...values(base), ...values(base)], [2, 3, 8, 8]);
  assert.ok(maxDiff(ig.attribute(x, { target: [0, 2], nSteps: 10, baselines: twice }), reference) < 1e-6);
  [0, 2].forEach((k, i) => {
    const single = ig.attribute(x.slice(0, i, i + 1), { target: k, nSteps: 10, baselines: base });
    assert.ok(maxDiff(reference.slice(0, i, i + 1), single) < 1e-6);
  });
  const integrated = ig.attribute(x, {
    target: [0, 2],
    nSteps: 10,
    baselines: base,
    multiplyByInputs: false,
  });
  assert.ok(
    maxDiff(integrated.mul(x.sub(base)), reference) < 1e-6,
    "multiplyByInputs: false leaves out (x - x')",
  );
});

test("bad options are named", () => {
  const ig = new IntegratedGradients(model);
  assert.throws(
    () => ig.attribute(x, { target: 0, method: "simpson" as never }),
    /IntegratedGradients: method must be one of riemann_trapezoid/,
  );
  assert.throws(() => ig.attribute(x, { target: 0, nSteps: 0 }), /nSteps must be an integer >= 1/);
  assert.throws(
    () => ig.attribute(x, { target: 0, nSteps: 1, method: "riemann_trapezoid" }),
    /nSteps must be an integer >= 2/,
  );
  assert.throws(
    () => ig.attribute(x, { target: 0, internalBatchSize: 0 }),
    /internalBatchSize must be a positive integer/,
  );
  assert.throws(
    () => ig.attribute(x, { target: 0, baselines: tensor([1, 2, 3]) }),
    /baselines \[3\] must match the input \[2,3,8,8\] or one image \[3,8,8\]/,
  );
});

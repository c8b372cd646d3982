// Gradient clipping against its definition: the total norm over all gradients as one vector (2-norm,
// p-norm, max-norm), scaling only above maxNorm, clamping by value, skipped parameters, and the errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, tensor, type Tensor } from "../../src/index.js";

function withGrads(grads: number[][]): Tensor[] {
  return grads.map((g) => {
    const p = tensor(
      g.map(() => 0),
      undefined,
      { dtype: "float64", requiresGrad: true },
    );
    p.grad = tensor(g, undefined, { dtype: "float64" });
    return p;
  });
}

const values = (ps: Tensor[]) => ps.map((p) => Array.from(p.grad!.toArray()));

test("clipGradNorm_ scales all gradients by maxNorm / (total + 1e-6) when the total 2-norm is larger", () => {
  const params = withGrads([
    [3, 0],
    [0, 4],
  ]);
  const total = nn.clipGradNorm_(params, 1);
  assert.equal(total, 5);
  const scale = 1 / (5 + 1e-6);
  assert.deepEqual(values(params), [
    [3 * scale, 0],
    [0, 4 * scale],
  ]);
});

test("clipGradNorm_ leaves gradients below maxNorm alone, skips parameters without one, supports p and inf", () => {
  const params = withGrads([[0.3, -0.4]]);
  const noGradParam = tensor([1, 2], undefined, { requiresGrad: true });
  assert.ok(Math.abs(nn.clipGradNorm_([...params, noGradParam], 10) - 0.5) < 1e-15);
  assert.deepEqual(values(params), [[0.3, -0.4]]);
  assert.equal(noGradParam.grad, null);
  const inf = withGrads([[1, -7], [2]]);
  assert.equal(nn.clipGradNorm_(inf, 3.5, { normType: Infinity }), 7);
  assert.ok(Math.abs(values(inf)[0][1] - (-7 * 3.5) / (7 + 1e-6)) < 1e-12);
  const p1 = withGrads([[1, -2], [3]]);
  assert.equal(nn.clipGradNorm_(p1, 100, { normType: 1 }), 6);
  assert.equal(nn.clipGradNorm_([], 1), 0);
});

test("clipGradValue_ clamps every element to [-v, v]", () => {
  const params = withGrads([
    [0.2, -3, 5],
    [-0.7, 0.4],
  ]);
  nn.clipGradValue_(params, 0.5);
  assert.deepEqual(values(params), [
    [0.2, -0.5, 0.5],
    [-0.5, 0.4],
  ]);
});

test("errors: clipping options and non-finite norms", () => {
  const params = withGrads([[1, NaN]]);
  assert.throws(
    () => nn.clipGradNorm_(params, -1),
    /clipGradNorm_: maxNorm must be a non-negative number, got -1/,
  );
  assert.throws(
    () => nn.clipGradNorm_(params, 1, { normType: 0 }),
    /clipGradNorm_: normType must be a positive number or Infinity, got 0/,
  );
  assert.throws(
    () => nn.clipGradNorm_(params, 1, { errorIfNonfinite: true }),
    /clipGradNorm_: the total 2-norm of the gradients is NaN; some gradient holds NaN or infinity/,
  );
  assert.throws(
    () => nn.clipGradValue_(params, -0.1),
    /clipGradValue_: clipValue must be a non-negative finite number, got -0.1/,
  );
  assert.throws(
    () => nn.clipGradNorm_([1 as unknown as Tensor], 1),
    /clipGradNorm_: parameters\[0\] is not a Tensor/,
  );
});

test("fit's clipGradNorm option clips between backward and the optimizer step", async () => {
  const { fit } = await import("../../src/train/fit.js");
  const { SGD } = await import("../../src/optim/index.js");
  const model = new nn.Linear(3, 2);
  const sgd = new SGD(model.parameters(), { lr: 0.1 });
  const norms: number[] = [];
  const recording = {
    zeroGrad: () => sgd.zeroGrad(),
    paramGroups: sgd.paramGroups,
    step: () => {
      const squares = model.parameters().map((p) => p.grad!.square().sum().item());
      norms.push(Math.sqrt(squares.reduce((a, b) => a + b, 0)));
      sgd.step();
    },
  };
  // Large inputs give gradient norms far above 0.25.
  const batch = {
    x: tensor([
      [30, -40, 50],
      [-60, 20, 10],
    ]),
    y: tensor(new Int32Array([0, 1]), [2]),
  };
  await fit(model, { train: [batch, batch], epochs: 1, optimizer: recording, clipGradNorm: 0.25 });
  assert.equal(norms.length, 2);
  for (const n of norms) assert.ok(Math.abs(n - 0.25) < 1e-5, `norm at step time ${n}`);
  await assert.rejects(
    fit(model, { train: [batch], epochs: 1, optimizer: sgd, clipGradNorm: -1 }),
    /fit: clipGradNorm must be a non-negative number, got -1/,
  );
});

// LAMB beyond the fixtures: the trust ratio makes the first step's size lr·‖w‖ whatever the gradient's
// scale; a zero parameter falls back to ratio 1; bad hyperparameters name the optimizer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { optim, tensor } from "../../src/index.js";

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

test("LAMB's step moves each parameter tensor by lr·‖w‖ (trust ratio), whatever the gradient scale", () => {
  for (const scale of [1e-3, 1, 1e3]) {
    const start = [3, -4, 0.5, 1];
    const p = tensor(start, undefined, { dtype: "float64", requiresGrad: true });
    const opt = new optim.LAMB([p], { lr: 0.01, eps: 0 });
    p.grad = tensor(
      [1, -2, 0.5, 3].map((g) => g * scale),
      undefined,
      { dtype: "float64" },
    );
    opt.step();
    const moved = Array.from(p.toArray()).map((v, i) => v - start[i]);
    assert.ok(Math.abs(norm(moved) - 0.01 * norm(start)) < 1e-12, `scale ${scale}: |Δ| ${norm(moved)}`);
  }
});

test("LAMB with a zero parameter uses trust ratio 1", () => {
  const p = tensor([0, 0], undefined, { dtype: "float64", requiresGrad: true });
  const opt = new optim.LAMB([p], { lr: 0.1, eps: 0 });
  p.grad = tensor([2, -3], undefined, { dtype: "float64" });
  opt.step();
  assert.deepEqual(Array.from(p.toArray()), [-0.1, 0.1]);
});

test("errors: LAMB hyperparameters", () => {
  const p = tensor([1], undefined, { requiresGrad: true });
  assert.throws(() => new optim.LAMB([p], { lr: -1 }), /LAMB: invalid lr -1/);
  assert.throws(() => new optim.LAMB([p], { betas: [0.9, 2] }), /LAMB: invalid betas\[1\] 2/);
});

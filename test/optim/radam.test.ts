// RAdam beyond the fixtures: while ρ_t <= 5 (the first steps with β2 = 0.999) the step is the bias-corrected
// momentum times lr, with no adaptive denominator; bad hyperparameters name the optimizer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { optim, tensor } from "../../src/index.js";

test("RAdam's first step is lr·grad (bias-corrected momentum, not yet rectified)", () => {
  const p = tensor([1, -2, 3], undefined, { dtype: "float64", requiresGrad: true });
  const opt = new optim.RAdam([p], { lr: 0.1 });
  p.grad = tensor([0.5, 4, -1], undefined, { dtype: "float64" });
  opt.step();
  const want = [1 - 0.05, -2 - 0.4, 3 + 0.1];
  Array.from(p.toArray()).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12, `${v} vs ${want[i]}`));
});

test("errors: RAdam hyperparameters", () => {
  const p = tensor([1], undefined, { requiresGrad: true });
  assert.throws(() => new optim.RAdam([p], { eps: -1 }), /RAdam: invalid eps -1/);
  assert.throws(() => new optim.RAdam([p], { betas: [-0.1, 0.9] }), /RAdam: invalid betas\[0\] -0.1/);
  assert.throws(() => new optim.RAdam([p], { weightDecay: NaN }), /RAdam: invalid weightDecay NaN/);
});

// NAdam beyond the fixtures: the state dict (with the running μ product) round-trips so a resumed run
// continues exactly, and bad hyperparameters name the optimizer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { optim, tensor } from "../../src/index.js";

function run(opt: optim.Optimizer, p: ReturnType<typeof tensor>, grads: number[][]) {
  for (const g of grads) {
    p.grad = tensor(g);
    opt.step();
  }
}

test("NAdam state dict round-trips: a resumed optimizer takes the same steps", () => {
  const grads = [
    [0.5, -1, 2],
    [1, 0.3, -0.2],
    [-0.7, 0.1, 0.9],
    [0.2, -0.4, 1.1],
  ];
  const a = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const optA = new optim.NAdam([a], { lr: 0.05, weightDecay: 0.01 });
  run(optA, a, grads);
  const b = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const optB = new optim.NAdam([b], { lr: 0.05, weightDecay: 0.01 });
  run(optB, b, grads.slice(0, 2));
  const saved = JSON.parse(JSON.stringify(optB.stateDict()));
  assert.equal(typeof saved.state["0"].muProduct, "number");
  const c = tensor(Array.from(b.toArray()), undefined, { requiresGrad: true });
  const optC = new optim.NAdam([c], { lr: 0.05, weightDecay: 0.01 });
  optC.loadStateDict(saved);
  run(optC, c, grads.slice(2));
  assert.deepEqual(Array.from(c.toArray()), Array.from(a.toArray()));
});

test("errors: NAdam hyperparameters", () => {
  const p = tensor([1], undefined, { requiresGrad: true });
  assert.throws(
    () => new optim.NAdam([p], { betas: [0.9, 1] }),
    /NAdam: invalid betas\[1\] 1 \(must be in \[0, 1\)\)/,
  );
  assert.throws(
    () => new optim.NAdam([p], { betas: [0.9] as unknown as [number, number] }),
    /NAdam: betas must be a pair \[beta1, beta2\], got \[0.9\]/,
  );
  assert.throws(() => new optim.NAdam([p], { momentumDecay: -1 }), /NAdam: invalid momentumDecay -1/);
  assert.throws(() => new optim.NAdam([p], { lr: -0.1 }), /NAdam: invalid lr -0.1/);
});

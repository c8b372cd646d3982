// The autograd engine: accumulation into .grad, retainGraph and the freed-graph error, noGrad/enableGrad,
// detach, which tensors may require gradients, upstream gradients for non-scalar outputs, deep chains
// (no stack overflow) and graphs that reuse a tensor (gradients are summed).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { enableGrad, isGradEnabled, noGrad } from "../../src/autograd/engine.js";

const leaf = (values: number[]) => tensor(values, undefined, { dtype: "float64", requiresGrad: true });
const list = (t: Tensor | null) => Array.from(t!.toArray());

test("gradients accumulate across two backward calls on separate graphs", () => {
  const x = leaf([1, 2, 3]);
  F.sum(F.mul(x, x)).backward();
  assert.deepEqual(list(x.grad), [2, 4, 6]);
  F.sum(F.mul(x, 3)).backward();
  assert.deepEqual(list(x.grad), [5, 7, 9]);
  x.grad = null;
  F.sum(x).backward();
  assert.deepEqual(list(x.grad), [1, 1, 1]);
});

test("retainGraph allows a second backward through the same graph", () => {
  const x = leaf([1, -2]);
  const y = F.sum(F.mul(F.exp(x), x));
  y.backward(undefined, { retainGraph: true });
  const first = list(x.grad);
  y.backward();
  list(x.grad).forEach((v, i) => assert.ok(Math.abs(v - 2 * first[i]) < 1e-15));
  // first = (x + 1)·e^x
  assert.ok(Math.abs(first[0] - 2 * Math.E) < 1e-12);
});

test("a second backward through a freed graph fails with a clear message", () => {
  const x = leaf([1, 2]);
  const y = F.sum(F.mul(x, x));
  y.backward();
  assert.throws(
    () => y.backward(),
    /backward: the graph through 'sum' was already freed .*retainGraph: true/,
  );
});

test("noGrad records no graph and restores the previous mode, even after a throw", () => {
  const x = leaf([1, 2]);
  const y = noGrad(() => F.mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.throws(() => y.sum().backward(), /backward: tensor does not require grad/);
  assert.equal(isGradEnabled(), true);
  assert.throws(() =>
    noGrad(() => {
      throw new Error("boom");
    }),
  );
  assert.equal(isGradEnabled(), true);
  const z = noGrad(() => enableGrad(() => F.mul(x, 2)));
  assert.equal(z.requiresGrad, true);
  assert.ok(z.gradFn);
});

test("detach cuts the graph but keeps the values", () => {
  const x = leaf([1, 2]);
  const d = F.mul(x, 3).detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.isLeaf, true);
  assert.deepEqual(list(d), [3, 6]);
  const y = F.sum(F.add(F.mul(x, d), x));
  y.backward();
  assert.deepEqual(list(x.grad), [4, 7]);
});

test("only float tensors may require gradients; non-leaves cannot turn it off", () => {
  const labels = tensor(new Int32Array([1, 2]));
  assert.throws(
    () => (labels.requiresGrad = true),
    /requiresGrad: only float tensors can require gradients, not int32/,
  );
  assert.throws(
    () => tensor(new Int32Array([1]), undefined, { requiresGrad: true }),
    /requiresGrad: only float tensors can require gradients, not int32/,
  );
  const y = F.mul(leaf([1]), 2);
  assert.throws(
    () => (y.requiresGrad = false),
    /requiresGrad: cannot turn off on a non-leaf tensor; use detach\(\)/,
  );
  assert.equal(tensor([1]).requiresGrad_().requiresGrad, true);
});

test("backward on a non-scalar output needs an upstream gradient of the output's shape", () => {
  const x = leaf([1, 2, 3]);
  const y = F.mul(x, x);
  assert.throws(
    () => y.backward(),
    /backward: an upstream gradient is needed for a non-scalar output of shape \[3\]/,
  );
  assert.throws(
    () => y.backward(tensor([1, 1], undefined, { dtype: "float64" })),
    /backward: upstream shape \[2\] does not match output shape \[3\]/,
  );
  y.backward(tensor([1, 0, -1], undefined, { dtype: "float64" }));
  assert.deepEqual(list(x.grad), [2, 0, -6]);
});

test("only leaves that require grad receive .grad; gradients carry no graph", () => {
  const x = leaf([2]);
  const c = tensor([5], undefined, { dtype: "float64" });
  const h = F.mul(x, c);
  F.sum(F.square(h)).backward();
  assert.equal(h.grad, null);
  assert.equal(c.grad, null);
  assert.deepEqual(list(x.grad), [2 * 10 * 5]);
  assert.equal(x.grad!.requiresGrad, false);
  assert.equal(x.grad!.dtype, "float64");
});

test("a chain of 5,000 sequential ops does not overflow the stack", () => {
  const x = leaf([1, 2]);
  let y: Tensor = x;
  for (let i = 0; i < 5000; i++) y = F.add(y, 0.001);
  F.sum(F.mul(y, y)).backward();
  // d/dx Σ (x + 5)² = 2(x + 5)
  const g = list(x.grad);
  assert.ok(Math.abs(g[0] - 12) < 1e-9 && Math.abs(g[1] - 14) < 1e-9, `${g}`);
});

test("a diamond graph sums the gradients of both paths", () => {
  const x = leaf([1.5, -2]);
  const a = F.mul(x, 3);
  const b = F.exp(x);
  const y = F.sum(F.mul(a, b)); // 3x·e^x, derivative 3e^x(1 + x)
  y.backward();
  const g = list(x.grad);
  [1.5, -2].forEach((v, i) => assert.ok(Math.abs(g[i] - 3 * Math.exp(v) * (1 + v)) < 1e-12));
  const z = leaf([3]);
  F.sum(F.mul(z, z)).backward(); // the same tensor twice in one op
  assert.deepEqual(list(z.grad), [6]);
  const w = leaf([1, 2]);
  const shared = F.mul(w, 2);
  F.sum(F.add(F.add(shared, shared), F.mul(shared, shared))).backward(); // 2s + s², s = 2w
  assert.deepEqual(list(w.grad), [2 * (2 + 2 * 2), 2 * (2 + 2 * 4)]);
});

test("backward releases the graph: closures and saved inputs are dropped", () => {
  const x = leaf([1]);
  const h = F.exp(x);
  const y = F.sum(h);
  y.backward();
  assert.equal(h.gradFn!.backward, null);
  assert.equal(h.gradFn!.inputs.length, 0);
});

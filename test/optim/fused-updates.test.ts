// The fused optimizer updates (one backend kernel per parameter) against the op-by-op formulation they
// replaced, written out here with ops: for every combination of SGD's and Adam/AdamW's options, over
// several steps, in float64 on js and float32 on every computing backend. The kernels round each
// operation in the same order as those ops, so the results must be identical, not just close. Also: the
// updates are pure, and asking for a gradient through one fails with a clear message.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, noGrad, optim, tensor, zerosLike, type DType, type Tensor } from "../../src/index.js";
import { computingBackends } from "../helpers/backends.js";

const { add, div, maximum, mul, neg, sqrt, square, sub } = F;

/** The op-by-op SGD step that sgdUpdate was before fusion (torch's `_single_tensor_sgd`). */
function referenceSgd(param: Tensor, grad: Tensor, state: optim.SGDState, h: optim.SGDHyperparameters) {
  let d = h.maximize ? neg(grad) : grad;
  if (h.weightDecay !== 0) d = add(d, mul(param, h.weightDecay));
  let buf = state.momentumBuffer;
  if (h.momentum !== 0) {
    buf = buf === undefined ? d : add(mul(buf, h.momentum), h.dampening === 0 ? d : mul(d, 1 - h.dampening));
    d = h.nesterov ? add(d, mul(buf, h.momentum)) : buf;
  }
  return { param: sub(param, mul(d, h.lr)), state: buf === undefined ? {} : { momentumBuffer: buf } };
}

/** The op-by-op Adam/AdamW step that adamUpdate/adamwUpdate were before fusion. */
function referenceAdam(
  param: Tensor,
  grad: Tensor,
  state: optim.AdamState,
  h: optim.AdamHyperparameters,
  decoupled: boolean,
) {
  let g = h.maximize ? neg(grad) : grad;
  if (decoupled) {
    if (h.weightDecay !== 0) param = mul(param, 1 - h.lr * h.weightDecay);
  } else if (h.weightDecay !== 0) {
    g = add(g, mul(param, h.weightDecay));
  }
  const [beta1, beta2] = h.betas;
  const step = (state.step ?? 0) + 1;
  const expAvg = add(mul(state.expAvg ?? zerosLike(param), beta1), mul(g, 1 - beta1));
  const expAvgSq = add(mul(state.expAvgSq ?? zerosLike(param), beta2), mul(square(g), 1 - beta2));
  const next: optim.AdamState = { step, expAvg, expAvgSq };
  let second = expAvgSq;
  if (h.amsgrad) {
    next.maxExpAvgSq = maximum(state.maxExpAvgSq ?? zerosLike(param), expAvgSq);
    second = next.maxExpAvgSq;
  }
  const stepSize = h.lr / (1 - beta1 ** step);
  const denom = add(div(sqrt(second), Math.sqrt(1 - beta2 ** step)), h.eps);
  return { param: sub(param, mul(div(expAvg, denom), stepSize)), state: next };
}

// 13 elements (not a multiple of 4: the kernels' scalar tails run too); the first gradient is large so
// that AMSGrad's running maximum differs from the second moment afterwards.
const N = 13;
const P0 = Array.from({ length: N }, (_, i) => Math.sin(i + 1) * 1.5);
const GRADS = [3, 0.2, -0.4, 0.1].map((scale, s) =>
  Array.from({ length: N }, (_, i) => scale * Math.cos(0.7 * i + s)),
);

const settings: { backend: string; dtype: DType }[] = [
  { backend: "js", dtype: "float64" },
  ...computingBackends().map((backend) => ({ backend, dtype: "float32" as DType })),
];

/** Runs `update` and `reference` side by side over GRADS and asserts identical params and state. */
function compareTrajectories<S extends object>(
  what: string,
  backend: string,
  dtype: DType,
  update: (p: Tensor, g: Tensor, s: S) => { param: Tensor; state: S },
  reference: (p: Tensor, g: Tensor, s: S) => { param: Tensor; state: S },
): void {
  const make = (values: number[]) => tensor(values, [N], { dtype, backend });
  let fused = { param: make(P0), state: {} as S };
  let ref = { param: make(P0), state: {} as S };
  GRADS.forEach((g, step) => {
    noGrad(() => {
      fused = update(fused.param, make(g), fused.state);
      ref = reference(ref.param, make(g), ref.state);
    });
    const where = `${what} [${backend} ${dtype}] step ${step + 1}`;
    assert.deepEqual(Array.from(fused.param.toArray()), Array.from(ref.param.toArray()), `${where}: param`);
    assert.deepEqual(Object.keys(fused.state).sort(), Object.keys(ref.state).sort(), `${where}: state keys`);
    for (const [key, value] of Object.entries(ref.state)) {
      const got = (fused.state as Record<string, unknown>)[key];
      if (value instanceof Object && "toArray" in value) {
        const want = Array.from((value as Tensor).toArray());
        assert.deepEqual(Array.from((got as Tensor).toArray()), want, `${where}: state.${key}`);
      } else {
        assert.equal(got, value, `${where}: state.${key}`);
      }
    }
  });
}

const bools = [false, true];

function sgdCombinations(): optim.SGDHyperparameters[] {
  const out: optim.SGDHyperparameters[] = [];
  for (const momentum of [0, 0.9])
    for (const dampening of [0, 0.3])
      for (const nesterov of bools)
        for (const weightDecay of [0, 0.01])
          for (const maximize of bools) {
            if (nesterov && (momentum === 0 || dampening !== 0)) continue;
            out.push({ lr: 0.1, momentum, dampening, nesterov, weightDecay, maximize });
          }
  return out;
}

function adamCombinations(): optim.AdamHyperparameters[] {
  const out: optim.AdamHyperparameters[] = [];
  for (const amsgrad of bools)
    for (const weightDecay of [0, 0.01])
      for (const maximize of bools)
        out.push({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad, maximize });
  return out;
}

for (const { backend, dtype } of settings) {
  test(`sgdUpdate equals the op-by-op SGD for every option combination [${backend} ${dtype}]`, () => {
    const combos = sgdCombinations();
    assert.equal(combos.length, 20);
    for (const h of combos) {
      compareTrajectories<optim.SGDState>(
        `SGD ${JSON.stringify(h)}`,
        backend,
        dtype,
        (p, g, s) => optim.sgdUpdate(p, g, s, h),
        (p, g, s) => referenceSgd(p, g, s, h),
      );
    }
  });

  test(`adamUpdate and adamwUpdate equal the op-by-op Adam/AdamW for every option combination [${backend} ${dtype}]`, () => {
    for (const h of adamCombinations()) {
      compareTrajectories<optim.AdamState>(
        `Adam ${JSON.stringify(h)}`,
        backend,
        dtype,
        (p, g, s) => optim.adamUpdate(p, g, s, h),
        (p, g, s) => referenceAdam(p, g, s, h, false),
      );
      compareTrajectories<optim.AdamState>(
        `AdamW ${JSON.stringify(h)}`,
        backend,
        dtype,
        (p, g, s) => optim.adamwUpdate(p, g, s, h),
        (p, g, s) => referenceAdam(p, g, s, h, true),
      );
    }
  });
}

test("SGD keeps its momentum buffer through steps with momentum 0 (a scheduler may zero it), as torch does", () => {
  const h = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
  const p = tensor(P0, [N], { dtype: "float64" });
  const g = tensor(GRADS[0], [N], { dtype: "float64" });
  const first = optim.sgdUpdate(p, g, {}, h);
  const plain = optim.sgdUpdate(first.param, g, first.state, { ...h, momentum: 0 });
  assert.equal(plain.state.momentumBuffer, first.state.momentumBuffer);
  const ref = referenceSgd(first.param, g, first.state, { ...h, momentum: 0 });
  assert.deepEqual(Array.from(plain.param.toArray()), Array.from(ref.param.toArray()));
});

test("switching AMSGrad on mid-training starts its running maximum at zero, as before fusion", () => {
  const h: optim.AdamHyperparameters = {
    lr: 0.01,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
  };
  const make = (v: number[]) => tensor(v, [N], { dtype: "float64" });
  const first = optim.adamUpdate(make(P0), make(GRADS[0]), {}, h);
  assert.equal(first.state.maxExpAvgSq, undefined);
  const on = { ...h, amsgrad: true };
  const fused = optim.adamUpdate(first.param, make(GRADS[1]), first.state, on);
  const ref = referenceAdam(first.param, make(GRADS[1]), first.state, on, false);
  assert.deepEqual(Array.from(fused.param.toArray()), Array.from(ref.param.toArray()));
  assert.deepEqual(
    Array.from(fused.state.maxExpAvgSq!.toArray()),
    Array.from(ref.state.maxExpAvgSq!.toArray()),
  );
});

for (const backend of computingBackends()) {
  test(`fused updates are pure: inputs and old state unchanged [${backend}]`, () => {
    const p = tensor(P0, [N], { backend });
    const g = tensor(GRADS[0], [N], { backend });
    const h = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01, maximize: false };
    const first = optim.sgdUpdate(p, g, {}, h);
    const buf = Array.from(first.state.momentumBuffer!.toArray());
    const second = optim.sgdUpdate(first.param, g, first.state, h);
    assert.deepEqual(Array.from(p.toArray()), Array.from(new Float32Array(P0)));
    assert.deepEqual(Array.from(g.toArray()), Array.from(new Float32Array(GRADS[0])));
    assert.deepEqual(Array.from(first.state.momentumBuffer!.toArray()), buf);
    assert.notEqual(second.state.momentumBuffer, first.state.momentumBuffer);
  });
}

test("updates refuse to build a graph: asking for gradients through them fails clearly", () => {
  const p = tensor(P0, [N], { requiresGrad: true });
  const g = tensor(GRADS[0], [N]);
  const sgd = { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
  assert.throws(
    () => optim.sgdUpdate(p, g, {}, sgd),
    /sgdUpdate: optimizer updates are not differentiable; run it under noGrad/,
  );
  const adam: optim.AdamHyperparameters = {
    lr: 0.01,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
  };
  assert.throws(
    () => optim.adamwUpdate(p, g, {}, adam),
    /adamwUpdate: optimizer updates are not differentiable/,
  );
  // Under noGrad (what Optimizer.step does) the same call works and returns a plain tensor.
  const next = noGrad(() => optim.sgdUpdate(p, g, {}, sgd));
  assert.equal(next.param.requiresGrad, false);
});

test("updates check that grad and state match the parameter", () => {
  const p = tensor(P0, [N]);
  const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
  assert.throws(
    () => optim.sgdUpdate(p, tensor([1, 2, 3]), {}, sgd),
    /sgdUpdate: grad \[3\] does not match param \[13\]/,
  );
  assert.throws(
    () => optim.sgdUpdate(p, tensor(GRADS[0], [N], { dtype: "float64" }), {}, sgd),
    /sgdUpdate: dtypes differ/,
  );
});

// Optimizer behaviour beyond the torch fixtures: options the fixtures do not cover checked against the
// update rules written out per element in float64, parameter groups, frozen parameters, state-dict round
// trips through JSON, hyperparameter validation, and each optimizer fitting a small linear regression.

import { before, test } from "node:test";
import assert from "node:assert/strict";
import { F, manualSeed, nn, optim, randn, tensor, type Tensor } from "../../src/index.js";
import { initWasm } from "../../src/backend/wasm/index.js";

before(async () => {
  await initWasm({ setDefault: false, threads: 1 });
});

const f64 = (values: number[], requiresGrad = true) =>
  tensor(values, [values.length], { dtype: "float64", requiresGrad });
const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
};

// A gradient sequence with a large first step, so AMSGrad's running max differs from the plain second moment.
const P0 = [0.5, -1.2, 2.0];
const GRADS = [
  [3.0, -2.0, 0.5],
  [0.1, 0.4, -0.2],
  [-0.3, 0.05, 0.1],
  [0.2, -0.1, -0.4],
];

/** Runs `opt` over GRADS on a float64 copy of P0 and returns the trajectory. */
function run(make: (p: Tensor) => optim.Optimizer): number[][] {
  const p = f64(P0);
  const opt = make(p);
  return GRADS.map((g) => {
    p.grad = f64(g, false);
    opt.step();
    return Array.from(p.toArray());
  });
}

/** The same trajectory from a per-element reference rule (state kept per coordinate). */
function reference<S>(init: () => S, rule: (p: number, g: number, s: S, t: number) => number): number[][] {
  const params = [...P0];
  const states = P0.map(init);
  return GRADS.map((g, step) => params.map((p, i) => (params[i] = rule(p, g[i], states[i], step + 1))));
}

test("SGD with dampening and weight decay follows torch's rule", () => {
  const [lr, m, d, wd] = [0.1, 0.8, 0.5, 0.05];
  const ours = run((p) => new optim.SGD([p], { lr, momentum: m, dampening: d, weightDecay: wd }));
  const ref = reference(
    () => ({ buf: NaN }),
    (p, g, s, t) => {
      const dp = g + wd * p;
      s.buf = t === 1 ? dp : m * s.buf + (1 - d) * dp; // the first step copies the gradient, undamped
      return p - lr * s.buf;
    },
  );
  ours.forEach((row, t) => close(row, ref[t], 1e-12, `step ${t + 1}`));
});

test("Adagrad with lrDecay, initialAccumulatorValue and weightDecay follows torch's rule", () => {
  const [lr, decay, init, wd, eps] = [0.5, 0.1, 0.2, 0.01, 1e-10];
  const ours = run(
    (p) => new optim.Adagrad([p], { lr, lrDecay: decay, initialAccumulatorValue: init, weightDecay: wd }),
  );
  const ref = reference(
    () => ({ sum: init }),
    (p, g, s, t) => {
      const dp = g + wd * p;
      s.sum += dp * dp;
      return p - ((lr / (1 + (t - 1) * decay)) * dp) / (Math.sqrt(s.sum) + eps);
    },
  );
  ours.forEach((row, t) => close(row, ref[t], 1e-12, `step ${t + 1}`));
});

test("centred RMSprop with momentum and weight decay follows torch's rule", () => {
  const [lr, alpha, eps, wd, m] = [0.01, 0.9, 1e-8, 0.1, 0.5];
  const ours = run(
    (p) => new optim.RMSprop([p], { lr, alpha, eps, weightDecay: wd, momentum: m, centered: true }),
  );
  const ref = reference(
    () => ({ v: 0, mean: 0, buf: 0 }),
    (p, g, s) => {
      const dp = g + wd * p;
      s.v = alpha * s.v + (1 - alpha) * dp * dp;
      s.mean = alpha * s.mean + (1 - alpha) * dp;
      s.buf = m * s.buf + dp / (Math.sqrt(s.v - s.mean * s.mean) + eps);
      return p - lr * s.buf;
    },
  );
  ours.forEach((row, t) => close(row, ref[t], 1e-12, `step ${t + 1}`));
});

test("Adam and AdamW with AMSGrad follow torch's rules", () => {
  const [lr, b1, b2, eps, wd] = [0.05, 0.8, 0.9, 1e-8, 0.1];
  for (const decoupled of [false, true]) {
    const Optim = decoupled ? optim.AdamW : optim.Adam;
    const ours = run((p) => new Optim([p], { lr, betas: [b1, b2], eps, weightDecay: wd, amsgrad: true }));
    const ref = reference(
      () => ({ m: 0, v: 0, vmax: 0 }),
      (p, g, s, t) => {
        const param = decoupled ? p * (1 - lr * wd) : p;
        const dp = decoupled ? g : g + wd * p;
        s.m = b1 * s.m + (1 - b1) * dp;
        s.v = b2 * s.v + (1 - b2) * dp * dp;
        s.vmax = Math.max(s.vmax, s.v);
        const mHat = s.m / (1 - b1 ** t);
        return param - (lr * mHat) / (Math.sqrt(s.vmax / (1 - b2 ** t)) + eps);
      },
    );
    ours.forEach((row, t) => close(row, ref[t], 1e-12, `${Optim.name} step ${t + 1}`));
    // AMSGrad has to matter on this sequence, or the check above proves nothing about it.
    const plain = run((p) => new Optim([p], { lr, betas: [b1, b2], eps, weightDecay: wd }));
    assert.ok(Math.abs(plain[3][0] - ours[3][0]) > 1e-4, `${Optim.name}: amsgrad made no difference`);
  }
});

const everyOptimizer: [string, (params: optim.Params) => optim.Optimizer][] = [
  ["SGD", (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ["Adagrad", (ps) => new optim.Adagrad(ps, { lr: 0.1, lrDecay: 0.01 })],
  ["RMSprop", (ps) => new optim.RMSprop(ps, { lr: 0.01, momentum: 0.9, centered: true })],
  ["Adam", (ps) => new optim.Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 1e-2 })],
  ["AdamW", (ps) => new optim.AdamW(ps, { lr: 0.01 })],
];

test("maximize steps along +grad: same trajectory as minimising with the negated gradient", () => {
  const makers: [string, (p: Tensor, maximize: boolean) => optim.Optimizer][] = [
    ["SGD", (p, maximize) => new optim.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.1, maximize })],
    ["Adagrad", (p, maximize) => new optim.Adagrad([p], { lr: 0.1, maximize })],
    ["RMSprop", (p, maximize) => new optim.RMSprop([p], { lr: 0.01, momentum: 0.5, maximize })],
    ["Adam", (p, maximize) => new optim.Adam([p], { lr: 0.01, maximize })],
    ["AdamW", (p, maximize) => new optim.AdamW([p], { lr: 0.01, weightDecay: 0.1, maximize })],
  ];
  for (const [name, make] of makers) {
    const a = f64(P0);
    const b = f64(P0);
    const [maxOpt, minOpt] = [make(a, true), make(b, false)];
    for (const g of GRADS) {
      a.grad = f64(g, false);
      b.grad = f64(
        g.map((x) => -x),
        false,
      );
      maxOpt.step();
      minOpt.step();
    }
    close(a.toArray(), b.toArray(), 1e-12, name);
    assert.notDeepEqual(Array.from(a.toArray()), P0, `${name} did not move`);
  }
});

test("parameter groups: per-group lr and momentum override the defaults; schedulable lr", () => {
  const a = f64([1, 2]);
  const b = f64([3, 4]);
  const opt = new optim.SGD(
    [
      { params: [a], lr: 0.5 },
      { params: [b], momentum: 0.9 },
    ],
    { lr: 0.1 },
  );
  assert.equal(opt.paramGroups.length, 2);
  assert.equal(opt.paramGroups[0].lr, 0.5);
  assert.equal(opt.paramGroups[0].momentum, 0);
  assert.equal(opt.paramGroups[1].lr, 0.1);
  assert.equal(opt.paramGroups[1].momentum, 0.9);
  const g = [1, -1];
  a.grad = f64(g, false);
  b.grad = f64(g, false);
  opt.step();
  close(a.toArray(), [1 - 0.5, 2 + 0.5], 1e-15, "group 0 after step 1");
  close(b.toArray(), [3 - 0.1, 4 + 0.1], 1e-15, "group 1 after step 1");
  opt.paramGroups[0].lr = 0.25; // what a scheduler does
  opt.step();
  close(a.toArray(), [0.5 - 0.25, 2.5 + 0.25], 1e-15, "group 0 after lr change");
  // Momentum buffer of group 1: 1 then 0.9·1 + 1 = 1.9.
  close(b.toArray(), [2.9 - 0.1 * 1.9, 4.1 + 0.1 * 1.9], 1e-15, "group 1 with momentum");
});

test("frozen parameters and parameters without a gradient are left untouched", () => {
  for (const [name, make] of everyOptimizer) {
    const trained = f64([1, 2, 3]);
    const frozen = f64([4, 5, 6], false);
    const unused = f64([7, 8, 9]);
    const opt = make([trained, frozen, unused]);
    for (let i = 0; i < 3; i++) {
      trained.grad = f64([0.1, -0.2, 0.3], false);
      frozen.grad = f64([0.1, -0.2, 0.3], false); // a stale gradient must not move a frozen parameter
      opt.step();
    }
    assert.deepEqual(Array.from(frozen.toArray()), [4, 5, 6], `${name}: frozen parameter moved`);
    assert.deepEqual(Array.from(unused.toArray()), [7, 8, 9], `${name}: parameter without grad moved`);
    assert.notDeepEqual(Array.from(trained.toArray()), [1, 2, 3], `${name}: trained parameter did not move`);
    assert.equal(
      opt.state.has(frozen) || opt.state.has(unused),
      false,
      `${name}: state for a skipped parameter`,
    );
    opt.zeroGrad();
    assert.equal(trained.grad, null);
  }
});

test("stateDict survives JSON and a fresh optimizer continues the exact same trajectory", () => {
  const grads = (step: number, n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => Math.sin(1.7 * step + 0.9 * i + offset));
  for (const [name, make] of everyOptimizer) {
    // Two groups (the second with its own lr) and a frozen tensor between them, to exercise the indices.
    const build = (values: number[][]) => {
      const w = tensor(values[0], [2, 2], { requiresGrad: true });
      const frozen = tensor([0], [1]);
      const b = tensor(values[1], [2], { requiresGrad: true });
      const opt = make([{ params: [w, frozen] }, { params: [b], lr: 0.02 }] as optim.Params);
      return { w, b, opt };
    };
    const stepWith = (s: { w: Tensor; b: Tensor; opt: optim.Optimizer }, step: number) => {
      s.w.grad = tensor(grads(step, 4, 0), [2, 2]);
      s.b.grad = tensor(grads(step, 2, 5), [2]);
      s.opt.step();
    };
    const original = build([
      [0.3, -0.4, 0.5, 0.6],
      [0.1, 0.2],
    ]);
    for (let step = 0; step < 3; step++) stepWith(original, step);
    original.opt.paramGroups[1].lr = 0.015; // a scheduled lr is part of the state
    const saved = JSON.parse(JSON.stringify(original.opt.stateDict())) as optim.OptimizerStateDict;
    assert.deepEqual(
      saved.paramGroups.map((g) => g.params),
      [[0, 1], [2]],
    );
    assert.deepEqual(
      Object.keys(saved.state).sort(),
      ["0", "2"],
      `${name}: state only for stepped parameters`,
    );

    const copy = build([Array.from(original.w.toArray()), Array.from(original.b.toArray())]);
    copy.opt.loadStateDict(saved);
    assert.equal(copy.opt.paramGroups[1].lr, 0.015);
    for (let step = 3; step < 6; step++) {
      stepWith(original, step);
      stepWith(copy, step);
    }
    assert.deepEqual(Array.from(copy.w.toArray()), Array.from(original.w.toArray()), `${name}: w diverged`);
    assert.deepEqual(Array.from(copy.b.toArray()), Array.from(original.b.toArray()), `${name}: b diverged`);
  }
});

test("loadStateDict rejects state from a differently shaped optimizer", () => {
  const a = tensor([1, 2, 3], [3], { requiresGrad: true });
  const opt = new optim.Adam([a]);
  a.grad = tensor([1, 1, 1]);
  opt.step();
  const saved = opt.stateDict();
  const other = tensor([1, 2], [2], { requiresGrad: true });
  assert.throws(
    () => new optim.Adam([other]).loadStateDict(saved),
    /saved shape \[3\] does not match parameter \[2\]/,
  );
  const two = new optim.Adam([{ params: [tensor([1, 2, 3])] }, { params: [tensor([1])] }]);
  assert.throws(() => two.loadStateDict(saved), /1 parameter groups, this optimizer has 2/);
  const more = new optim.Adam([tensor([1, 2, 3]), tensor([1])]);
  assert.throws(() => more.loadStateDict(saved), /group 0 has 1 parameters, this optimizer's has 2/);
});

test("invalid hyperparameters and parameters are rejected with clear errors", () => {
  const p = () => tensor([1, 2], [2], { requiresGrad: true });
  const cases: [() => unknown, RegExp][] = [
    [() => new optim.SGD([p()], { lr: -0.1 }), /SGD: invalid lr -0.1 \(must be a finite number >= 0\)/],
    [() => new optim.SGD([p()]), /SGD: lr is required/],
    [() => new optim.SGD([p()], { lr: NaN }), /invalid lr NaN/],
    [() => new optim.SGD([p()], { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0 and dampening 0/],
    [() => new optim.SGD([p()], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /dampening 0/],
    [() => new optim.SGD([p()], { lr: 0.1, momentum: -1 }), /invalid momentum -1/],
    [() => new optim.SGD([p()], { lr: 0.1, weightDecay: -1e-4 }), /invalid weightDecay/],
    [
      () => new optim.Adam([p()], { betas: [1, 0.999] }),
      /Adam: invalid betas\[0\] 1 \(must be in \[0, 1\)\)/,
    ],
    [() => new optim.AdamW([p()], { betas: [0.9, -0.1] }), /AdamW: invalid betas\[1\] -0.1/],
    [() => new optim.Adam([p()], { eps: -1 }), /invalid eps -1/],
    [() => new optim.Adagrad([p()], { lrDecay: -1 }), /invalid lrDecay/],
    [() => new optim.Adagrad([p()], { initialAccumulatorValue: -1 }), /invalid initialAccumulatorValue/],
    [() => new optim.RMSprop([p()], { alpha: 1.5 }), /invalid alpha 1.5/],
    [() => new optim.RMSprop([p()], { momentum: -0.5 }), /invalid momentum/],
    [
      () => new optim.SGD([{ params: [p()] }, { params: [p()], lr: -1 }], { lr: 0.1 }),
      /SGD \(param group 1\): invalid lr -1/,
    ],
    [() => new optim.SGD([], { lr: 0.1 }), /SGD: got an empty parameter list/],
    [
      () => new optim.Adam([tensor([1, 2], [2], { dtype: "int32" })]),
      /int32; only float tensors can be optimized/,
    ],
    [() => new optim.Adam([p().mul(2)]), /was computed by mul; only leaf tensors/],
    [
      () => {
        const shared = p();
        return new optim.Adam([{ params: [shared] }, { params: [shared] }]);
      },
      /already belongs to another parameter group/,
    ],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
  // A hyperparameter broken after construction (by hand or by a scheduler) fails at the next step.
  const q = p();
  const opt = new optim.SGD([q], { lr: 0.1 });
  opt.paramGroups[0].lr = NaN;
  q.grad = tensor([1, 1]);
  assert.throws(() => opt.step(), /SGD: invalid lr NaN/);
});

test("update functions are pure: inputs and the old state are unchanged", () => {
  const param = tensor([1, 2, 3]);
  const grad = tensor([0.5, -0.5, 1]);
  const h = {
    lr: 0.1,
    betas: [0.9, 0.999] as [number, number],
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
  };
  const first = optim.adamUpdate(param, grad, {}, h);
  const before = Array.from(first.state.expAvg!.toArray());
  const second = optim.adamUpdate(first.param, grad, first.state, h);
  assert.deepEqual(Array.from(param.toArray()), [1, 2, 3]);
  assert.deepEqual(Array.from(first.state.expAvg!.toArray()), before);
  assert.equal(first.state.step, 1);
  assert.equal(second.state.step, 2);
});

test("step(closure) evaluates the closure with gradients on and returns its loss", () => {
  const x = f64([2, -1]);
  const opt = new optim.SGD([x], { lr: 0.25 });
  const loss = opt.step(() => {
    opt.zeroGrad();
    const l = x.square().sum();
    l.backward();
    return l.item();
  });
  assert.equal(loss, 5);
  close(x.toArray(), [2 - 0.25 * 4, -1 + 0.25 * 2], 1e-15, "after closure step");
});

test("every optimizer fits a small linear regression (nn.Linear, mseLoss)", () => {
  const configs: [string, (ps: optim.Params) => optim.Optimizer, number][] = [
    ["SGD", (ps) => new optim.SGD(ps, { lr: 0.1 }), 100],
    ["SGD+nesterov", (ps) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }), 100],
    ["Adagrad", (ps) => new optim.Adagrad(ps, { lr: 0.5 }), 100],
    ["RMSprop", (ps) => new optim.RMSprop(ps, { lr: 0.02 }), 150],
    [
      "RMSprop+centered+momentum",
      (ps) => new optim.RMSprop(ps, { lr: 0.01, momentum: 0.5, centered: true }),
      150,
    ],
    ["Adam", (ps) => new optim.Adam(ps, { lr: 0.1 }), 150],
    ["AdamW", (ps) => new optim.AdamW(ps, { lr: 0.1 }), 150],
  ];
  manualSeed(7);
  const x = randn([64, 3]);
  const y = x.matmul(tensor([[1.5], [-2], [0.5]])).add(0.3);
  for (const [name, make, steps] of configs) {
    manualSeed(11);
    const model = new nn.Linear(3, 1);
    const opt = make(model.parameters());
    const lossNow = () => F.mseLoss(model.forward(x), y);
    const initial = lossNow().item();
    let final = initial;
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      const loss = lossNow();
      loss.backward();
      opt.step();
      final = loss.item();
    }
    final = lossNow().item();
    console.log(`  ${name}: mse ${initial.toFixed(3)} -> ${final.toExponential(2)} in ${steps} steps`);
    assert.ok(
      final < 1e-2 * initial,
      `${name}: loss ${initial.toFixed(3)} -> ${final.toExponential(2)} in ${steps} steps`,
    );
  }
});

// In-place updates: from its second step an optimizer overwrites the parameter and state storages it gave
// out itself; anything else (a storage shared with the user's tensor) is updated out of place.
for (const backend of ["js", "wasm"] as const) {
  const makers: [string, (ps: Tensor[]) => optim.Optimizer<never, never>][] = [
    ["SGD momentum", (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }) as never],
    ["AdamW amsgrad", (ps) => new optim.AdamW(ps, { lr: 0.01, amsgrad: true }) as never],
  ];
  for (const [name, make] of makers) {
    test(`${name} on ${backend}: updates in place from the second step, with the out-of-place result`, () => {
      const values = [0.5, -1.2, 2.0, 0.25, -0.75];
      const p = tensor(values, [5], { requiresGrad: true, backend });
      const q = tensor(values, [5], { requiresGrad: true, backend });
      const [inPlace, outOfPlace] = [make([p]), make([q])];
      const initial = p.storage;
      const storages: unknown[] = [];
      for (let step = 0; step < 4; step++) {
        const g = tensor([0.3, -0.1, 0.2 * step, 1, -2], [5], { backend });
        p.grad = g;
        q.grad = g;
        inPlace.step();
        storages.push(p.storage);
        // A fresh copy every step: q never keeps the storage its optimizer gave it, so it never goes in place.
        q.assign(tensor([...q.toArray()], [5], { backend }));
        outOfPlace.step();
      }
      assert.notEqual(
        initial,
        storages[0],
        "the first step allocates (the initial storage is not the optimizer's)",
      );
      assert.equal(storages[0], storages[3], "later steps overwrite the storage the first gave out");
      assert.deepEqual([...p.toArray()], [...q.toArray()]);
    });
  }

  test(`SGD on ${backend}: a parameter sharing the user's tensor is not updated in place`, () => {
    const mine = tensor([1, 2, 3], [3], { backend });
    const p = tensor([0, 0, 0], [3], { requiresGrad: true, backend });
    const opt = new optim.SGD([p], { lr: 0.5, momentum: 0.9 });
    p.grad = tensor([1, 1, 1], [3], { backend });
    opt.step();
    p.assign(mine);
    opt.step();
    assert.deepEqual([...mine.toArray()], [1, 2, 3]);
    assert.notEqual(p.storage, mine.storage);
  });
}

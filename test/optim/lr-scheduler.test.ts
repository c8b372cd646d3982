// Learning-rate schedules beyond the torch fixtures: sequences derived here from each schedule's definition
// (MultiStepLR, LinearWarmup, SequentialLR, ChainedScheduler, three-phase OneCycleLR, ReduceLROnPlateau),
// per-group base lrs, state-dict round trips through JSON, and the validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { optim, tensor } from "../../src/index.js";
import { assertClose } from "../helpers/close.js";

const param = () => tensor([1, 2], [2], { requiresGrad: true });
const sgd = (lr = 0.1, params = [param()]) => new optim.SGD(params, { lr, momentum: 0.9 });

/** The lr of group 0 during epochs 0..n-1 (read before each step, as a training loop sees it). */
function lrsOver(opt: optim.Optimizer, sched: { step(): void }, n: number, group = 0): number[] {
  const out: number[] = [];
  for (let e = 0; e < n; e++) {
    out.push(opt.paramGroups[group].lr);
    sched.step();
  }
  return out;
}

test("MultiStepLR: lr = base·gamma^(milestones passed), repeated milestones counting twice", () => {
  const opt = sgd(0.8);
  const milestones = [9, 2, 5, 5]; // unsorted on purpose
  const sched = new optim.MultiStepLR(opt, { milestones, gamma: 0.5 });
  const expected = Array.from({ length: 12 }, (_, e) => 0.8 * 0.5 ** milestones.filter((m) => m <= e).length);
  assertClose(lrsOver(opt, sched, 12), expected, { atol: 1e-12, rtol: 0 }, "MultiStepLR");
  assert.equal(expected[5], 0.8 * 0.5 ** 3); // the double milestone really applies gamma twice
});

test("LinearWarmup ramps linearly over warmupSteps and then leaves the lr alone", () => {
  const opt = sgd(0.2);
  const sched = new optim.LinearWarmup(opt, { warmupSteps: 4, startFactor: 0.25 });
  const expected = Array.from({ length: 8 }, (_, e) => 0.2 * (0.25 + (0.75 * Math.min(e, 4)) / 4));
  assertClose(lrsOver(opt, sched, 8), expected, { atol: 1e-12, rtol: 0 }, "LinearWarmup");
  assert.deepEqual(expected.slice(4), [0.2, 0.2, 0.2, 0.2]);
});

test("SequentialLR hands over from a warmup to cosine annealing at the milestone", () => {
  const opt = sgd(0.1);
  const warmup = new optim.LinearWarmup(opt, { warmupSteps: 3, startFactor: 0.1 });
  const cosine = new optim.CosineAnnealingLR(opt, { tMax: 5, etaMin: 0.01 });
  const sched = new optim.SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [3] });
  const expected = Array.from({ length: 10 }, (_, e) =>
    e < 3 ? 0.1 * (0.1 + (0.9 * e) / 3) : 0.01 + ((0.1 - 0.01) * (1 + Math.cos((Math.PI * (e - 3)) / 5))) / 2,
  );
  assertClose(lrsOver(opt, sched, 10), expected, { atol: 1e-12, rtol: 0 }, "warmup then cosine");
  assert.deepEqual(sched.getLastLr(), [opt.paramGroups[0].lr]);
});

test("ChainedScheduler multiplies a warmup with an exponential decay", () => {
  const opt = sgd(0.1);
  const sched = new optim.ChainedScheduler([
    new optim.LinearWarmup(opt, { warmupSteps: 4, startFactor: 0.5 }),
    new optim.ExponentialLR(opt, { gamma: 0.9 }),
  ]);
  const expected = Array.from({ length: 8 }, (_, e) => 0.1 * (0.5 + (0.5 * Math.min(e, 4)) / 4) * 0.9 ** e);
  assertClose(lrsOver(opt, sched, 8), expected, { atol: 1e-12, rtol: 0 }, "warmup × exponential");
});

test("CosineAnnealingLR's recursive form equals the closed form, also past tMax", () => {
  const opt = sgd(0.3);
  const sched = new optim.CosineAnnealingLR(opt, { tMax: 7, etaMin: 0.05 });
  const expected = Array.from(
    { length: 25 },
    (_, e) => 0.05 + (0.25 * (1 + Math.cos((Math.PI * e) / 7))) / 2,
  );
  assertClose(lrsOver(opt, sched, 25), expected, { atol: 1e-12, rtol: 0 }, "cosine");
});

test("schedules use each parameter group's own base lr", () => {
  const opt = new optim.SGD([{ params: [param()], lr: 1 }, { params: [param()] }], { lr: 0.1 });
  const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  assertClose(lrsOver(opt, sched, 6, 0), [1, 1, 0.5, 0.5, 0.25, 0.25], { atol: 1e-12, rtol: 0 }, "group 0");
  assert.deepEqual(sched.getLastLr(), [0.125, 0.0125]);
  assert.deepEqual(sched.baseLrs, [1, 0.1]);
});

test("OneCycleLR three-phase linear schedule, cycling Adam's beta1", () => {
  const opt = new optim.Adam([param()], { lr: 1, betas: [0.9, 0.99] });
  const [max, div, finalDiv] = [0.5, 10, 100];
  const sched = new optim.OneCycleLR(opt, {
    maxLr: max,
    totalSteps: 10,
    pctStart: 0.3,
    annealStrategy: "linear",
    divFactor: div,
    finalDivFactor: finalDiv,
    threePhase: true,
  });
  // Phases end at steps 0.3·10−1 = 2, 2·0.3·10−2 = 4 and 10−1 = 9.
  const [lo, end] = [max / div, max / div / finalDiv];
  const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
  const expectedLr = [
    lo,
    lerp(lo, max, 0.5),
    max,
    lerp(max, lo, 0.5),
    lo,
    ...[1, 2, 3, 4, 5].map((k) => lerp(lo, end, k / 5)),
  ];
  const expectedBeta1 = [0.95, 0.9, 0.85, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
  const lrs: number[] = [];
  const betas: number[] = [];
  for (let e = 0; e < 10; e++) {
    lrs.push(opt.paramGroups[0].lr);
    betas.push(opt.paramGroups[0].betas[0]);
    assert.equal(opt.paramGroups[0].betas[1], 0.99);
    sched.step();
  }
  assertClose(lrs, expectedLr, { atol: 1e-12, rtol: 0 }, "lr");
  assertClose(betas, expectedBeta1, { atol: 1e-12, rtol: 0 }, "beta1");
  // The 10th step (the last of a 10-batch loop) holds the final lr; an 11th is one too many, as in torch.
  assert.ok(Math.abs(opt.paramGroups[0].lr - end) < 1e-15);
  assert.throws(() => sched.step(), /OneCycleLR: stepped 11 times, but totalSteps is 10/);
});

test("ReduceLROnPlateau: drops after patience+1 bad epochs, respects threshold, cooldown and minLr", () => {
  const opt = sgd(1);
  const sched = new optim.ReduceLROnPlateau(opt, {
    mode: "min",
    factor: 0.5,
    patience: 2,
    threshold: 0.01,
    thresholdMode: "abs",
    cooldown: 1,
    minLr: 0.2,
  });
  // Derivation, epoch by epoch (best, bad-epoch count, cooldown):
  //  1: 1.0 new best.   2: 0.9 < 1.0−0.01, new best.   3: 0.895 is not below 0.89: bad 1.   4: bad 2.
  //  5: bad 3 > patience → lr 0.5, cooldown 1.   6: 0.8 new best; cooldown ends (count reset).
  //  7, 8: bad 1, 2.   9: bad 3 → lr 0.25, cooldown 1.   10: bad, but in cooldown → not counted.
  //  11, 12: bad 1, 2.   13: bad 3 → 0.125 clipped to minLr 0.2.   14-17: cooldown, then 3 bad → stays 0.2.
  const metrics = [
    1.0, 0.9, 0.895, 0.9, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.9, 0.9, 0.9, 0.9,
  ];
  const expected = [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2];
  const lrs = metrics.map((m) => {
    sched.step(m);
    assert.deepEqual(sched.getLastLr(), [opt.paramGroups[0].lr]);
    return opt.paramGroups[0].lr;
  });
  assert.deepEqual(lrs, expected);
  assert.throws(() => sched.step(NaN), /metric must be a number, got NaN/);
});

test("ReduceLROnPlateau in max mode with a relative threshold", () => {
  const opt = sgd(0.1);
  const sched = new optim.ReduceLROnPlateau(opt, { mode: "max", patience: 0, threshold: 0.1 });
  // Improving needs > best·1.1: 0.5 best; 0.54 not enough → drop; 0.56 > 0.55 best; 0.6 < 0.616 → drop.
  const lrs = [0.5, 0.54, 0.56, 0.6].map((m) => (sched.step(m), opt.paramGroups[0].lr));
  assertClose(lrs, [0.1, 0.01, 0.01, 0.001], { atol: 1e-12, rtol: 0 }, "max/rel");
});

test("scheduler state survives JSON: a fresh optimizer + scheduler continues identically", () => {
  type Stepper = { sched: optim.Scheduler; step: (e: number) => void };
  const metric = (e: number) => [1, 0.9, 0.95, 0.97, 0.99, 0.8, 0.85, 0.9, 0.95, 0.96][e];
  const plain = (sched: optim.Scheduler & { step(): void }): Stepper => ({ sched, step: () => sched.step() });
  const factories: [string, (opt: optim.SGD) => Stepper][] = [
    ["StepLR", (o) => plain(new optim.StepLR(o, { stepSize: 3, gamma: 0.5 }))],
    ["MultiStepLR", (o) => plain(new optim.MultiStepLR(o, { milestones: [2, 6], gamma: 0.3 }))],
    ["ExponentialLR", (o) => plain(new optim.ExponentialLR(o, { gamma: 0.8 }))],
    ["CosineAnnealingLR", (o) => plain(new optim.CosineAnnealingLR(o, { tMax: 6 }))],
    ["LinearWarmup", (o) => plain(new optim.LinearWarmup(o, { warmupSteps: 7, startFactor: 0.1 }))],
    ["OneCycleLR", (o) => plain(new optim.OneCycleLR(o, { maxLr: 0.5, totalSteps: 10 }))],
    [
      "SequentialLR",
      (o) =>
        plain(
          new optim.SequentialLR(o, {
            schedulers: [
              new optim.LinearWarmup(o, { warmupSteps: 3 }),
              new optim.ExponentialLR(o, { gamma: 0.7 }),
            ],
            milestones: [3],
          }),
        ),
    ],
    [
      "ChainedScheduler",
      (o) =>
        plain(
          new optim.ChainedScheduler([
            new optim.LinearWarmup(o, { warmupSteps: 7 }),
            new optim.StepLR(o, { stepSize: 2, gamma: 0.5 }),
          ]),
        ),
    ],
    [
      "ReduceLROnPlateau",
      (o) => {
        const sched = new optim.ReduceLROnPlateau(o, { patience: 1, factor: 0.5 });
        return { sched, step: (e) => sched.step(metric(e)) };
      },
    ],
  ];
  for (const [name, make] of factories) {
    const optA = sgd(0.1);
    const a = make(optA);
    for (let e = 0; e < 4; e++) a.step(e);
    const savedOpt = JSON.parse(JSON.stringify(optA.stateDict())) as optim.OptimizerStateDict;
    const savedSched = JSON.parse(JSON.stringify(a.sched.stateDict())) as Record<string, unknown>;

    const optB = sgd(0.1);
    const b = make(optB);
    b.sched.loadStateDict(savedSched); // scheduler first: the order must not matter
    optB.loadStateDict(savedOpt);
    const seen = (opt: optim.SGD) => [opt.paramGroups[0].lr, opt.paramGroups[0].momentum];
    assert.deepEqual(seen(optB), seen(optA), `${name}: state after load`);
    assert.deepEqual(b.sched.getLastLr(), a.sched.getLastLr(), `${name}: getLastLr after load`);
    for (let e = 4; e < 10; e++) {
      a.step(e);
      b.step(e);
      assert.deepEqual(seen(optB), seen(optA), `${name}: epoch ${e + 1}`);
    }
  }
});

test("invalid scheduler options are rejected with clear errors", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new optim.StepLR(sgd(), { stepSize: 0 }), /StepLR: stepSize must be a positive integer, got 0/],
    [() => new optim.StepLR(sgd(), { stepSize: 2, gamma: -1 }), /StepLR: gamma must be a finite number > 0/],
    [
      () => new optim.MultiStepLR(sgd(), { milestones: [3, 1.5] }),
      /milestones\[1\] must be a positive integer/,
    ],
    [() => new optim.CosineAnnealingLR(sgd(), { tMax: 0 }), /tMax must be a positive integer/],
    [
      () => new optim.LinearWarmup(sgd(), { warmupSteps: 5, startFactor: 0 }),
      /startFactor must be in \(0, 1\]/,
    ],
    [
      () => new optim.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }),
      /pctStart must be in \[0, 1\]/,
    ],
    [
      () => new optim.OneCycleLR(sgd(), { maxLr: [0.1, 0.2], totalSteps: 10 }),
      /maxLr has 2 values for 1 parameter groups/,
    ],
    [() => new optim.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 3 }), /leaves phase 1 without steps/],
    [
      () => new optim.OneCycleLR(new optim.Adagrad([param()]), { maxLr: 0.1, totalSteps: 10 }),
      /Adagrad has neither momentum nor betas; pass cycleMomentum: false/,
    ],
    [() => new optim.ReduceLROnPlateau(sgd(), { factor: 1 }), /factor must be in \[0, 1\), got 1/],
    [() => new optim.ReduceLROnPlateau(sgd(), { mode: "up" as "min" }), /mode must be 'min' or 'max'/],
    [
      () => {
        const opt = sgd();
        return new optim.SequentialLR(opt, {
          schedulers: [new optim.ExponentialLR(opt, { gamma: 0.9 })],
          milestones: [2],
        });
      },
      /expected 0 milestones for 1 schedulers/,
    ],
    [
      () => {
        const opt = sgd();
        const other = new optim.ExponentialLR(sgd(), { gamma: 0.9 });
        return new optim.SequentialLR(opt, {
          schedulers: [new optim.StepLR(opt, { stepSize: 2 }), other],
          milestones: [2],
        });
      },
      /schedulers\[1\] \(ExponentialLR\) is attached to a different optimizer/,
    ],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
  // Adagrad works with OneCycleLR once momentum cycling is off.
  const ada = new optim.Adagrad([param()]);
  new optim.OneCycleLR(ada, { maxLr: 0.1, totalSteps: 10, cycleMomentum: false });
  assert.ok(Math.abs(ada.paramGroups[0].lr - 0.1 / 25) < 1e-15);
});

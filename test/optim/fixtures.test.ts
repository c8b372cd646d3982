// Every case of the torch optimizer and lr-scheduler fixtures, read generically: the fixture's torch
// attribute names (snake_case) map onto our camelCase options, so a new case needs no new code.
// Optimizer trajectories run on every computing backend (the updates are backend kernels).

import { test } from "node:test";
import assert from "node:assert/strict";
import { optim, tensor } from "../../src/index.js";
import { decode, loadFixture, type FixtureCase } from "../helpers/fixtures.js";
import { compareArrays } from "../helpers/close.js";
import { computingBackends } from "../helpers/backends.js";

// torch's names are snake_case, apart from the odd capital (T_max): weight_decay -> weightDecay, T_max -> tMax.
const camel = (name: string) =>
  name.replace(/^[A-Z]/, (c) => c.toLowerCase()).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function camelOptions(attrs: Record<string, unknown> = {}, skip: string[] = []): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(attrs)
      .filter(([k]) => !skip.includes(k))
      .map(([k, v]) => [camel(k), v]),
  );
}

type Ctor = new (params: optim.Params, options: Record<string, unknown>) => optim.Optimizer;
const optimizers: Record<string, Ctor> = {
  sgd: optim.SGD as unknown as Ctor,
  adagrad: optim.Adagrad as unknown as Ctor,
  rmsprop: optim.RMSprop as unknown as Ctor,
  adam: optim.Adam as unknown as Ctor,
  adamw: optim.AdamW as unknown as Ctor,
  nadam: optim.NAdam as unknown as Ctor,
  radam: optim.RAdam as unknown as Ctor,
  lamb: optim.LAMB as unknown as Ctor,
};

// README: "optimizer cases need a little more" than single ops; per-step float32 rounding compounds over 5 steps.
const ATOL = 1e-6;
const RTOL = 1e-5;

for (const backend of computingBackends()) {
  test(`optimizers.json, optimizers_extra.json: every trajectory matches torch [${backend}]`, () => {
    const worst: Record<string, { ratio: number; abs: number; name: string }> = {};
    for (const c of [...loadFixture("optimizers").cases, ...loadFixture("optimizers_extra").cases]) {
      const Optim = optimizers[c.op];
      assert.ok(Optim, `no optimizer for fixture op '${c.op}'`);
      const param = tensor(decode(c.inputs.param), c.inputs.param.shape, { requiresGrad: true, backend });
      const grads = decode(c.inputs.grads);
      const trajectory = decode(c.outputs.trajectory);
      const [steps, n] = c.inputs.grads.shape;
      const opt = new Optim([param], camelOptions(c.attrs));
      for (let s = 0; s < steps; s++) {
        param.grad = tensor(grads.slice(s * n, (s + 1) * n), [n], { backend });
        opt.step();
        const cmp = compareArrays(param.toArray(), trajectory.slice(s * n, (s + 1) * n), ATOL, RTOL);
        assert.ok(
          cmp.worstRatio <= 1,
          `${c.name} step ${s + 1}: max |diff| ${cmp.maxAbs.toExponential(2)} at ${cmp.index} (ratio ${cmp.worstRatio.toFixed(2)})`,
        );
        const w = worst[c.op];
        if (!w || cmp.worstRatio > w.ratio)
          worst[c.op] = { ratio: cmp.worstRatio, abs: cmp.maxAbs, name: c.name };
      }
    }
    for (const [op, w] of Object.entries(worst)) {
      console.log(
        `  ${op} [${backend}]: worst ${w.abs.toExponential(2)} abs, ${(w.ratio * 100).toFixed(1)}% of tolerance (${w.name})`,
      );
    }
    assert.deepEqual(
      Object.keys(worst).sort(),
      Object.keys(optimizers).sort(),
      "every optimizer has a fixture case",
    );
  });
}

function buildScheduler(c: FixtureCase, opt: optim.SGD): optim.Scheduler & { step(): void } {
  const o = camelOptions(c.attrs, ["base_lr"]);
  switch (c.op) {
    case "step_lr":
      return new optim.StepLR(opt, o as unknown as optim.StepLROptions);
    case "exponential_lr":
      return new optim.ExponentialLR(opt, o as unknown as optim.ExponentialLROptions);
    case "cosine_annealing_lr":
      return new optim.CosineAnnealingLR(opt, o as unknown as optim.CosineAnnealingLROptions);
    case "one_cycle_lr":
      return new optim.OneCycleLR(opt, o as unknown as optim.OneCycleLROptions);
    default:
      throw new Error(`no scheduler for fixture op '${c.op}'`);
  }
}

test("lr_schedulers.json: every lr (and momentum) sequence matches torch", () => {
  for (const c of loadFixture("lr_schedulers").cases) {
    const p = tensor([1, 2, 3], [3], { requiresGrad: true });
    // The fixtures doc: "optimizer SGD(lr=0.1, momentum=0.9)"; OneCycleLR ignores the lr it starts with.
    const opt = new optim.SGD([p], { lr: (c.attrs!.base_lr as number | undefined) ?? 0.1, momentum: 0.9 });
    const sched = buildScheduler(c, opt);
    const lrs: number[] = [];
    const momenta: number[] = [];
    for (let e = 0; e < c.outputs.lr.shape[0]; e++) {
      lrs.push(opt.paramGroups[0].lr);
      momenta.push(opt.paramGroups[0].momentum);
      assert.equal(sched.getLastLr()[0], opt.paramGroups[0].lr, `${c.name}: getLastLr at epoch ${e}`);
      // Step the optimizer first, as in a training loop; the update must not disturb the schedule.
      p.grad = tensor([0.1, 0.2, 0.3]);
      opt.step();
      sched.step();
    }
    // lr_values holds torch's float64 numbers; the tensor form is float32-rounded.
    const expected = c.lr_values as number[];
    const cmp = compareArrays(lrs, expected, 1e-12, 1e-9);
    assert.ok(
      cmp.worstRatio <= 1,
      `${c.name}: epoch ${cmp.index} lr ${lrs[cmp.index]} vs torch ${expected[cmp.index]}`,
    );
    let report = `  ${c.name}: lr max |diff| ${cmp.maxAbs.toExponential(2)}`;
    if (c.outputs.momentum) {
      const m = compareArrays(momenta, decode(c.outputs.momentum), 1e-7, 1e-6);
      assert.ok(m.worstRatio <= 1, `${c.name}: epoch ${m.index} momentum ${momenta[m.index]}`);
      report += `, momentum max |diff| ${m.maxAbs.toExponential(2)}`;
    }
    console.log(report);
  }
});

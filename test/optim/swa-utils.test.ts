// AveragedModel, getEmaAvgFn and updateBn against their definitions (torch.optim.swa_utils): the SWA mean
// and the EMA of a sequence of weights, buffers averaged only with useBuffers, torch's state-dict keys, an
// independent deep copy, batch-norm statistics recomputed as the cumulative average over a loader, and the
// errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, optim, tensor, randn, Rng, type Tensor } from "../../src/index.js";

function tinyNet(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.ReLU(), new nn.Linear(4, 2));
}

const flat = (m: nn.Module) => m.parameters().flatMap((p) => Array.from(p.toArray()));

function close(actual: number[], expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tol, `[${i}] ${v} vs ${expected[i]}`));
}

/** Three snapshots of a model's weights, each after moving every parameter. */
function snapshots(model: nn.Module): number[][] {
  const out: number[][] = [];
  const rng = new Rng(2);
  for (let k = 0; k < 3; k++) {
    for (const p of model.parameters()) p.assign(p.add(randn(p.shape, { rng })));
    out.push(flat(model));
  }
  return out;
}

test("AveragedModel (SWA) holds the mean of the weights it was given; state-dict keys are torch's", () => {
  const model = tinyNet();
  const swa = new optim.AveragedModel(model);
  const rngModel = tinyNet();
  const seen: number[][] = [];
  for (const values of snapshots(rngModel)) {
    let i = 0;
    for (const p of model.parameters()) {
      p.assign(tensor(values.slice(i, i + p.size), [...p.shape]));
      i += p.size;
    }
    swa.updateParameters(model);
    seen.push(values);
  }
  assert.equal(swa.nAveraged, 3);
  close(
    flat(swa.module),
    seen[0].map((_, j) => (seen[0][j] + seen[1][j] + seen[2][j]) / 3),
  );
  const keys = [...swa.stateDict().keys()];
  for (const key of ["n_averaged", "module.0.weight", "module.1.running_mean"])
    assert.ok(keys.includes(key), key);
});

test("AveragedModel with getEmaAvgFn: decay·ema + (1-decay)·current after the first copy", () => {
  const model = tinyNet();
  const ema = new optim.AveragedModel(model, { avgFn: optim.getEmaAvgFn(0.9) });
  const history = snapshots(model);
  // snapshots() moved `model` three times; feed the last state twice and check the recurrence.
  ema.updateParameters(model);
  const first = flat(ema.module);
  close(first, history[2]);
  for (const p of model.parameters()) p.assign(p.mul(2));
  ema.updateParameters(model);
  close(
    flat(ema.module),
    first.map((v) => 0.9 * v + 0.1 * 2 * v),
  );
});

test("the averaged copy is independent and computes the same forward; buffers follow only with useBuffers", () => {
  const model = tinyNet().eval();
  const x = randn([5, 3], { rng: new Rng(7) });
  const swa = new optim.AveragedModel(model);
  swa.eval();
  assert.deepEqual((swa.forward(x) as Tensor).toArray(), model.forward(x).toArray());
  for (const p of model.parameters()) p.assign(p.add(1));
  assert.notDeepEqual(flat(swa.module), flat(model));
  const bn = model.modules().find((m) => m instanceof nn.BatchNorm1d) as nn.BatchNorm1d;
  bn.setBuffer("running_mean", tensor([1, 2, 3, 4]));
  const withBuffers = new optim.AveragedModel(model, { useBuffers: true, copy: tinyNet });
  withBuffers.updateParameters(model);
  bn.setBuffer("running_mean", tensor([3, 4, 5, 6]));
  withBuffers.updateParameters(model);
  swa.updateParameters(model);
  swa.updateParameters(model);
  const mean = (m: nn.Module) => Array.from(m.stateDict().get("module.1.running_mean")!.toArray());
  assert.deepEqual(mean(withBuffers), [2, 3, 4, 5]);
  assert.deepEqual(mean(swa), [0, 0, 0, 0]);
});

test("updateBn recomputes running statistics as the cumulative average over the loader", async () => {
  const bnNet = new nn.Sequential(new nn.BatchNorm1d(2));
  const rng = new Rng(11);
  const batches = [0, 1, 2].map(() => randn([4, 2], { rng, std: 2 }));
  bnNet.eval();
  await optim.updateBn(batches, bnNet);
  const bn = bnNet.modules()[1] as nn.BatchNorm1d;
  assert.equal(bnNet.training, false, "the training flag is restored");
  assert.equal(bn.momentum, 0.1, "the momentum is restored");
  const column = (b: Tensor, c: number) => [0, 1, 2, 3].map((r) => b.toArray()[r * 2 + c]);
  for (const c of [0, 1]) {
    const means = batches.map((b) => column(b, c).reduce((s, v) => s + v, 0) / 4);
    const vars = batches.map((b, i) => column(b, c).reduce((s, v) => s + (v - means[i]) ** 2, 0) / 3);
    const state = bn.stateDict();
    close([state.get("running_mean")!.toArray()[c]], [means.reduce((s, v) => s + v) / 3], 1e-5);
    close([state.get("running_var")!.toArray()[c]], [vars.reduce((s, v) => s + v) / 3], 1e-5);
  }
  // The DataLoader's { x } batches and [x, y] tuples work as well.
  await optim.updateBn([{ x: batches[0] }, [batches[1], null] as const], bnNet);
});

test("errors: mismatched models, empty loaders and bad decays", async () => {
  const swa = new optim.AveragedModel(tinyNet());
  assert.throws(
    () => swa.updateParameters(new nn.Sequential(new nn.Linear(3, 2)) as unknown as nn.Sequential),
    /AveragedModel.updateParameters: the model's parameters do not match the averaged copy's: 2 \(first 0.weight \[2,3\]\) vs 6 \(first 0.weight \[4,3\]\)/,
  );
  await assert.rejects(optim.updateBn([], tinyNet()), /updateBn: the loader gave no batches/);
  assert.throws(() => optim.getEmaAvgFn(1.5), /getEmaAvgFn: decay must be in \[0, 1\], got 1.5/);
});

// torch.optim.swa_utils references (test/fixtures/torch/swa_utils.json): the averaged state after three
// snapshots (SWA mean; EMA 0.9 with use_buffers), and the batch-norm statistics after update_bn.
test("AveragedModel and updateBn match torch.optim.swa_utils", async () => {
  const { loadFixture, toTensor, compareArrays } = await import("../helpers/fixtures.js");
  const torchNet = () => new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
  const stateOf = (c: { inputs: Record<string, never> }, i: number) =>
    Object.fromEntries(
      Object.entries(c.inputs)
        .filter(([k]) => k.startsWith(`s${i}.`))
        .map(([k, t]) => [k.slice(`s${i}.`.length), toTensor(t)]),
    );
  for (const c of loadFixture("swa_utils").cases) {
    const model = torchNet();
    let result: nn.Module = model;
    if (c.op === "averaged_model") {
      const decay = c.attrs!.ema_decay as number | null;
      const snapshots = [0, 1, 2].map((i) => stateOf(c as never, i));
      model.loadStateDict(snapshots[0]);
      const averaged = new optim.AveragedModel(model, {
        useBuffers: c.attrs!.use_buffers as boolean,
        avgFn: decay === null ? undefined : optim.getEmaAvgFn(decay),
      });
      for (const state of snapshots) {
        model.loadStateDict(state);
        averaged.updateParameters(model);
      }
      result = averaged.module;
    } else {
      model.loadStateDict(stateOf(c as never, 0));
      const batches = Object.keys(c.inputs)
        .filter((k) => /^b\d$/.test(k))
        .map((k) => toTensor(c.inputs[k]));
      await optim.updateBn(batches, model);
    }
    const state = result.stateDict();
    for (const [key, expected] of Object.entries(c.outputs)) {
      const cmp = compareArrays(state.get(key)!.toArray(), toTensor(expected).toArray(), 1e-5, 1e-4);
      assert.ok(cmp.worstRatio <= 1, `${c.name} ${key}: differs by ${cmp.maxAbs}`);
    }
  }
});

// Hyperparameter search: spaces sample within their ranges and scales, grids and refinement, the search
// strategies on known functions, failed trials, tables and plots; and the notes' claim on real data:
// random coarse-to-fine search finds a learning rate as good as a grid's with fewer trials.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, Rng, manualSeed, nn, noGrad, optim, tensor } from "../../src/index-node.js";
import {
  choice,
  coarseToFine,
  gridConfigs,
  gridSearch,
  intRange,
  logUniform,
  randomSearch,
  refineSpace,
  sampleConfig,
  searchScene,
  successiveHalving,
  uniform,
} from "../../src/tune/index.js";
import { sceneToSvg } from "../../src/viz/plots.js";
import { loadMnist } from "../../src/node/data/index.js";

const space = {
  lr: logUniform(1e-4, 1),
  momentum: uniform(0, 0.99),
  width: intRange(8, 64, { log: true }),
  act: choice(["relu", "tanh"]),
};

test("samples stay in range; log scales spread over decades", () => {
  const rng = new Rng(1);
  const samples = Array.from({ length: 2000 }, () => sampleConfig(space, rng));
  for (const s of samples) {
    assert.ok(s.lr >= 1e-4 && s.lr <= 1 && s.momentum >= 0 && s.momentum <= 0.99);
    assert.ok(Number.isInteger(s.width) && s.width >= 8 && s.width <= 64);
    assert.ok(s.act === "relu" || s.act === "tanh");
  }
  // Log-uniform: each of the four decades gets about a quarter.
  const belowMilli = samples.filter((s) => s.lr < 1e-3).length / samples.length;
  assert.ok(Math.abs(belowMilli - 0.25) < 0.04, `fraction below 1e-3: ${belowMilli}`);
});

test("grids are log-spaced on log scales and cover every choice", () => {
  const grid = gridConfigs({ lr: logUniform(1e-3, 1e-1), act: choice(["a", "b"]) }, 3);
  assert.equal(grid.length, 6);
  assert.deepEqual(
    grid.filter((c) => c.act === "a").map((c) => Number(c.lr.toPrecision(6))),
    [0.001, 0.01, 0.1],
  );
});

test("refineSpace narrows around the best values on their own scale", () => {
  const refined = refineSpace(space, [{ lr: 0.01, momentum: 0.5, width: 16, act: "tanh" }], 0.1);
  const lr = refined.lr as { low: number; high: number };
  // ±10% of 4 decades = ±0.4 decade around 1e-2.
  assert.ok(
    Math.abs(Math.log10(lr.low) + 2.4) < 1e-9 && Math.abs(Math.log10(lr.high) + 1.6) < 1e-9,
    JSON.stringify(lr),
  );
  assert.deepEqual((refined.act as { values: readonly string[] }).values, ["tanh"]);
});

const peakAtCentiLr = (c: { lr: number }) => -((Math.log10(c.lr) + 2) ** 2);

test("random, grid and coarse-to-fine search find the optimum of a known function", async () => {
  const lrSpace = { lr: logUniform(1e-5, 1) };
  const random = await randomSearch(peakAtCentiLr, lrSpace, { trials: 30, mode: "max", seed: 2 });
  assert.ok(Math.abs(Math.log10(random.best.config.lr) + 2) < 0.3, `random best ${random.best.config.lr}`);
  const grid = await gridSearch(peakAtCentiLr, lrSpace, { points: 6, mode: "max" });
  assert.equal(Number(grid.best.config.lr.toPrecision(6)), 0.01);
  const fine = await coarseToFine(peakAtCentiLr, lrSpace, {
    rounds: 3,
    trialsPerRound: 5,
    mode: "max",
    seed: 3,
  });
  assert.equal(fine.trials.length, 15);
  assert.ok(
    Math.abs(Math.log10(fine.best.config.lr) + 2) < 0.1,
    `coarse-to-fine best ${fine.best.config.lr}`,
  );
  const minimised = await randomSearch((c) => -peakAtCentiLr(c), lrSpace, {
    trials: 30,
    mode: "min",
    seed: 2,
  });
  assert.equal(minimised.best.config.lr, random.best.config.lr);
});

test("successive halving gives the survivors eta times the budget", async () => {
  const budgets: number[] = [];
  const result = await successiveHalving(
    (c, ctx) => {
      budgets.push(ctx.budget);
      return peakAtCentiLr(c) - 1 / ctx.budget;
    },
    { lr: logUniform(1e-5, 1) },
    { trials: 9, minBudget: 1, maxBudget: 9, eta: 3, mode: "max", seed: 4 },
  );
  assert.deepEqual(budgets, [...Array(9).fill(1), 3, 3, 3, 9]);
  assert.equal(result.best.budget, 9);
  const firstRung = result.trials.filter((t) => t.round === 0);
  const promoted = result.trials.filter((t) => t.round === 1).map((t) => t.config.lr);
  const topThree = firstRung
    .sort((a, b) => b.score - a.score)
    .slice(0, 3)
    .map((t) => t.config.lr);
  assert.deepEqual(new Set(promoted), new Set(topThree));
});

test("failed trials are recorded with their error and are never best; tables and plots", async () => {
  const result = await randomSearch(
    (c, ctx) => {
      if (ctx.trial === 0) throw new Error("out of memory");
      return ctx.trial === 1 ? NaN : peakAtCentiLr(c);
    },
    { lr: logUniform(1e-3, 1e-1) },
    { trials: 4, mode: "max" },
  );
  assert.deepEqual(
    result.trials.map((t) => t.status),
    ["failed", "failed", "done", "done"],
  );
  assert.equal(result.trials[0].error, "out of memory");
  assert.match(result.trials[1].error!, /returned NaN/);
  assert.ok(result.best.trial >= 2);
  const csv = result.toCSV().trim().split("\n");
  assert.equal(csv[0], "trial,round,budget,status,score,lr,error");
  assert.equal(csv.length, 5);
  assert.equal(result.toJSONL().trim().split("\n").length, 4);
  const svg = sceneToSvg(searchScene(result, { lr: logUniform(1e-3, 1e-1) }));
  assert.equal((svg.match(/<circle/g) ?? []).length, 2);
  await assert.rejects(
    randomSearch(() => NaN, { lr: logUniform(1e-3, 1e-1) }, { trials: 2, mode: "max" }).then((r) => r.best),
    /all 2 trials failed; first error: the objective returned NaN/,
  );
  await assert.rejects(
    randomSearch(peakAtCentiLr, { lr: logUniform(1e-3, 1e-1) }, { trials: 0, mode: "max" }),
    /trials must be a positive integer/,
  );
  assert.throws(() => logUniform(0, 1), /low must be positive/);
});

test("random coarse-to-fine search finds a learning rate within 3x of the best grid value with fewer trials", async (t) => {
  const digits = await loadMnist({ split: "train" });
  const n = 512;
  const x = tensor(digits.images.slice(0, n * 784), [n, 784]);
  const y = tensor(digits.labels.slice(0, n), [n], { dtype: "int32" });
  const [xVal, yVal] = [
    tensor(digits.images.slice(n * 784, 2 * n * 784), [n, 784]),
    tensor(digits.labels.slice(n, 2 * n), [n], { dtype: "int32" }),
  ];
  // Validation loss of a small MLP after 2 epochs of plain SGD: too small an lr learns nothing, too large
  // diverges (a NaN loss fails the trial).
  const validationLoss = ({ lr }: { lr: number }) => {
    manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(784, 32), new nn.ReLU(), new nn.Linear(32, 10));
    const opt = new optim.SGD(model.parameters(), { lr });
    for (let epoch = 0; epoch < 2; epoch++)
      for (let i = 0; i < n; i += 32) {
        const loss = F.crossEntropy(model.forward(x.slice(0, i, i + 32)), y.slice(0, i, i + 32));
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
    return noGrad(() => F.crossEntropy(model.forward(xVal), yVal).item());
  };
  const lrSpace = { lr: logUniform(1e-4, 10) };
  const grid = await gridSearch(validationLoss, lrSpace, { points: 11, mode: "min" });
  const search = await coarseToFine(validationLoss, lrSpace, {
    rounds: 2,
    trialsPerRound: 4,
    keep: 2,
    mode: "min",
    seed: 1,
  });
  const [gridBest, searchBest] = [grid.best.config.lr, search.best.config.lr];
  t.diagnostic(
    `grid (11 trials) best lr ${gridBest.toPrecision(3)} loss ${grid.best.score.toFixed(4)}; coarse-to-fine (8 trials) best lr ${searchBest.toPrecision(3)} loss ${search.best.score.toFixed(4)}`,
  );
  assert.ok(search.trials.length < grid.trials.length);
  assert.ok(
    searchBest / gridBest < 3 && gridBest / searchBest < 3,
    `search ${searchBest} vs grid ${gridBest}`,
  );
});

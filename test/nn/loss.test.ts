// Loss modules: values against direct formulas for each reduction, label smoothing, gradients reaching the
// input, and errors that name the loss and the shapes (values against torch are in fixtures.test.ts).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nn, randn, Rng, tensor } from "../../src/index.js";
import { runLayerTest } from "../helpers/layer.js";

const rng = new Rng(23);
const labels = tensor([2, 0, 1, 2], [4], { dtype: "int32" });

runLayerTest("CrossEntropyLoss()", {
  make: () => new nn.CrossEntropyLoss(),
  inputs: () => [randn([4, 3], { rng }), labels],
  outputShape: [],
  params: [],
  paramCount: 0,
});

runLayerTest("MSELoss({ reduction: 'none' })", {
  make: () => new nn.MSELoss({ reduction: "none" }),
  inputs: () => [randn([4, 3], { rng }), randn([4, 3], { rng })],
  outputShape: [4, 3],
  params: [],
  paramCount: 0,
});

const close = (a: number, b: number, tol = 1e-5) =>
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);

describe("loss modules", () => {
  const logits = [
    [1, 2, 0.5],
    [0.3, -1, 2],
    [2, 2, 2],
    [-1, 0, 4],
  ];
  const targets = [2, 0, 1, 2];
  const logSoftmax = (row: number[]) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return row.map((v) => v - lse);
  };
  const nll = logits.map((row, i) => -logSoftmax(row)[targets[i]]);

  it("CrossEntropyLoss: mean, sum and none of -log softmax at the label", () => {
    const x = tensor(logits);
    const mean = nll.reduce((a, b) => a + b) / nll.length;
    close(new nn.CrossEntropyLoss().forward(x, labels).item(), mean);
    close(new nn.CrossEntropyLoss({ reduction: "sum" }).forward(x, labels).item(), mean * 4);
    const none = new nn.CrossEntropyLoss({ reduction: "none" }).forward(x, labels);
    assert.deepEqual(none.shape, [4]);
    none.toArray().forEach((v, i) => close(v, nll[i]));
  });

  it("CrossEntropyLoss with label smoothing eps: (1-eps)·nll + eps·mean over classes of -log p", () => {
    const eps = 0.2;
    const smoothed = logits.map((row, i) => {
      const lp = logSoftmax(row);
      return (1 - eps) * -lp[targets[i]] + (eps * -lp.reduce((a, b) => a + b)) / row.length;
    });
    const loss = new nn.CrossEntropyLoss({ labelSmoothing: eps });
    assert.equal(loss.labelSmoothing, eps);
    close(loss.forward(tensor(logits), labels).item(), smoothed.reduce((a, b) => a + b) / 4);
  });

  it("NLLLoss on LogSoftmax output equals CrossEntropyLoss", () => {
    const x = tensor(logits);
    const viaNll = new nn.NLLLoss().forward(new nn.LogSoftmax().forward(x), labels).item();
    close(viaNll, nll.reduce((a, b) => a + b) / 4);
  });

  it("MSELoss, L1Loss and BCEWithLogitsLoss follow their formulas", () => {
    const a = [0.5, -1, 2, 3];
    const b = [1, 1, 0, 1];
    const x = tensor(a);
    const t = tensor(b);
    close(new nn.MSELoss().forward(x, t).item(), a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / 4);
    close(
      new nn.L1Loss({ reduction: "sum" }).forward(x, t).item(),
      a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0),
    );
    const bce = a.map((v, i) => {
      const p = 1 / (1 + Math.exp(-v));
      return -(b[i] * Math.log(p) + (1 - b[i]) * Math.log(1 - p));
    });
    close(new nn.BCEWithLogitsLoss().forward(x, t).item(), bce.reduce((s, v) => s + v) / 4);
  });

  it("rejects bad options and mismatched shapes with the loss named", () => {
    assert.throws(
      () => new nn.MSELoss({ reduction: "avg" as "mean" }),
      /MSELoss: reduction must be 'mean', 'sum' or 'none', got 'avg'/,
    );
    assert.throws(
      () => new nn.CrossEntropyLoss({ labelSmoothing: 1.5 }),
      /CrossEntropyLoss: labelSmoothing must be in \[0, 1\]/,
    );
    assert.throws(
      () => new nn.L1Loss().forward(randn([4, 3]), randn([4, 1])),
      /L1Loss: input \[4,3\] and target \[4,1\] must have the same shape/,
    );
    assert.throws(
      () => new nn.CrossEntropyLoss().forward(randn([4, 3]), tensor([0, 1], [2], { dtype: "int32" })),
      /crossEntropy: target \[2\] does not match input \[4,3\]/,
    );
  });
});

// Issue 15: loss modules and their options.
describe("issue-15 loss modules", () => {
  const scores = () => randn([4, 3], { rng });
  it("hold their options and match the functional losses", async () => {
    const { F } = await import("../../src/index.js");
    const x = scores();
    const w = tensor([1, 2, 0.5]);
    const pairs: [nn.Module & { forward(a: unknown, b: unknown): { item(): number } }, number][] = [
      [
        new nn.CrossEntropyLoss({ weight: w, ignoreIndex: 1 }),
        F.crossEntropy(x, labels, { weight: w, ignoreIndex: 1 }).item(),
      ],
      [new nn.NLLLoss({ weight: w }), F.nllLoss(x, labels, { weight: w }).item()],
      [
        new nn.MultiMarginLoss({ p: 2, margin: 0.5 }),
        F.multiMarginLoss(x, labels, { p: 2, margin: 0.5 }).item(),
      ],
    ];
    for (const [loss, expected] of pairs)
      assert.equal(loss.forward(x, labels).item(), expected, loss.constructor.name);
    const t = scores();
    assert.equal(
      new nn.SmoothL1Loss({ beta: 0.3 }).forward(x, t).item(),
      F.smoothL1Loss(x, t, { beta: 0.3 }).item(),
    );
    assert.equal(
      new nn.HuberLoss({ delta: 0.3 }).forward(x, t).item(),
      F.huberLoss(x, t, { delta: 0.3 }).item(),
    );
    const lp = F.logSoftmax(x, 1);
    const q = F.softmax(t, 1);
    assert.equal(
      new nn.KLDivLoss({ reduction: "batchmean" }).forward(lp, q).item(),
      F.klDiv(lp, q, { reduction: "batchmean" }).item(),
    );
  });

  it("keep class weights as the buffer 'weight', as torch's state dict does", () => {
    const loss = new nn.CrossEntropyLoss({ weight: tensor([1, 2, 3]) });
    assert.deepEqual([...loss.stateDict().keys()], ["weight"]);
    assert.deepEqual([...new nn.CrossEntropyLoss().stateDict().keys()], []);
  });

  it("errors: bad options name the loss", () => {
    assert.throws(
      () => new nn.CrossEntropyLoss({ weight: tensor([[1, 2]]) }),
      /CrossEntropyLoss: weight must be 1-D \[C\], got \[1,2\]/,
    );
    assert.throws(
      () => new nn.NLLLoss({ ignoreIndex: 1.5 }),
      /NLLLoss: ignoreIndex must be an integer, got 1.5/,
    );
    assert.throws(() => new nn.MultiMarginLoss({ p: 0 as 1 }), /MultiMarginLoss: p must be 1 or 2, got 0/);
    assert.throws(
      () => new nn.MultiMarginLoss({ margin: Infinity }),
      /MultiMarginLoss: margin must be a finite number/,
    );
    assert.throws(
      () => new nn.SmoothL1Loss({ beta: -1 }),
      /SmoothL1Loss: beta must be a non-negative number, got -1/,
    );
    assert.throws(() => new nn.HuberLoss({ delta: 0 }), /HuberLoss: delta must be a positive number, got 0/);
    assert.throws(
      () => new nn.KLDivLoss({ reduction: "avg" as "sum" }),
      /KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or 'none', got 'avg'/,
    );
  });
});

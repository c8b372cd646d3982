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

// withBackwardOverride: a primitive's backward swapped for the ops recorded inside one call — for nn.ReLU
// modules and F.relu alike, fixed at recording time, nested overrides, and clear errors. The saved slot:
// what a forward keeps for its backward rides on the node until backward has used it.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { nn, tensor, type Tensor } from "../../src/index.js";
import { withBackwardOverride, type BackwardOverride } from "../../src/autograd/primitive.js";

const leaf = (values: number[]) => tensor(values, undefined, { dtype: "float64", requiresGrad: true });
const list = (t: Tensor | null) => Array.from(t!.toArray());

// Multiplies the incoming gradient by 10 wherever it goes through relu.
const times10: BackwardOverride = (g) => [g.mul(10)];

test("an override replaces relu's backward for ops recorded inside the call only", () => {
  const x = leaf([-1, 2, 3]);
  const inside = withBackwardOverride({ relu: times10 }, () => F.relu(x));
  const outside = F.relu(x);
  // The backward runs after the call returned: the override was fixed when the op was recorded.
  F.sum(F.mul(inside, tensor([1, 2, 3], undefined, { dtype: "float64" }))).backward();
  assert.deepEqual(list(x.grad), [10, 20, 30]);
  x.grad = null;
  F.sum(outside).backward();
  assert.deepEqual(list(x.grad), [0, 1, 1]);
});

test("the override covers nn.ReLU modules and F.relu inside a forward() alike", () => {
  class Mixed extends nn.Module {
    act = new nn.ReLU();
    forward(x: Tensor): Tensor {
      return F.relu(this.act.forward(x).mul(2));
    }
  }
  const x = leaf([1, -1]);
  withBackwardOverride({ relu: times10 }, () => F.sum(new Mixed().forward(x)).backward());
  // Two relus on the path, each ×10, times the ×2 in between; the negative input gets 200 too (no mask).
  assert.deepEqual(list(x.grad), [200, 200]);
});

test("nested overrides: the innermost wins per primitive, the outer one still applies to the others", () => {
  const x = leaf([0.5, -0.5]);
  const plusOne: BackwardOverride = (g) => [g.add(1)];
  const y = withBackwardOverride({ relu: times10, tanh: times10 }, () =>
    withBackwardOverride({ relu: plusOne }, () => F.sum(F.tanh(F.relu(x)))),
  );
  y.backward();
  // d/dx: relu's override gives (g + 1) where g = tanh's override (1 · 10) = 11 for both.
  assert.deepEqual(list(x.grad), [11, 11]);
});

test("the override sees the op's inputs and output (guided backprop's rule)", () => {
  const x = leaf([-2, 1, 3]);
  const guided: BackwardOverride = (g, [input]) => [g.relu().mul(F.compare("gt", input, 0))];
  const y = withBackwardOverride({ relu: guided }, () => F.relu(x));
  y.backward(tensor([5, -4, 2], undefined, { dtype: "float64" }));
  assert.deepEqual(list(x.grad), [0, 0, 2]);
});

test("unknown primitives, non-functions and async bodies are rejected clearly", () => {
  assert.throws(
    // @ts-expect-error a misspelt primitive is a type error first
    () => withBackwardOverride({ rleu: times10 }, () => 0),
    /withBackwardOverride: no primitive named 'rleu'; primitives are .*relu/,
  );
  assert.throws(
    () => withBackwardOverride({ relu: 3 as unknown as BackwardOverride }, () => 0),
    /the override for 'relu' must be a function/,
  );
  assert.throws(
    () => withBackwardOverride({ relu: times10 }, () => Promise.resolve(1)),
    /fn must be synchronous/,
  );
  // A failed body leaves no override behind.
  const x = leaf([1]);
  assert.throws(() =>
    withBackwardOverride({ relu: times10 }, () => {
      throw new Error("boom");
    }),
  );
  F.sum(F.relu(x)).backward();
  assert.deepEqual(list(x.grad), [1]);
});

test("what a forward saves rides on its node until backward, which empties the slot", () => {
  const x = tensor([1, 5, 2, 3, 0, 4, 8, 7, 6], [1, 1, 3, 3], { dtype: "float64", requiresGrad: true });
  const { output, indices } = F.maxPool2dWithIndices(x, 2, { stride: 1 });
  // The indices the op hands out are the ones its backward routes the gradient with.
  assert.equal(output.gradFn!.saved, indices);
  assert.deepEqual(Array.from(indices.toArray()), [1, 1, 6, 7]);
  const node = output.gradFn!;
  F.sum(output).backward(undefined, { retainGraph: true });
  assert.equal(node.saved, indices, "a retained graph keeps its saved values");
  F.sum(output).backward();
  assert.equal(node.saved, undefined);
  // Each window's maximum got its output's gradient in both passes; 5 is the maximum of two windows.
  assert.deepEqual(list(x.grad), [0, 4, 0, 0, 0, 0, 2, 2, 0]);
});

test("an override receives the saved values as its fifth argument", () => {
  const logits = tensor([[2, 1, 0]], undefined, { dtype: "float64", requiresGrad: true });
  let seen: unknown = null;
  const spy: BackwardOverride = (g, inputs, _y, _a, logProbs) => {
    seen = logProbs;
    return [g.reshape([1, 1]).mul(F.softmax(inputs[0], 1)), null];
  };
  withBackwardOverride({ softmaxCrossEntropy: spy }, () =>
    F.crossEntropy(logits, tensor([0], undefined, { dtype: "int32" })),
  ).backward();
  // The cross-entropy forward saved log-softmax of the logits.
  const want = Array.from(F.logSoftmax(logits, 1).toArray());
  assert.deepEqual(Array.from((seen as Tensor).toArray()), want);
});

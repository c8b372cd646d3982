// Module hooks that change autograd: a forward hook returning a Tensor replaces the output, and full
// backward hooks see and replace gradients at a module's boundary (torch's register_full_backward_hook).

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, nn, tensor, type Tensor } from "../../src/index.js";

const leaf = (values: number[], shape?: number[]) =>
  tensor(values, shape, { dtype: "float64", requiresGrad: true });
const list = (t: Tensor | null) => Array.from(t!.toArray());

class Scale extends nn.Module {
  constructor(readonly factor: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.factor);
  }
}

test("a forward hook returning a Tensor replaces the output; other return values are ignored", () => {
  const layer = new Scale(2);
  const counted: unknown[] = [];
  const h1 = layer.registerForwardHook((_m, _in, out) => counted.push(out)); // returns a number: ignored
  const h2 = layer.registerForwardHook((_m, _in, out) => (out as Tensor).add(1));
  assert.deepEqual(list(layer.forward(leaf([1, 2]))), [3, 5]);
  h2.remove();
  assert.deepEqual(list(layer.forward(leaf([1, 2]))), [2, 4]);
  h1.remove();
  assert.equal(counted.length, 2);
});

test("a backward hook sees dL/d(input) and dL/d(output) of the module", () => {
  const model = new nn.Sequential(new Scale(3), new Scale(5));
  const seen: { gin: number[]; gout: number[] }[] = [];
  const handle = model.at(0).registerFullBackwardHook((_m, gin, gout) => {
    seen.push({ gin: list(gin[0]), gout: list(gout[0]) });
  });
  const x = leaf([1, 2]);
  F.sum(model.forward(x).mul(tensor([1, 10], undefined, { dtype: "float64" }))).backward();
  assert.deepEqual(seen, [{ gin: [15, 150], gout: [5, 50] }]);
  assert.deepEqual(list(x.grad), [15, 150]);
  handle.remove();
  x.grad = null;
  F.sum(model.forward(x)).backward();
  assert.equal(seen.length, 1, "a removed hook no longer runs");
});

test("a backward hook's return value replaces the gradient w.r.t. the input", () => {
  const relu = new nn.ReLU();
  // Deconvnet's rule on a module: ReLU applied to the backward signal, the forward mask ignored.
  relu.registerFullBackwardHook((_m, _gin, gout) => [gout[0].relu()]);
  const x = leaf([-1, 2, -3, 4]);
  relu.forward(x).backward(tensor([1, -1, 1, -1], undefined, { dtype: "float64" }));
  assert.deepEqual(list(x.grad), [1, 0, 1, 0]);
});

test("hooks chain: each sees the gradient the previous one returned", () => {
  const layer = new Scale(1);
  const order: number[][] = [];
  layer.registerFullBackwardHook((_m, gin) => [gin[0]!.mul(2)]);
  layer.registerFullBackwardHook((_m, gin) => {
    order.push(list(gin[0]));
  });
  const x = leaf([1]);
  layer.forward(x).backward();
  assert.deepEqual(order, [[2]]);
  assert.deepEqual(list(x.grad), [2]);
});

test("with no input needing a gradient the hook still sees gradOutput, with gradInput [null]", () => {
  const conv = new nn.Conv2d(1, 1, 1, { bias: false });
  const seen: (number[] | null)[][] = [];
  conv.registerFullBackwardHook((_m, gin, gout) => {
    seen.push([gin[0] ? list(gin[0]) : null, list(gout[0])]);
  });
  const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
  F.sum(conv.forward(x)).backward();
  assert.deepEqual(seen, [[null, [1, 1, 1, 1]]]);
});

test("a module called twice runs its backward hook once per call", () => {
  const layer = new Scale(2);
  let calls = 0;
  layer.registerFullBackwardHook(() => {
    calls++;
  });
  const x = leaf([1]);
  layer.forward(layer.forward(x)).backward();
  assert.equal(calls, 2);
  assert.deepEqual(list(x.grad), [4]);
});

test("bad replacements and unsupported modules are rejected with the module's name", () => {
  const layer = new Scale(1);
  const handle = layer.registerFullBackwardHook(() => [tensor([1, 2, 3], undefined, { dtype: "float64" })]);
  assert.throws(
    () => layer.forward(leaf([1, 2])).backward(tensor([1, 1], undefined, { dtype: "float64" })),
    /backward hook on Scale: gradInput\[0\] has shape \[3\] but the gradient it replaces is \[2\]/,
  );
  handle.remove();
  layer.registerFullBackwardHook(() => [] as Tensor[]);
  assert.throws(() => layer.forward(leaf([1])).backward(), /must return 1 gradient\(s\)/);

  class Pair extends nn.Module {
    forward(a: Tensor, b: Tensor): Tensor {
      return a.add(b);
    }
  }
  const pair = new Pair();
  pair.registerFullBackwardHook(() => {});
  assert.throws(() => pair.forward(leaf([1]), leaf([2])), /Pair was called with 2 tensors that require/);

  class Tuple extends nn.Module {
    forward(a: Tensor): Tensor[] {
      return [a, a];
    }
  }
  const tuple = new Tuple();
  tuple.registerFullBackwardHook(() => {});
  assert.throws(
    () => tuple.forward(leaf([1])),
    /Tuple.forward returned object; backward hooks need a module that returns one Tensor/,
  );
});

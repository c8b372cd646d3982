// Module.forward without gradients frees each module's intermediates when it returns (wasm scopes), unless
// hooks are registered; what a forward() stores on its module survives; training forwards are untouched.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { F, memory, nn, noGrad, randn, type Tensor } from "../../src/index.js";
import { initWasm } from "../../src/backend/wasm/index.js";
import { registerGlobalForwardHook } from "../../src/nn/module.js";

const W = { backend: "wasm" } as const;
const live = () => memory("wasm").storages;

before(async () => {
  await initWasm({ setDefault: false, threads: 1 });
});

/** conv → batch norm → relu → pool → flatten → linear: five intermediates between input and output. */
function smallNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 4, 3, { padding: 1, ...W }),
    new nn.BatchNorm2d(4, W),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 5, W),
  ).eval();
}

class Remembers extends nn.Module {
  last: Tensor | null = null;
  forward(x: Tensor): Tensor {
    this.last = F.mul(x, 2);
    return F.add(this.last, 1);
  }
}

describe("Module.forward without gradients", () => {
  it("leaves only the output alive", () => {
    const net = smallNet();
    const x = randn([2, 3, 8, 8], W);
    const before = live();
    const y = noGrad(() => net.forward(x));
    assert.deepEqual(y.shape, [2, 5]);
    assert.equal(live(), before + 1);
  });

  it("gives the same output as a forward that keeps its intermediates", () => {
    const net = smallNet();
    const x = randn([2, 3, 8, 8], W);
    const scoped = noGrad(() => net.forward(x)).toArray();
    const handle = registerGlobalForwardHook(() => {});
    try {
      const kept = noGrad(() => net.forward(x)).toArray();
      assert.deepEqual([...scoped], [...kept]);
    } finally {
      handle.remove();
    }
  });

  it("keeps every intermediate while a hook is registered, for the hook to read", () => {
    const net = smallNet();
    const x = randn([2, 3, 8, 8], W);
    const seen: Tensor[] = [];
    const handle = net.children()[0].registerForwardHook((_m, _in, out) => seen.push(out as Tensor));
    try {
      const before = live();
      noGrad(() => net.forward(x));
      assert.ok(
        live() >= before + 6,
        `expected the 5 intermediates and the output alive, got ${live() - before}`,
      );
      assert.deepEqual(seen[0].shape, [2, 4, 8, 8]);
      assert.equal(seen[0].toArray().length, 2 * 4 * 8 * 8);
    } finally {
      handle.remove();
    }
    // Removing the hook turns the release back on.
    const before = live();
    noGrad(() => net.forward(x));
    assert.equal(live(), before + 1);
  });

  it("keeps what a forward() stored on its module", () => {
    const m = new Remembers();
    const x = randn([3], W);
    const y = noGrad(() => m.forward(x));
    assert.deepEqual(
      [...m.last!.toArray()].map((v) => v + 1),
      [...y.toArray()],
    );
  });

  it("does not touch forwards that record gradients", () => {
    const net = smallNet().train();
    const x = randn([2, 3, 8, 8], W);
    const loss = F.sum(net.forward(x));
    loss.backward();
    for (const p of net.parameters()) assert.ok(p.grad !== null, "every parameter has a gradient");
  });
});

describe("Module<In, Out>", () => {
  /** Two inputs and a non-tensor output: the signature reaches callers through the class. */
  class ScaledSum extends nn.Module<[a: Tensor, b: Tensor], { sum: Tensor }> {
    forward(a: Tensor, b: Tensor): { sum: Tensor } {
      return { sum: F.mul(F.add(a, b), 2) };
    }
  }

  it("types a child's forward by its module type, with hooks still seeing every call", () => {
    const seen: unknown[] = [];
    const handle = registerGlobalForwardHook((_m, inputs) => seen.push(inputs.length));
    try {
      const layer: nn.TensorModule = new nn.ReLU();
      const relu: Tensor = layer.forward(randn([2, 3]));
      const { sum } = new ScaledSum().forward(relu, relu);
      assert.deepEqual(sum.shape, [2, 3]);
      assert.deepEqual(seen, [1, 2]);
    } finally {
      handle.remove();
    }
  });

  it("keeps a module of unknown signature uncallable until it is typed", () => {
    const untyped: nn.Module = new nn.Identity();
    // @ts-expect-error Module's forward takes `never`: an untyped module cannot be called by mistake
    const out = untyped.forward(randn([1]));
    assert.deepEqual((out as Tensor).shape, [1]);
  });
});

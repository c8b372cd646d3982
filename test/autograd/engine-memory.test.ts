// The memory model of training without scope() (docs/design.md, "Memory") on the wasm backend: a module's
// forward hands its intermediates to the graph and backward frees them; tensors the user holds stay valid
// across backward (spilled to JavaScript and brought back on use); an intermediate a forward leaked
// elsewhere throws the clear message; and hand-written loops keep live storages and wasm memory exactly
// flat with no collection forced. The README loop and the DataLoader loop run 1,000 steps here (marks at
// 500 and 1,000); `npm run soak:memory` runs both for 5,000 (marks at 1,000 and 5,000).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { F, memory, nn, randn, randint, resetPeakMemory, tensor, type Tensor } from "../../src/index.js";
import { initWasm, type WasmBackend } from "../../src/backend/wasm/index.js";
import { loaderLoop, readmeLoop, type Mark } from "./loops.js";

const W = { backend: "wasm" } as const;
const live = () => memory("wasm").storages;
const MiB = 1 << 20;

let wasm: WasmBackend;
before(async () => {
  wasm = await initWasm({ threads: 1 });
});

class Net extends nn.Module {
  features = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2));
  classifier = new nn.Sequential(
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 3),
    new nn.ReLU(),
    new nn.Linear(3, 3),
  );
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x));
  }
}

/** Leaks an intermediate of its forward into an array the scope cannot see. */
const leaked: Tensor[] = [];
class Leaky extends nn.Module {
  lin = new nn.Linear(3, 3);
  forward(x: Tensor): Tensor {
    const hidden = this.lin.forward(x).relu();
    leaked.push(hidden);
    return hidden.mul(2);
  }
}

describe("memory of a step without scope()", () => {
  it("frees a forward's intermediates in backward, leaving parameters, gradients and what the user holds", () => {
    const net = new Net();
    const step = () => {
      const x = randn([2, 1, 8, 8]);
      const out = net.forward(x);
      const loss = F.crossEntropy(out, randint(0, 3, [2]));
      const during = live();
      loss.backward();
      return { out, loss, during };
    };
    step();
    // After a step: the parameters and their gradients. Everything else is gone: the forward's intermediates
    // freed, the tensors the user holds (x, out, loss) moved out of the wasm memory without being lost.
    const after = live();
    const second = step();
    assert.ok(second.during > after + 8, `the forward's intermediates were alive (${second.during - after})`);
    assert.equal(live(), after, `${live() - after} storages more than after the first step`);
    assert.ok(Number.isFinite(second.loss.item()));
    assert.equal(second.out.toArray().length, 6);
    assert.ok(net.parameters().every((p) => p.grad !== null));
  });

  it("keeps a tensor the user took from a submodule valid after backward, readable and usable", () => {
    const net = new Net();
    const x = randn([2, 1, 8, 8]);
    const h = net.features.forward(x);
    const values = [...h.toArray()];
    const loss = net.classifier.forward(h).sum();
    loss.backward();
    const spilled = memory("wasm").spilled!;
    assert.deepEqual([...h.toArray()], values, "h reads the same after backward");
    assert.equal(memory("wasm").spilled, spilled, "reading a spilled tensor does not bring it back");
    assert.deepEqual(
      [...h.mul(2).toArray()],
      values.map((v) => v * 2),
      "h can be used in an op after backward",
    );
    assert.ok(spilled > 0, "the step boundary moved the user's tensors out of the wasm memory");
  });

  it("throws the clear message for an intermediate a forward leaked outside its module", () => {
    leaked.length = 0;
    const m = new Leaky();
    const out = m.forward(randn([2, 3]));
    assert.equal(leaked[0].toArray().length, 6, "usable until backward");
    out.sum().backward();
    assert.throws(
      () => leaked[0].toArray(),
      /tensor was freed: it was allocated inside a scope or a module's forward/,
    );
    assert.throws(() => leaked[0].add(1), /store it on the module, or call \.keep\(\)/);
  });

  it("keeps the graph for a second backward with retainGraph, and frees it after the last", () => {
    const net = new Net();
    const x = randn([2, 1, 8, 8]);
    const loss = net.forward(x).sum();
    loss.backward(undefined, { retainGraph: true });
    const first = [...net.parameters()[0].grad!.toArray()];
    loss.backward();
    const second = net.parameters()[0].grad!.toArray();
    first.forEach((g, i) => assert.ok(Math.abs(second[i] - 2 * g) <= 1e-5 * (1 + Math.abs(g))));
    assert.throws(() => loss.backward(), /already freed by an earlier backward/);
  });

  it("frees a graph that is never backwarded once the output is collected", () => {
    const net = new Net();
    const x = randn([2, 1, 8, 8]);
    wasm.storages.collect();
    const before = live();
    (() => {
      const out = net.forward(x);
      assert.ok(live() > before + 6);
      return out.shape;
    })();
    wasm.storages.collect();
    assert.equal(live(), before);
  });

  it("a tensor used again after a step boundary comes back, and tenures after its second return", () => {
    const w = randn([4, 4], { ...W, requiresGrad: true });
    const data = tensor([1, 2, 3, 4], [1, 4], W);
    for (let step = 0; step < 4; step++) {
      const loss = data.matmul(w).sum();
      loss.backward();
      w.grad = null;
    }
    const spilled = memory("wasm").spilled!;
    data.matmul(w).sum().backward();
    // The product, the loss, backward's seed and the previous gradient; not data, used in every step.
    assert.equal(memory("wasm").spilled, spilled + 4);
    assert.deepEqual([...data.toArray()], [1, 2, 3, 4]);
  });
});

function describeMarks(marks: Mark[]): string {
  return marks
    .map(
      (m) =>
        `step ${m.step}: ${m.storages} storages, ${(m.memoryBytes / MiB).toFixed(0)} MiB wasm, ${(m.rss / MiB).toFixed(0)} MiB rss`,
    )
    .join("; ");
}

function assertFlat(marks: Mark[], forcedBefore: number): void {
  const [a, b] = marks.slice(-2);
  assert.equal(b.storages, a.storages, `live storages went from ${a.storages} to ${b.storages}`);
  assert.equal(b.memoryBytes, a.memoryBytes, "the wasm memory grew");
  assert.ok(b.rss - a.rss < 30 * MiB, `RSS grew by ${((b.rss - a.rss) / MiB).toFixed(1)} MiB`);
  assert.equal(memory("wasm").forcedCollections, forcedBefore, "a garbage collection had to be forced");
  assert.ok(Number.isFinite(b.loss));
}

describe("hand-written loops stay flat without scope() or a forced collection", () => {
  const collect = () => wasm.storages.collect();

  it("the README example in a loop, 1,000 steps", (t) => {
    const forced = memory("wasm").forcedCollections!;
    const marks = readmeLoop(1000, [500, 1000], collect);
    t.diagnostic(describeMarks(marks));
    assertFlat(marks, forced);
  });

  it("a manual for-await loop over a prefetching DataLoader, 1,000 steps", async (t) => {
    const forced = memory("wasm").forcedCollections!;
    const marks = await loaderLoop(1000, [500, 1000], collect);
    t.diagnostic(describeMarks(marks));
    assertFlat(marks, forced);
  });
});

describe("what a forward returns", () => {
  class Output {
    constructor(readonly logits: Tensor) {}
  }
  class Wrapped extends nn.Module {
    lin = new nn.Linear(3, 2);
    forward(x: Tensor): Output {
      return new Output(this.lin.forward(x).relu().mul(2));
    }
  }

  it("a class instance holding the output keeps the graph's intermediates until backward", () => {
    const m = new Wrapped();
    const out = m.forward(randn([4, 3]));
    out.logits.sum().backward();
    assert.ok(m.parameters().every((p) => p.grad !== null && p.grad.toArray().every(Number.isFinite)));
  });
});

describe("the gradients of a backward pass", () => {
  it("are freed as they are used up: a deep chain's backward holds its frontier, not every gradient", () => {
    // 40 layers of x·w + b on [64, 1024] (256 KiB per activation): the forward saves about 40 of them.
    // Keeping every gradient until backward ends would add another ~80 (two per layer) at its peak.
    const layers = 40;
    const weights = Array.from({ length: layers }, () => randn([1024], { ...W, requiresGrad: true }));
    const bytes = 64 * 1024 * 4;
    let x = randn([64, 1024], W);
    for (const w of weights) x = x.mul(w).add(1).tanh();
    const loss = x.sum();
    resetPeakMemory("wasm");
    const before = memory("wasm").heapBytes!;
    loss.backward();
    const rise = memory("wasm").peakHeapBytes! - before;
    assert.ok(
      rise < 8 * bytes,
      `backward's peak rose ${(rise / MiB).toFixed(1)} MiB above the forward's end`,
    );
    for (const w of weights) assert.ok(w.grad !== null && Number.isFinite(w.grad.sum().item()));
  });

  it("a tensor that is the gradient of two inputs (add's g) survives until both have used it", () => {
    const a = tensor([1, 2, 3], [3], { ...W, requiresGrad: true });
    const b = tensor([4, 5, 6], [3], { ...W, requiresGrad: true });
    // d(sum((a + b)·(a·b)))/da = a·b + b·(a + b): a and b share add's gradient, then meet again.
    a.add(b).mul(a.mul(b)).sum().backward();
    assert.deepEqual(Array.from(a.grad!.toArray()), [4 + 4 * 5, 10 + 5 * 7, 18 + 6 * 9]);
    assert.deepEqual(Array.from(b.grad!.toArray()), [4 + 1 * 5, 10 + 2 * 7, 18 + 3 * 9]);
  });
});

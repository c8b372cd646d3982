// Memory of the wasm backend: scope semantics (what is freed, what survives, the error on a freed tensor)
// and a small CNN trained for 2,000 steps with each step in a scope, then without scopes (backward frees and
// spills what each step allocated, docs/design.md "Memory"): live storages, wasm memory and RSS must stop
// growing; the memory's maximum (up to 4 GiB) and reuse of freed blocks across sizes.
// Assertions are on memory only, never on time.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { F, Rng, memory, optim, randn, scope, tensor, type Tensor } from "../../../src/index.js";
import { initWasm, type WasmBackend } from "../../../src/backend/wasm/index.js";
import { WasmMemory } from "../../../src/backend/wasm/memory.js";

const PAGE = 65536;

const W = { backend: "wasm" } as const;

let wasm: WasmBackend;
before(async () => {
  wasm = await initWasm({ setDefault: false, threads: 1 });
});

const live = () => memory("wasm").storages;

describe("scope", () => {
  it("frees what was allocated inside and not returned; the returned tensor survives", () => {
    const a = tensor([1, 2, 3], undefined, W);
    const before = live();
    let inner: Tensor | null = null;
    const out = scope(() => {
      inner = F.mul(a, 2);
      return F.add(inner, 1);
    });
    assert.equal(live(), before + 1);
    assert.deepEqual([...out.toArray()], [3, 5, 7]);
    assert.throws(
      () => inner!.toArray(),
      /tensor was freed: it was allocated inside a scope .* return it from the scope/,
    );
    assert.throws(() => F.add(inner!, 1), /tensor was freed/);
    // Tensors created before the scope are untouched.
    assert.deepEqual([...a.toArray()], [1, 2, 3]);
  });

  it("keeps tensors reachable from the returned structure, .keep()ed ones and assigned leaves", () => {
    const p = tensor([1, 1], undefined, W);
    const cache: Tensor[] = [];
    const result = scope(() => {
      const x = F.mul(p, 3);
      cache.push(F.add(x, 1).keep());
      p.assign(F.add(p, x));
      return { list: [F.neg(x)], map: new Map([["y", F.square(x)]]) };
    });
    assert.deepEqual([...result.list[0].toArray()], [-3, -3]);
    assert.deepEqual([...result.map.get("y")!.toArray()], [9, 9]);
    assert.deepEqual([...cache[0].toArray()], [4, 4]);
    assert.deepEqual([...p.toArray()], [4, 4]);
  });

  it("nested scopes hand survivors to the enclosing scope, which frees them if it drops them", () => {
    let fromInner: Tensor | null = null;
    const before = live();
    scope(() => {
      fromInner = scope(() => F.add(tensor([1], undefined, W), 1));
      assert.deepEqual([...fromInner.toArray()], [2]);
      return 0;
    });
    assert.equal(live(), before);
    assert.throws(() => fromInner!.toArray(), /freed/);
  });

  it("frees everything when the function throws, and gradients accumulated inside survive", () => {
    const before = live();
    assert.throws(() =>
      scope(() => {
        F.add(tensor([1, 2], undefined, W), 1);
        throw new Error("boom");
      }),
    );
    assert.equal(live(), before);
    const w = tensor([2, 3], undefined, { ...W, requiresGrad: true });
    scope(() => F.sum(F.mul(w, w)).backward());
    assert.deepEqual([...w.grad!.toArray()], [4, 6]);
  });
});

/** A conv-relu-pool-linear classifier on 8x8 single-channel images, its parameters on wasm. */
function makeModel(rng: Rng) {
  const conv = randn([8, 1, 3, 3], { ...W, std: 0.3, rng }).requiresGrad_();
  const convB = randn([8], { ...W, std: 0.1, rng }).requiresGrad_();
  const fc = randn([10, 8 * 4 * 4], { ...W, std: 0.05, rng }).requiresGrad_();
  const fcB = randn([10], { ...W, std: 0.1, rng }).requiresGrad_();
  const params = [conv, convB, fc, fcB];
  const forward = (x: Tensor) => {
    const h = F.maxPool2d(F.relu(F.conv2d(x, conv, convB, { padding: 1 })), 2);
    return F.linear(F.flatten(h, 1), fc, fcB);
  };
  return { params, forward };
}

/** A fixed pool of batches: labels are the quadrant with the brightest mean (a learnable task). */
function makeBatches(rng: Rng, count: number): { x: Float32Array; y: Int32Array }[] {
  return Array.from({ length: count }, () => {
    const x = new Float32Array(16 * 64);
    const y = new Int32Array(16);
    for (let n = 0; n < 16; n++) {
      const label = rng.int(10);
      y[n] = label;
      for (let i = 0; i < 64; i++) x[n * 64 + i] = rng.normal() * 0.5 + (i % 10 === label ? 1 : 0);
    }
    return { x, y };
  });
}

interface Snapshot {
  /** Live storages right after a full collection: what is reachable. */
  storages: number;
  /** Most live storages seen at any step up to here (uncollected garbage included). */
  peak: number;
  memoryBytes: number;
  rss: number;
  loss: number;
}

function train(steps: number, useScope: boolean, marks: number[]): Map<number, Snapshot> {
  const rng = new Rng(7);
  const model = makeModel(rng);
  const opt = new optim.SGD(model.params, { lr: 0.05, momentum: 0.9 });
  const batches = makeBatches(rng, 8);
  const snapshots = new Map<number, Snapshot>();
  let peak = 0;
  const step = (i: number): number => {
    const b = batches[i % batches.length];
    const logits = model.forward(tensor(b.x, [16, 1, 8, 8], W));
    const loss = F.crossEntropy(logits, tensor(b.y, [16], W));
    loss.backward();
    opt.step();
    opt.zeroGrad();
    return loss.item();
  };
  for (let i = 1; i <= steps; i++) {
    const loss = useScope ? scope(() => step(i)) : step(i);
    peak = Math.max(peak, memory("wasm").storages);
    if (marks.includes(i)) {
      wasm.storages.collect();
      const m = memory("wasm");
      const rss = process.memoryUsage().rss;
      snapshots.set(i, { storages: m.storages, peak, memoryBytes: m.memoryBytes!, rss, loss });
    }
  }
  return snapshots;
}

const MiB = 1 << 20;

describe("training memory stays flat", () => {
  it("2,000 steps of a small CNN with each step in a scope", (t) => {
    const s = train(2000, true, [1, 500, 2000]);
    const [a, b] = [s.get(500)!, s.get(2000)!];
    t.diagnostic(
      `step 500: ${a.storages} storages (peak ${a.peak}), ${(a.memoryBytes / MiB).toFixed(1)} MiB wasm, ${(a.rss / MiB).toFixed(0)} MiB rss; ` +
        `step 2000: ${b.storages} storages (peak ${b.peak}), ${(b.memoryBytes / MiB).toFixed(1)} MiB wasm, ${(b.rss / MiB).toFixed(0)} MiB rss; ` +
        `loss ${s.get(1)!.loss.toFixed(3)} -> ${b.loss.toFixed(3)}`,
    );
    // Reachable: parameters, momentum buffers, the batches' nothing else; the same set at both marks.
    assert.ok(b.storages <= a.storages + 2, `live storages grew from ${a.storages} to ${b.storages}`);
    // Old gradients wait for a collection (parameters and momentum are updated in place); one is forced
    // after 4,096 of them at the latest, which bounds the dead storages alive at any time.
    assert.ok(b.peak < 6000, `peak live storages ${b.peak}`);
    assert.equal(b.memoryBytes, a.memoryBytes, "the wasm memory grew after warm-up");
    assert.ok(b.rss - a.rss < 48 * MiB, `RSS grew by ${((b.rss - a.rss) / MiB).toFixed(1)} MiB`);
    assert.ok(b.loss < s.get(1)!.loss, "the model trains");
  });

  it("600 steps without scopes: backward frees or spills every step's storages, no collection forced", (t) => {
    const collections = memory("wasm").forcedCollections!;
    const s = train(600, false, [300, 600]);
    const [a, b] = [s.get(300)!, s.get(600)!];
    const forced = memory("wasm").forcedCollections! - collections;
    t.diagnostic(
      `step 300: ${a.storages} storages (peak ${a.peak}), ${(a.memoryBytes / MiB).toFixed(1)} MiB wasm; ` +
        `step 600: ${b.storages} storages (peak ${b.peak}), ${(b.memoryBytes / MiB).toFixed(1)} MiB wasm; ` +
        `${forced} collections forced`,
    );
    // A functional model (no modules): its intermediates are spilled at each step boundary, not collected.
    assert.equal(forced, 0, "a collection was forced");
    assert.ok(b.storages <= a.storages + 2, `live storages grew from ${a.storages} to ${b.storages}`);
    assert.ok(b.peak < 100, `peak live storages ${b.peak}`);
    assert.equal(b.memoryBytes, a.memoryBytes, "the wasm memory grew after warm-up");
  });
});

describe("the wasm memory's limits", () => {
  it("accepts a maximum up to 4 GiB and rejects more, naming the limit", () => {
    assert.equal(new WasmMemory({ maximumBytes: 2 ** 32, shared: false }).maximumBytes, 2 ** 32);
    assert.throws(
      () => new WasmMemory({ maximumBytes: 2 ** 32 + PAGE }),
      /initWasm: maximumBytes must be between 1 and 4294967296 \(4 GiB, the most a wasm32 memory can address\), got 4295032832/,
    );
  });

  it("says how much was asked and how to raise the limit when the maximum is reached", () => {
    const mem = new WasmMemory({ initialBytes: 2 * MiB, maximumBytes: 4 * MiB, shared: false });
    mem.alloc(3 * MiB);
    assert.throws(
      () => mem.alloc(2 * MiB),
      /out of memory: allocating 2\.0 MiB needs the wasm memory to grow from [\d.]+ MiB to 5\.0 MiB, past its maximum of 4\.0 MiB .*initWasm\(\{ maximumBytes: 4 \* 2 \*\* 30 \}\)/,
    );
  });

  it("carves freed blocks of other sizes, merged, instead of growing", () => {
    const mem = new WasmMemory({ initialBytes: 8 * MiB, maximumBytes: 8 * MiB, shared: false });
    // Fill the memory with 1 MiB blocks, free them all, then ask for blocks of other size classes.
    const big = Array.from({ length: 7 }, () => mem.alloc(MiB));
    for (const p of big) mem.free(p);
    const small = Array.from({ length: 40 }, () => mem.alloc(100_000));
    const wide = mem.alloc(3 * MiB);
    assert.equal(new Set([...small, wide]).size, 41);
    assert.equal(mem.stats().memoryBytes, 8 * MiB);
  });
});

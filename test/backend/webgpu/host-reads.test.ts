// Ops that used to read computed values on the host, on webgpu in Node (Dawn; skipped with a notice
// without an adapter): RoI Align/pooling and topk on GPU-computed inputs with their gradients, against js;
// nms and clipGradNorm_, whose results need a read, through their asynchronous variants, with the sync
// ones naming those; fit's gradient clipping on webgpu, against js.
import { test } from "node:test";
import assert from "node:assert/strict";
import { F, manualSeed, nn, optim, setBackend, tensor, train, type Tensor } from "../../../src/index.js";
import { openNodeWebGpu } from "../../helpers/node-webgpu.js";
import { compareArrays } from "../../helpers/compare.js";

const { skip } = await openNodeWebGpu();

const xs = Array.from({ length: 2 * 3 * 7 * 6 }, (_, i) => Math.sin(i * 0.37));
const rois = [
  [0, 0.5, 1, 4.5, 5.5],
  [1, 2, 0, 5, 3],
  [1, -1, -1, 2, 2],
];

async function close(actual: Tensor, expected: Tensor, what: string): Promise<void> {
  const c = compareArrays(await actual.data(), expected.toArray());
  assert.ok(c.worstRatio <= 1, `${what}: differs by ${c.maxAbs} at ${c.index}`);
}

/** f on js and on webgpu, with its input computed (x·1 on the GPU, not from an array); output and grad compared. */
async function againstJs(what: string, f: (x: Tensor, backend: string) => Tensor): Promise<void> {
  const run = (backend: string) => {
    const leaf = tensor(xs, [2, 3, 7, 6], { backend, requiresGrad: true });
    const y = f(leaf.mul(1), backend);
    F.sum(F.mul(y, y.detach())).backward();
    return { y, grad: leaf.grad! };
  };
  const [gpu, js] = [run("webgpu"), run("js")];
  await close(gpu.y, js.y, `${what} output`);
  await close(gpu.grad, js.grad, `${what} gradient`);
}

test("roiAlign, roiPool and topk run on GPU-computed inputs, with their gradients", { skip }, async () => {
  const r = (backend: string) => tensor(rois, [3, 5], { backend });
  await againstJs("roiAlign", (x, b) => F.roiAlign(x, r(b), [2, 3], { samplingRatio: -1, aligned: true }));
  await againstJs("roiPool", (x, b) => F.roiPool(x, r(b), 2, { spatialScale: 0.5 }));
  await againstJs("topk", (x) => F.topk(x, 3, { dim: 2 }).values);
  const idx = F.topk(tensor(xs, [2, 3, 7, 6], { backend: "webgpu" }).mul(1), 2, { largest: false }).indices;
  const idxJs = F.topk(tensor(xs, [2, 3, 7, 6]), 2, { largest: false }).indices;
  assert.deepEqual(Array.from(await idx.data()), Array.from(idxJs.toArray()));
});

test("nms on GPU-computed scores: the sync call names nmsAsync, which agrees with js", { skip }, async () => {
  const boxes = [
    [0, 0, 10, 10],
    [1, 1, 11, 11],
    [20, 20, 30, 30],
    [21, 19, 29, 31],
  ];
  const scoresOf = (backend: string) => tensor([0.2, 0.9, 0.5, 0.7], [4], { backend }).mul(1);
  const b = tensor(boxes, [4, 4], { backend: "webgpu" });
  assert.throws(() => F.nms(b, scoresOf("webgpu"), 0.5), /nms: scores \[4\] on webgpu .*await nmsAsync/);
  const keep = await F.nmsAsync(b, scoresOf("webgpu"), 0.5);
  assert.deepEqual(
    Array.from(keep.toArray()),
    Array.from(F.nms(tensor(boxes), scoresOf("js"), 0.5).toArray()),
  );
  const idxs = tensor(new Int32Array([0, 1, 0, 0]), [4], { backend: "webgpu" });
  const batched = await F.batchedNmsAsync(b, scoresOf("webgpu"), idxs, 0.5);
  assert.deepEqual(Array.from(batched.toArray()), [1, 3, 0]);
});

test(
  "clipGradNorm_ on webgpu names clipGradNormAsync_ and clips nothing; the async one clips like js",
  { skip },
  async () => {
    const params = (backend: string) =>
      [
        [3, 0, 1],
        [0, -4, 2],
      ].map((g) => {
        const p = tensor([0, 0, 0], [3], { backend, requiresGrad: true });
        p.grad = tensor(g, [3], { backend }).mul(1);
        return p;
      });
    const gpu = params("webgpu");
    const before = gpu[0].grad;
    assert.throws(() => nn.clipGradNorm_(gpu, 1), /clipGradNorm_: .*await clipGradNormAsync_/);
    assert.equal(gpu[0].grad, before);
    const js = params("js");
    const total = await nn.clipGradNormAsync_(gpu, 1);
    assert.ok(Math.abs(total - nn.clipGradNorm_(js, 1)) < 1e-5);
    for (const [i, p] of gpu.entries()) await close(p.grad!, js[i].grad!, `grad ${i}`);
  },
);

test("fit's clipGradNorm runs on webgpu and trains like js", { skip }, async () => {
  const run = async (backend: string) => {
    setBackend(backend);
    manualSeed(7);
    const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(12, 3));
    setBackend("js");
    const x = tensor(
      Array.from({ length: 4 * 12 }, (_, i) => 20 * Math.sin(i)),
      [4, 1, 3, 4],
      { backend },
    );
    const y = tensor(new Int32Array([0, 1, 2, 1]), [4], { backend });
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.5 });
    const history = await train.fit(model, {
      train: [
        { x, y },
        { x, y },
      ],
      epochs: 2,
      optimizer,
      clipGradNorm: 0.1,
    });
    return history.epochs.map((e) => e.loss);
  };
  const [gpu, js] = [await run("webgpu"), await run("js")];
  assert.equal(gpu.length, 2);
  gpu.forEach((l, i) =>
    assert.ok(Math.abs(l - js[i]) < 1e-4 * Math.max(1, Math.abs(js[i])), `epoch ${i}: ${l} vs ${js[i]}`),
  );
});

test(
  "BatchNorm's cumulative average (momentum null) and a LAMB step run on webgpu like js",
  { skip },
  async () => {
    const run = (backend: string) => {
      setBackend(backend);
      try {
        manualSeed(3);
        const bn = new nn.BatchNorm2d(2, { momentum: null });
        const lin = new nn.Linear(4, 2);
        const opt = new optim.LAMB(lin.parameters(), { lr: 0.1, weightDecay: 0.01 });
        const x = tensor(
          Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => Math.cos(i)),
          [3, 2, 2, 2],
        ).mul(1);
        for (let step = 0; step < 2; step++) {
          const y = lin.forward(bn.forward(x).reshape([6, 4]));
          opt.zeroGrad();
          F.sum(F.mul(y, y)).backward();
          opt.step();
        }
        return [bn.getBuffer("running_var"), lin.weight];
      } finally {
        setBackend("js");
      }
    };
    const [gpu, js] = [run("webgpu"), run("js")];
    await close(gpu[0], js[0], "running_var");
    await close(gpu[1], js[1], "LAMB weight");
  },
);

test(
  "ops that check labels or indices on the host name themselves and the await when those come from the GPU",
  { skip },
  async () => {
    const logits = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend: "webgpu" });
    const labels = tensor(new Int32Array([0, 2]), [2], { backend: "webgpu" }).add(0);
    assert.throws(
      () => F.crossEntropy(logits, labels),
      /crossEntropy: target \[2\] were computed on webgpu .*await target\.data\(\)/,
    );
    assert.throws(
      () => F.gather(logits, 1, labels.reshape([2, 1])),
      /gather: index \[2,1\] .*await index\.data\(\)/,
    );
    await labels.data();
    const loss = await F.crossEntropy(logits, labels).itemAsync();
    assert.ok(
      Math.abs(
        loss - F.crossEntropy(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor(new Int32Array([0, 2]), [2])).item(),
      ) < 1e-5,
    );
  },
);

test("saveCheckpoint saves a model trained on webgpu, with its optimizer state", { skip }, async () => {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { saveCheckpoint, loadCheckpoint } = await import("../../../src/node/checkpoint.js");
  setBackend("webgpu");
  let model: nn.Linear;
  try {
    model = new nn.Linear(3, 2);
  } finally {
    setBackend("js");
  }
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  F.sum(model.forward(tensor([[1, 2, 3]], [1, 3], { backend: "webgpu" }))).backward();
  optimizer.step();
  const dir = await mkdtemp(join(tmpdir(), "striate-webgpu-ckpt-"));
  try {
    await saveCheckpoint(join(dir, "last"), { model, optimizer });
    const loaded = await loadCheckpoint(join(dir, "last"));
    assert.deepEqual(
      Array.from(loaded.weights.get("weight")!.toArray()),
      Array.from(await model.weight.data()),
    );
    const state = (loaded.optimizerState as { state: Record<string, unknown> }).state;
    assert.equal(Object.keys(state).length, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("AveragedModel (SWA) averages a model trained on webgpu like js", { skip }, async () => {
  const run = (backend: string) => {
    setBackend(backend);
    try {
      manualSeed(5);
      const model = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
      const swa = new optim.AveragedModel(model);
      const opt = new optim.SGD(model.parameters(), { lr: 0.2 });
      const x = tensor([1, -2, 0.5, 3, 0, -1], [2, 3]);
      for (let step = 0; step < 3; step++) {
        opt.zeroGrad();
        F.sum(F.square(model.forward(x))).backward();
        opt.step();
        swa.updateParameters(model);
      }
      return { swa, weight: [...swa.module.parameters()][0] };
    } finally {
      setBackend("js");
    }
  };
  const [gpu, js] = [run("webgpu"), run("js")];
  assert.equal(gpu.swa.nAveraged, 3);
  await close(gpu.weight, js.weight, "averaged weight");
});

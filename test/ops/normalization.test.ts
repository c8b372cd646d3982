// Normalisation beyond the fixtures: float64 gradient checks of batchNormWithStats (training and eval,
// affine or not, weight or bias alone, 2-D, 3-D and 4-D, batch 1), localResponseNorm (odd and even sizes)
// and l2Penalty; forward values and running-stat updates against their formulas; batch norm on js and wasm
// alike (random shapes, forward and backward, data with a large mean) and on the meta backend; and the
// validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { gradcheckCases, positiveInput, randomInput, type GradCase } from "../helpers/gradcheck.js";
import { computingBackends } from "../helpers/backends.js";

const shapes = [
  [4, 3],
  [2, 3, 2, 3],
];

const batchNormCases: GradCase[] = shapes.flatMap((shape) =>
  [true, false].flatMap((training) =>
    [true, false].map((affine): GradCase => ({
      name: `batchNorm ${shape.length}-D ${training ? "training" : "eval"} ${affine ? "affine" : "no affine"}`,
      inputs: () => [
        randomInput(shape, { seed: 1, low: -2, high: 2 }),
        randomInput([3], { seed: 2, low: 0.5, high: 1.5 }),
        randomInput([3], { seed: 3 }),
        randomInput([3], { seed: 4 }),
        positiveInput([3], 5),
      ],
      f: (x, weight, bias, runningMean, runningVar) =>
        F.batchNormWithStats(x, {
          weight: affine ? weight : null,
          bias: affine ? bias : null,
          runningMean,
          runningVar,
          training,
        }).output,
      // Running statistics are buffers, not parameters: only x (and the affine parameters) are checked.
      options: { wrt: affine ? [0, 1, 2] : [0] },
    })),
  ),
);

gradcheckCases("normalization", [
  ...batchNormCases,
  {
    name: "batchNorm without running stats (training)",
    inputs: () => [randomInput([5, 2])],
    f: (x) => F.batchNorm(x),
  },
  ...[true, false].flatMap((training) => [
    {
      name: `batchNorm weight without bias (${training ? "training" : "eval"})`,
      inputs: () => [
        randomInput([3, 4, 3], { low: -2, high: 2 }),
        randomInput([4], { seed: 2, low: 0.5, high: 1.5 }),
      ],
      f: (x: Tensor, weight: Tensor) =>
        F.batchNorm(x, {
          weight,
          training,
          runningMean: randomInput([4], { seed: 3 }),
          runningVar: positiveInput([4], 4),
        }),
    },
    {
      name: `batchNorm bias without weight (${training ? "training" : "eval"})`,
      inputs: () => [randomInput([2, 5, 3], { low: -2, high: 2 }), randomInput([5], { seed: 2 })],
      f: (x: Tensor, bias: Tensor) =>
        F.batchNorm(x, {
          bias,
          training,
          runningMean: randomInput([5], { seed: 3 }),
          runningVar: positiveInput([5], 4),
        }),
    },
  ]),
  {
    name: "batchNorm batch 1 with spatial dims (training)",
    inputs: () => [
      randomInput([1, 3, 2, 3], { low: -2, high: 2 }),
      randomInput([3], { seed: 2, low: 0.5, high: 1.5 }),
      randomInput([3], { seed: 3 }),
    ],
    f: (x, weight, bias) => F.batchNorm(x, { weight, bias }),
  },
  {
    name: "batchNorm [N, C] with 5 channels (training)",
    inputs: () => [
      randomInput([6, 5], { low: -2, high: 2 }),
      randomInput([5], { seed: 2, low: 0.5, high: 1.5 }),
      randomInput([5], { seed: 3 }),
    ],
    f: (x, weight, bias) => F.batchNorm(x, { weight, bias }),
  },
  ...[1, 2, 3, 4, 5].map((size): GradCase => ({
    name: `localResponseNorm size ${size}`,
    inputs: () => [randomInput([2, 5, 2, 2], { seed: size, low: -2, high: 2 })],
    f: (x) => F.localResponseNorm(x, size, { alpha: 0.5, beta: 0.75, k: 1.5 }),
  })),
  {
    name: "localResponseNorm on [N,C,L] with default constants",
    inputs: () => [randomInput([2, 4, 3], { low: -2, high: 2 })],
    f: (x) => F.localResponseNorm(x, 3),
  },
  {
    name: "l2Penalty over two weights",
    inputs: () => [randomInput([3, 2]), randomInput([4], { seed: 2 })],
    f: (a, b) => F.l2Penalty([a, b], 0.3),
  },
]);

function values(t: Tensor): number[] {
  return Array.from(t.toArray());
}

test("batchNorm training normalises with the biased batch variance and updates running stats like torch", () => {
  const x = tensor(
    [
      [1, 10],
      [2, 20],
      [3, 60],
    ],
    undefined,
    { dtype: "float64" },
  );
  const runningMean = tensor([0.5, 1], undefined, { dtype: "float64" });
  const runningVar = tensor([2, 3], undefined, { dtype: "float64" });
  const eps = 1e-5;
  const result = F.batchNormWithStats(x, { runningMean, runningVar, momentum: 0.2, eps });
  const col = [
    [1, 2, 3],
    [10, 20, 60],
  ];
  const mean = col.map((c) => c.reduce((s, v) => s + v, 0) / 3);
  const biased = col.map((c, j) => c.reduce((s, v) => s + (v - mean[j]) ** 2, 0) / 3);
  const y = values(result.output);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 2; j++) {
      const want = (col[j][i] - mean[j]) / Math.sqrt(biased[j] + eps);
      assert.ok(Math.abs(y[i * 2 + j] - want) < 1e-12);
    }
  const newMean = values(result.runningMean!);
  const newVar = values(result.runningVar!);
  [0.5, 1].forEach((m, j) => assert.ok(Math.abs(newMean[j] - (0.8 * m + 0.2 * mean[j])) < 1e-12));
  [2, 3].forEach((v, j) => assert.ok(Math.abs(newVar[j] - (0.8 * v + 0.2 * biased[j] * 1.5)) < 1e-12));
  // The caller's tensors are values: they are not modified.
  assert.deepEqual(values(runningMean), [0.5, 1]);
});

test("batchNorm eval uses the running stats and leaves them unchanged", () => {
  const x = randomInput([2, 2, 1, 2]);
  const runningMean = tensor([0.5, -1], undefined, { dtype: "float64" });
  const runningVar = tensor([4, 0.25], undefined, { dtype: "float64" });
  const weight = tensor([2, 3], undefined, { dtype: "float64" });
  const bias = tensor([0.1, 0.2], undefined, { dtype: "float64" });
  const r = F.batchNormWithStats(x, { runningMean, runningVar, weight, bias, training: false, eps: 0 });
  assert.equal(r.runningMean, runningMean);
  const xv = x.toArray();
  const y = r.output.toArray();
  xv.forEach((v, i) => {
    const c = Math.floor(i / 2) % 2;
    const want = ((v - [0.5, -1][c]) / Math.sqrt([4, 0.25][c])) * [2, 3][c] + [0.1, 0.2][c];
    assert.ok(Math.abs(y[i] - want) < 1e-12);
  });
});

const rng = new Rng(20240917);

function randomData(n: number, low = -1, high = 1): Float32Array {
  return Float32Array.from({ length: n }, () => low + (high - low) * rng.uniform());
}

interface BatchNormRun {
  values: Float32Array[];
  names: string[];
}

/** batchNormWithStats forward and backward on one backend: output, running stats and every gradient. */
function runBatchNorm(
  backend: string,
  shape: number[],
  data: Record<string, Float32Array>,
  options: { training: boolean; affine: boolean },
): BatchNormRun {
  const C = shape[1];
  const x = tensor(data.x, shape, { backend, requiresGrad: true });
  const vector = (v: Float32Array, requiresGrad = false) => tensor(v, [C], { backend, requiresGrad });
  const weight = options.affine ? vector(data.weight, true) : null;
  const bias = options.affine ? vector(data.bias, true) : null;
  const r = F.batchNormWithStats(x, {
    weight,
    bias,
    runningMean: vector(data.runningMean),
    runningVar: vector(data.runningVar),
    training: options.training,
    momentum: 0.3,
  });
  r.output.backward(tensor(data.gy, shape, { backend }));
  const outputs: [string, Tensor | null | undefined][] = [
    ["output", r.output],
    ["runningMean", r.runningMean],
    ["runningVar", r.runningVar],
    ["dx", x.grad],
    ["dWeight", weight?.grad],
    ["dBias", bias?.grad],
  ];
  const present = outputs.filter(([, t]) => t);
  return {
    names: present.map(([name]) => name),
    values: present.map(([, t]) => t!.toArray() as Float32Array),
  };
}

test("batchNorm gives the same outputs, running stats and gradients on every backend", () => {
  const backends = computingBackends();
  assert.ok(backends.includes("wasm"), "the wasm backend is loaded by the test helpers");
  const shapes = [
    [4, 3],
    [9, 13],
    [3, 5, 7],
    [1, 3, 10],
    [2, 7, 3, 5],
    [3, 6, 4, 4],
    [2, 3, 1, 1],
    ...Array.from({ length: 6 }, () => {
      const spatial = Array.from({ length: rng.int(3) }, () => 1 + rng.int(9));
      return [1 + rng.int(4), 1 + rng.int(17), ...spatial];
    }),
  ].filter((shape) => shape.reduce((a, b) => a * b, 1) / shape[1] > 1);
  for (const shape of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const C = shape[1];
    const data = {
      x: randomData(size, -2, 3),
      gy: randomData(size),
      weight: randomData(C, 0.5, 1.5),
      bias: randomData(C),
      runningMean: randomData(C),
      runningVar: randomData(C, 0.5, 2),
    };
    for (const training of [true, false]) {
      for (const affine of [true, false]) {
        const what = `[${shape}] ${training ? "training" : "eval"} ${affine ? "affine" : "plain"}`;
        const [reference, ...others] = backends.map((b) =>
          runBatchNorm(b, shape, data, { training, affine }),
        );
        for (const other of others) {
          assert.deepEqual(other.names, reference.names, what);
          other.values.forEach((v, k) => {
            reference.values[k].forEach((want, i) => {
              assert.ok(
                Math.abs(v[i] - want) <= 2e-5 + 1e-4 * Math.abs(want),
                `${what} ${reference.names[k]}[${i}]: ${v[i]} vs ${want}`,
              );
            });
          });
        }
      }
    }
  }
});

test("batchNorm normalises data with a large mean and a small spread on every backend", () => {
  // 819,200 values per channel of 1000 + noise of spread 0.1 (std 0.058): the output must still have mean 0
  // and variance 1. The float32 mean is exact to half an ulp of 1000 (3.1e-5, 5e-4 of a std). The js
  // composite this replaced summed in float32 and normalised everything to -1 here.
  const shape = [64, 2, 80, 160];
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: size }, () => 1000 + 0.1 * (2 * rng.uniform() - 1));
  for (const backend of computingBackends()) {
    const y = F.batchNorm(tensor(data, shape, { backend }), { eps: 0 }).toArray();
    for (let c = 0; c < 2; c++) {
      let total = 0;
      let squares = 0;
      let count = 0;
      for (let i = c * 12800; i < size; i += 25600) {
        for (let k = i; k < i + 12800; k++) {
          total += y[k];
          squares += y[k] * y[k];
          count++;
        }
      }
      const mean = total / count;
      const variance = squares / count - mean * mean;
      assert.ok(Math.abs(mean) < 1e-3, `${backend} channel ${c}: output mean ${mean}`);
      assert.ok(Math.abs(variance - 1) < 1e-4, `${backend} channel ${c}: output variance ${variance}`);
    }
  }
});

test("batchNorm on the meta backend computes shapes, gradients included", () => {
  const meta = (shape: number[], requiresGrad = false) =>
    tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, { backend: "meta", requiresGrad });
  const x = meta([8, 6, 5, 5], true);
  const weight = meta([6], true);
  const bias = meta([6], true);
  const r = F.batchNormWithStats(x, { weight, bias, runningMean: meta([6]), runningVar: meta([6]) });
  assert.deepEqual(r.output.shape, [8, 6, 5, 5]);
  assert.deepEqual(r.runningMean!.shape, [6]);
  assert.deepEqual(r.runningVar!.shape, [6]);
  r.output.backward(meta([8, 6, 5, 5]));
  assert.deepEqual(x.grad!.shape, [8, 6, 5, 5]);
  assert.deepEqual(weight.grad!.shape, [6]);
  assert.deepEqual(bias.grad!.shape, [6]);
  assert.equal(x.grad!.storage.size, 8 * 6 * 25);
  const y = F.batchNorm(meta([4, 3]), { runningMean: meta([3]), runningVar: meta([3]), training: false });
  assert.deepEqual(y.shape, [4, 3]);
  assert.equal(y.backend.name, "meta");
});

/** torch's LRN: x_c / (k + alpha/size · Σ_{c'∈[c-⌊size/2⌋, c+⌊(size-1)/2⌋]} x_{c'}²)^beta. */
function naiveLrn(x: Tensor, size: number, alpha: number, beta: number, k: number): number[] {
  const [n, c, h, w] = x.shape;
  const xv = x.toArray();
  const out: number[] = [];
  for (let img = 0; img < n; img++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < h * w; p++) {
        let s = 0;
        for (let q = ch - Math.floor(size / 2); q <= ch + Math.floor((size - 1) / 2); q++) {
          if (q >= 0 && q < c) s += xv[(img * c + q) * h * w + p] ** 2;
        }
        out.push(xv[(img * c + ch) * h * w + p] / (k + (alpha / size) * s) ** beta);
      }
  return out;
}

test("localResponseNorm matches torch's window for odd and even sizes", () => {
  const x = randomInput([2, 6, 2, 2], { low: -3, high: 3 });
  for (const size of [1, 2, 3, 4, 5, 7]) {
    const y = F.localResponseNorm(x, size, { alpha: 0.3, beta: 0.6, k: 2 }).toArray();
    naiveLrn(x, size, 0.3, 0.6, 2).forEach((v, i) =>
      assert.ok(Math.abs(y[i] - v) < 1e-12, `size ${size} at ${i}`),
    );
  }
});

test("l2Penalty is λ/2 · Σ w²", () => {
  const p = F.l2Penalty([tensor([1, 2]), tensor([[3]])], 0.5).item();
  assert.equal(p, 0.25 * 14);
});

const f32 = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);

test("errors: batchNorm channel vectors, eval without stats, single values and bad input", () => {
  const x = f32([4, 3, 2, 2]);
  for (const name of ["weight", "bias", "runningMean", "runningVar"]) {
    assert.throws(
      () => F.batchNormWithStats(x, { [name]: f32([4]) }),
      new RegExp(`batchNorm: ${name} \\[4\\] does not match the 3 channels of input \\[4,3,2,2\\]`),
    );
  }
  assert.throws(
    () => F.batchNormWithStats(x, { training: false }),
    /batchNorm: eval mode needs runningMean and runningVar/,
  );
  assert.throws(
    () => F.batchNormWithStats(f32([1, 3])),
    /batchNorm: expected more than 1 value per channel when training, got input \[1,3\]/,
  );
  assert.throws(() => F.batchNormWithStats(f32([3])), /batchNorm: input must be \[N, C, …\], got \[3\]/);
  assert.throws(
    () => F.batchNormWithStats(tensor(new Int32Array(6), [2, 3])),
    /batchNorm: input must be a float tensor, got int32 \[2,3\]/,
  );
  assert.throws(
    () => F.batchNormWithStats(x, { weight: f32([3]).to("float64") }),
    /batchNorm: dtypes differ \(float32 \[4,3,2,2\] and float64 \[3\]\)/,
  );
});

test("errors: localResponseNorm rank and size, l2Penalty without weights", () => {
  assert.throws(
    () => F.localResponseNorm(f32([2, 3]), 3),
    /localResponseNorm: input must be \[N, C, …\] with spatial dims, got \[2,3\]/,
  );
  assert.throws(
    () => F.localResponseNorm(f32([1, 3, 2, 2]), 0),
    /localResponseNorm: size must be a positive integer, got 0/,
  );
  assert.throws(
    () => F.localResponseNorm(tensor(new Int32Array(8), [1, 2, 2, 2]), 3),
    /localResponseNorm: input must be a float tensor, got int32 \[1,2,2,2\]/,
  );
  assert.throws(() => F.l2Penalty([], 0.1), /l2Penalty: no weights given/);
});

// Issue 15: layer norm, group norm and ConvNeXt's channels-first layer norm.
gradcheckCases("per-sample normalisation (issue 15)", [
  {
    name: "layerNorm over [4, 3] with weight and bias",
    inputs: () => [
      randomInput([2, 4, 3], { seed: 41 }),
      randomInput([4, 3], { seed: 42 }),
      randomInput([4, 3], { seed: 43 }),
    ],
    f: (x, w, b) => F.layerNorm(x, [4, 3], { weight: w, bias: b }),
  },
  {
    name: "layerNorm over [5], no affine, eps 1e-3",
    inputs: () => [randomInput([3, 5], { seed: 44 })],
    f: (x) => F.layerNorm(x, [5], { eps: 1e-3 }),
  },
  {
    name: "groupNorm 2 groups of 2 channels",
    inputs: () => [
      randomInput([2, 4, 2, 3], { seed: 45 }),
      randomInput([4], { seed: 46 }),
      randomInput([4], { seed: 47 }),
    ],
    f: (x, w, b) => F.groupNorm(x, 2, { weight: w, bias: b }),
  },
  {
    name: "layerNorm2d",
    inputs: () => [
      randomInput([2, 3, 2, 2], { seed: 48 }),
      randomInput([3], { seed: 49 }),
      randomInput([3], { seed: 50 }),
    ],
    f: (x, w, b) => F.layerNorm2d(x, { weight: w, bias: b, eps: 1e-6 }),
  },
]);

test("layerNorm2d equals layerNorm over C in channels-last order; groupNorm with C groups is instance norm", () => {
  const x = randomInput([2, 3, 2, 4], { seed: 51 });
  const w = randomInput([3], { seed: 52 });
  const b = randomInput([3], { seed: 53 });
  const channelsLast = F.permute(
    F.layerNorm(F.permute(x, [0, 2, 3, 1]), [3], { weight: w, bias: b }),
    [0, 3, 1, 2],
  );
  const direct = F.layerNorm2d(x, { weight: w, bias: b });
  const a = direct.toArray();
  channelsLast.toArray().forEach((v, i) => assert.ok(Math.abs(v - a[i]) < 1e-12));
  const inst = F.groupNorm(x, 3).toArray();
  const byHand = F.div(
    F.sub(x, F.mean(x, [2, 3], true)),
    F.sqrt(F.add(F.variance(x, [2, 3], { unbiased: false, keepdim: true }), 1e-5)),
  ).toArray();
  byHand.forEach((v, i) => assert.ok(Math.abs(v - inst[i]) < 1e-12));
});

test("errors: layerNorm, groupNorm and layerNorm2d name the op and the shapes", () => {
  const x = f32([2, 6, 3]);
  assert.throws(
    () => F.layerNorm(x, [6]),
    /layerNorm: normalizedShape \[6\] must be the trailing dims of input \[2,6,3\]/,
  );
  assert.throws(
    () => F.layerNorm(x, [3], { weight: f32([4]) }),
    /layerNorm: weight \[4\] must have shape \[3\] for input \[2,6,3\]/,
  );
  assert.throws(
    () => F.layerNorm(x, [3], { eps: -1 }),
    /layerNorm: eps must be a non-negative number, got -1/,
  );
  assert.throws(
    () => F.groupNorm(x, 4),
    /groupNorm: numGroups=4 must divide the 6 channels of input \[2,6,3\]/,
  );
  assert.throws(() => F.groupNorm(f32([6]), 2), /groupNorm: input must be \[N, C, …\], got \[6\]/);
  assert.throws(() => F.groupNorm(x, 3, { bias: f32([3]) }), /groupNorm: bias \[3\] must have shape \[6\]/);
  assert.throws(
    () => F.layerNorm2d(x, { weight: f32([3]) }),
    /layerNorm2d: weight \[3\] must have shape \[6\]/,
  );
});

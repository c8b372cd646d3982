// Occlusion on a linear model, where each window's score drop is the sum of w·(x - baseline) over it:
// Captum's window positions (ceil((dim - window) / stride) + 1 per dim, the last cropped), the mean over
// covering windows, uncovered elements 0, baselines, perturbationsPerEval and batching, and bad options.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, nn, tensor, type Tensor } from "../../src/index.js";
import { Occlusion } from "../../src/explain/index.js";
import { SmallConvNet, imageBatch, maxDiff, values } from "./helpers.js";

// S = Σ w·x over a [1, 1, 5] input, with w·x = [1, -2, 6, 2, -10] for x = [1, 2, 3, 4, 5].
const w = [1, -1, 2, 0.5, -2];
function linear(): nn.Module {
  const fc = new nn.Linear(5, 1);
  fc.loadStateDict({ weight: tensor([w]), bias: tensor([0.5]) });
  class Flat extends nn.Module {
    fc = fc;
    forward(x: Tensor): Tensor {
      return this.fc.forward(F.flatten(x, 1));
    }
  }
  return new Flat();
}
const x = tensor([1, 2, 3, 4, 5], [1, 1, 5]);
const occlude = (options: Parameters<Occlusion["attribute"]>[1]) =>
  values(new Occlusion(linear()).attribute(x, options));

test("windows of 2 every 2: [0,1] drops -1, [2,3] drops 8, [4] (cropped) drops -10", () => {
  assert.deepEqual(occlude({ slidingWindowShapes: [1, 2], strides: 2 }), [-1, -1, 8, 8, -10]);
});

test("overlapping windows average their drops; windows beyond the edge and gaps give 0", () => {
  // Windows [0,1]: -1, [1,2]: 4, [2,3]: 8, [3,4]: -8.
  assert.deepEqual(occlude({ slidingWindowShapes: [1, 2] }), [-1, 1.5, 6, 0, -8]);
  // Starts 0, 3 and 6 (empty): elements 1, 2 and 4 are never covered.
  assert.deepEqual(occlude({ slidingWindowShapes: [1, 1], strides: [1, 3] }), [1, 0, 0, 2, 0]);
});

test("the baseline is what the window is set to (a number or a tensor like one input)", () => {
  // Drop of a window = Σ w·(x - b) over it; with b = 1 the contributions are [0, -1, 4, 1.5, -8].
  assert.deepEqual(
    occlude({ slidingWindowShapes: [1, 2], strides: 2, baselines: 1 }),
    [-1, -1, 5.5, 5.5, -8],
  );
  const b = tensor([1, 2, 3, 4, 5], [1, 5]);
  assert.deepEqual(occlude({ slidingWindowShapes: [1, 1], baselines: b }), [0, 0, 0, 0, 0]);
});

test("perturbationsPerEval and batching do not change a conv net's attributions", () => {
  const model = new SmallConvNet().eval();
  const images = imageBatch(3);
  const options = { target: [0, 2, 1], slidingWindowShapes: [3, 3, 3], strides: [3, 2, 2] };
  const occlusion = new Occlusion(model);
  const reference = occlusion.attribute(images, options);
  for (const perturbationsPerEval of [2, 5, 100])
    assert.ok(maxDiff(occlusion.attribute(images, { ...options, perturbationsPerEval }), reference) < 1e-6);
  [0, 2, 1].forEach((k, i) => {
    const single = occlusion.attribute(images.slice(0, i, i + 1), { ...options, target: k });
    assert.ok(maxDiff(reference.slice(0, i, i + 1), single) < 1e-6);
  });
});

test("bad windows, strides and baselines are named", () => {
  const occlusion = new Occlusion(linear());
  assert.throws(
    () => occlusion.attribute(x, { slidingWindowShapes: [2] }),
    /Occlusion: slidingWindowShapes must give 2 sizes \(one per dim of \[1,5\]\)/,
  );
  assert.throws(
    () => occlusion.attribute(x, { slidingWindowShapes: [1, 6] }),
    /window size 6 in dim 2 must be an integer in 1..5/,
  );
  assert.throws(
    () => occlusion.attribute(x, { slidingWindowShapes: [1, 2], strides: [1, 0] }),
    /stride 0 in dim 2 must be a positive integer/,
  );
  assert.throws(
    () => occlusion.attribute(x, { slidingWindowShapes: [1, 2], strides: [1] }),
    /strides must be one number or 2 of them/,
  );
  assert.throws(
    () => occlusion.attribute(x, { slidingWindowShapes: [1, 2], perturbationsPerEval: 0 }),
    /perturbationsPerEval must be a positive integer/,
  );
  assert.throws(
    () => occlusion.attribute(x, { slidingWindowShapes: [1, 2], baselines: tensor([1, 2]) }),
    /baselines \[2\] must match the input \[1,1,5\] or one image \[1,5\]/,
  );
});

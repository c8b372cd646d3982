// Grad-CAM and Grad-CAM++ on a one-conv net with known weights against maps computed by hand, the
// bilinear upsampling, batched = per-image, and the layer errors (unknown name, not a feature map, run twice).

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, nn, tensor, type Tensor } from "../../src/index.js";
import { GradCam, GradCamPlusPlus, upsampleMaps } from "../../src/explain/index.js";
import { SmallConvNet, imageBatch, maxDiff, values } from "./helpers.js";

// conv(1 -> 2, 2x2, no bias) relu, global average pool, linear(2 -> 3): dS/dA^k = W[t, k] / (h·w).
const convWeight = [
  [
    [1, -1],
    [0.5, 2],
  ],
  [
    [-1, 0.5],
    [1, -0.5],
  ],
];
const fcWeight = [
  [2, -1],
  [-0.5, 1.5],
  [1, 1],
];

class OneConv extends nn.Module {
  conv = new nn.Conv2d(1, 2, 2, { bias: false });
  act = new nn.ReLU();
  fc = new nn.Linear(2, 3);
  constructor() {
    super();
    this.loadStateDict({
      "conv.weight": tensor(convWeight).reshape([2, 1, 2, 2]),
      "fc.weight": tensor(fcWeight),
      "fc.bias": tensor([0, 0, 0]),
    });
  }
  forward(x: Tensor): Tensor {
    return this.fc.forward(F.globalAvgPool2d(this.act.forward(this.conv.forward(x))).flatten(1));
  }
}

const image = [
  [0.1, 0.9, 0.3, 0.5],
  [0.7, 0.2, 0.8, 0.4],
  [0.6, 0.05, 0.35, 1],
];

/** A[k][i][j] = relu(Σ conv) by hand for the 3x4 image: a 2x3 map per channel. */
function featureMaps(): number[][][] {
  return convWeight.map((w) =>
    [0, 1].map((i) =>
      [0, 1, 2].map((j) =>
        Math.max(
          0,
          w[0][0] * image[i][j] +
            w[0][1] * image[i][j + 1] +
            w[1][0] * image[i + 1][j] +
            w[1][1] * image[i + 1][j + 1],
        ),
      ),
    ),
  );
}

test("Grad-CAM of a one-conv net equals relu(Σ_k W[t,k]/(h·w) · A^k) computed by hand", () => {
  const a = featureMaps();
  const x = tensor(image).reshape([1, 1, 3, 4]);
  for (const target of [0, 1, 2]) {
    const alpha = fcWeight[target].map((w) => w / 6);
    const raw = [0, 1].flatMap((i) => [0, 1, 2].map((j) => alpha[0] * a[0][i][j] + alpha[1] * a[1][i][j]));
    const cam = new GradCam(new OneConv(), { layer: "act" }).attribute(x, { target });
    assert.deepEqual([...cam.shape], [1, 2, 3]);
    values(cam).forEach((v, e) =>
      assert.ok(Math.abs(v - Math.max(0, raw[e])) < 1e-6, `target ${target} element ${e}`),
    );
    const signed = new GradCam(new OneConv(), { layer: "act" }).attribute(x, {
      target,
      reluAttributions: false,
    });
    values(signed).forEach((v, e) =>
      assert.ok(Math.abs(v - raw[e]) < 1e-6, `signed, target ${target} element ${e}`),
    );
  }
});

test("Grad-CAM++ of a one-conv net equals its first-order formula computed by hand", () => {
  const a = featureMaps();
  const x = tensor(image).reshape([1, 1, 3, 4]);
  const target = 2; // both weights positive: both channels count
  const weights = [0, 1].map((k) => {
    const g = fcWeight[target][k] / 6;
    const sumA = a[k].flat().reduce((s, v) => s + v, 0);
    const coefficient = (g * g) / (2 * g * g + sumA * g ** 3 + 1e-7);
    return 6 * Math.max(g, 0) * coefficient;
  });
  const expected = [0, 1].flatMap((i) =>
    [0, 1, 2].map((j) => Math.max(0, weights[0] * a[0][i][j] + weights[1] * a[1][i][j])),
  );
  const cam = new GradCamPlusPlus(new OneConv(), { layer: "act" }).attribute(x, { target });
  values(cam).forEach((v, e) =>
    assert.ok(Math.abs(v - expected[e]) < 1e-5 * Math.max(1, expected[e]), `element ${e}`),
  );
});

test("upsampling is bilinear with align_corners = false: constant maps stay constant, 2x2 -> 4x4 by hand", () => {
  assert.deepEqual(values(upsampleMaps(tensor([3, 3, 3, 3], [1, 2, 2]), 5, 3)), new Array(15).fill(3));
  // Source columns at 0 and 1; output column centres map to -0.25 (clamped to 0), 0.25, 0.75, 1.25 (-> 1).
  const row = [0, 0.25, 0.75, 1];
  const up = upsampleMaps(tensor([0, 1, 0, 1], [1, 2, 2]), 4, 4);
  assert.deepEqual(values(up), [...row, ...row, ...row, ...row]);
  const cam = new GradCam(new SmallConvNet(), { layer: "features.4" }).attribute(imageBatch(2), {
    target: 1,
    upsample: true,
  });
  assert.deepEqual([...cam.shape], [2, 8, 8]);
});

test("batched Grad-CAM and Grad-CAM++ equal per-image results; the layer can be given as the module", () => {
  const model = new SmallConvNet().eval();
  const x = imageBatch(3);
  const targets = [2, 0, 3];
  for (const Method of [GradCam, GradCamPlusPlus]) {
    const method = new Method(model, { layer: model.features.at(4) });
    const batched = method.attribute(x, { target: targets });
    assert.deepEqual([...batched.shape], [3, 4, 4]);
    targets.forEach((k, i) => {
      assert.ok(
        maxDiff(batched.slice(0, i, i + 1), method.attribute(x.slice(0, i, i + 1), { target: k })) < 1e-6,
      );
    });
  }
});

test("layer errors: unknown names list the valid ones; non-feature-map layers and layers run twice are named", () => {
  const model = new SmallConvNet();
  assert.throws(
    () => new GradCam(model, { layer: "features.9" }),
    /GradCam: no layer named 'features.9' in SmallConvNet; valid names: features \(Sequential\), features.0 \(Conv2d\), .*classifier \(Linear\)/,
  );
  assert.throws(
    () => new GradCam(model, { layer: "classifier" }).attribute(imageBatch(1), { target: 0 }),
    /GradCam: layer 'classifier' outputs \[1,4\]; it needs a feature map \[N, K, h, w\]/,
  );
  class Twice extends nn.Module {
    conv = new nn.Conv2d(3, 3, 1);
    fc = new nn.Linear(3, 2);
    forward(x: Tensor): Tensor {
      return this.fc.forward(F.globalAvgPool2d(this.conv.forward(this.conv.forward(x))).flatten(1));
    }
  }
  assert.throws(
    () => new GradCamPlusPlus(new Twice(), { layer: "conv" }).attribute(imageBatch(1), { target: 0 }),
    /GradCamPlusPlus: layer 'conv' ran 2 times in one forward; it must run exactly once/,
  );
});

// Feature visualisation: the optimised image excites its unit more than the starting noise and than other
// channels' images, for both parameterisations, grey and RGB; bad units are rejected clearly.

import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, type Tensor } from "../../src/index.js";
import { captureActivations, featureVisualization } from "../../src/explain/index.js";
import { loadExplainCase, plainNet } from "./plain-net.js";

const c = loadExplainCase();

function channelMean(model: nn.Module, image: Tensor, layer: string, channel: number): number {
  const act = captureActivations(model, image, layer).get(layer)!;
  const [h, w] = [act.shape[2], act.shape[3]];
  const v = Array.from(act.toArray().subarray(channel * h * w, (channel + 1) * h * w));
  return v.reduce((a, b) => a + b, 0) / (h * w);
}

for (const parameterization of ["fourier", "pixel"] as const) {
  test(`featureVisualization (${parameterization}) raises its channel's activation`, () => {
    const model = plainNet(c);
    const results = [0, 1, 2].map((channel) =>
      featureVisualization(model, {
        layer: "features.3",
        channel,
        shape: [1, 16, 16],
        steps: 40,
        lr: 0.1,
        parameterization,
        tv: 0.01,
        blurEvery: parameterization === "pixel" ? 10 : 0,
        seed: 1,
      }),
    );
    results.forEach(({ image, activation }, channel) => {
      assert.deepEqual(image.shape, [1, 1, 16, 16]);
      const values = image.toArray();
      assert.ok(
        values.every((v) => v >= 0 && v <= 1),
        "pixels in [0, 1]",
      );
      assert.ok(Math.abs(channelMean(model, image, "features.3", channel) - activation) < 1e-4);
      const start = featureVisualization(model, {
        layer: "features.3",
        channel,
        shape: [1, 16, 16],
        steps: 1,
        lr: 1e-6,
        parameterization,
        seed: 1,
      });
      assert.ok(
        activation > start.activation + 0.1,
        `channel ${channel}: ${activation} vs ${start.activation} at the start`,
      );
    });
  });
}

test("featureVisualization of one neuron on an RGB net with decorrelated colours", () => {
  class Rgb extends nn.Module {
    conv = new nn.Conv2d(3, 4, 3);
    forward(x: Tensor): Tensor {
      return this.conv.forward(x);
    }
  }
  const model = new Rgb();
  const { image, activation } = featureVisualization(model, {
    layer: "conv",
    channel: 2,
    neuron: [3, 4],
    shape: [3, 12, 12],
    steps: 30,
    seed: 2,
  });
  assert.deepEqual(image.shape, [1, 3, 12, 12]);
  const start = featureVisualization(model, {
    layer: "conv",
    channel: 2,
    neuron: [3, 4],
    shape: [3, 12, 12],
    steps: 1,
    lr: 1e-6,
    seed: 2,
  });
  assert.ok(activation > start.activation, `${activation} > ${start.activation}`);
});

test("featureVisualization rejects bad units clearly", () => {
  const model = plainNet(c);
  const o = { shape: [1, 16, 16] as const, steps: 1 };
  assert.throws(() => featureVisualization(model, { ...o, layer: "features.3", channel: 6 }), {
    message:
      "featureVisualization: channel 6 is out of range for layer 'features.3' with 6 channels (output [1,6,8,8])",
  });
  assert.throws(
    () => featureVisualization(model, { ...o, layer: "features.3", channel: 0, neuron: [8, 0] }),
    /neuron \[8, 0\] is outside layer 'features.3''s 8×8 maps/,
  );
  assert.throws(
    () => featureVisualization(model, { ...o, layer: "conv9", channel: 0 }),
    /no layer named 'conv9' in PlainNet; valid names: features/,
  );
  assert.throws(
    () => featureVisualization(model, { ...o, layer: "features.3", channel: 0, decorrelate: true }),
    /decorrelate needs 3 input channels/,
  );
});

// The zoo against torchvision (test/fixtures/torch/models.json): for every model torchvision has, the same
// state_dict keys in the same order with the same shapes and kinds, the same parameter count, the same
// output shape at 1x3x224x224, the same MACs per Conv2d/Linear call and the same call order. Models are built on the meta backend,
// so these checks compute shapes only.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureDir } from "../helpers/fixtures.js";
import { getModel, summary } from "../../src/models/index.js";
import { Conv2d, Linear, type Module } from "../../src/nn/index.js";
import { zeros, type Tensor } from "../../src/tensor/tensor.js";

interface ModelCase {
  name: string;
  params_total: number;
  params_trainable: number;
  buffers_total: number;
  input_shape: number[];
  output_shape: number[];
  macs: number;
  conv_macs: number;
  linear_macs: number;
  layers: [string, string, number[], number][];
  state_dict: { key: string; shape: number[]; kind: "param" | "buffer" }[];
  train_mode_output_shapes?: Record<string, number[]>;
  train_mode_macs_with_aux?: number;
}

const cases = (JSON.parse(readFileSync(join(fixtureDir, "models.json"), "utf8")) as { cases: ModelCase[] })
  .cases;

/** Fixture name → zoo name and options (torchvision's googlenet builder takes aux_logits). */
const ZOO: Record<string, [string, Record<string, unknown>]> = {
  googlenet_aux: ["googlenet", { auxLogits: true }],
  googlenet_noaux: ["googlenet", { auxLogits: false }],
};

function kinds(model: Module): Map<string, "param" | "buffer"> {
  const params = new Set(model.namedParameters().map(([name]) => name));
  return new Map([...model.stateDict().keys()].map((key) => [key, params.has(key) ? "param" : "buffer"]));
}

/** Names of the Conv2d and Linear modules in the order their forward calls finish (what forward hooks see). */
function callOrder(model: Module, inputShape: number[]): string[] {
  const order: string[] = [];
  const handles = model
    .namedModules()
    .filter(([, m]) => m instanceof Conv2d || m instanceof Linear)
    .map(([name, m]) => m.registerForwardHook(() => order.push(name)));
  const wasTraining = model.training;
  model.eval();
  try {
    (model as unknown as { forward(x: Tensor): unknown }).forward(zeros(inputShape, { backend: "meta" }));
  } finally {
    for (const h of handles) h.remove();
    model.train(wasTraining);
  }
  return order;
}

test("the fixtures cover the 18 torchvision models", () => {
  assert.equal(cases.length, 18);
});

for (const c of cases) {
  test(`${c.name}: state_dict, parameters, output shape and MACs match torchvision`, () => {
    const [name, options] = ZOO[c.name] ?? [c.name, {}];
    const model = getModel(name, { ...options, backend: "meta" });
    const state = [...model.stateDict().entries()];
    assert.deepEqual(
      state.map(([k, t]) => `${k} [${t.shape.join(",")}]`),
      c.state_dict.map((e) => `${e.key} [${e.shape.join(",")}]`),
    );
    const kindOf = kinds(model);
    assert.deepEqual(
      c.state_dict.map((e) => kindOf.get(e.key)),
      c.state_dict.map((e) => e.kind),
    );
    const bufferElements = state
      .filter(([k]) => kindOf.get(k) === "buffer")
      .reduce((s, [, t]) => s + t.size, 0);
    assert.equal(bufferElements, c.buffers_total);

    const s = summary(model, c.input_shape);
    assert.equal(s.totalParams, c.params_total);
    assert.equal(s.trainableParams, c.params_trainable);
    assert.deepEqual(s.outputShape, c.output_shape);
    assert.equal(s.convMacs, c.conv_macs);
    assert.equal(s.linearMacs, c.linear_macs);
    assert.equal(s.totalMacs, c.macs);
    const layers = s.rows
      .filter((r) => !r.notRun && (r.type === "Conv2d" || r.type === "Linear")) // the layers this pass ran
      .map((r) => [r.name, r.type, r.outputShape, r.macs]);
    assert.deepEqual(layers, c.layers);
    // The fixture lists the layers in torchvision's call order (its forward hooks): a block that ran its
    // downsample before its main path would put downsample.0 before conv3.
    assert.deepEqual(
      callOrder(model, c.input_shape),
      c.layers.map(([layer]) => layer),
      "forward hooks fire in torchvision's order",
    );

    if (c.train_mode_output_shapes) {
      const train = summary(model, c.input_shape, { training: true });
      const expected = Object.fromEntries(
        Object.entries(c.train_mode_output_shapes).map(([k, v]) => [k.replace(/_logits(\d)/, "Logits$1"), v]),
      );
      assert.deepEqual(train.outputShape, expected);
      assert.equal(train.totalMacs, c.train_mode_macs_with_aux);
      assert.equal(model.training, true, "summary restores the training mode");
    }
  });
}

// Model specs: ConvNetJS layer_defs and the JSON layer list give the right layers, output shapes and
// parameter counts (computed here from the layer formulas), torch-style names, and clear errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randn } from "../../src/tensor/tensor.js";
import {
  BUILTIN_MODELS,
  CONVNETJS_CIFAR10_LAYER_DEFS,
  CONVNETJS_MNIST_LAYER_DEFS,
  buildBuiltin,
  buildFromSpec,
  convnetJsToSpec,
  fromConvNetJs,
} from "../../src/spec/index.js";
import type { Module } from "../../src/nn/module.js";

const conv = (cin: number, cout: number, k: number) => cout * cin * k * k + cout;
const fc = (fin: number, fout: number) => fout * fin + fout;
const forward = (m: Module, x: ReturnType<typeof randn>) =>
  (m as unknown as { forward(t: typeof x): typeof x }).forward(x);

test("ConvNetJS MNIST demo: shapes 24→24→12→12→4, 5,994 parameters", () => {
  const { model, shapes } = fromConvNetJs(CONVNETJS_MNIST_LAYER_DEFS);
  // conv 5x5x8 pad 2, pool 2/2, conv 5x5x16 pad 2, pool 3/3 -> 4x4x16, fc to 10.
  assert.deepEqual(shapes, [
    [8, 24, 24],
    [8, 24, 24],
    [8, 12, 12],
    [16, 12, 12],
    [16, 12, 12],
    [16, 4, 4],
    [256],
    [10],
  ]);
  assert.equal(model.numParameters(), conv(1, 8, 5) + conv(8, 16, 5) + fc(4 * 4 * 16, 10));
  assert.equal(model.numParameters(), 5994);
  assert.deepEqual(
    [...model.stateDict().keys()],
    ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"],
  );
  assert.deepEqual(forward(model, randn([2, 1, 24, 24])).shape, [2, 10]);
  // The relu activation gives conv biases ConvNetJS's bias_pref of 0.1; the classifier's bias starts at 0.
  assert.ok([...model.stateDict().get("0.bias")!.toArray()].every((b) => Math.abs(b - 0.1) < 1e-7));
  assert.ok([...model.stateDict().get("7.bias")!.toArray()].every((b) => b === 0));
});

test("ConvNetJS CIFAR-10 demo: three conv-pool stages, 22,466 parameters", () => {
  const { model, shapes } = fromConvNetJs(CONVNETJS_CIFAR10_LAYER_DEFS);
  assert.deepEqual(shapes.at(-3), [20, 4, 4]);
  assert.equal(
    model.numParameters(),
    conv(3, 16, 5) + conv(16, 20, 5) + conv(20, 20, 5) + fc(4 * 4 * 20, 10),
  );
  assert.deepEqual(forward(model, randn([1, 3, 32, 32])).shape, [1, 10]);
});

test("ConvNetJS desugaring: fc activation, drop_prob, maxout, lrn, tanh, sigmoid", () => {
  const defs = [
    { type: "input", out_sx: 8, out_sy: 8, out_depth: 3 },
    { type: "conv", sx: 3, filters: 4, pad: 1, activation: "tanh" },
    { type: "lrn", k: 1, n: 3, alpha: 0.1, beta: 0.75 },
    { type: "pool", sx: 2 },
    { type: "fc", num_neurons: 12, activation: "maxout", group_size: 3, drop_prob: 0.5 },
    { type: "fc", num_neurons: 6, activation: "sigmoid" },
    { type: "softmax", num_classes: 5 },
  ];
  const spec = convnetJsToSpec(defs);
  assert.deepEqual(
    spec.layers.map((l) => l.type),
    [
      "conv2d",
      "tanh",
      "lrn",
      "maxpool2d",
      "flatten",
      "linear",
      "maxout",
      "dropout",
      "linear",
      "sigmoid",
      "linear",
    ],
  );
  const { model, shapes } = buildFromSpec(spec);
  // pool default stride 2: 8 -> 4; fc 4·4·4 = 64 -> 12, maxout by 3 -> 4, fc 4 -> 6, classifier 6 -> 5.
  assert.deepEqual(shapes.at(-5), [4]);
  assert.equal(model.numParameters(), conv(3, 4, 3) + fc(64, 12) + fc(4, 6) + fc(6, 5));
  assert.deepEqual(forward(model.eval(), randn([2, 3, 8, 8])).shape, [2, 5]);
});

test("ConvNetJS errors name the layer index and the problem", () => {
  assert.throws(
    () => fromConvNetJs([{ type: "conv", sx: 3, filters: 2 }]),
    /layer_defs\[0\].*first layer must be/,
  );
  assert.throws(
    () => fromConvNetJs([{ type: "input", out_sx: 4, out_sy: 4, out_depth: 1 }, { type: "quadtransform" }]),
    /layer_defs\[1\].*quadtransform/,
  );
  assert.throws(
    () =>
      fromConvNetJs([
        { type: "input", out_sx: 4, out_sy: 4, out_depth: 1 },
        { type: "conv", sx: 3, filters: 2, activation: "swish" },
      ]),
    /unsupported activation 'swish'/,
  );
});

test("JSON spec: shapes inferred, errors for linear before flatten and unknown types", () => {
  const { model, shapes } = buildFromSpec({
    input: [1, 28, 28],
    layers: [
      { type: "conv2d", outChannels: 6, kernelSize: 5, padding: 2 },
      { type: "batchnorm2d" },
      { type: "relu" },
      { type: "avgpool2d", kernelSize: 2 },
      { type: "globalavgpool2d" },
      { type: "linear", outFeatures: 10 },
    ],
  });
  assert.deepEqual(shapes, [[6, 28, 28], [6, 28, 28], [6, 28, 28], [6, 14, 14], [6], [10]]);
  assert.equal(model.numParameters(), conv(1, 6, 5) + 2 * 6 + fc(6, 10));
  assert.ok(model.stateDict().has("1.running_mean"));
  assert.throws(
    () => buildFromSpec({ input: [1, 8, 8], layers: [{ type: "linear", outFeatures: 3 }] }),
    /layer 0 \(linear\): needs a flat input \[F\], got \[1,8,8\]/,
  );
  assert.throws(
    () => buildFromSpec({ input: [1, 8, 8], layers: [{ type: "conv3d" } as never] }),
    /unknown layer type 'conv3d'/,
  );
  assert.throws(() => buildFromSpec({ input: [1, 8], layers: [] } as never), /'input' must be \[C, H, W\]/);
  assert.throws(
    () => buildFromSpec({ input: [1, 4, 4], layers: [{ type: "conv2d", outChannels: 2, kernelSize: 7 }] }),
    /kernel 7x7 does not fit input \[1,4,4\]/,
  );
});

test("built-ins build and map MNIST images to 10 logits", () => {
  for (const name of BUILTIN_MODELS) {
    const model = buildBuiltin(name);
    const x = name === "convnetjs-cifar10" ? randn([1, 3, 32, 32]) : randn([1, 1, 28, 28]);
    assert.deepEqual(forward(model, x).shape, [1, 10], name);
  }
  assert.equal(
    buildBuiltin("lenet5").numParameters(),
    conv(1, 6, 5) + conv(6, 16, 5) + fc(400, 120) + fc(120, 84) + fc(84, 10),
  );
  assert.throws(() => buildBuiltin("lenet7"), /unknown built-in model 'lenet7'/);
});

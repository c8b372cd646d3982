// JSON model specs: unknown keys are errors suggesting the closest valid key, wrong types name the layer and
// key, sizes too large to allocate are refused before anything is allocated (issue 9, defect 8).

import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFromSpec, LAYER_KEYS, LAYER_TYPES, type ModelSpec } from "../../src/spec/spec.js";
import { fromConvNetJs } from "../../src/spec/convnetjs.js";

/** A spec of a small valid net with `layer` spliced in at index 2. */
function withLayer(layer: unknown): ModelSpec {
  return {
    input: [1, 12, 12],
    layers: [
      { type: "conv2d", outChannels: 4, kernelSize: 3 },
      { type: "relu" },
      layer as ModelSpec["layers"][number],
      { type: "flatten" },
      { type: "linear", outFeatures: 3 },
    ],
  };
}

test("an unknown key suggests the closest valid key and names the layer", () => {
  const spec = withLayer({ type: "conv2d", outChannels: 4, kernel: 5 });
  assert.throws(
    () => buildFromSpec(spec),
    /^Error: model spec: unknown key 'kernel' in layer 2 \(conv2d\); did you mean 'kernelSize'\?$/,
  );
  assert.throws(
    () => buildFromSpec(withLayer({ type: "maxpool2d", kernelSize: 2, strides: 2 })),
    /unknown key 'strides' in layer 2 \(maxpool2d\); did you mean 'stride'\?/,
  );
  assert.throws(
    () => buildFromSpec(withLayer({ type: "relu", inplace: true })),
    /unknown key 'inplace' in layer 2 \(relu\); valid: type$/,
  );
  assert.throws(
    () => buildFromSpec({ ...withLayer({ type: "relu" }), layer: [] } as ModelSpec),
    /unknown key 'layer' in the spec; did you mean 'layers'\?/,
  );
  assert.throws(() => buildFromSpec(withLayer({ type: "convolution" })), /unknown layer type 'convolution'/);
  assert.throws(() => buildFromSpec(withLayer({ type: "maxpool" })), /did you mean 'maxpool2d'\?/);
});

test("every layer type's documented keys are accepted", () => {
  const samples: Record<string, object> = {
    conv2d: { outChannels: 2, kernelSize: [3, 3], stride: 1, padding: 1, bias: false, biasInit: 0.1 },
    maxpool2d: { kernelSize: 2, stride: 2, padding: 0, ceilMode: true },
    avgpool2d: { kernelSize: 2, stride: 2, padding: 1, ceilMode: false },
    adaptiveavgpool2d: { outputSize: [2, 3] },
    adaptivemaxpool2d: { outputSize: [2, 3] },
    softplus: { beta: 2, threshold: 10 },
    leakyrelu: { negativeSlope: 0.2 },
    elu: { alpha: 0.5 },
    maxout: { pieces: 2 },
    dropout: { p: 0.1 },
    dropout2d: { p: 0.1 },
    batchnorm2d: { eps: 1e-3, momentum: 0.2 },
    lrn: { size: 3, alpha: 1e-3, beta: 0.5, k: 2 },
  };
  for (const type of LAYER_TYPES) {
    if (["linear", "flatten", "globalavgpool2d", "globalmaxpool2d", "batchnorm1d"].includes(type)) continue;
    const options = samples[type] ?? {};
    assert.deepEqual(Object.keys(options).sort(), [...LAYER_KEYS[type]].sort(), type);
    buildFromSpec(withLayer({ type, ...options }));
  }
});

test("wrong types name the layer and key: NaN/Infinity/arrays/objects/strings", () => {
  const cases: [object, RegExp][] = [
    [{ type: "lrn", size: 3, alpha: "1e-4" }, /layer 2 \(lrn\): alpha must be a finite number, got "1e-4"/],
    [{ type: "lrn", size: 3, beta: [0.75] }, /layer 2 \(lrn\): beta must be a finite number, got \[0.75\]/],
    [{ type: "lrn", size: 3, k: {} }, /layer 2 \(lrn\): k must be a finite number, got an object/],
    [{ type: "lrn", size: 3, k: Infinity }, /k must be a finite number, got Infinity/],
    [{ type: "lrn", size: 3, alpha: NaN }, /alpha must be a finite number, got NaN/],
    [
      { type: "leakyrelu", negativeSlope: -Infinity },
      /layer 2 \(leakyrelu\): negativeSlope must be a finite number/,
    ],
    [{ type: "elu", alpha: Infinity }, /layer 2 \(elu\): alpha must be a finite number, got Infinity/],
    [
      { type: "conv2d", outChannels: 2, kernelSize: 3, biasInit: [0.1] },
      /biasInit must be a finite number, got \[0.1\]/,
    ],
    [{ type: "conv2d", outChannels: 2, kernelSize: 3, bias: "yes" }, /bias must be true or false, got "yes"/],
    [
      { type: "conv2d", outChannels: 2, kernelSize: [3, 3, 3] },
      /kernelSize must be an integer >= 1 or \[height, width\] of them, got \[3,3,3\]/,
    ],
    [{ type: "conv2d", outChannels: 2, kernelSize: 2.5 }, /kernelSize must be an integer >= 1/],
    [{ type: "conv2d", outChannels: 2 }, /layer 2 \(conv2d\): kernelSize is required/],
    [{ type: "maxpool2d", kernelSize: 2, stride: 0 }, /stride must be an integer >= 1/],
    [{ type: "dropout", p: 1.5 }, /layer 2 \(dropout\): p must be a finite number in \[0, 1\], got 1.5/],
    [{ type: "batchnorm2d", eps: 0 }, /eps must be a finite number > 0, got 0/],
  ];
  for (const [layer, pattern] of cases) assert.throws(() => buildFromSpec(withLayer(layer)), pattern);
});

test("sizes too large to allocate are refused with the layer and size, before allocating", () => {
  assert.throws(
    () => buildFromSpec(withLayer({ type: "conv2d", outChannels: 1e308, kernelSize: 3 })),
    /layer 2 \(conv2d\): weight \[1e\+308,4,3,3\] would hold Infinity elements, more than/,
  );
  assert.throws(
    () => buildFromSpec(withLayer({ type: "conv2d", outChannels: 2 ** 40, kernelSize: 3 })),
    /layer 2 \(conv2d\): weight \[1099511627776,4,3,3\] would hold 39582418599936 elements, more than the 1073741824 \(2\^30\) a tensor can hold/,
  );
  assert.throws(
    () => buildFromSpec({ input: [1, 2 ** 20, 2 ** 20], layers: [] }),
    /model spec: input sample \[1,1048576,1048576\] would hold/,
  );
});

test("deeply nested values and odd top levels give clean errors", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.throws(
    () => buildFromSpec(withLayer({ type: "conv2d", outChannels: 2, kernelSize: deep })),
    /kernelSize must be an integer >= 1 or \[height, width\] of them, got an array of 1/,
  );
  assert.throws(() => buildFromSpec(null as unknown as ModelSpec), /expected \{ input: \[C, H, W\], layers/);
  assert.throws(() => buildFromSpec([] as unknown as ModelSpec), /expected \{ input/);
  assert.throws(
    () => buildFromSpec({ input: [1, 2, 2], layers: [null] } as unknown as ModelSpec),
    /layer 0 \(no type\): each layer needs a string 'type'/,
  );
  assert.throws(() => buildFromSpec(withLayer({ type: "toString" })), /unknown layer type 'toString'/);
});

test("ConvNetJS layer_defs with a non-numeric option fail naming the converted layer", () => {
  assert.throws(
    () =>
      fromConvNetJs([
        { type: "input", out_sx: 8, out_sy: 8, out_depth: 1 },
        { type: "lrn", k: 1, n: 3, alpha: NaN, beta: 0.75 },
        { type: "softmax", num_classes: 2 },
      ]),
    /layer 0 \(lrn\): alpha must be a finite number, got NaN/,
  );
});

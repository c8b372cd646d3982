// The registry (getModel, listModels), the figures the papers state for the models torchvision lacks,
// the small-input stems, summary's printed table, and importing torchvision-named weights from safetensors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureDir } from "../helpers/fixtures.js";
import {
  getModel,
  listModels,
  summary,
  formatSummary,
  loadWeights,
  encodeSafetensors,
} from "../../src/models/index.js";
import { rand, tensor, type Tensor } from "../../src/index.js";
import { BatchNorm2d } from "../../src/nn/index.js";

const meta = { backend: "meta" };

interface ModelCase {
  name: string;
  state_dict: { key: string; shape: number[]; dtype: string }[];
}

function fixtureModels(): ModelCase[] {
  return ["models.json", "models_extra.json"].flatMap(
    (file) => (JSON.parse(readFileSync(join(fixtureDir, file), "utf8")) as { cases: ModelCase[] }).cases,
  );
}

test("listModels describes every family with paper, year and input size; getModel builds each on meta", () => {
  const models = listModels();
  const families = new Set(models.map((m) => m.family));
  for (const f of [
    "lenet",
    "alexnet",
    "zfnet",
    "vgg",
    "googlenet",
    "resnet",
    "resnext",
    "senet",
    "densenet",
    "mobilenet",
    "squeezenet",
    "shufflenet",
    "mnasnet",
    "efficientnet",
    "regnet",
    "convnext",
  ]) {
    assert.ok(families.has(f), f);
  }
  const inFixture = new Set(fixtureModels().map((c) => c.name));
  for (const info of models) {
    assert.ok(info.paper.length > 10 && info.year >= 1998 && info.year <= 2022, info.name);
    // Models in models.json get the full check in torchvision.test.ts.
    if (inFixture.has(info.name)) continue;
    const s = summary(getModel(info.name, { ...meta, numClasses: 7 }), [2, ...info.inputSize]);
    const spatial = info.task === "segmentation" ? info.inputSize.slice(1) : [];
    assert.deepEqual(s.outputShape, [2, 7, ...spatial], info.name);
  }
  assert.throws(() => getModel("resnet19"), /unknown model 'resnet19'.*resnet18/);
});

test("paper figures: AlexNet 2012 60,965,224 parameters and 55/27/13 maps; ZFNet 110/55/26/13/6 maps", () => {
  const alex = summary(getModel("alexnet_2012", meta), [1, 3, 227, 227]);
  assert.equal(alex.totalParams, 60965224);
  const shapes = (s: typeof alex, names: string[]) =>
    names.map((n) => s.rows.find((r) => r.name === n)!.outputShape);
  assert.deepEqual(shapes(alex, ["features.0", "features.4", "features.8", "features.14"]), [
    [1, 96, 55, 55],
    [1, 256, 27, 27],
    [1, 384, 13, 13],
    [1, 256, 6, 6],
  ]);
  // Two-group convolutions: conv2 sees 48 of conv1's 96 maps, conv4 and conv5 192 of 384.
  assert.deepEqual(alex.rows.find((r) => r.name === "features.4")!.params, 256 * 48 * 25 + 256);
  const zf = summary(getModel("zfnet", meta), [1, 3, 224, 224]);
  assert.deepEqual(
    shapes(zf, ["features.0", "features.2", "features.4", "features.6", "features.14"]).map((s) =>
      s.slice(1),
    ),
    [
      [96, 110, 110],
      [96, 55, 55],
      [256, 26, 26],
      [256, 13, 13],
      [256, 6, 6],
    ],
  );
});

test("paper figures: CIFAR ResNet-20/56/110 have 0.27M/0.85M/1.7M parameters (He et al. 2016, Table 6)", () => {
  const params = (name: string) => summary(getModel(name, meta), [1, 3, 32, 32]);
  const r20 = params("resnet20_cifar");
  assert.equal(Math.round(r20.totalParams / 1e4) / 100, 0.27);
  assert.equal(r20.depth, 20);
  assert.equal(Math.round(params("resnet56_cifar").totalParams / 1e4) / 100, 0.85);
  assert.equal(Math.round(params("resnet110_cifar").totalParams / 1e5) / 10, 1.7);
  // Option B adds 1x1 projections (+BN) at the two stage transitions; option A adds nothing.
  const b = summary(getModel("resnet20_cifar", { ...meta, shortcut: "B" }), [1, 3, 32, 32]);
  assert.equal(b.totalParams - r20.totalParams, 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64);
});

test("paper figures: SE-ResNet-50 28.1M parameters; MobileNet v1 4.2M parameters and 569M mult-adds", () => {
  const se = summary(getModel("se_resnet50", meta), [1, 3, 224, 224]);
  assert.equal(Math.round(se.totalParams / 1e5) / 10, 28.1);
  assert.equal(se.depth, 50, "SE gates are not counted as depth");
  const v1 = summary(getModel("mobilenet_v1", meta), [1, 3, 224, 224]);
  assert.equal(Math.round(v1.totalParams / 1e5) / 10, 4.2);
  assert.equal(Math.round(v1.totalMacs / 1e6), 569);
  assert.equal(v1.depth, 28);
});

test("small-input stems keep 32x32 images from shrinking to nothing", () => {
  for (const name of [
    "resnet18",
    "resnext50_32x4d",
    "se_resnet50",
    "mobilenet_v1",
    "mobilenet_v2",
    "shufflenet_v2_x1_0",
    "efficientnet_b0",
    "mnasnet1_0",
    "regnet_y_400mf",
  ] as const) {
    const normal = summary(getModel(name, { ...meta, numClasses: 10 }), [1, 3, 32, 32]);
    const small = summary(getModel(name, { ...meta, numClasses: 10, smallInput: true }), [1, 3, 32, 32]);
    assert.deepEqual(small.outputShape, [1, 10], name);
    // At least one stride-2 step (4x the positions) is gone from the stem.
    assert.ok(small.totalMacs > 3.5 * normal.totalMacs, `${name}: ${small.totalMacs} vs ${normal.totalMacs}`);
  }
  // MobileNet v3 Small's fixed-size head outweighs its convolutions at 32x32: check the stem's maps instead.
  const v3 = summary(getModel("mobilenet_v3_small", { ...meta, smallInput: true }), [1, 3, 32, 32]);
  assert.deepEqual(v3.rows.find((r) => r.name === "features.0")!.outputShape, [1, 16, 32, 32]);
  const dense = summary(getModel("densenet121", { ...meta, smallInput: true }), [1, 3, 32, 32]);
  assert.deepEqual(dense.rows.find((r) => r.name === "features.denseblock1")!.outputShape, [1, 256, 32, 32]);
});

test("formatSummary prints one line per module and the totals", () => {
  const s = summary(getModel("lenet5"), [1, 1, 28, 28]);
  const text = formatSummary(s);
  assert.match(text, /conv1 \(Conv2d\)\s+\[1,\s?6,\s?28,\s?28\]\s+156\s+117,600/);
  assert.match(text, /Total params: 61,706/);
  assert.match(text, /MACs: 416,520/);
  assert.equal(s.totalMacs, 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
});

test("torchvision-named weights in a safetensors file load into the zoo's model", () => {
  const fixture = fixtureModels();
  const squeeze = fixture.find((c) => c.name === "squeezenet1_1")!;
  const weights = new Map<string, Tensor>(squeeze.state_dict.map((e) => [e.key, rand(e.shape)]));
  const model = getModel("squeezenet1_1");
  loadWeights(model, encodeSafetensors(weights, { format: "pt" }));
  const state = model.stateDict();
  for (const [key, t] of weights) assert.deepEqual(state.get(key)!.toArray(), t.toArray(), key);

  // BatchNorm buffers too (torch saves num_batches_tracked as int64; we write int32).
  const resnet = fixture.find((c) => c.name === "resnet18")!;
  const bnOnly = resnet.state_dict.filter((e) => e.key.startsWith("bn1."));
  const bn = new Map(
    bnOnly.map((e) => [
      e.key,
      e.dtype === "int64" ? tensor(new Int32Array([42]), [], { dtype: "int32" }) : rand(e.shape),
    ]),
  );
  const r18 = getModel("resnet18", { numClasses: 10 });
  loadWeights(r18, encodeSafetensors(bn), { strict: false });
  assert.deepEqual(r18.stateDict().get("bn1.running_var")!.toArray(), bn.get("bn1.running_var")!.toArray());
});

test("loadWeights lists every mismatched name and shape", () => {
  const weights = new Map<string, Tensor>([
    ["features.0.weight", rand([64, 3, 5, 5])],
    ["features.0.bias", rand([64])],
    ["classifier.9.weight", rand([2])],
  ]);
  const bytes = encodeSafetensors(weights);
  assert.throws(
    () => loadWeights(getModel("squeezenet1_1"), bytes),
    (e: Error) =>
      /loadWeights/.test(e.message) &&
      /features\.0\.weight: checkpoint \[64,\s?3,\s?5,\s?5\] vs model \[64,\s?3,\s?3,\s?3\]/.test(
        e.message,
      ) &&
      /missing keys: .*features\.3\.squeeze\.weight/.test(e.message) &&
      /unexpected keys: classifier\.9\.weight/.test(e.message),
  );
});

test("model options are typed per model and unknown keys are rejected, naming the key, the model and the valid ones", () => {
  assert.throws(
    // @ts-expect-error -- inChanels is not an option of lenet5 (inChannels misspelled): a type error too.
    () => getModel("lenet5", { numClasses: 5, inChanels: 3 }),
    (e: Error) =>
      e.message ===
      "getModel: unknown option 'inChanels' for model 'lenet5'; valid options: numClasses, inChannels, dtype, backend",
  );
  assert.throws(
    // @ts-expect-error -- smallInput is a ResNet option, not SqueezeNet's.
    () => getModel("squeezenet1_1", { smallInput: true, widthMultiplier: 2 }),
    /unknown options 'smallInput', 'widthMultiplier' for model 'squeezenet1_1'; valid options: numClasses, inChannels, dtype, backend$/,
  );
  assert.throws(
    // @ts-expect-error -- vgg16_bn's depth and batch norm come from its name.
    () => getModel("vgg16_bn", { depth: 11 }),
    /unknown option 'depth' for model 'vgg16_bn'.*hiddenFeatures/,
  );
  // A name only known at run time takes any options at compile time; the check happens when building.
  const name: string = "convnext_tiny";
  assert.throws(
    () => getModel(name, { ...meta, stochasticDepth: 0.2 }),
    /unknown option 'stochasticDepth' for model 'convnext_tiny'; valid options: numClasses, inChannels, dtype, backend, stochasticDepthProb, layerScale/,
  );
  // Every valid family option still passes through.
  const convnext = summary(
    getModel("convnext_tiny", { ...meta, stochasticDepthProb: 0.2, layerScale: 1 }),
    [1, 3, 64, 64],
  );
  assert.deepEqual(convnext.outputShape, [1, 1000]);
  assert.deepEqual(
    summary(getModel("resnet20_cifar", { ...meta, shortcut: "B", numClasses: 3 }), [1, 3, 32, 32])
      .outputShape,
    [1, 3],
  );
});

test("batch norms keep torchvision's hyper-parameters: MobileNet v3 eps 0.001 and momentum 0.01, MNASNet momentum 0.0003", () => {
  const norms = (name: "mobilenet_v3_small" | "mnasnet1_0" | "efficientnet_b0") =>
    getModel(name, meta)
      .modules()
      .filter((m): m is BatchNorm2d => m instanceof BatchNorm2d)
      .map((m) => [m.eps, m.momentum]);
  assert.deepEqual(new Set(norms("mobilenet_v3_small").map(String)), new Set(["0.001,0.01"]));
  assert.deepEqual(new Set(norms("mnasnet1_0").map(String)), new Set([`0.00001,${1 - 0.9997}`]));
  assert.deepEqual(new Set(norms("efficientnet_b0").map(String)), new Set(["0.00001,0.1"]));
});

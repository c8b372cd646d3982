// Every forward/backward case of the PyTorch fixtures, read generically: a new case needs no new code.
// Each case runs on every registered backend; the worst error per family is reported.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, type Tensor } from "../../src/index.js";
import { fixtureFamilies, loadFixture, toTensor, type FixtureCase } from "../helpers/fixtures.js";
import { compareArrays } from "../helpers/close.js";
import { computingBackends } from "../helpers/backends.js";

type Inputs = Record<string, Tensor>;
type Attrs = Record<string, unknown>;
type Runner = (inputs: Inputs, attrs: Attrs) => Record<string, Tensor>;

const num = (v: unknown) => v as number;
const pairOf = (v: unknown) => v as [number, number];

const runners: Record<string, Runner> = {
  conv2d: ({ x, weight, bias }, a) => ({
    y: F.conv2d(x, weight, bias, {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      dilation: pairOf(a.dilation),
      groups: num(a.groups),
    }),
  }),
  conv_transpose2d: ({ x, weight, bias }, a) => ({
    y: F.convTranspose2d(x, weight, bias, {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      outputPadding: pairOf(a.output_padding),
      dilation: pairOf(a.dilation),
      groups: num(a.groups),
    }),
  }),
  max_pool2d: ({ x }, a) => {
    const { output, indices } = F.maxPool2dWithIndices(x, pairOf(a.kernel_size), {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      dilation: pairOf(a.dilation),
      ceilMode: a.ceil_mode as boolean,
    });
    return { y: output, indices };
  },
  avg_pool2d: ({ x }, a) => ({
    y: F.avgPool2d(x, pairOf(a.kernel_size), {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      ceilMode: a.ceil_mode as boolean,
      countIncludePad: a.count_include_pad as boolean,
      divisorOverride: a.divisor_override as number | null,
    }),
  }),
  adaptive_avg_pool2d: ({ x }, a) => ({ y: F.adaptiveAvgPool2d(x, pairOf(a.output_size)) }),
  linear: ({ x, weight, bias }) => ({ y: F.linear(x, weight, bias) }),
  relu: ({ x }) => ({ y: F.relu(x) }),
  relu6: ({ x }) => ({ y: F.relu6(x) }),
  leaky_relu: ({ x }, a) => ({ y: F.leakyRelu(x, num(a.negative_slope)) }),
  sigmoid: ({ x }) => ({ y: F.sigmoid(x) }),
  tanh: ({ x }) => ({ y: F.tanh(x) }),
  elu: ({ x }, a) => ({ y: F.elu(x, num(a.alpha)) }),
  gelu: ({ x }, a) => ({ y: F.gelu(x, { approximate: (a.approximate as "tanh" | undefined) ?? "none" }) }),
  silu: ({ x }) => ({ y: F.silu(x) }),
  maxout: ({ x }, a) => ({ y: F.maxout(x, num(a.pieces)) }),
  softmax: ({ x }, a) => ({ y: F.softmax(x, num(a.dim)) }),
  log_softmax: ({ x }, a) => ({ y: F.logSoftmax(x, num(a.dim)) }),
  cross_entropy: ({ input, target, weight }, a) => ({
    loss: F.crossEntropy(input, target, {
      reduction: a.reduction as F.Reduction,
      labelSmoothing: num(a.label_smoothing),
      weight,
      ignoreIndex: a.ignore_index as number | undefined,
    }),
  }),
  multi_margin_loss: ({ input, target, weight }, a) => ({
    loss: F.multiMarginLoss(input, target, {
      p: a.p as 1 | 2,
      margin: num(a.margin),
      weight,
      reduction: a.reduction as F.Reduction,
    }),
  }),
  smooth_l1_loss: ({ input, target }, a) => ({
    loss: F.smoothL1Loss(input, target, { beta: num(a.beta), reduction: a.reduction as F.Reduction }),
  }),
  huber_loss: ({ input, target }, a) => ({
    loss: F.huberLoss(input, target, { delta: num(a.delta), reduction: a.reduction as F.Reduction }),
  }),
  kl_div: ({ input, target }, a) => ({
    loss: F.klDiv(input, target, {
      reduction: a.reduction as F.Reduction | "batchmean",
      logTarget: a.log_target as boolean,
    }),
  }),
  layer_norm: ({ x, weight, bias }, a) => ({
    y: F.layerNorm(x, a.normalized_shape as number[], { weight, bias, eps: num(a.eps) }),
  }),
  layer_norm2d: ({ x, weight, bias }, a) => ({ y: F.layerNorm2d(x, { weight, bias, eps: num(a.eps) }) }),
  group_norm: ({ x, weight, bias }, a) => ({
    y: F.groupNorm(x, num(a.num_groups), { weight, bias, eps: num(a.eps) }),
  }),
  conv1d: ({ x, weight, bias }, a) => ({
    y: F.conv1d(x, weight, bias, {
      stride: num(a.stride),
      padding: a.padding as number | "same",
      dilation: num(a.dilation),
      groups: num(a.groups),
    }),
  }),
  nll_loss: ({ input, target }, a) => ({
    loss: F.nllLoss(input, target, { reduction: a.reduction as F.Reduction }),
  }),
  mse_loss: ({ input, target }, a) => ({
    loss: F.mseLoss(input, target, { reduction: a.reduction as F.Reduction }),
  }),
  binary_cross_entropy_with_logits: ({ input, target }, a) => ({
    loss: F.binaryCrossEntropyWithLogits(input, target, { reduction: a.reduction as F.Reduction }),
  }),
  batch_norm: ({ x, weight, bias, running_mean, running_var }, a) => {
    const r = F.batchNormWithStats(x, {
      weight,
      bias,
      runningMean: running_mean,
      runningVar: running_var,
      training: a.training as boolean,
      momentum: num(a.momentum),
      eps: num(a.eps),
    });
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    return {
      y: r.output,
      running_mean: r.runningMean!,
      running_var: r.runningVar!,
      batch_mean: F.mean(x, axes),
      batch_var: F.variance(x, axes, { unbiased: false }),
    };
  },
  local_response_norm: ({ x }, a) => ({
    y: F.localResponseNorm(x, num(a.size), { alpha: num(a.alpha), beta: num(a.beta), k: num(a.k) }),
  }),
  add: ({ a, b }) => ({ y: F.add(a, b) }),
  mul: ({ a, b }) => ({ y: F.mul(a, b) }),
  concat: ({ a, b, c }, at) => ({ y: F.concat([a, b, c], num(at.dim)) }),
  flatten: ({ x }, a) => ({ y: F.flatten(x, num(a.start_dim), num(a.end_dim)) }),
  reshape: ({ x }, a) => ({ y: F.reshape(x, a.shape as number[]) }),
  pad: ({ x }, a) => ({
    y: F.pad(x, a.pad as number[], {
      mode: (a.mode as F.PadMode | undefined) ?? "constant",
      value: num(a.value),
    }),
  }),
  conv2d_padding_mode: ({ x, weight, bias }, a) => {
    const [kh, kw] = weight.shape.slice(2);
    const [[top, bottom], [left, right]] =
      a.padding === "same"
        ? [F.samePadding(kh, 1), F.samePadding(kw, 1)]
        : pairOf(a.padding).map((p) => [p, p]);
    const padded = F.pad(x, [left, right, top, bottom], a.padding_mode as F.PadMode);
    return { y: F.conv2d(padded, weight, bias, { stride: pairOf(a.stride) }) };
  },
  adaptive_max_pool2d: ({ x }, a) => ({ y: F.adaptiveMaxPool2d(x, pairOf(a.output_size)) }),
  interpolate: ({ x }, a) => ({
    y: F.interpolate(x, {
      size: (a.size as number[] | null) ?? undefined,
      scaleFactor: (a.scale_factor as number | null) ?? undefined,
      mode: a.mode as F.InterpolateMode,
      alignCorners: (a.align_corners as boolean | null) ?? undefined,
    }),
  }),
  prelu: ({ x, weight }) => ({ y: F.prelu(x, weight) }),
  hardswish: ({ x }) => ({ y: F.hardswish(x) }),
  hardsigmoid: ({ x }) => ({ y: F.hardsigmoid(x) }),
  mish: ({ x }) => ({ y: F.mish(x) }),
  erf: ({ x }) => ({ y: F.erf(x) }),
  sign: ({ x }) => ({ y: F.sign(x) }),
  softplus: ({ x }, a) => ({ y: F.softplus(x, { beta: num(a.beta), threshold: num(a.threshold) }) }),
  clamp: ({ x }, a) => ({ y: F.clamp(x, a.min as number | null, a.max as number | null) }),
  clamp_tensor: ({ x, low, high }) => ({ y: F.clamp(x, low, high) }),
  gather: ({ x, index }, a) => ({ y: F.gather(x, num(a.dim), index) }),
  where: ({ cond, a, b }) => ({ y: F.where(cond, a, b) }),
  topk: ({ x }, a) =>
    F.topk(x, num(a.k), { dim: num(a.dim), largest: a.largest as boolean, sorted: a.sorted as boolean }),
  mean: ({ x }, a) => ({ y: F.mean(x, a.dim as number[], a.keepdim as boolean) }),
  box_iou: ({ boxes1, boxes2 }) => ({ iou: F.boxIou(boxes1, boxes2) }),
  nms: ({ boxes, scores }, a) => ({ keep: F.nms(boxes, scores, num(a.iou_threshold)) }),
  batched_nms: ({ boxes, scores, idxs }, a) => ({
    keep: F.batchedNms(boxes, scores, idxs, num(a.iou_threshold)),
  }),
  roi_align: ({ x, rois }, a) => ({
    y: F.roiAlign(x, rois, pairOf(a.output_size), {
      spatialScale: num(a.spatial_scale),
      samplingRatio: num(a.sampling_ratio),
      aligned: a.aligned as boolean,
    }),
  }),
  roi_pool: ({ x, rois }, a) => ({
    y: F.roiPool(x, rois, pairOf(a.output_size), { spatialScale: num(a.spatial_scale) }),
  }),
};

// Families with their own harness elsewhere (different layouts): optimizers and lr_schedulers in
// test/optim, end_to_end in test/e2e, models in test/models. Every other fixture file is an op family and
// runs here, so a new file or case needs no new code (a new op needs one runner above).
const handledElsewhere = new Set([
  "optimizers",
  "optimizers_extra",
  "swa_utils",
  "lr_schedulers",
  "end_to_end",
  "models",
  "models_extra",
  "models_forward",
]);
const families = fixtureFamilies().filter((f) => !handledElsewhere.has(f));

test("every fixture file is run by a harness", () => {
  assert.ok(families.length >= 10, `only ${families.length} op families found in ${families.join(", ")}`);
  for (const family of families) {
    for (const c of loadFixture(family).cases)
      assert.ok(runners[c.op], `${family}/${c.name}: no runner for op '${c.op}'`);
  }
});

function runCase(c: FixtureCase, backend: string): Map<string, number> {
  const runner = runners[c.op];
  assert.ok(runner, `no runner for fixture op '${c.op}' (case ${c.name})`);
  const inputs: Inputs = {};
  for (const [name, t] of Object.entries(c.inputs)) {
    inputs[name] = toTensor(t, { backend, requiresGrad: Boolean(c.grads && name in c.grads) });
  }
  const outputs = runner(inputs, c.attrs ?? {});
  const errors = new Map<string, number>();
  for (const [name, expected] of Object.entries(c.outputs)) {
    const actual = outputs[name];
    assert.ok(actual, `${c.name}: the op produced no output '${name}'`);
    assert.deepEqual([...actual.shape], expected.shape, `${c.name}: shape of output ${name}`);
    const cmp = compareArrays(actual.toArray(), toTensor(expected, { backend }).toArray());
    assert.ok(
      cmp.worstRatio <= 1,
      `${c.name}: output ${name} differs by ${cmp.maxAbs} (element ${cmp.index})`,
    );
    errors.set(`outputs.${name}`, cmp.maxAbs);
  }
  if (c.upstream && c.grads) {
    let total: Tensor | null = null;
    for (const [name, up] of Object.entries(c.upstream)) {
      const term = F.sum(F.mul(outputs[name], toTensor(up, { backend })));
      total = total ? F.add(total, term) : term;
    }
    total!.backward();
    for (const [name, expected] of Object.entries(c.grads)) {
      const grad = inputs[name].grad;
      assert.ok(grad, `${c.name}: no gradient reached input '${name}'`);
      assert.deepEqual([...grad.shape], expected.shape, `${c.name}: shape of grad ${name}`);
      const cmp = compareArrays(grad.toArray(), toTensor(expected, { backend }).toArray());
      assert.ok(
        cmp.worstRatio <= 1,
        `${c.name}: grad ${name} differs by ${cmp.maxAbs} (element ${cmp.index})`,
      );
      errors.set(`grads.${name}`, cmp.maxAbs);
    }
  }
  return errors;
}

for (const backend of computingBackends()) {
  for (const family of families) {
    test(`fixtures ${family} [${backend}]`, async (t) => {
      const file = loadFixture(family);
      assert.ok(file.cases.length > 0);
      let worst = 0;
      for (const c of file.cases) {
        await t.test(c.name, () => {
          for (const err of runCase(c, backend).values()) worst = Math.max(worst, err);
        });
      }
      t.diagnostic(
        `worst |a-b| in ${family} on ${backend}: ${worst.toExponential(2)} over ${file.cases.length} cases`,
      );
    });
  }
}

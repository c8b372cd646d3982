// The PyTorch fixtures run through the nn layers rather than the functional ops: each case builds the layer
// from the case's torch arguments, loads the case's weights with loadStateDict (torch's key names), runs
// forward and backward, and compares outputs and gradients. This checks that every layer passes its
// configuration and parameters to the op as torch's module does.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { F, nn, type Tensor } from "../../src/index.js";
import { loadFixture, toTensor, type FixtureCase } from "../helpers/fixtures.js";
import { compareArrays } from "../helpers/close.js";
import { runForward } from "../helpers/layer.js";

type Attrs = Record<string, unknown>;
const pairOf = (v: unknown) => v as [number, number];

/** Builds the layer for a case; the weights come from the case's inputs by torch name. */
const builders: Record<string, (a: Attrs, c: FixtureCase) => nn.Module> = {
  conv2d: (a, c) => {
    const [cout, cinPerGroup, kh, kw] = c.inputs.weight.shape;
    const groups = a.groups as number;
    return new nn.Conv2d(cinPerGroup * groups, cout, [kh, kw], {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      dilation: pairOf(a.dilation),
      groups,
      bias: "bias" in c.inputs,
    });
  },
  conv_transpose2d: (a, c) => {
    const [cin, coutPerGroup, kh, kw] = c.inputs.weight.shape;
    const groups = a.groups as number;
    return new nn.ConvTranspose2d(cin, coutPerGroup * groups, [kh, kw], {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      outputPadding: pairOf(a.output_padding),
      dilation: pairOf(a.dilation),
      groups,
      bias: "bias" in c.inputs,
    });
  },
  max_pool2d: (a) =>
    new nn.MaxPool2d(pairOf(a.kernel_size), {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      dilation: pairOf(a.dilation),
      ceilMode: a.ceil_mode as boolean,
    }),
  avg_pool2d: (a) =>
    new nn.AvgPool2d(pairOf(a.kernel_size), {
      stride: pairOf(a.stride),
      padding: pairOf(a.padding),
      ceilMode: a.ceil_mode as boolean,
      countIncludePad: a.count_include_pad as boolean,
      divisorOverride: a.divisor_override as number | null,
    }),
  adaptive_avg_pool2d: (a) => new nn.AdaptiveAvgPool2d(pairOf(a.output_size)),
  linear: (_a, c) => {
    const [out, inFeatures] = c.inputs.weight.shape;
    return new nn.Linear(inFeatures, out, { bias: "bias" in c.inputs });
  },
  local_response_norm: (a) =>
    new nn.LocalResponseNorm(a.size as number, {
      alpha: a.alpha as number,
      beta: a.beta as number,
      k: a.k as number,
    }),
  relu: () => new nn.ReLU(),
  relu6: () => new nn.ReLU6(),
  leaky_relu: (a) => new nn.LeakyReLU(a.negative_slope as number),
  sigmoid: () => new nn.Sigmoid(),
  tanh: () => new nn.Tanh(),
  elu: (a) => new nn.ELU(a.alpha as number),
  gelu: (a) => new nn.GELU({ approximate: (a.approximate as "tanh" | undefined) ?? "none" }),
  silu: () => new nn.SiLU(),
  maxout: (a) => new nn.Maxout(a.pieces as number),
  softmax: (a) => new nn.Softmax(a.dim as number),
  log_softmax: (a) => new nn.LogSoftmax(a.dim as number),
  cross_entropy: (a, c) =>
    new nn.CrossEntropyLoss({
      reduction: a.reduction as F.Reduction,
      labelSmoothing: a.label_smoothing as number,
      ignoreIndex: a.ignore_index as number | undefined,
      weight: c.inputs.weight ? toTensor(c.inputs.weight) : null,
    }),
  conv2d_padding_mode: (a, c) => {
    const [cout, cin, kh, kw] = c.inputs.weight.shape;
    return new nn.Conv2d(cin, cout, [kh, kw], {
      stride: pairOf(a.stride),
      padding: a.padding === "same" ? "same" : pairOf(a.padding),
      paddingMode: a.padding_mode as nn.PaddingMode,
    });
  },
  adaptive_max_pool2d: (a) => new nn.AdaptiveMaxPool2d(pairOf(a.output_size)),
  interpolate: (a) =>
    new nn.Upsample({
      size: (a.size as number[] | null) ?? undefined,
      scaleFactor: (a.scale_factor as number | null) ?? undefined,
      mode: a.mode as F.InterpolateMode,
      alignCorners: (a.align_corners as boolean | null) ?? undefined,
    }),
  prelu: (_a, c) => new nn.PReLU({ numParameters: c.inputs.weight.shape[0] }),
  hardswish: () => new nn.Hardswish(),
  hardsigmoid: () => new nn.Hardsigmoid(),
  mish: () => new nn.Mish(),
  softplus: (a) => new nn.Softplus({ beta: a.beta as number, threshold: a.threshold as number }),
  sign: () => new nn.Sign(),
  layer_norm: (a, c) =>
    new nn.LayerNorm(a.normalized_shape as number[], {
      eps: a.eps as number,
      elementwiseAffine: "weight" in c.inputs,
    }),
  layer_norm2d: (a, c) => new nn.LayerNorm2d(c.inputs.weight.shape[0], { eps: a.eps as number }),
  group_norm: (a, c) =>
    new nn.GroupNorm(a.num_groups as number, c.inputs.x.shape[1], {
      eps: a.eps as number,
      affine: "weight" in c.inputs,
    }),
  conv1d: (a, c) => {
    const [cout, cinPerGroup, k] = c.inputs.weight.shape;
    const groups = a.groups as number;
    return new nn.Conv1d(cinPerGroup * groups, cout, k, {
      stride: a.stride as number,
      padding: a.padding as number | "same",
      dilation: a.dilation as number,
      groups,
      bias: "bias" in c.inputs,
    });
  },
  multi_margin_loss: (a, c) =>
    new nn.MultiMarginLoss({
      p: a.p as 1 | 2,
      margin: a.margin as number,
      reduction: a.reduction as F.Reduction,
      weight: c.inputs.weight ? toTensor(c.inputs.weight) : null,
    }),
  smooth_l1_loss: (a) =>
    new nn.SmoothL1Loss({ beta: a.beta as number, reduction: a.reduction as F.Reduction }),
  huber_loss: (a) => new nn.HuberLoss({ delta: a.delta as number, reduction: a.reduction as F.Reduction }),
  kl_div: (a) =>
    new nn.KLDivLoss({
      reduction: a.reduction as F.Reduction | "batchmean",
      logTarget: a.log_target as boolean,
    }),
  nll_loss: (a) => new nn.NLLLoss({ reduction: a.reduction as F.Reduction }),
  mse_loss: (a) => new nn.MSELoss({ reduction: a.reduction as F.Reduction }),
  binary_cross_entropy_with_logits: (a) =>
    new nn.BCEWithLogitsLoss({ reduction: a.reduction as F.Reduction }),
};

/** Inputs that are data (fed to forward), in forward order; the rest are parameters. */
const dataInputs = ["x", "input", "target"];

function check(label: string, actual: Tensor, expected: Float32Array | Int32Array): void {
  const { worstRatio, maxAbs, index } = compareArrays(actual.toArray(), expected);
  assert.ok(worstRatio <= 1, `${label}: max |diff| ${maxAbs}, worst at ${index}`);
}

const families = ["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "linear", "local_response_norm"];
// Families that also hold functional-only ops (erf, clamp, gather, …): only their cases with a layer run here.
const mixedFamilies = [
  "conv2d_same",
  "adaptive_max_pool2d",
  "interpolate",
  "activations_extra",
  "layer_norm",
  "group_norm",
  "conv1d",
  "losses_extra",
];
for (const family of [...families, "activations", "softmax_losses", ...mixedFamilies]) {
  describe(`layers vs torch fixtures: ${family}`, () => {
    const cases = loadFixture(family).cases.filter(
      (c) => !mixedFamilies.includes(family) || c.op in builders,
    );
    assert.ok(cases.length > 0, `${family}: no case has a layer`);
    for (const c of cases) {
      it(c.name, () => {
        const layer = builders[c.op](c.attrs ?? {}, c);
        const data = new Map<string, Tensor>();
        const state: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(c.inputs)) {
          if (dataInputs.includes(name))
            data.set(name, toTensor(t, { requiresGrad: name in (c.grads ?? {}) }));
          else state[name] = toTensor(t);
        }
        layer.loadStateDict(state);
        const y = runForward(layer, [...data.values()]);
        const [outName] = Object.keys(c.outputs);
        check(`${c.name} ${outName}`, y, toTensor(c.outputs[outName]).toArray() as Float32Array);
        if (!c.upstream || !c.grads) return;
        y.backward(toTensor(c.upstream[outName]));
        const params = new Map(layer.namedParameters());
        for (const [name, expected] of Object.entries(c.grads)) {
          const source = data.get(name) ?? params.get(name);
          assert.ok(source?.grad, `${c.name}: no gradient for ${name}`);
          check(`${c.name} grad ${name}`, source.grad, toTensor(expected).toArray() as Float32Array);
        }
      });
    }
  });
}

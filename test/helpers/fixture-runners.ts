// The PyTorch fixture cases as runnable code, browser-safe (no Node modules): the runner of every op over a
// library namespace passed in, and one async case runner that reads results with `await tensor.data()`, so
// the same cases run in Node (test/ops/fixtures.test.ts) and on a page on the webgpu backend
// (test/browser/webgpu-page.ts), whose values can only be read asynchronously.

import type * as Api from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { compareArrays } from "./compare.js";

export interface FixtureTensor {
  shape: number[];
  dtype: "float32" | "int32";
  data: string;
}

export interface FixtureCase {
  name: string;
  op: string;
  attrs?: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  upstream?: Record<string, FixtureTensor>;
  grads?: Record<string, FixtureTensor>;
  meta?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The little-endian float32 or int32 values of a fixture tensor (atob: browsers and Node alike). */
export function decodeFixture(t: FixtureTensor): Float32Array | Int32Array {
  const binary = atob(t.data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const n = bytes.byteLength / 4;
  const out = t.dtype === "int32" ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = t.dtype === "int32" ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
  return out;
}

export type Inputs = Record<string, Tensor>;
export type Attrs = Record<string, unknown>;
export type Runner = (inputs: Inputs, attrs: Attrs) => Record<string, Tensor>;

const num = (v: unknown) => v as number;
const pairOf = (v: unknown) => v as [number, number];

/** The runner of every fixture op, over the library namespace F it is given (Node or a browser page). */
export function fixtureRunners(F: typeof Api.F): Record<string, Runner> {
  return {
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
        reduction: a.reduction as Api.F.Reduction,
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
        reduction: a.reduction as Api.F.Reduction,
      }),
    }),
    smooth_l1_loss: ({ input, target }, a) => ({
      loss: F.smoothL1Loss(input, target, { beta: num(a.beta), reduction: a.reduction as Api.F.Reduction }),
    }),
    huber_loss: ({ input, target }, a) => ({
      loss: F.huberLoss(input, target, { delta: num(a.delta), reduction: a.reduction as Api.F.Reduction }),
    }),
    kl_div: ({ input, target }, a) => ({
      loss: F.klDiv(input, target, {
        reduction: a.reduction as Api.F.Reduction | "batchmean",
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
      loss: F.nllLoss(input, target, { reduction: a.reduction as Api.F.Reduction }),
    }),
    mse_loss: ({ input, target }, a) => ({
      loss: F.mseLoss(input, target, { reduction: a.reduction as Api.F.Reduction }),
    }),
    binary_cross_entropy_with_logits: ({ input, target }, a) => ({
      loss: F.binaryCrossEntropyWithLogits(input, target, { reduction: a.reduction as Api.F.Reduction }),
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
        mode: (a.mode as Api.F.PadMode | undefined) ?? "constant",
        value: num(a.value),
      }),
    }),
    conv2d_padding_mode: ({ x, weight, bias }, a) => {
      const [kh, kw] = weight.shape.slice(2);
      const [[top, bottom], [left, right]] =
        a.padding === "same"
          ? [F.samePadding(kh, 1), F.samePadding(kw, 1)]
          : pairOf(a.padding).map((p) => [p, p]);
      const padded = F.pad(x, [left, right, top, bottom], a.padding_mode as Api.F.PadMode);
      return { y: F.conv2d(padded, weight, bias, { stride: pairOf(a.stride) }) };
    },
    adaptive_max_pool2d: ({ x }, a) => ({ y: F.adaptiveMaxPool2d(x, pairOf(a.output_size)) }),
    interpolate: ({ x }, a) => ({
      y: F.interpolate(x, {
        size: (a.size as number[] | null) ?? undefined,
        scaleFactor: (a.scale_factor as number | null) ?? undefined,
        mode: a.mode as Api.F.InterpolateMode,
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
}

/** What a case runner needs of the library. */
export type FixtureApi = Pick<typeof Api, "F" | "tensor">;

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

/**
 * Runs one forward/backward case on `backend`: every output and gradient must pass the fixtures' tolerance.
 * Returns the largest |a−b| per output and gradient; throws an Error naming the first mismatch.
 */
export async function runFixtureCase(
  S: FixtureApi,
  runners: Record<string, Runner>,
  c: FixtureCase,
  backend: string,
): Promise<Map<string, number>> {
  const runner = runners[c.op];
  check(runner !== undefined, `no runner for fixture op '${c.op}' (case ${c.name})`);
  const load = (t: FixtureTensor, requiresGrad = false) =>
    S.tensor(decodeFixture(t), t.shape, { requiresGrad, backend });
  const inputs: Inputs = {};
  for (const [name, t] of Object.entries(c.inputs))
    inputs[name] = load(t, Boolean(c.grads && name in c.grads));
  const outputs = runner(inputs, c.attrs ?? {});
  const errors = new Map<string, number>();
  const compare = async (actual: Tensor | null | undefined, expected: FixtureTensor, what: string) => {
    check(Boolean(actual), `${c.name}: no ${what}`);
    const shape = [...actual!.shape];
    check(
      shape.length === expected.shape.length && shape.every((d, i) => d === expected.shape[i]),
      `${c.name}: shape of ${what} is [${shape}], expected [${expected.shape}]`,
    );
    const cmp = compareArrays(await actual!.data(), decodeFixture(expected));
    check(cmp.worstRatio <= 1, `${c.name}: ${what} differs by ${cmp.maxAbs} (element ${cmp.index})`);
    errors.set(what, cmp.maxAbs);
  };
  for (const [name, expected] of Object.entries(c.outputs))
    await compare(outputs[name], expected, `output ${name}`);
  if (c.upstream && c.grads) {
    let total: Tensor | null = null;
    for (const [name, up] of Object.entries(c.upstream)) {
      const term = S.F.sum(S.F.mul(outputs[name], load(up)));
      total = total ? S.F.add(total, term) : term;
    }
    total!.backward();
    for (const [name, expected] of Object.entries(c.grads))
      await compare(inputs[name].grad, expected, `grad ${name}`);
  }
  return errors;
}

/** Families with their own harness elsewhere (optimizers, schedulers, end to end, models). */
export const HANDLED_ELSEWHERE = new Set([
  "optimizers",
  "optimizers_extra",
  "swa_utils",
  "lr_schedulers",
  "end_to_end",
  "models",
  "models_extra",
  "models_forward",
]);

/**
 * Ops that compute on the host from toArray() of a computed tensor (src/ops/detection.ts, src/ops/indexing.ts)
 * rather than through Backend kernels: on webgpu they need values that only an await can read, and throw
 * the sync-read error. The webgpu fixture runs (test/browser/webgpu-page.ts in Chromium,
 * test/backend/webgpu/fixtures.test.ts in Node) skip their cases by name, never silently.
 */
export const HOST_OPS = new Set(["roi_align", "roi_pool", "topk"]);

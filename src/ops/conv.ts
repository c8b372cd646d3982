// 2-D convolution and transposed convolution (NCHW), with stride, padding, dilation and groups.
// Backward calls the backend's input- and weight-gradient kernels; conv-transpose's forward is conv's
// input gradient, so the two ops share all three kernels.

import type { Conv2dGeometry } from "../backend/backend.js";
import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape, pairAtLeast } from "../tensor/shape.js";
import { checkCompatible, checkFloat, checkOptionKeys, wrapLike } from "./util.js";
import { sum } from "./reduce.js";
import { pad, reshape } from "./movement.js";

/** A size given once for both spatial dimensions or as [height, width], as torch's int-or-tuple arguments. */
export type Size2 = number | readonly [number, number];

/**
 * Options of `conv2d` (torch.nn.functional.conv2d's): `stride` (default 1), `padding` (default 0), `dilation`
 * (default 1), `groups` (default 1).
 */
export interface Conv2dOptions {
  stride?: Size2;
  /** Zero padding per side, or "same" (output size = input size; stride 1 only) or "valid" (= 0). */
  padding?: Size2 | "same" | "valid";
  dilation?: Size2;
  groups?: number;
}

/**
 * Options of `convTranspose2d` (torch.nn.functional.conv_transpose2d's): `stride`, `padding` (removed from
 * the output), `outputPadding`, `dilation` and `groups`, defaults 1, 0, 0, 1, 1.
 */
export interface ConvTranspose2dOptions extends Omit<Conv2dOptions, "padding"> {
  padding?: Size2;
  outputPadding?: Size2;
}

function describe(x: Tensor, w: Tensor, b?: Tensor | null): string {
  return `input ${formatShape(x.shape)}, weight ${formatShape(w.shape)}${b ? `, bias ${formatShape(b.shape)}` : ""}`;
}

function checkOperands(op: string, x: Tensor, w: Tensor, bias: Tensor | null | undefined, biasSize: number) {
  checkFloat(op, x);
  checkCompatible(op, ...(bias ? [x, w, bias] : [x, w]));
  if (x.ndim !== 4) throw new Error(`${op}: input must be 4-D NCHW, got ${describe(x, w, bias)}`);
  if (w.ndim !== 4) throw new Error(`${op}: weight must be 4-D, got ${describe(x, w, bias)}`);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== biasSize)) {
    throw new Error(`${op}: bias must have shape [${biasSize}], got ${describe(x, w, bias)}`);
  }
}

function conv2dGeometry(
  op: string,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null | undefined,
  options: Conv2dOptions,
): Conv2dGeometry {
  checkOperands(op, x, w, bias, w.shape[0]);
  const [strideH, strideW] = pairAtLeast(options.stride ?? 1, "stride", op, 1);
  const [padH, padW] = pairAtLeast(numericPadding(options.padding), "padding", op, 0);
  const [dilationH, dilationW] = pairAtLeast(options.dilation ?? 1, "dilation", op, 1);
  const groups = options.groups ?? 1;
  const [batch, inChannels, inH, inW] = x.shape;
  const [outChannels, cinPerGroup, kernelH, kernelW] = w.shape;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new Error(
      `${op}: groups=${groups} must divide both input channels (${inChannels}) and output channels (${outChannels}); ${describe(x, w, bias)}`,
    );
  }
  if (cinPerGroup * groups !== inChannels) {
    throw new Error(
      `${op}: input has ${inChannels} channels but weight ${formatShape(w.shape)} with groups=${groups} expects ${cinPerGroup * groups}; input ${formatShape(x.shape)}`,
    );
  }
  const spanH = dilationH * (kernelH - 1) + 1;
  const spanW = dilationW * (kernelW - 1) + 1;
  if (spanH > inH + 2 * padH || spanW > inW + 2 * padW) {
    throw new Error(
      `${op}: kernel ${kernelH}x${kernelW} (dilation ${dilationH}x${dilationW}) is larger than the padded input ` +
        `${inH + 2 * padH}x${inW + 2 * padW}; ${describe(x, w, bias)}, padding [${padH},${padW}]`,
    );
  }
  const outH = Math.floor((inH + 2 * padH - spanH) / strideH) + 1;
  const outW = Math.floor((inW + 2 * padW - spanW) / strideW) + 1;
  return {
    batch,
    inChannels,
    inH,
    inW,
    outChannels,
    outH,
    outW,
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
    groups,
  };
}

function numericPadding(padding: Conv2dOptions["padding"]): Size2 {
  if (padding === undefined || padding === "valid") return 0;
  if (padding === "same") throw new Error("conv2d: internal error, 'same' padding reached the geometry");
  return padding;
}

/**
 * torch's padding="same" for one spatial dim: dilation·(k-1) zeros in total, the odd one after (bottom or
 * right), as torch does for even kernels.
 */
export function samePadding(kernel: number, dilation: number): [number, number] {
  const total = dilation * (kernel - 1);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function biasGrad(g: Tensor, bias: Tensor | undefined): Tensor | null {
  return bias?.requiresGrad ? sum(g, [0, 2, 3]) : null;
}

const rules = {
  conv2d: {
    forward: ([x, w, b], geom) => {
      const y = x.backend.conv2d(x.storage, w.storage, b ? b.storage : null, geom);
      return wrapLike(x, y, [geom.batch, geom.outChannels, geom.outH, geom.outW]);
    },
    backward: (g, [x, w, b], _y, geom) => [
      x.requiresGrad ? wrapLike(x, x.backend.conv2dBackwardInput(g.storage, w.storage, geom), x.shape) : null,
      w.requiresGrad
        ? wrapLike(w, x.backend.conv2dBackwardWeight(x.storage, g.storage, geom), w.shape)
        : null,
      biasGrad(g, b),
    ],
  } satisfies Rule<Conv2dGeometry>,
  // geom describes the forward convolution whose input gradient this op computes: its "input" is our output.
  convTranspose2d: {
    forward: ([x, w, b], geom) => {
      const shape = [geom.batch, geom.inChannels, geom.inH, geom.inW];
      const y = x.backend.conv2dBackwardInput(x.storage, w.storage, geom);
      if (!b) return wrapLike(x, y, shape);
      return wrapLike(
        x,
        x.backend.binary("add", y, shape, b.storage, [1, geom.inChannels, 1, 1], shape),
        shape,
      );
    },
    backward: (g, [x, w, b], _y, geom) => [
      x.requiresGrad ? wrapLike(x, x.backend.conv2d(g.storage, w.storage, null, geom), x.shape) : null,
      w.requiresGrad
        ? wrapLike(w, x.backend.conv2dBackwardWeight(g.storage, x.storage, geom), w.shape)
        : null,
      biasGrad(g, b),
    ],
  } satisfies Rule<Conv2dGeometry>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type ConvPrimitive = keyof typeof rules;

/**
 * 2-D convolution like torch.nn.functional.conv2d.
 * @param x input [N, Cin, H, W]
 * @param weight [Cout, Cin/groups, kH, kW]
 * @param bias optional [Cout]
 * @returns [N, Cout, outH, outW] with outH = floor((H + 2·pad - dilation·(kH-1) - 1)/stride) + 1
 * (padding "same": outH = H, stride 1 only; an odd total puts the extra zero row/column at the bottom/right)
 * @example conv2d(x, w, b, { stride: 2, padding: 1 })
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  checkOptionKeys("conv2d", options, ["stride", "padding", "dilation", "groups"]);
  if (options.padding === "same" && weight.ndim === 4) return conv2dSame(x, weight, bias, options);
  const geom = conv2dGeometry("conv2d", x, weight, bias, options);
  return apply("conv2d", bias ? [x, weight, bias] : [x, weight], geom);
}

/** padding "same": symmetric padding when the total is even, else an explicit zero pad first (as torch). */
function conv2dSame(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: Conv2dOptions,
): Tensor {
  const stride = pairAtLeast(options.stride ?? 1, "stride", "conv2d", 1);
  if (stride[0] !== 1 || stride[1] !== 1) {
    throw new Error(`conv2d: padding "same" needs stride 1, got stride ${JSON.stringify(options.stride)}`);
  }
  const dilation = pairAtLeast(options.dilation ?? 1, "dilation", "conv2d", 1);
  const [top, bottom] = samePadding(weight.shape[2], dilation[0]);
  const [left, right] = samePadding(weight.shape[3], dilation[1]);
  if (top === bottom && left === right) return conv2d(x, weight, bias, { ...options, padding: [top, left] });
  return conv2d(pad(x, [left, right, top, bottom]), weight, bias, { ...options, padding: 0 });
}

/**
 * Transposed convolution like torch.nn.functional.conv_transpose2d.
 * @param weight [Cin, Cout/groups, kH, kW] (torch's layout)
 * @returns [N, Cout, (H-1)·stride - 2·pad + dilation·(kH-1) + outputPadding + 1, …]
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvTranspose2dOptions = {},
): Tensor {
  const op = "convTranspose2d";
  const groups = options.groups ?? 1;
  checkOperands(op, x, weight, bias, weight.shape[1] * groups);
  const [strideH, strideW] = pairAtLeast(options.stride ?? 1, "stride", op, 1);
  const [padH, padW] = pairAtLeast(options.padding ?? 0, "padding", op, 0);
  const [dilationH, dilationW] = pairAtLeast(options.dilation ?? 1, "dilation", op, 1);
  const [opH, opW] = pairAtLeast(options.outputPadding ?? 0, "outputPadding", op, 0);
  const [batch, cin, h, w] = x.shape;
  const [wIn, coutPerGroup, kernelH, kernelW] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1 || cin % groups !== 0) {
    throw new Error(
      `${op}: groups=${groups} must divide input channels (${cin}); ${describe(x, weight, bias)}`,
    );
  }
  if (wIn !== cin)
    throw new Error(
      `${op}: input has ${cin} channels but weight ${formatShape(weight.shape)} expects ${wIn}; input ${formatShape(x.shape)}`,
    );
  if ((opH >= strideH && opH >= dilationH) || (opW >= strideW && opW >= dilationW)) {
    throw new Error(
      `${op}: outputPadding [${opH},${opW}] must be smaller than stride [${strideH},${strideW}] or dilation ` +
        `[${dilationH},${dilationW}]; ${describe(x, weight, bias)}`,
    );
  }
  const outH = (h - 1) * strideH - 2 * padH + dilationH * (kernelH - 1) + opH + 1;
  const outW = (w - 1) * strideW - 2 * padW + dilationW * (kernelW - 1) + opW + 1;
  if (outH < 1 || outW < 1)
    throw new Error(`${op}: output size ${outH}x${outW} is too small; ${describe(x, weight, bias)}`);
  const geom: Conv2dGeometry = {
    batch,
    inChannels: coutPerGroup * groups,
    inH: outH,
    inW: outW,
    outChannels: cin,
    outH: h,
    outW: w,
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
    groups,
  };
  return apply("convTranspose2d", bias ? [x, weight, bias] : [x, weight], geom);
}

/**
 * Options of `conv1d` (torch.nn.functional.conv1d's): `stride` (default 1), `padding` (default 0), `dilation`
 * (default 1), `groups` (default 1).
 */
export interface Conv1dOptions {
  stride?: number;
  /** Zero padding per side, or "same" (output length = input length; stride 1 only) or "valid" (= 0). */
  padding?: number | "same" | "valid";
  dilation?: number;
  groups?: number;
}

/** A single number for a 1-D option (a pair would silently configure a height). */
function single(op: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== "number" && !(name === "padding" && (v === "same" || v === "valid"))) {
    throw new Error(`${op}: ${name} must be a number, got ${JSON.stringify(v)}`);
  }
}

/**
 * 1-D convolution like torch.nn.functional.conv1d, run as a 2-D convolution of height 1.
 * @param x input [N, Cin, L]
 * @param weight [Cout, Cin/groups, k]
 * @param bias optional [Cout]
 * @returns [N, Cout, outL] with outL = floor((L + 2·pad - dilation·(k-1) - 1)/stride) + 1
 * @example conv1d(x, w, b, { padding: "same" }) // x [8, 16, 100] -> [8, Cout, 100]
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  const op = "conv1d";
  checkFloat(op, x);
  if (x.ndim !== 3) throw new Error(`${op}: input must be 3-D [N, C, L], got ${formatShape(x.shape)}`);
  if (weight.ndim !== 3) {
    throw new Error(`${op}: weight must be 3-D [Cout, Cin/groups, k], got ${formatShape(weight.shape)}`);
  }
  for (const name of ["stride", "padding", "dilation"] as const) single(op, name, options[name]);
  const { stride = 1, dilation = 1, groups = 1 } = options;
  const padding = options.padding ?? 0;
  if (Number.isInteger(groups) && groups > 0 && x.shape[1] !== weight.shape[1] * groups) {
    throw new Error(
      `${op}: input has ${x.shape[1]} channels but weight ${formatShape(weight.shape)} with groups=${groups} expects ${weight.shape[1] * groups}; input ${formatShape(x.shape)}`,
    );
  }
  if (padding === "same" && stride !== 1)
    throw new Error(`${op}: padding "same" needs stride 1, got stride ${stride}`);
  const y = conv2d(
    reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]]),
    reshape(weight, [...weight.shape.slice(0, 2), 1, weight.shape[2]]),
    bias,
    {
      stride: [1, stride],
      padding: typeof padding === "number" ? [0, padding] : padding,
      dilation: [1, dilation],
      groups,
    },
  );
  return reshape(y, [y.shape[0], y.shape[1], y.shape[3]]);
}

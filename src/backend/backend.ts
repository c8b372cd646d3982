// The contract between ops and kernels. A backend owns tensor storage and implements every kernel;
// ops validate shapes and record gradients, then call exactly one backend method per primitive.
// Kernels never see Tensor objects, only storages and plain shape numbers, so that a backend can keep its
// storage wherever it likes (a typed array for `js`, a region of wasm linear memory for `wasm`).
// Kernels allocate and return their outputs; they never modify their inputs — with one exception, the
// optimizer updates asked to run `inPlace` on storages their caller owns.

import type { DType, TypedArray } from "../tensor/dtype.js";
import type { Shape } from "../tensor/shape.js";

/** A handle on a contiguous, row-major buffer owned by a backend. */
export interface Storage {
  readonly dtype: DType;
  readonly size: number;
}

export type UnaryKind =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "abs"
  | "sign"
  | "square"
  | "reciprocal"
  | "relu"
  | "relu6"
  | "sigmoid"
  | "tanh"
  | "erf"
  /** x * Φ(x), exact (erf) form. */
  | "gelu"
  /** d gelu / dx = Φ(x) + x φ(x). */
  | "geluGrad"
  /** x > 0 ? x : a * x */
  | "leakyRelu"
  /** x > 0 ? x : a * (exp(x) - 1) */
  | "elu"
  /** x ** a */
  | "powScalar"
  /** min(max(x, a), b) */
  | "clamp"
  /** 1 where x > a, else 0 */
  | "greaterScalar";

/** Scalar parameters of a unary kernel (`a`, `b` as named in UnaryKind's comments). */
export interface UnaryParams {
  a?: number;
  b?: number;
}

export type BinaryKind = "add" | "sub" | "mul" | "div" | "maximum" | "minimum" | "pow" | "eq" | "gt" | "lt";

export type ReduceKind = "sum" | "max" | "min";

export interface Conv2dGeometry {
  batch: number;
  inChannels: number;
  inH: number;
  inW: number;
  outChannels: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

export interface Pool2dGeometry {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
}

export interface AvgPool2dGeometry extends Pool2dGeometry {
  countIncludePad: boolean;
  divisorOverride: number | null;
}

/** Adaptive average pooling of [batch, channels, inH, inW] to [batch, channels, outH, outW]. */
export interface AdaptivePool2dGeometry {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

export interface GemmGeometry {
  /** Number of matrices; a batch stride of 0 reuses one matrix for every batch entry. */
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  batchStrideA: number;
  batchStrideB: number;
}

/** x of batch norm viewed as [N, C, S]: S is the product of the dims after C (1 for [N, C] input). */
export interface BatchNormGeometry {
  batch: number;
  channels: number;
  spatial: number;
}

/**
 * RoI ops over an input [batch, channels, height, width] and [numRois, 5] RoI rows (batch index, x1, y1,
 * x2, y2) in input coordinates (times spatialScale on the map); outputs are [numRois, channels, pooledH,
 * pooledW]. A RoI whose batch index is not an image of the input contributes nothing (ops validate it).
 */
export interface RoiGeometry {
  batch: number;
  channels: number;
  height: number;
  width: number;
  numRois: number;
  pooledH: number;
  pooledW: number;
  spatialScale: number;
}

/** RoI Align (torchvision.ops.roi_align): bilinear samples per bin side (-1: adaptive) and the half-pixel shift. */
export interface RoiAlignGeometry extends RoiGeometry {
  samplingRatio: number;
  aligned: boolean;
}

/** topk over the last axis of x viewed as [rows, size]: the k largest (or smallest) of each row. */
export interface TopkGeometry {
  rows: number;
  size: number;
  k: number;
  largest: boolean;
}

/** Live memory of a backend, as reported by `memory()`. */
export interface MemoryInfo {
  backend: string;
  /** Live storages (tensors that share one, like a reshape and its input, count once). */
  storages: number;
  /** Bytes held by live storages. */
  bytes: number;
  /** wasm: size of the linear memory (it only grows). */
  memoryBytes?: number;
  /** wasm: bytes in live allocator blocks, storages plus kernel workspaces. */
  heapBytes?: number;
  /**
   * wasm: the most `heapBytes` has been since the backend started or since `resetPeakMemory()` (torch's
   * `max_memory_allocated`): the peak of a training step is what decides whether it fits.
   */
  peakHeapBytes?: number;
  /** wasm: garbage collections forced under memory pressure so far. */
  forcedCollections?: number;
  /** wasm: storages moved out of the wasm memory at the end of backward passes so far (docs/design.md). */
  spilled?: number;
}

/** Hyperparameters of one fused SGD step, as torch's `_single_tensor_sgd` uses them. */
export interface SgdKernelParams {
  lr: number;
  /** 0: plain SGD, no momentum buffer is read or returned. */
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
  /** The caller owns param and buffer (nobody else reads them): the backend may write the results over them. */
  inPlace?: boolean;
}

/** Hyperparameters of one fused Adam or AdamW step (torch's `_single_tensor_adam` / `_single_tensor_adamw`). */
export interface AdamKernelParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: param·(1 − lr·weightDecay) before the step; Adam (false): weightDecay·param added to the gradient. */
  decoupledWeightDecay: boolean;
  amsgrad: boolean;
  maximize: boolean;
  /** The step being taken, counting from 1 (for the bias corrections 1 − βᵗ). */
  step: number;
  /** The caller owns param and the moments (nobody else reads them): the backend may write the results over them. */
  inPlace?: boolean;
}

/**
 * The kernel interface every backend implements (js: readable reference kernels; wasm: SIMD kernels on worker
 * threads; meta: shapes only). Ops in `F` compute shapes, check arguments and record gradients, then call
 * these methods on flat storages; a new backend implements them and is made available with `registerBackend`.
 */
export interface Backend {
  readonly name: string;
  /** Whether this backend can store the dtype (the wasm backend has no float64). */
  supports(dtype: DType): boolean;

  // Storage.
  /** A storage holding a copy of `data` (its dtype follows the array). */
  fromArray(data: TypedArray): Storage;
  /**
   * A copy of the contents as a typed array of the storage's dtype. A backend whose memory lives on a device
   * (webgpu, `syncReads: false`) can answer only when the values are already on the host, and otherwise
   * throws an error pointing to `readAsync` (Tensor.data()).
   */
  toArray(storage: Storage): TypedArray;
  /** The contents, read asynchronously (webgpu maps a GPU buffer); Tensor.data() falls back to toArray without it. */
  readAsync?(storage: Storage): Promise<TypedArray>;
  /** False when toArray() cannot read every storage synchronously (webgpu): callers await readAsync first. */
  readonly syncReads?: boolean;
  /**
   * With `syncReads: false`: the contents when they are already on the host (made from an array, or read
   * before), else null — never waits. Backends that read synchronously need not implement it.
   */
  toArrayIfHost?(storage: Storage): TypedArray | null;
  /** A storage of `size` elements of `dtype`, all `value`. */
  full(dtype: DType, size: number, value: number): Storage;
  /** The values of `x` converted to `dtype`. */
  cast(x: Storage, dtype: DType): Storage;

  // Elementwise.
  /**
   * An elementwise function of one argument (`kind`: relu, exp, …) with its parameters (a slope, a bound).
   */
  unary(kind: UnaryKind, x: Storage, params: UnaryParams): Storage;
  /** Elementwise with NumPy broadcasting of aShape and bShape to outShape. Comparisons give 0/1 floats. */
  binary(kind: BinaryKind, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage;
  /** out = cond ? a : b, all of the same size. */
  where(cond: Storage, a: Storage, b: Storage): Storage;

  // Reductions over the sorted, unique `axes`; the output drops those axes.
  /** A reduction (`kind`: sum, max, …) of `x` of `shape` over `axes`; the reduced axes are dropped. */
  reduce(kind: ReduceKind, x: Storage, shape: Shape, axes: readonly number[]): Storage;
  /** Index (int32) of the first maximum along `axis`; the output drops that axis. */
  argmax(x: Storage, shape: Shape, axis: number): Storage;

  // Movement.
  /** Reads `x` through arbitrary strides/offset into a new contiguous storage of `shape`. */
  gather(x: Storage, shape: Shape, strides: readonly number[], offset: number): Storage;
  /** Copies `src` (contiguous, `shape`) into a copy of `dst` at the given strides/offset, returning the copy. */
  scatterInto(dst: Storage, src: Storage, shape: Shape, strides: readonly number[], offset: number): Storage;
  /** Concatenates contiguous parts along `axis`; `shapes[i]` is the shape of `parts[i]`. */
  concat(parts: readonly Storage[], shapes: readonly Shape[], axis: number): Storage;

  // Linear algebra.
  /** Batched matrix product C = op(A)·op(B) as `g` describes (sizes, transposes, batch strides). */
  gemm(a: Storage, b: Storage, g: GemmGeometry): Storage;

  // Convolution; weights OIHW [Cout, Cin/groups, kH, kW].
  /**
   * 2-D convolution forward: `x` [N, C, H, W], `w` [O, C/groups, kH, kW], optional `bias` [O] → [N, O, OH,
   * OW].
   */
  conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeometry): Storage;
  /** Gradient with respect to the input of conv2d (also conv-transpose's forward). */
  conv2dBackwardInput(gy: Storage, w: Storage, g: Conv2dGeometry): Storage;
  /** Gradient with respect to the weight of conv2d. */
  conv2dBackwardWeight(x: Storage, gy: Storage, g: Conv2dGeometry): Storage;

  // Pooling; indices are int32 flat positions h*W+w inside each (n, c) input plane.
  /** Max pooling forward: the output and, for the backward pass, the flat index of each window's maximum. */
  maxPool2d(x: Storage, g: Pool2dGeometry): { y: Storage; indices: Storage };
  /** Max pooling backward: routes each output gradient to its window's maximum. */
  maxPool2dBackward(gy: Storage, indices: Storage, g: Pool2dGeometry): Storage;
  /** Average pooling forward. */
  avgPool2d(x: Storage, g: AvgPool2dGeometry): Storage;
  /** Average pooling backward: spreads each output gradient over its window. */
  avgPool2dBackward(gy: Storage, g: AvgPool2dGeometry): Storage;
  /** Output cell i covers input rows [floor(i·inH/outH), ceil((i+1)·inH/outH)), likewise for columns. */
  adaptiveAvgPool2d(x: Storage, g: AdaptivePool2dGeometry): Storage;
  /** Adaptive average pooling backward. */
  adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePool2dGeometry): Storage;

  // Batch normalisation.
  /**
   * Per-channel mean and biased variance, numerically sound in float32 for millions of values per channel
   * and for data whose mean is large against its spread.
   */
  batchNormStats(x: Storage, g: BatchNormGeometry): { mean: Storage; variance: Storage };
  /** y = (x − mean[c])·invStd[c]·weight[c] + bias[c]; a null weight is 1, a null bias 0. */
  batchNormForward(
    x: Storage,
    mean: Storage,
    invStd: Storage,
    weight: Storage | null,
    bias: Storage | null,
    g: BatchNormGeometry,
  ): Storage;
  /**
   * With x̂ = (x − mean)·invStd and M = N·S: dBias = Σ gy, dWeight = Σ gy·x̂ per channel, and
   * dx = w·invStd·(gy − dBias/M − x̂·dWeight/M) when training (mean and invStd were the batch's own), or
   * dx = gy·w·invStd in eval (running statistics are constants).
   */
  batchNormBackward(
    gy: Storage,
    x: Storage,
    mean: Storage,
    invStd: Storage,
    weight: Storage | null,
    training: boolean,
    g: BatchNormGeometry,
  ): { dx: Storage; dWeight: Storage; dBias: Storage };

  // Detection (torchvision.ops semantics; reference code: js/detection.ts).
  /** RoI Align forward: each output cell averages its bilinear samples of its RoI's image. */
  roiAlign(x: Storage, rois: Storage, g: RoiAlignGeometry): Storage;
  /** RoI Align backward: the gradient [batch, channels, height, width] from gy [numRois, channels, pooledH, pooledW]. */
  roiAlignBackward(gy: Storage, rois: Storage, g: RoiAlignGeometry): Storage;
  /**
   * RoI max pooling forward: each cell's maximum (0 for an empty window) and, for the backward, its int32
   * flat position h*width+w in the input plane (-1 when no element was taken).
   */
  roiPool(x: Storage, rois: Storage, g: RoiGeometry): { y: Storage; argmax: Storage };
  /** RoI max pooling backward: routes each output gradient to the position its argmax names. */
  roiPoolBackward(gy: Storage, argmax: Storage, rois: Storage, g: RoiGeometry): Storage;

  // Selection.
  /**
   * The k largest (or smallest) values of each row of x [rows, size], in order, and their int32 positions
   * in the row ([rows, k] each). Ties keep the lower position first; NaN counts as larger than any number
   * (torch.topk).
   */
  topk(x: Storage, g: TopkGeometry): { values: Storage; indices: Storage };
  /** topk backward: gy [rows, k] placed at the positions `indices` names, zeros elsewhere ([rows, size]). */
  topkBackward(gy: Storage, indices: Storage, g: TopkGeometry): Storage;

  // Labels.
  /** [n] int32 labels -> [n, classes] one-hot in `dtype`; labels must already be validated. */
  oneHot(labels: Storage, classes: number, dtype: DType): Storage;

  // Fused softmax cross-entropy.
  /**
   * Over [rows, classes] logits and target probabilities (one-hot labels, smoothed or soft targets):
   * logProbs = logSoftmax(logits) per row and loss[row] = −Σ target·logProbs. A zero target probability
   * contributes 0 even where logProbs is −∞ (masked logits).
   */
  softmaxCrossEntropy(
    logits: Storage,
    target: Storage,
    rows: number,
    classes: number,
  ): { loss: Storage; logProbs: Storage };
  /** Gradient to the logits: (exp(logProbs) − target) · gLoss[row]. */
  softmaxCrossEntropyBackward(
    logProbs: Storage,
    target: Storage,
    gLoss: Storage,
    rows: number,
    classes: number,
  ): Storage;

  // Fused optimizer updates (new storages; the inputs are not modified).
  /**
   * One SGD step. momentumBuffer null with momentum ≠ 0 means there is none yet (torch's first step:
   * the buffer starts as the step direction); the returned buffer is null when momentum is 0.
   */
  sgdUpdate(
    param: Storage,
    grad: Storage,
    momentumBuffer: Storage | null,
    h: SgdKernelParams,
  ): { param: Storage; momentumBuffer: Storage | null };
  /** One Adam/AdamW step; maxExpAvgSq (zeros before the first step) is given iff h.amsgrad, and null otherwise. */
  adamUpdate(
    param: Storage,
    grad: Storage,
    expAvg: Storage,
    expAvgSq: Storage,
    maxExpAvgSq: Storage | null,
    h: AdamKernelParams,
  ): { param: Storage; expAvg: Storage; expAvgSq: Storage; maxExpAvgSq: Storage | null };

  // Memory (optional: backends whose storage the JavaScript GC reclaims by itself need none of these).
  // docs/design.md ("Memory") describes the model these methods implement.
  /**
   * Runs fn; at its end frees the storages allocated inside that are neither reachable from the return
   * value (or `options.alsoReachable`) nor kept — or, with `options.adopt`, offers them to the autograd graph.
   */
  scope?<T>(fn: () => T, options?: ScopeOptions<T>): T;
  /** Marks a storage as escaping every scope (parameters, gradients, optimizer state, buffers). */
  keep?(storage: Storage): void;
  /** Marks a storage as long-lived (a parameter's values): never moved out at a step boundary. */
  pin?(storage: Storage): void;
  /**
   * Frees a storage that a scope's `adopt` handed to the autograd graph (the engine calls it once backward
   * has run through that graph), unless it was kept since.
   */
  free?(storage: Storage): void;
  /**
   * Frees a temporary at once: a storage the innermost open scope recorded and that is not kept (the engine
   * calls it for each gradient of the backward pass once nothing can read it any more, so that a backward
   * holds the gradients of its frontier rather than all of them). Anything else is left alone.
   */
  releaseTemporary?(storage: Storage): void;
  /**
   * Starts a step (a backward pass); the returned function ends it, moving every storage that nobody is
   * known to own and that was allocated before the step started out of the backend's memory (its values
   * stay readable and come back on use).
   */
  startStep?(): () => void;
  /** Live storages and bytes (and, on wasm, the memory's size), for `memory()`. */
  memory?(): MemoryInfo;
  /** Starts `MemoryInfo.peakHeapBytes` afresh from what is live now. */
  resetPeakMemory?(): void;
}

/** How a backend scope ends (see Backend.scope). */
export interface ScopeOptions<T> {
  /** Storages reachable from this value survive too (a module whose forward ran: what it stored on itself). */
  alsoReachable?: unknown;
  /**
   * Called with the result and the storages that would be freed; returns true if the autograd graph of the
   * result took them (they are freed when it has run backward), false to free them now.
   */
  adopt?: (result: T, storages: readonly Storage[]) => boolean;
  /** Hand the unreachable storages to the garbage collector instead of freeing them (user code saw them). */
  release?: "free" | "collector";
}

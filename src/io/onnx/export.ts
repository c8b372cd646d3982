// ONNX export: writes a model as an ONNX file (opset 13) that ONNX Runtime, PyTorch's importers and
// importOnnx load. The graph is traced: the model runs once on an example input with gradients recorded, and
// the walk back from the output reads each autograd node's primitive and attributes (conv geometry, pool
// windows, permutation, slice, pad widths, …) and writes the matching ONNX nodes. A few layers whose
// functional form loses what ONNX needs are taken from forward hooks instead: batch norm (running
// statistics and eps), local response norm and softmax (composites of many primitives). Parameters and
// buffers keep the model's state-dict names as initializer names.

import { Tensor, tensor } from "../../tensor/tensor.js";
import { enableGrad } from "../../autograd/engine.js";
import type { GradNode } from "../../autograd/engine.js";
import type { Primitive } from "../../ops/primitives.js";
import type {
  AdaptivePool2dGeometry,
  AvgPool2dGeometry,
  Conv2dGeometry,
  Pool2dGeometry,
  UnaryParams,
} from "../../backend/backend.js";
import { Module, registerGlobalForwardHook } from "../../nn/module.js";
import { BatchNorm1d, BatchNorm2d, LocalResponseNorm } from "../../nn/normalization.js";
import { LogSoftmax, Softmax } from "../../nn/activation.js";
import { formatShape, sizeOf } from "../../tensor/shape.js";
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./proto.js";

/** The ONNX opset `exportOnnx` writes (13, which ONNX Runtime and PyTorch's importers read). */
export const EXPORT_OPSET = 13;

/** Options of `exportOnnx`. */
export interface OnnxExportOptions {
  /** Name of the graph input (default "input"). */
  inputName?: string;
  /** Name of the graph output (default "output"). */
  outputName?: string;
  /** Leave the batch dimension symbolic ("N"), so the file runs at any batch size (default true). */
  dynamicBatch?: boolean;
  /** Leave height and width symbolic too ("H", "W"), for fully convolutional graphs (default false). */
  dynamicSpatial?: boolean;
  /** Graph name (default the model's class name). */
  graphName?: string;
}

type Attr = { f: number } | { i: number } | { ints: readonly number[] } | { s: string };

function attribute(name: string, value: Attr): AttributeProto {
  const base = { name, floats: [], ints: [], strings: [] };
  if ("f" in value) return { ...base, type: AttributeType.FLOAT, f: value.f };
  if ("i" in value) return { ...base, type: AttributeType.INT, i: value.i };
  if ("s" in value) return { ...base, type: AttributeType.STRING, s: new TextEncoder().encode(value.s) };
  return { ...base, type: AttributeType.INTS, ints: [...value.ints] };
}

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const f = Float32Array.from(values);
  return {
    name,
    dims: [...dims],
    data_type: DataType.FLOAT,
    raw_data: new Uint8Array(f.buffer),
    float_data: [],
    int32_data: [],
    int64_data: [],
    double_data: [],
  };
}

function int64Tensor(name: string, values: readonly number[]): TensorProto {
  const b = BigInt64Array.from(values.map((v) => BigInt(v)));
  return {
    name,
    dims: [values.length],
    data_type: DataType.INT64,
    raw_data: new Uint8Array(b.buffer),
    float_data: [],
    int32_data: [],
    int64_data: [],
    double_data: [],
  };
}

/** Collects nodes and initializers with fresh value names. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly constants = new Map<Tensor, string>();
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(private readonly stateNames: ReadonlyMap<Tensor, string>) {}

  isState(t: Tensor): boolean {
    return this.stateNames.has(t);
  }

  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const output = this.fresh(opType.toLowerCase());
    this.nodes.push({
      op_type: opType,
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** An initializer holding a tensor's current values (each tensor once), under its state-dict name. */
  constant(t: Tensor): string {
    const known = this.constants.get(t);
    if (known) return known;
    if (t.dtype === "int32")
      throw new Error(`exportOnnx: an int32 constant ${formatShape(t.shape)} has no float form`);
    const stateName = this.stateNames.get(t);
    const name = stateName && !this.used.has(stateName) ? stateName : this.fresh("const");
    this.used.add(name);
    this.initializers.push(floatTensor(name, t.shape, t.toArray()));
    this.constants.set(t, name);
    return name;
  }

  floats(values: ArrayLike<number>, dims: readonly number[]): string {
    const name = this.fresh("const");
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  scalar(value: number): string {
    return this.floats([value], []);
  }

  ints(values: readonly number[]): string {
    const name = this.fresh("const");
    this.initializers.push(int64Tensor(name, values));
    return name;
  }
}

/** What a forward hook saw an exported layer do. */
interface LayerCall {
  module: Module;
  input: Tensor;
}

type LayerExporter = (g: GraphBuilder, m: never, input: string, x: Tensor) => string;

function batchNormLayer(g: GraphBuilder, m: BatchNorm2d, input: string): string {
  if (m.training)
    throw new Error(
      `exportOnnx: ${m.constructor.name}(${m.numFeatures}) is in training mode; call model.eval() before exporting`,
    );
  if (!m.trackRunningStats)
    throw new Error(
      `exportOnnx: ${m.constructor.name}(${m.numFeatures}) without running statistics cannot be exported`,
    );
  const n = m.numFeatures;
  const scale = m.weight ? g.constant(m.weight) : g.floats(new Array<number>(n).fill(1), [n]);
  const bias = m.bias ? g.constant(m.bias) : g.floats(new Array<number>(n).fill(0), [n]);
  const mean = g.constant(m.getBuffer("running_mean"));
  const variance = g.constant(m.getBuffer("running_var"));
  return g.node("BatchNormalization", [input, scale, bias, mean, variance], { epsilon: { f: m.eps } });
}

/** Layers exported from their forward hook, by exact class (a subclass may compute something else). */
const LAYERS = new Map<unknown, LayerExporter>([
  [BatchNorm2d, batchNormLayer],
  [BatchNorm1d, batchNormLayer],
  [
    LocalResponseNorm,
    (g, m: LocalResponseNorm, input) =>
      g.node("LRN", [input], {
        size: { i: m.size },
        alpha: { f: m.alpha },
        beta: { f: m.beta },
        bias: { f: m.k },
      }),
  ],
  [Softmax, (g, m: Softmax, input, x) => g.node("Softmax", [input], { axis: { i: axisOf(m.dim, x) } })],
  [
    LogSoftmax,
    (g, m: LogSoftmax, input, x) => g.node("LogSoftmax", [input], { axis: { i: axisOf(m.dim, x) } }),
  ],
]);

const axisOf = (dim: number, x: Tensor) => (dim < 0 ? dim + x.ndim : dim);

/** Everything a primitive's exporter needs: the node, its inputs' names, its output and the graph input. */
interface Emit {
  g: GraphBuilder;
  node: GradNode;
  inputs: string[];
  output: Tensor;
}

type PrimitiveExporter = (e: Emit) => string;

const same =
  (opType: string): PrimitiveExporter =>
  (e) =>
    e.g.node(opType, e.inputs);

/** Pads [top, left, bottom, right] of a symmetric geometry. */
const pads = (h: number, w: number) => [h, w, h, w];

function poolCeil(
  inSize: number,
  outSize: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
) {
  const floorSize = Math.floor((inSize + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
  return outSize > floorSize ? 1 : 0;
}

function convAttrs(c: Conv2dGeometry): Record<string, Attr> {
  return {
    kernel_shape: { ints: [c.kernelH, c.kernelW] },
    strides: { ints: [c.strideH, c.strideW] },
    pads: { ints: pads(c.padH, c.padW) },
    dilations: { ints: [c.dilationH, c.dilationW] },
    group: { i: c.groups },
  };
}

/** Window attributes of MaxPool and AveragePool; ceil_mode is read off the output size. */
function poolAttrs(p: Pool2dGeometry): Record<string, Attr> {
  const ceil = Math.max(
    poolCeil(p.inH, p.outH, p.kernelH, p.strideH, p.padH, p.dilationH),
    poolCeil(p.inW, p.outW, p.kernelW, p.strideW, p.padW, p.dilationW),
  );
  return {
    kernel_shape: { ints: [p.kernelH, p.kernelW] },
    strides: { ints: [p.strideH, p.strideW] },
    pads: { ints: pads(p.padH, p.padW) },
    ceil_mode: { i: ceil },
  };
}

/** Keeps the batch symbolic: a leading dim equal to the input's becomes 0 ("copy"). */
function reshapeTarget(input: Tensor, output: Tensor): number[] {
  const shape = [...output.shape];
  if (input.ndim > 0 && output.ndim > 0 && input.shape[0] === output.shape[0]) shape[0] = 0;
  return shape;
}

/** The [out, in] averaging matrix of adaptive average pooling along one axis. */
function adaptiveMatrix(inSize: number, outSize: number): number[] {
  const m = new Array<number>(outSize * inSize).fill(0);
  for (let o = 0; o < outSize; o++) {
    const start = Math.floor((o * inSize) / outSize);
    const end = Math.ceil(((o + 1) * inSize) / outSize);
    for (let i = start; i < end; i++) m[o * inSize + i] = 1 / (end - start);
  }
  return m;
}

/** Why a primitive has no ONNX mapping (exportOnnx's error names it). */
interface NotExported {
  notExported: string;
}

/**
 * Primitive -> ONNX, over every primitive (`Primitive`): a new primitive does not compile until it has an
 * exporter here or a reason why not.
 */
const PRIMITIVES: { readonly [P in Primitive]: PrimitiveExporter | NotExported } = {
  softmaxCrossEntropy: { notExported: "a training loss; export the model that computes the logits" },
  roiAlign: { notExported: "a detection head op (torchvision.ops.roi_align); ONNX RoiAlign differs" },
  roiPool: { notExported: "a detection head op (torchvision.ops.roi_pool); ONNX has MaxRoiPool only" },
  topk: { notExported: "topk's indices are a second output (ONNX TopK); not exported yet" },
  add: same("Add"),
  sub: same("Sub"),
  mul: same("Mul"),
  div: same("Div"),
  maximum: same("Max"),
  minimum: same("Min"),
  neg: same("Neg"),
  exp: same("Exp"),
  log: same("Log"),
  sqrt: same("Sqrt"),
  abs: same("Abs"),
  relu: same("Relu"),
  sigmoid: same("Sigmoid"),
  tanh: same("Tanh"),
  erf: same("Erf"),
  sign: same("Sign"),
  compare: ({ g, node, inputs }) => {
    const op = { gt: "Greater", lt: "Less", eq: "Equal" }[node.attrs as "gt" | "lt" | "eq"];
    return g.node("Cast", [g.node(op, inputs)], { to: { i: DataType.FLOAT } });
  },
  where: ({ g, inputs }) =>
    g.node("Where", [g.node("Cast", [inputs[0]], { to: { i: DataType.BOOL } }), inputs[1], inputs[2]]),
  // 1 where x > 0, else 0.
  step: (e) => e.g.node("Relu", [e.g.node("Sign", e.inputs)]),
  // HardSwish is opset 14; x · HardSigmoid(x) with torch's 1/6 and 1/2 is the same function.
  hardswish: ({ g, inputs }) =>
    g.node("Mul", [inputs[0], g.node("HardSigmoid", inputs, { alpha: { f: 1 / 6 }, beta: { f: 0.5 } })]),
  softplus: ({ g, node, inputs }) => {
    // log(1 + exp(βx))/β, and x itself where βx > threshold, as torch.
    const { a: beta, b: threshold } = node.attrs as UnaryParams;
    const scaled = beta === 1 ? inputs[0] : g.node("Mul", [inputs[0], g.scalar(beta!)]);
    const smooth = g.node("Softplus", [scaled]);
    const value = beta === 1 ? smooth : g.node("Div", [smooth, g.scalar(beta!)]);
    const linear = g.node("Greater", [scaled, g.scalar(threshold!)]);
    return g.node("Where", [linear, inputs[0], value]);
  },
  square: (e) => e.g.node("Mul", [e.inputs[0], e.inputs[0]]),
  powScalar: (e) => e.g.node("Pow", [e.inputs[0], e.g.scalar((e.node.attrs as UnaryParams).a!)]),
  clamp: (e) => {
    const p = e.node.attrs as UnaryParams;
    return e.g.node("Clip", [e.inputs[0], e.g.scalar(p.a!), e.g.scalar(p.b!)]);
  },
  relu6: (e) => e.g.node("Clip", [e.inputs[0], e.g.scalar(0), e.g.scalar(6)]),
  leakyRelu: (e) => e.g.node("LeakyRelu", e.inputs, { alpha: { f: (e.node.attrs as UnaryParams).a! } }),
  elu: (e) => e.g.node("Elu", e.inputs, { alpha: { f: (e.node.attrs as UnaryParams).a! } }),
  gelu: ({ g, inputs }) => {
    // Exact GELU: x · 0.5 · (1 + erf(x / √2)), as PyTorch exports it.
    const erf = g.node("Erf", [g.node("Div", [inputs[0], g.scalar(Math.SQRT2)])]);
    return g.node("Mul", [g.node("Mul", [inputs[0], g.node("Add", [erf, g.scalar(1)])]), g.scalar(0.5)]);
  },
  sum: (e) =>
    e.g.node("ReduceSum", [e.inputs[0], e.g.ints((e.node.attrs as { axes: number[] }).axes)], {
      keepdims: { i: 0 },
    }),
  max: (e) =>
    e.g.node("ReduceMax", [e.inputs[0]], {
      axes: { ints: (e.node.attrs as { axes: number[] }).axes },
      keepdims: { i: 0 },
    }),
  min: (e) =>
    e.g.node("ReduceMin", [e.inputs[0]], {
      axes: { ints: (e.node.attrs as { axes: number[] }).axes },
      keepdims: { i: 0 },
    }),
  reshape: ({ g, node, inputs, output }) => {
    const x = node.inputs[0];
    if (output.ndim === 2 && x.ndim >= 2 && output.shape[0] === x.shape[0])
      return g.node("Flatten", inputs, { axis: { i: 1 } });
    return g.node("Reshape", [inputs[0], g.ints(reshapeTarget(x, output))]);
  },
  permute: (e) => e.g.node("Transpose", e.inputs, { perm: { ints: e.node.attrs as number[] } }),
  expand: ({ g, node, inputs, output }) => {
    // Bidirectional broadcast: 1 wherever the input already has the size, so the batch stays symbolic.
    const x = node.inputs[0];
    const lead = output.ndim - x.ndim;
    const shape = output.shape.map((d, i) => (i >= lead && x.shape[i - lead] === d ? 1 : d));
    return g.node("Expand", [inputs[0], g.ints(shape)]);
  },
  slice: ({ g, node, inputs }) => {
    const { axis, start, step, length } = node.attrs as {
      axis: number;
      start: number;
      step: number;
      length: number;
    };
    const end = start + step * (length - 1) + 1;
    return g.node("Slice", [inputs[0], g.ints([start]), g.ints([end]), g.ints([axis]), g.ints([step])]);
  },
  pad: ({ g, node, inputs }) => {
    const { widths, value } = node.attrs as { widths: [number, number][]; value: number };
    const padsList = [...widths.map((w) => w[0]), ...widths.map((w) => w[1])];
    return g.node("Pad", [inputs[0], g.ints(padsList), g.scalar(value)], { mode: { s: "constant" } });
  },
  concat: (e) => e.g.node("Concat", e.inputs, { axis: { i: e.node.attrs as number } }),
  gemm: ({ g, node, inputs }) => {
    const { transA, transB } = node.attrs as { transA: boolean; transB: boolean };
    const [a, b] = node.inputs;
    if (a.ndim === 2 && b.ndim === 2)
      return g.node("Gemm", inputs, { transA: { i: transA ? 1 : 0 }, transB: { i: transB ? 1 : 0 } });
    const swapLast = (name: string, t: Tensor) =>
      g.node("Transpose", [name], { perm: { ints: t.ndim === 2 ? [1, 0] : [0, 2, 1] } });
    return g.node("MatMul", [
      transA ? swapLast(inputs[0], a) : inputs[0],
      transB ? swapLast(inputs[1], b) : inputs[1],
    ]);
  },
  conv2d: ({ g, node, inputs }) => g.node("Conv", inputs, convAttrs(node.attrs as Conv2dGeometry)),
  convTranspose2d: ({ g, node, inputs }) => {
    // The geometry is the forward convolution whose input gradient this is: its input is our output.
    const c = node.attrs as Conv2dGeometry;
    const full = (size: number, k: number, s: number, p: number, d: number) =>
      (size - 1) * s - 2 * p + d * (k - 1) + 1;
    return g.node("ConvTranspose", inputs, {
      ...convAttrs(c),
      output_padding: {
        ints: [
          c.inH - full(c.outH, c.kernelH, c.strideH, c.padH, c.dilationH),
          c.inW - full(c.outW, c.kernelW, c.strideW, c.padW, c.dilationW),
        ],
      },
    });
  },
  maxPool2d: ({ g, node, inputs }) => {
    const p = node.attrs as Pool2dGeometry;
    return g.node("MaxPool", inputs, { ...poolAttrs(p), dilations: { ints: [p.dilationH, p.dilationW] } });
  },
  avgPool2d: ({ g, node, inputs }) => {
    const p = node.attrs as AvgPool2dGeometry;
    if (p.divisorOverride !== null)
      throw new Error("exportOnnx: avgPool2d with divisorOverride has no ONNX form");
    return g.node("AveragePool", inputs, {
      ...poolAttrs({ ...p, dilationH: 1, dilationW: 1 }),
      count_include_pad: { i: p.countIncludePad ? 1 : 0 },
    });
  },
  adaptiveAvgPool2d: ({ g, node, inputs }) => {
    const p = node.attrs as AdaptivePool2dGeometry;
    if (p.outH === 1 && p.outW === 1) return g.node("GlobalAveragePool", inputs);
    if (p.inH % p.outH === 0 && p.inW % p.outW === 0) {
      const k = [p.inH / p.outH, p.inW / p.outW];
      return g.node("AveragePool", inputs, { kernel_shape: { ints: k }, strides: { ints: k } });
    }
    // Uneven (or overlapping) windows: y = Ph · x · Pwᵀ with the averaging matrices, exact like the op.
    const pwT = g.floats(transpose2d(adaptiveMatrix(p.inW, p.outW), p.outW, p.inW), [p.inW, p.outW]);
    const phT = g.floats(transpose2d(adaptiveMatrix(p.inH, p.outH), p.outH, p.inH), [p.inH, p.outH]);
    const alongW = g.node("MatMul", [inputs[0], pwT]);
    const swapped = g.node("Transpose", [alongW], { perm: { ints: [0, 1, 3, 2] } });
    return g.node("Transpose", [g.node("MatMul", [swapped, phT])], { perm: { ints: [0, 1, 3, 2] } });
  },
  batchNorm: ({ g, node, inputs }) => {
    const a = node.attrs as { training: boolean; hasWeight: boolean; hasBias: boolean };
    if (a.training)
      throw new Error("exportOnnx: batchNorm ran with batch statistics; call model.eval() before exporting");
    // The statistics the forward saved; the export runs no backward, so the slot is still full.
    const { mean, invStd } = node.saved as { mean: Tensor; invStd: Tensor };
    const n = mean.shape[0];
    // Functional batch norm keeps 1/sqrt(var + eps): export var' = 1/invStd² with epsilon 0.
    const variance = Array.from(invStd.toArray(), (s) => 1 / (s * s));
    const scale = a.hasWeight ? inputs[1] : g.floats(new Array<number>(n).fill(1), [n]);
    const bias = a.hasBias ? inputs[a.hasWeight ? 2 : 1] : g.floats(new Array<number>(n).fill(0), [n]);
    return g.node("BatchNormalization", [inputs[0], scale, bias, g.constant(mean), g.floats(variance, [n])], {
      epsilon: { f: 0 },
    });
  },
};

function transpose2d(m: readonly number[], rows: number, cols: number): number[] {
  const out = new Array<number>(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** The primitive names exportOnnx maps, for docs/onnx.md. */
export const EXPORTED_PRIMITIVES = (Object.keys(PRIMITIVES) as Primitive[]).filter(
  (p) => typeof PRIMITIVES[p] === "function",
);
/** The layers exported from their forward hook, for docs/onnx.md. */
export const EXPORTED_LAYERS = ["BatchNorm2d", "BatchNorm1d", "LocalResponseNorm", "Softmax", "LogSoftmax"];

function valueInfo(name: string, dims: readonly (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "string" ? { dim_param: d } : { dim_value: d })) },
      },
    },
  };
}

/** Tensor -> state-dict name of every parameter and buffer, for initializer names. */
function stateNames(model: Module): Map<Tensor, string> {
  const names = new Map<Tensor, string>();
  for (const [name, p] of model.namedParameters()) names.set(p, name);
  for (const [name, b] of model.namedBuffers()) if (!names.has(b)) names.set(b, name);
  return names;
}

/**
 * Writes `model` as an ONNX model (IR 7, opset 13) and returns the file's bytes. The model runs once on
 * `example` (e.g. `randn([1, 3, 224, 224])`) to trace the graph; batch norms must be in eval mode.
 * Every primitive op is mapped (conv, transposed conv, pooling, adaptive pooling, batch norm, activations,
 * arithmetic, reductions, reshape, permute, slice, pad, concat, expand, matmul) whether called through a
 * layer or as a function, plus the layers BatchNorm, LocalResponseNorm, Softmax and LogSoftmax. Functional
 * softmax (a composite holding the batch maximum as a constant) is refused when it can be detected.
 * @example
 * const model = getModel("resnet18").eval();
 * writeFileSync("resnet18.onnx", exportOnnx(model, randn([1, 3, 224, 224])));
 */
export function exportOnnx(
  model: Module<[input: Tensor], unknown>,
  example: Tensor,
  options: OnnxExportOptions = {},
): Uint8Array {
  const inputName = options.inputName ?? "input";
  const outputName = options.outputName ?? "output";
  const x = tensor(example.toArray(), example.shape, { requiresGrad: true, backend: example.backend.name });
  const layerCalls = new Map<Tensor, LayerCall>();
  const hook = registerGlobalForwardHook((module, inputs, output) => {
    // Hooks fire innermost first, so a tensor keeps the innermost exported layer that produced it.
    if (!LAYERS.has(module.constructor) || !(output instanceof Tensor) || layerCalls.has(output)) return;
    if (inputs[0] instanceof Tensor) layerCalls.set(output, { module, input: inputs[0] });
  });
  let y: unknown;
  try {
    y = enableGrad(() => model.forward(x));
  } finally {
    hook.remove();
  }
  if (!(y instanceof Tensor)) throw new Error("exportOnnx: the model's forward must return one Tensor");
  const output = y;

  const g = new GraphBuilder(stateNames(model));
  const names = new Map<Tensor, string>([[x, inputName]]);
  const sourcesOf = (t: Tensor): readonly Tensor[] => {
    const call = layerCalls.get(t);
    if (call) return [call.input];
    return t.gradFn?.inputs ?? [];
  };
  // Iterative post-order walk: ResNet-152's graph is too deep for recursion.
  const stack: { t: Tensor; expanded: boolean }[] = [{ t: output, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (names.has(top.t)) continue;
    if (!top.expanded) {
      stack.push({ t: top.t, expanded: true });
      for (const s of sourcesOf(top.t)) if (!names.has(s)) stack.push({ t: s, expanded: false });
      continue;
    }
    names.set(top.t, emit(g, top.t, layerCalls.get(top.t), names, x));
  }
  // The graph output must carry the requested name: route it through Identity when it is not a node output.
  const last = names.get(output)!;
  const producer = g.nodes.find((n) => n.output[0] === last);
  if (producer) producer.output[0] = outputName;
  else
    g.nodes.push({
      op_type: "Identity",
      name: "Identity_out",
      input: [last],
      output: [outputName],
      attribute: [],
    });

  const symbolic = (i: number, rank: number, suffix: string): string | null => {
    if (i === 0 && options.dynamicBatch !== false) return "N";
    if (options.dynamicSpatial && rank === 4 && i >= 2) return (i === 2 ? "H" : "W") + suffix;
    return null;
  };
  const dims = (t: Tensor, suffix: string) => t.shape.map((d, i) => symbolic(i, t.ndim, suffix) ?? d);
  return encodeModel({
    ir_version: 7, // goes with opset 13
    producer_name: "striate",
    producer_version: "0.1.0",
    opset_import: [{ domain: "", version: EXPORT_OPSET }],
    graph: {
      name: options.graphName ?? model.constructor.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(inputName, dims(x, ""))],
      output: [valueInfo(outputName, dims(output, "_out"))],
    },
  });
}

/** The ONNX node(s) computing `t`, given the names of its sources; returns the name of its value. */
function emit(
  g: GraphBuilder,
  t: Tensor,
  call: LayerCall | undefined,
  names: Map<Tensor, string>,
  x: Tensor,
): string {
  if (call) {
    const exporter = LAYERS.get(call.module.constructor)!;
    return exporter(g, call.module as never, names.get(call.input)!, call.input);
  }
  const node = t.gradFn;
  if (!node) {
    // A tensor with no graph that is not state: a value computed from the input without gradient (softmax's
    // batch maximum) would be frozen into the file; with a batch of 2 or more its leading dim gives it away.
    if (x.shape[0] > 1 && t.ndim >= 2 && t.shape[0] === x.shape[0] && !g.isState(t)) {
      throw new Error(
        `exportOnnx: a tensor ${formatShape(t.shape)} computed from the input outside the autograd graph (e.g. ` +
          `functional softmax's running maximum) cannot be exported; use nn.Softmax / nn.LogSoftmax`,
      );
    }
    return g.constant(t);
  }
  const exporter = Object.hasOwn(PRIMITIVES, node.op) ? PRIMITIVES[node.op as Primitive] : undefined;
  if (typeof exporter !== "function") {
    throw new Error(
      `exportOnnx: cannot export the op '${node.op}' (output ${formatShape(t.shape)}, ${sizeOf(t.shape)} values): ` +
        `it has no ONNX mapping${exporter ? ` (${exporter.notExported})` : ""}`,
    );
  }
  return exporter({ g, node, inputs: node.inputs.map((i) => names.get(i)!), output: t });
}

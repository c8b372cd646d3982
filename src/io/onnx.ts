// ONNX export: writes a model as an ONNX file (opset 13) that ONNX Runtime, PyTorch's importers and the
// other ONNX tools load. The graph is traced: the model runs once on an example input while a global
// forward hook notes which tensor each layer (Conv2d, BatchNorm2d, MaxPool2d, Linear, …) produced, and the
// walk back from the output follows the autograd graph for everything between layers (relu, add, mul,
// flatten, concat written as functional calls in forward). So a forward() with residual additions or
// concatenations exports as it is, without a description of the architecture. The protobuf encoding is a
// small writer of its own (varints and length-delimited fields), so this module needs no dependency and runs
// in browsers too.

import { Tensor, tensor } from "../tensor/tensor.js";
import { enableGrad } from "../autograd/engine.js";
import {
  Module,
  registerGlobalForwardHook,
  Conv2d,
  BatchNorm2d,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  GlobalAvgPool2d,
  Linear,
  Flatten,
  ReLU,
  Sigmoid,
  Tanh,
  LeakyReLU,
  Softmax,
} from "../nn/index.js";

// ---- protobuf writer --------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;

/** Appends protobuf fields to a growing byte buffer. */
export class ProtoWriter {
  private bytes = new Uint8Array(256);
  private length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.bytes[this.length++] = b;
  }

  /** Base-128 varint; negative numbers as their 64-bit two's complement (10 bytes), as int64 fields need. */
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
    return this;
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    return this.varint(value);
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    new DataView(this.bytes.buffer).setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  bytesField(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(data.length);
    this.ensure(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  /** An embedded message, written by `build` into a writer of its own. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

// ---- the ONNX graph in memory -------------------------------------------------------------------------

/** Attribute values: integers, floats, lists of integers. Plain numbers that are integers stay ints. */
type AttrValue = { i: number } | { f: number } | { ints: readonly number[] } | { s: string };

interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

interface Initializer {
  name: string;
  dims: readonly number[];
  /** ONNX TensorProto.DataType: 1 float, 7 int64. */
  dataType: 1 | 7;
  raw: Uint8Array;
}

const FLOAT = 1;
const INT64 = 7;

// Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto).
const ATTR_TYPE = { f: 1, i: 2, s: 3, ints: 7 } as const;

function writeAttribute(w: ProtoWriter, name: string, value: AttrValue): void {
  w.string(1, name);
  if ("f" in value) w.float(2, value.f).int(20, ATTR_TYPE.f);
  else if ("i" in value) w.int(3, value.i).int(20, ATTR_TYPE.i);
  else if ("s" in value) w.string(4, value.s).int(20, ATTR_TYPE.s);
  else {
    for (const v of value.ints) w.int(8, v);
    w.int(20, ATTR_TYPE.ints);
  }
}

function writeNode(w: ProtoWriter, node: OnnxNode, index: number): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, `${node.opType}_${index}`);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attrs)) w.message(5, (a) => writeAttribute(a, name, value));
}

function writeInitializer(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytesField(9, t.raw);
}

/** ValueInfoProto of a float tensor; dims given as a string are symbolic (dim_param). */
function writeValueInfo(w: ProtoWriter, name: string, dims: readonly (number | string)[]): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, FLOAT);
      tt.message(2, (shape) => {
        for (const d of dims) {
          shape.message(1, (dim) => (typeof d === "string" ? dim.string(2, d) : dim.int(1, d)));
        }
      });
    }),
  );
}

function floatBytes(values: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(values);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const b = BigInt64Array.from(values.map((v) => BigInt(v)));
  return new Uint8Array(b.buffer);
}

// ---- tracing ------------------------------------------------------------------------------------------

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

/** What the forward hook saw a layer do: the layer and its input. */
interface LayerCall {
  module: Module;
  input: Tensor;
}

type LayerExporter = (g: GraphBuilder, m: never, input: string, x: Tensor, y: Tensor) => string;

const pair = (p: readonly [number, number]) => [p[0], p[1]];
const pads = (p: readonly [number, number]) => [p[0], p[1], p[0], p[1]];

/** Layers exported as ONNX nodes, by exact class (a subclass may compute something else in forward). */
const LAYERS = new Map<unknown, LayerExporter>([
  [
    Conv2d,
    (g, m: Conv2d, input) => {
      const inputs = [input, g.constant(m.weight)];
      if (m.bias) inputs.push(g.constant(m.bias));
      let padding = pads(m.padding);
      if (m.paddingSame) {
        const total = [0, 1].map((i) => m.dilation[i] * (m.kernelSize[i] - 1));
        const begin = total.map((t) => Math.floor(t / 2));
        padding = [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]];
      }
      return g.node("Conv", inputs, {
        kernel_shape: { ints: pair(m.kernelSize) },
        strides: { ints: pair(m.stride) },
        pads: { ints: padding },
        dilations: { ints: pair(m.dilation) },
        group: { i: m.groups },
      });
    },
  ],
  [
    BatchNorm2d,
    (g, m: BatchNorm2d, input) => {
      if (m.training) {
        throw new Error(
          `exportOnnx: ${m.constructor.name}(${m.numFeatures}) is in training mode; call model.eval() before exporting`,
        );
      }
      if (!m.trackRunningStats) {
        throw new Error(
          `exportOnnx: BatchNorm2d(${m.numFeatures}) without running statistics cannot be exported`,
        );
      }
      const n = m.numFeatures;
      const scale = m.weight ? g.constant(m.weight) : g.floats(new Array(n).fill(1), [n]);
      const bias = m.bias ? g.constant(m.bias) : g.floats(new Array(n).fill(0), [n]);
      const mean = g.constant(m.getBuffer("running_mean"));
      const variance = g.constant(m.getBuffer("running_var"));
      return g.node("BatchNormalization", [input, scale, bias, mean, variance], { epsilon: { f: m.eps } });
    },
  ],
  [
    MaxPool2d,
    (g, m: MaxPool2d, input) =>
      g.node("MaxPool", [input], {
        kernel_shape: { ints: pair(m.kernelSize) },
        strides: { ints: pair(m.stride) },
        pads: { ints: pads(m.padding) },
        dilations: { ints: pair(m.dilation) },
        ceil_mode: { i: m.ceilMode ? 1 : 0 },
      }),
  ],
  [
    AvgPool2d,
    (g, m: AvgPool2d, input) => {
      if (m.divisorOverride !== null)
        throw new Error("exportOnnx: AvgPool2d with divisorOverride has no ONNX form");
      return g.node("AveragePool", [input], {
        kernel_shape: { ints: pair(m.kernelSize) },
        strides: { ints: pair(m.stride) },
        pads: { ints: pads(m.padding) },
        ceil_mode: { i: m.ceilMode ? 1 : 0 },
        count_include_pad: { i: m.countIncludePad ? 1 : 0 },
      });
    },
  ],
  [
    AdaptiveAvgPool2d,
    (g, m: AdaptiveAvgPool2d, input, x) => {
      const [oh, ow] = m.outputSize;
      if (oh === 1 && ow === 1) return g.node("GlobalAveragePool", [input], {});
      const [h, w] = [x.shape[2], x.shape[3]];
      if (h % oh !== 0 || w % ow !== 0) {
        throw new Error(
          `exportOnnx: AdaptiveAvgPool2d([${oh},${ow}]) on a ${h}x${w} input has uneven windows, which ONNX cannot express`,
        );
      }
      const k = [h / oh, w / ow];
      return g.node("AveragePool", [input], { kernel_shape: { ints: k }, strides: { ints: k } });
    },
  ],
  [
    GlobalAvgPool2d,
    (g, m: GlobalAvgPool2d, input) => {
      const pooled = g.node("GlobalAveragePool", [input], {});
      return m.flatten ? g.node("Flatten", [pooled], { axis: { i: 1 } }) : pooled;
    },
  ],
  [
    Linear,
    (g, m: Linear, input, x) => {
      if (x.ndim !== 2) {
        throw new Error(
          `exportOnnx: Linear(${m.inFeatures}, ${m.outFeatures}) on a ${x.ndim}-D input; export supports [N, features]`,
        );
      }
      const inputs = [input, g.constant(m.weight)];
      if (m.bias) inputs.push(g.constant(m.bias));
      return g.node("Gemm", inputs, { transB: { i: 1 } });
    },
  ],
  [Flatten, (g, _m: Flatten, input, _x, y) => g.reshape(input, y)],
  [ReLU, (g, _m: ReLU, input) => g.node("Relu", [input], {})],
  [Sigmoid, (g, _m: Sigmoid, input) => g.node("Sigmoid", [input], {})],
  [Tanh, (g, _m: Tanh, input) => g.node("Tanh", [input], {})],
  [LeakyReLU, (g, m: LeakyReLU, input) => g.node("LeakyRelu", [input], { alpha: { f: m.negativeSlope } })],
  [Softmax, (g, m: Softmax, input) => g.node("Softmax", [input], { axis: { i: m.dim } })],
]);

/** Functional ops (autograd primitives) between layers that map to one ONNX op without attributes. */
const ELEMENTWISE: Record<string, string> = {
  add: "Add",
  sub: "Sub",
  mul: "Mul",
  div: "Div",
  relu: "Relu",
  sigmoid: "Sigmoid",
  tanh: "Tanh",
  exp: "Exp",
  maximum: "Max",
  minimum: "Min",
};

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  private readonly constants = new Map<Tensor, string>();
  private counter = 0;

  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  node(opType: string, inputs: string[], attrs: Record<string, AttrValue>): string {
    const output = this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, inputs, outputs: [output], attrs });
    return output;
  }

  /** An initializer holding a tensor's current values (each tensor once). */
  constant(t: Tensor): string {
    const known = this.constants.get(t);
    if (known) return known;
    if (t.dtype !== "float32")
      throw new Error(`exportOnnx: constant of dtype ${t.dtype}; only float32 is exported`);
    const name = this.fresh("const");
    this.initializers.push({ name, dims: t.shape, dataType: FLOAT, raw: floatBytes(t.toArray()) });
    this.constants.set(t, name);
    return name;
  }

  floats(values: number[], dims: number[]): string {
    const name = this.fresh("const");
    this.initializers.push({ name, dims, dataType: FLOAT, raw: floatBytes(values) });
    return name;
  }

  /** Flatten when y is [N, rest]; otherwise Reshape to y's shape with the batch copied (0). */
  reshape(input: string, y: Tensor): string {
    if (y.ndim === 2) return this.node("Flatten", [input], { axis: { i: 1 } });
    const name = this.fresh("shape");
    const shape = [0, ...y.shape.slice(1)];
    this.initializers.push({ name, dims: [shape.length], dataType: INT64, raw: int64Bytes(shape) });
    return this.node("Reshape", [input, name], {});
  }
}

/** Axis along which `output` is the concatenation of `inputs` (the one dimension whose sizes add up). */
function concatAxis(inputs: readonly Tensor[], output: Tensor): number {
  for (let d = 0; d < output.ndim; d++) {
    if (inputs.some((t) => t.shape[d] !== output.shape[d])) return d;
  }
  return 0;
}

/**
 * Writes `model` as an ONNX model (IR 7, opset 13) and returns the file's bytes. The model runs once on
 * `example` (e.g. `randn([1, 3, 224, 224])`) to trace the graph; batch norms must be in eval mode.
 * Supported: Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, GlobalAvgPool2d, Linear,
 * Flatten, ReLU, Sigmoid, Tanh, LeakyReLU, Softmax, Sequential and any container, plus functional add,
 * sub, mul, div, relu, sigmoid, tanh, exp, maximum, minimum, reshape/flatten and concat in forward().
 * Anything else throws, naming the op.
 * @example
 * const model = getModel("resnet18").eval();
 * writeFileSync("resnet18.onnx", exportOnnx(model, randn([1, 3, 224, 224])));
 */
export function exportOnnx(model: Module, example: Tensor, options: OnnxExportOptions = {}): Uint8Array {
  const inputName = options.inputName ?? "input";
  const outputName = options.outputName ?? "output";
  const x = tensor(example.toArray(), example.shape, { requiresGrad: true, backend: example.backend.name });
  const layerCalls = new Map<Tensor, LayerCall>();
  const hook = registerGlobalForwardHook((module, inputs, output) => {
    // Hooks fire innermost first, so a tensor keeps the innermost exportable layer that produced it.
    if (!LAYERS.has(module.constructor) || !(output instanceof Tensor) || layerCalls.has(output)) return;
    if (inputs[0] instanceof Tensor) layerCalls.set(output, { module, input: inputs[0] });
  });
  let y: Tensor;
  try {
    // Module.forward takes `never` arguments so that every layer can type its own; one tensor goes in here.
    const forward = model.forward.bind(model) as unknown as (input: Tensor) => unknown;
    y = enableGrad(() => forward(x)) as Tensor;
  } finally {
    hook.remove();
  }
  if (!(y instanceof Tensor)) throw new Error("exportOnnx: the model's forward must return one Tensor");

  const g = new GraphBuilder();
  const names = new Map<Tensor, string>([[x, inputName]]);
  // Iterative post-order walk: ResNet-152's graph is too deep for recursion.
  const sourcesOf = (t: Tensor): readonly Tensor[] => {
    const call = layerCalls.get(t);
    if (call) return [call.input];
    return t.gradFn?.inputs ?? [];
  };
  const stack: { t: Tensor; expanded: boolean }[] = [{ t: y, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (names.has(top.t)) continue;
    if (!top.expanded) {
      stack.push({ t: top.t, expanded: true });
      for (const s of sourcesOf(top.t)) if (!names.has(s)) stack.push({ t: s, expanded: false });
      continue;
    }
    names.set(top.t, emit(g, top.t, layerCalls.get(top.t), names));
  }
  // The graph output must carry the requested name: route it through Identity when it is not a node output.
  const last = names.get(y)!;
  const producer = g.nodes.find((n) => n.outputs[0] === last);
  if (producer) producer.outputs[0] = outputName;
  else g.nodes.push({ opType: "Identity", inputs: [last], outputs: [outputName], attrs: {} });

  const symbolic = (i: number, rank: number, suffix: string): string | null => {
    if (i === 0 && options.dynamicBatch !== false) return "N";
    if (options.dynamicSpatial && rank === 4 && i >= 2) return (i === 2 ? "H" : "W") + suffix;
    return null;
  };
  const dims = (t: Tensor, suffix: string) => t.shape.map((d, i) => symbolic(i, t.ndim, suffix) ?? d);
  const w = new ProtoWriter();
  w.int(1, 7); // ir_version 7 goes with opset 13
  w.string(2, "striate");
  w.string(3, "0.1.0");
  w.message(7, (graph) => {
    g.nodes.forEach((node, i) => graph.message(1, (n) => writeNode(n, node, i)));
    graph.string(2, options.graphName ?? model.constructor.name);
    for (const init of g.initializers) graph.message(5, (t) => writeInitializer(t, init));
    graph.message(11, (v) => writeValueInfo(v, inputName, dims(x, "")));
    graph.message(12, (v) => writeValueInfo(v, outputName, dims(y, "_out")));
  });
  w.message(8, (opset) => opset.string(1, "").int(2, 13));
  return w.finish();
}

/** The ONNX node(s) computing `t`, given the names of its sources; returns the name of its value. */
function emit(g: GraphBuilder, t: Tensor, call: LayerCall | undefined, names: Map<Tensor, string>): string {
  if (call) {
    const exporter = LAYERS.get(call.module.constructor)!;
    return exporter(g, call.module as never, names.get(call.input)!, call.input, t);
  }
  const node = t.gradFn;
  if (!node) return g.constant(t);
  const inputs = node.inputs.map((i) => names.get(i)!);
  const op = ELEMENTWISE[node.op];
  if (op) return g.node(op, inputs, {});
  if (node.op === "reshape") return g.reshape(inputs[0], t);
  if (node.op === "concat") return g.node("Concat", inputs, { axis: { i: concatAxis(node.inputs, t) } });
  throw new Error(
    `exportOnnx: cannot export the op '${node.op}' (output ${JSON.stringify(t.shape)}): ` +
      `it is not an ONNX-mapped layer, or it was called as a function where only a layer records its settings ` +
      `(use nn.Conv2d, nn.MaxPool2d, … rather than F.conv2d, F.maxPool2d in forward)`,
  );
}

// ONNX import: reads a ModelProto (opsets 9-18 of the CNN operator set, see ops.ts) into an nn.Module that
// runs the graph with Striate's ops. Initializers become Parameters named like PyTorch's state-dict keys
// (`layer1.0.conv1.weight` lives at module path layer1.0.conv1), batch-norm statistics become buffers, and
// shapes, axes and pads stay host constants; so the imported model runs, fine-tunes (gradients reach every
// initializer) and exports again. Everything that can be checked without running is checked at import: the
// opset, every op and attribute, and that each input is defined before it is used.

import { Tensor, tensor } from "../../tensor/tensor.js";
import { formatShape, sizeOf } from "../../tensor/shape.js";
import { Module } from "../../nn/module.js";
import { Parameter } from "../../nn/parameter.js";
import { HostArray } from "./host.js";
import { Attrs, ONNX_OPS, type AttrValue, type OpSpec, type Value } from "./ops.js";
import {
  AttributeType,
  DataType,
  decodeModel,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./proto.js";

/** The opsets whose operator definitions ops.ts follows. */
export const SUPPORTED_OPSETS = [9, 18] as const;

/**
 * Largest tensor stored without its values in the file (elements): dims claiming more than the data holds
 * are rejected by the byte count, so this only bounds what a corrupt file can make us allocate.
 */
const MAX_ELEMENTS = 1 << 28;

const utf8 = new TextDecoder();

/** A node prepared for running: its op, decoded attributes and the names it reads and writes. */
interface PreparedNode {
  spec: OpSpec;
  opType: string;
  label: string;
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
}

/** Where an initializer lives in the module: a Parameter, a buffer, or a host constant. */
type Slot =
  | { kind: "parameter"; parameter: Parameter }
  | { kind: "buffer"; module: Module; name: string }
  | { kind: "host"; value: HostArray };

/** Holds the parameters and buffers under one dotted path (like an nn.Module of the exporting model). */
class OnnxScope extends Module {
  forward(): never {
    throw new Error("OnnxScope: holds imported parameters; call the OnnxModel instead");
  }
}

/**
 * A model imported from ONNX: forward(x) runs the graph on its single input and returns its first output.
 * Parameters and buffers keep the file's initializer names as dotted module paths.
 */
export class OnnxModel extends Module {
  /** The default-domain opset the file declares. */
  readonly opset: number;
  readonly inputName: string;
  readonly outputNames: readonly string[];
  /** Declared input shape; symbolic dims (batch) are null. */
  readonly inputShape: readonly (number | null)[] | null;
  private readonly nodes: readonly PreparedNode[];
  private readonly slots: ReadonlyMap<string, Slot>;

  constructor(
    opset: number,
    input: { name: string; shape: (number | null)[] | null },
    outputNames: string[],
    nodes: PreparedNode[],
    slots: Map<string, Slot>,
  ) {
    super();
    this.opset = opset;
    this.inputName = input.name;
    this.inputShape = input.shape;
    this.outputNames = outputNames;
    this.nodes = nodes;
    this.slots = slots;
  }

  /** The op_type of every node, in the file's order. */
  get nodeTypes(): string[] {
    return this.nodes.map((n) => n.opType);
  }

  /** Runs the graph on `x` (the graph's input, e.g. [N, 3, H, W]) and returns its first output. */
  forward(x: Tensor): Tensor {
    return this.forwardAll(x)[0];
  }

  /** Runs the graph and returns every graph output, in the file's order. */
  forwardAll(x: Tensor): Tensor[] {
    this.checkInput(x);
    const values = new Map<string, Value>([[this.inputName, x]]);
    for (const [name, slot] of this.slots) values.set(name, this.slotValue(slot));
    for (const node of this.nodes) this.runNode(node, values);
    return this.outputNames.map((name) => {
      const v = values.get(name)!;
      return v instanceof Tensor ? v : tensor(Float32Array.from(v.data), [...v.shape]);
    });
  }

  private slotValue(slot: Slot): Value {
    if (slot.kind === "parameter") return slot.parameter;
    if (slot.kind === "buffer") return slot.module.getBuffer(slot.name);
    return slot.value;
  }

  private checkInput(x: Tensor): void {
    const want = this.inputShape;
    if (!want) return;
    const fits = x.ndim === want.length && want.every((d, i) => d === null || d === x.shape[i]);
    if (!fits) {
      const declared = `[${want.map((d) => d ?? "?").join(",")}]`;
      throw new Error(
        `OnnxModel: input '${this.inputName}' is declared ${declared} in the file, got ${formatShape(x.shape)}`,
      );
    }
  }

  private runNode(node: PreparedNode, values: Map<string, Value>): void {
    const fail = (message: string) => new Error(`${node.label}: ${message}`);
    const inputs = node.inputs.map((name) => (name === "" ? undefined : values.get(name)));
    let outputs: Value[];
    try {
      outputs = node.spec.run({
        inputs,
        attrs: node.attrs,
        opset: this.opset,
        training: this.training,
        outputCount: node.outputs.length,
        updateBuffer: (i, value) => {
          const slot = this.slots.get(node.inputs[i]);
          if (slot?.kind === "buffer") slot.module.setBuffer(slot.name, value);
        },
        hostTensor: (t) => hostFromProto(t, node.label),
        fail,
      });
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      throw message.startsWith(node.label) ? e : fail(message);
    }
    node.outputs.forEach((name, i) => {
      if (name !== "") values.set(name, outputs[i]);
    });
  }
}

// ---- tensors in the file ---------------------------------------------------------------------------

const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
};

/** The values of a TensorProto as numbers, checked against its dims. */
function protoValues(
  t: TensorProto,
  where: string,
): { values: ArrayLike<number>; shape: number[]; isInt: boolean } {
  const shape = t.dims.map(Number);
  const type = t.data_type ?? 0;
  const what = `${where}: tensor '${t.name ?? ""}'`;
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new Error(`${what} has invalid dims [${shape.join(",")}]`);
  const size = sizeOf(shape);
  if (size > MAX_ELEMENTS)
    throw new Error(`${what} has ${size} elements, more than the ${MAX_ELEMENTS} allowed`);
  if (t.data_location === 1)
    throw new Error(`${what} keeps its data in an external file, which is not supported`);
  const bytes = ELEMENT_BYTES[type];
  if (!bytes)
    throw new Error(
      `${what} has data type ${type}; supported: float, double, int64, int32, int8, uint8, bool`,
    );
  const isInt = type !== DataType.FLOAT && type !== DataType.DOUBLE;
  let values: ArrayLike<number>;
  if (t.raw_data && t.raw_data.length > 0) {
    if (t.raw_data.length !== size * bytes)
      throw new Error(
        `${what}: raw_data holds ${t.raw_data.length} bytes, dims [${shape.join(",")}] need ${size * bytes}`,
      );
    const copy = new Uint8Array(t.raw_data);
    const view = new DataView(copy.buffer);
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const o = i * bytes;
      if (type === DataType.FLOAT) out[i] = view.getFloat32(o, true);
      else if (type === DataType.DOUBLE) out[i] = view.getFloat64(o, true);
      else if (type === DataType.INT64) out[i] = Number(view.getBigInt64(o, true));
      else if (type === DataType.INT32) out[i] = view.getInt32(o, true);
      else if (type === DataType.INT8) out[i] = view.getInt8(o);
      else out[i] = view.getUint8(o);
    }
    values = out;
  } else {
    values =
      type === DataType.FLOAT
        ? t.float_data
        : type === DataType.DOUBLE
          ? t.double_data
          : type === DataType.INT64
            ? t.int64_data
            : t.int32_data;
    if (values.length !== size)
      throw new Error(`${what} holds ${values.length} values, dims [${shape.join(",")}] need ${size}`);
  }
  return { values, shape, isInt };
}

function hostFromProto(t: TensorProto, where: string): HostArray {
  const { values, shape, isInt } = protoValues(t, where);
  return new HostArray(Array.from(values), shape, isInt);
}

// ---- attributes ---------------------------------------------------------------------------------------

function attributeValue(a: AttributeProto, label: string): AttrValue {
  switch (a.type) {
    case AttributeType.FLOAT:
      return a.f ?? 0;
    case AttributeType.INT:
      return a.i ?? 0;
    case AttributeType.STRING:
      return utf8.decode(a.s ?? new Uint8Array());
    case AttributeType.TENSOR:
      if (!a.t) throw new Error(`${label}: attribute '${a.name}' has no tensor`);
      return a.t;
    case AttributeType.FLOATS:
      return a.floats;
    case AttributeType.INTS:
      return a.ints;
    case AttributeType.STRINGS:
      return a.strings.map((s) => utf8.decode(s));
    default:
      throw new Error(`${label}: attribute '${a.name}' has type ${a.type}, which is not supported`);
  }
}

// ---- naming -------------------------------------------------------------------------------------------

/** Splits an initializer name into module path and leaf: "layer1.0.conv1.weight" -> ["layer1","0","conv1"], "weight". */
function pathOf(name: string): string[] {
  const parts = name
    .split(".")
    .map((p) => p.replace(/[^A-Za-z0-9_]/g, "_"))
    .filter((p) => p.length > 0);
  return parts.length > 0 ? parts : ["_"];
}

/** Registers parameters and buffers under dotted module paths, flattening a path that collides. */
class ScopeTree {
  private readonly taken = new Map<Module, Set<string>>();

  constructor(private readonly root: Module) {}

  private names(m: Module): Set<string> {
    let s = this.taken.get(m);
    if (!s) this.taken.set(m, (s = new Set()));
    return s;
  }

  /** The module holding `path[:-1]` and a free leaf name, creating scopes on the way. */
  place(name: string): { module: Module; leaf: string } {
    const parts = pathOf(name);
    let module: Module = this.root;
    for (const part of parts.slice(0, -1)) {
      const child = module.namedChildren().find(([n]) => n === part)?.[1];
      if (child) module = child;
      else if (this.names(module).has(part)) return this.flat(parts);
      else {
        module = module.registerModule(part, new OnnxScope());
        this.names(module);
      }
    }
    const leaf = parts[parts.length - 1];
    const used = this.names(module);
    if (used.has(leaf) || module.namedChildren().some(([n]) => n === leaf)) return this.flat(parts);
    used.add(leaf);
    return { module, leaf };
  }

  private flat(parts: string[]): { module: Module; leaf: string } {
    const used = this.names(this.root);
    let leaf = parts.join("_");
    for (let i = 1; used.has(leaf) || this.root.namedChildren().some(([n]) => n === leaf); i++)
      leaf = `${parts.join("_")}_${i}`;
    used.add(leaf);
    return { module: this.root, leaf };
  }
}

// ---- import -------------------------------------------------------------------------------------------

function declaredShape(v: ValueInfoProto): (number | null)[] | null {
  const dims = v.type?.tensor_type?.shape?.dim;
  if (!dims) return null;
  return dims.map((d) => (d.dim_value !== undefined && d.dim_value > 0 ? d.dim_value : null));
}

function nodeLabel(node: NodeProto, index: number, opset: number): string {
  const name = node.name || node.output[0] || `#${index}`;
  return `${node.op_type ?? "(no op_type)"} node '${name}' (opset ${opset})`;
}

function prepareNode(node: NodeProto, index: number, opset: number): PreparedNode {
  const label = nodeLabel(node, index, opset);
  const opType = node.op_type ?? "";
  if (node.domain && node.domain !== "ai.onnx")
    throw new Error(
      `importOnnx: ${label} is in domain '${node.domain}'; only the default ONNX domain is supported`,
    );
  const spec = Object.hasOwn(ONNX_OPS, opType) ? ONNX_OPS[opType] : undefined;
  if (!spec)
    throw new Error(
      `importOnnx: unsupported op ${label}; supported ops: ${Object.keys(ONNX_OPS).join(", ")}`,
    );
  const values = new Map<string, AttrValue>();
  for (const a of node.attribute) {
    const name = a.name ?? "";
    if (!spec.attrs.includes(name))
      throw new Error(
        `importOnnx: ${label} has attribute '${name}', which is not supported (supported: ${spec.attrs.join(", ") || "none"})`,
      );
    values.set(name, attributeValue(a, `importOnnx: ${label}`));
  }
  const attrs = new Attrs(values);
  const problem = spec.check?.(attrs, opset);
  if (problem) throw new Error(`importOnnx: ${label}: ${problem}`);
  if (node.output.length === 0) throw new Error(`importOnnx: ${label} has no outputs`);
  return { spec, opType, label, inputs: node.input, outputs: node.output, attrs };
}

/** How each initializer is used: host slots (shapes, pads), buffer slots (statistics) or data. */
function initializerRoles(nodes: readonly PreparedNode[]): Map<string, Set<"host" | "buffer" | "data">> {
  const roles = new Map<string, Set<"host" | "buffer" | "data">>();
  for (const node of nodes) {
    node.inputs.forEach((name, i) => {
      const role = node.spec.hostInputs?.includes(i)
        ? "host"
        : node.spec.bufferInputs?.includes(i)
          ? "buffer"
          : "data";
      if (!roles.has(name)) roles.set(name, new Set());
      roles.get(name)!.add(role);
    });
  }
  return roles;
}

/**
 * Reads an ONNX model (opsets 9-18; the ops listed in docs/onnx.md) into a Module whose `forward(x)` takes
 * the graph's single input and returns its first output. Initializers become Parameters (trainable) and
 * batch-norm statistics buffers, both under the file's names. Unsupported ops, attributes, opsets or a
 * malformed file throw here, naming the node, before anything runs.
 * @example
 * const model = importOnnx(readFileSync("resnet18.onnx")).eval();
 * const logits = model.forward(x); // x [N, 3, 224, 224]
 */
export function importOnnx(bytes: Uint8Array): OnnxModel {
  const model = decodeModel(bytes);
  const graph = model.graph;
  if (!graph) throw new Error("importOnnx: the file has no graph");
  const opsetEntry = model.opset_import.find((o) => !o.domain || o.domain === "ai.onnx");
  const opset = opsetEntry?.version ?? 0;
  if (opset < SUPPORTED_OPSETS[0] || opset > SUPPORTED_OPSETS[1])
    throw new Error(
      `importOnnx: opset ${opset} is not supported (supported: ${SUPPORTED_OPSETS[0]} to ${SUPPORTED_OPSETS[1]})`,
    );
  const nodes = graph.node.map((n, i) => prepareNode(n, i, opset));

  const initializers = new Map(graph.initializer.map((t) => [t.name ?? "", t]));
  const inputs = graph.input.filter((v) => !initializers.has(v.name ?? ""));
  if (inputs.length !== 1)
    throw new Error(
      `importOnnx: the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(", ")}); exactly one is supported`,
    );
  const input = { name: inputs[0].name ?? "", shape: declaredShape(inputs[0]) };
  const outputNames = graph.output.map((v) => v.name ?? "");
  if (outputNames.length === 0) throw new Error("importOnnx: the graph has no outputs");

  // Every input must be defined before it is read: ONNX requires topological order.
  const defined = new Set<string>([input.name, ...initializers.keys(), ""]);
  for (const node of nodes) {
    for (const name of node.inputs) {
      if (!defined.has(name))
        throw new Error(
          `importOnnx: ${node.label} reads '${name}', which no earlier node, initializer or input defines`,
        );
    }
    for (const name of node.outputs) defined.add(name);
  }
  for (const name of outputNames)
    if (!defined.has(name)) throw new Error(`importOnnx: graph output '${name}' is never computed`);

  const slots = new Map<string, Slot>();
  const result = new OnnxModel(opset, input, outputNames, nodes, slots);
  const tree = new ScopeTree(result);
  const roles = initializerRoles(nodes);
  for (const [name, proto] of initializers) {
    const { values, shape, isInt } = protoValues(proto, `importOnnx: initializer '${name}'`);
    const role = roles.get(name) ?? new Set();
    if (isInt || role.has("host") || role.size === 0) {
      slots.set(name, { kind: "host", value: new HostArray(Array.from(values), shape, isInt) });
      continue;
    }
    const t = tensor(Float32Array.from(values), shape);
    const { module, leaf } = tree.place(name);
    if (role.has("buffer") && !role.has("data")) {
      module.registerBuffer(leaf, t);
      slots.set(name, { kind: "buffer", module, name: leaf });
    } else {
      slots.set(name, { kind: "parameter", parameter: module.registerParameter(leaf, new Parameter(t)) });
    }
  }
  return result;
}

// The ONNX file format: ModelProto decoded from and encoded to bytes by protobufjs against onnx.proto's
// JSON descriptor (schema.ts), and TypeScript shapes of the messages this library reads and writes, with
// onnx.proto's own field names. Only protobufjs/light is used, so this runs in browsers too.

import protobuf from "protobufjs/light.js";
import { onnxSchema } from "./schema.js";

/** TensorProto.DataType values this library meets (onnx.proto's enum). */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

export interface TensorProto {
  dims: number[];
  data_type?: number;
  name?: string;
  raw_data?: Uint8Array;
  float_data: number[];
  int32_data: number[];
  int64_data: number[];
  double_data: number[];
  /** 1 (EXTERNAL) when the values live in another file. */
  data_location?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute: AttributeProto[];
}

export interface TensorShapeDimension {
  dim_value?: number;
  dim_param?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim: TensorShapeDimension[] } } };
}

export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

export interface ModelProto {
  ir_version?: number;
  opset_import: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProto;
}

const root = protobuf.Root.fromJSON(onnxSchema);
const Model = root.lookupType("onnx.ModelProto");

/**
 * Decodes a ModelProto. int64 fields come back as numbers (exact up to 2^53, which covers every size and
 * index; the ±2^63 sentinels Slice uses keep their meaning), every repeated field as an array.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  let message: protobuf.Message;
  try {
    message = Model.decode(bytes);
  } catch (e) {
    throw new Error(`importOnnx: the bytes are not an ONNX ModelProto (${(e as Error).message})`);
  }
  return Model.toObject(message, { longs: Number, arrays: true }) as ModelProto;
}

/** Encodes a ModelProto given as a plain object with onnx.proto's field names. */
export function encodeModel(model: ModelProto): Uint8Array {
  const problem = Model.verify(model);
  if (problem) throw new Error(`exportOnnx: internal error, the model does not fit onnx.proto (${problem})`);
  return Model.encode(Model.fromObject(model)).finish();
}

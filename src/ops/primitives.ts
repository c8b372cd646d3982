// Every primitive's name as one type. The families' rule tables define the names; tables keyed by primitive
// elsewhere (ONNX export, the coverage matrix's samples, backward overrides) are typed over this union, so a
// new primitive is a compile error until each of them has its entry.

import type { LossPrimitive } from "./losses.js";
import type { MatmulPrimitive } from "./matmul.js";
import type { ConvPrimitive } from "./conv.js";
import type { ElementwisePrimitive } from "./elementwise.js";
import type { ActivationPrimitive } from "./activations.js";
import type { NormalizationPrimitive } from "./normalization.js";
import type { ReducePrimitive } from "./reduce.js";
import type { PoolPrimitive } from "./pool.js";
import type { IndexingPrimitive } from "./indexing.js";
import type { DetectionPrimitive } from "./detection.js";
import type { MovementPrimitive } from "./movement.js";

/** The name of every primitive op (the `op` of its autograd nodes): `add`, `conv2d`, `maxPool2d`, …. */
export type Primitive =
  | LossPrimitive
  | MatmulPrimitive
  | ConvPrimitive
  | ElementwisePrimitive
  | ActivationPrimitive
  | NormalizationPrimitive
  | ReducePrimitive
  | PoolPrimitive
  | IndexingPrimitive
  | DetectionPrimitive
  | MovementPrimitive;

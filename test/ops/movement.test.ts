// Shape and layout ops beyond the fixtures: gradient checks of reshape, flatten, permute, transpose,
// squeeze/unsqueeze, expand, slice with steps, split, pad, concat and stack; forward values against index
// arithmetic; and every validation error.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { arange, tensor, type Tensor } from "../../src/tensor/tensor.js";
import { gradcheckCases, randomInput } from "../helpers/gradcheck.js";

const x234 = () => randomInput([2, 3, 4], { seed: 5 });

gradcheckCases("movement", [
  { name: "reshape [2,3,4] -> [6,4]", inputs: () => [x234()], f: (x) => F.reshape(x, [6, 4]) },
  { name: "reshape with -1", inputs: () => [x234()], f: (x) => F.reshape(x, [4, -1, 2]) },
  {
    name: "view to a scalar and back",
    inputs: () => [randomInput([1])],
    f: (x) => x.view([]).mul(x.view([])),
  },
  { name: "flatten all", inputs: () => [x234()], f: (x) => F.flatten(x) },
  { name: "flatten 1..-1", inputs: () => [x234()], f: (x) => F.flatten(x, 1) },
  { name: "flatten 0..1", inputs: () => [x234()], f: (x) => F.flatten(x, 0, 1) },
  { name: "permute [2,0,1]", inputs: () => [x234()], f: (x) => F.permute(x, [2, 0, 1]) },
  { name: "permute negative dims", inputs: () => [x234()], f: (x) => F.permute(x, [-1, -3, -2]) },
  { name: "transpose 0,2", inputs: () => [x234()], f: (x) => F.transpose(x, 0, 2) },
  { name: "transpose 2-D", inputs: () => [randomInput([3, 5])], f: (x) => x.transpose(0, 1) },
  { name: "squeeze all", inputs: () => [randomInput([1, 3, 1, 2])], f: (x) => F.squeeze(x) },
  { name: "squeeze dim 2", inputs: () => [randomInput([1, 3, 1, 2])], f: (x) => F.squeeze(x, 2) },
  { name: "unsqueeze -1", inputs: () => [randomInput([3, 2])], f: (x) => F.unsqueeze(x, -1) },
  { name: "expand [3,1] -> [3,4]", inputs: () => [randomInput([3, 1])], f: (x) => F.expand(x, [3, 4]) },
  { name: "expand [3] -> [2,4,3]", inputs: () => [randomInput([3])], f: (x) => F.expand(x, [2, 4, 3]) },
  { name: "expand with -1", inputs: () => [randomInput([1, 4])], f: (x) => F.expand(x, [2, 3, -1]) },
  { name: "slice dim 1 [1,3)", inputs: () => [x234()], f: (x) => F.slice(x, 1, 1, 3) },
  { name: "slice step 2", inputs: () => [x234()], f: (x) => F.slice(x, 2, 0, 4, 2) },
  {
    name: "slice step 3 from 1",
    inputs: () => [randomInput([2, 8])],
    f: (x) => F.slice(x, 1, 1, undefined, 3),
  },
  { name: "slice negative start", inputs: () => [x234()], f: (x) => F.slice(x, -1, -3) },
  { name: "split dim 1 [1,2]", inputs: () => [x234()], f: (x) => F.split(x, [1, 2], 1) },
  { name: "split dim -1 [1,1,2]", inputs: () => [x234()], f: (x) => F.split(x, [1, 1, 2], -1) },
  { name: "pad last dim", inputs: () => [x234()], f: (x) => F.pad(x, [1, 2]) },
  { name: "pad two dims with value", inputs: () => [x234()], f: (x) => F.pad(x, [0, 1, 2, 1], -3) },
  { name: "pad every dim", inputs: () => [x234()], f: (x) => F.pad(x, [1, 0, 0, 1, 2, 0]) },
  {
    name: "concat dim 0",
    inputs: () => [randomInput([1, 3]), randomInput([2, 3], { seed: 2 })],
    f: (a, b) => F.concat([a, b], 0),
  },
  {
    name: "concat three along dim 1",
    inputs: () => [
      randomInput([2, 1, 2]),
      randomInput([2, 3, 2], { seed: 2 }),
      randomInput([2, 2, 2], { seed: 3 }),
    ],
    f: (a, b, c) => F.concat([a, b, c], 1),
  },
  {
    name: "concat the same tensor twice",
    inputs: () => [randomInput([2, 3])],
    f: (a) => F.concat([a, a.mul(2)], -1),
  },
  {
    name: "stack dim 0",
    inputs: () => [randomInput([2, 3]), randomInput([2, 3], { seed: 2 })],
    f: (a, b) => F.stack([a, b]),
  },
  {
    name: "stack dim -1",
    inputs: () => [randomInput([2, 3]), randomInput([2, 3], { seed: 2 }), randomInput([2, 3], { seed: 3 })],
    f: (a, b, c) => F.stack([a, b, c], -1),
  },
]);

/** Value of x at a multi-index, read from its flat row-major data. */
function at(x: Tensor, index: number[]): number {
  let flat = 0;
  index.forEach((i, d) => (flat = flat * x.shape[d] + i));
  return x.toArray()[flat];
}

test("permute moves every element to its permuted index", () => {
  const x = arange(24).reshape([2, 3, 4]);
  const y = F.permute(x, [2, 0, 1]);
  assert.deepEqual(y.shape, [4, 2, 3]);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) assert.equal(at(y, [k, i, j]), at(x, [i, j, k]));
});

test("slice with a step picks start, start+step, … below end", () => {
  const x = arange(10);
  assert.deepEqual(Array.from(F.slice(x, 0, 1, 8, 3).toArray()), [1, 4, 7]);
  assert.deepEqual(Array.from(F.slice(x, 0, -4, undefined, 2).toArray()), [6, 8]);
  assert.deepEqual(Array.from(F.slice(x, 0, 7, 100).toArray()), [7, 8, 9]);
  assert.deepEqual(F.slice(x, 0, 8, 3).shape, [0]);
});

test("pad puts `value` around the input in torch's last-dim-first order", () => {
  const x = tensor([
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(F.pad(x, [1, 0, 0, 1], 9).toList(), [
    [9, 1, 2],
    [9, 3, 4],
    [9, 9, 9],
  ]);
});

test("split, concat and stack round-trip", () => {
  const x = arange(12).reshape([3, 4]);
  const parts = F.split(x, [1, 3], 1);
  assert.deepEqual(
    parts.map((p) => p.shape),
    [
      [3, 1],
      [3, 3],
    ],
  );
  assert.deepEqual(F.concat(parts, 1).toList(), x.toList());
  const s = F.stack([x, x.mul(2)], 1);
  assert.deepEqual(s.shape, [3, 2, 4]);
  assert.deepEqual(F.slice(s, 1, 1, 2).reshape([3, 4]).toList(), x.mul(2).toList());
});

test("concat records a copy of its argument array: pushing to it afterwards leaves the graph as it was", () => {
  const a = randomInput([2, 3], { seed: 1 }).requiresGrad_();
  const b = randomInput([2, 1], { seed: 2 }).requiresGrad_();
  const features = [a, b];
  const joined = F.concat(features, 1);
  features.push(joined); // DenseNet's pattern: the result joins the list it was made from
  assert.deepEqual(joined.gradFn!.inputs, [a, b]);
  F.concat(features, 1).sum().backward();
  // a and b reach the sum twice each: directly and through `joined`.
  assert.deepEqual(a.grad!.toList(), [
    [2, 2, 2],
    [2, 2, 2],
  ]);
  assert.deepEqual(b.grad!.toList(), [[2], [2]]);
});

test("expand copies along new and size-1 dims", () => {
  const x = tensor([[1], [2]]);
  assert.deepEqual(F.expand(x, [2, 2, 3]).toList(), [
    [
      [1, 1, 1],
      [2, 2, 2],
    ],
    [
      [1, 1, 1],
      [2, 2, 2],
    ],
  ]);
});

test("errors: reshape names both shapes and the element count", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.reshape(x, [4, 2]), /reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\]/);
  assert.throws(() => F.reshape(x, [-1, 4]), /reshape: cannot reshape \[2,3\] \(6 elements\) into \[-1,4\]/);
  assert.throws(() => F.reshape(x, [-1, -1]), /reshape: only one dim can be -1 in \[-1,-1\]/);
  assert.throws(() => F.reshape(x, [-2, -3]), /reshape: cannot reshape \[2,3\]/);
});

test("errors: flatten, permute, transpose, squeeze and unsqueeze with bad dims", () => {
  const x = tensor(new Float32Array(24), [2, 3, 4]);
  assert.throws(() => F.flatten(x, 2, 1), /flatten: startDim 2 comes after endDim 1 for shape \[2,3,4\]/);
  assert.throws(() => F.flatten(x, 3), /flatten: dim 3 is out of range for a tensor of rank 3/);
  assert.throws(() => F.permute(x, [0, 1]), /permute: 2 dims \[0,1\] given for a tensor of shape \[2,3,4\]/);
  assert.throws(() => F.permute(x, [0, 1, 1]), /permute: dims \[0,1,1\] repeat an axis/);
  assert.throws(() => F.transpose(x, 0, 3), /transpose: dim 3 is out of range for a tensor of rank 3/);
  assert.throws(() => F.squeeze(x, 3), /squeeze: dim 3 is out of range/);
  assert.throws(() => F.unsqueeze(x, 4), /unsqueeze: dim 4 is out of range for a tensor of rank 4/);
});

test("errors: expand to an incompatible shape", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.expand(x, [2, 4]), /expand: shape \[2,3\] cannot be broadcast to \[2,4\]/);
  assert.throws(() => F.expand(x, [3]), /expand: shape \[2,3\] cannot be broadcast to \[3\]/);
  assert.throws(() => F.expand(x, [-1, 2, 3]), /expand: shape \[2,3\] cannot be broadcast to \[-1,2,3\]/);
});

test("errors: slice with a bad step or fractional bounds", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.slice(x, 1, 0, 3, 0), /slice: step must be a positive integer, got 0/);
  assert.throws(
    () => F.slice(x, 1, 0.5),
    /slice: start 0.5 and end undefined must be integers \(dim 1 of \[2,3\]\)/,
  );
  assert.throws(() => F.slice(x, 2, 0), /slice: dim 2 is out of range/);
});

test("errors: split sizes that do not add up or are negative", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.split(x, [1, 1], 1), /split: sizes \[1,1\] sum to 2, but dim 1 of \[2,3\] is 3/);
  assert.throws(() => F.split(x, [4, -1], 1), /split: sizes \[4,-1\] must be non-negative integers/);
});

test("errors: pad with odd, too long or negative padding", () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => F.pad(x, [1]), /pad: padding \[1\] must hold before\/after pairs for at most 2 dims/);
  assert.throws(
    () => F.pad(x, [1, 1, 1, 1, 1, 1]),
    /pad: padding \[1,1,1,1,1,1\] must hold before\/after pairs/,
  );
  assert.throws(() => F.pad(x, [-1, 0]), /pad: padding \[-1,0\] must be non-negative integers/);
});

test("errors: concat and stack of mismatched tensors list every shape", () => {
  const a = tensor(new Float32Array(6), [2, 3]);
  const b = tensor(new Float32Array(4), [2, 2]);
  assert.throws(() => F.concat([a, b], 0), /concat: shapes \[2,3\], \[2,2\] differ outside dim 0/);
  assert.throws(
    () => F.concat([a, tensor(new Float32Array(3), [3])]),
    /concat: shapes \[2,3\], \[3\] differ outside dim 0/,
  );
  assert.throws(() => F.concat([]), /concat: no tensors given/);
  assert.throws(
    () => F.concat([a, a.to("float64")]),
    /concat: dtypes differ \(float32 \[2,3\] and float64 \[2,3\]\)/,
  );
  assert.throws(() => F.stack([a, b]), /stack: shapes \[2,3\], \[2,2\] must all be equal/);
  assert.throws(() => F.stack([]), /stack: no tensors given/);
});

// Issue 15: reflect, replicate and circular padding.
gradcheckCases("pad modes (issue 15)", [
  {
    name: "reflect 2-D (1,2,2,1)",
    inputs: () => [randomInput([1, 2, 4, 5], { seed: 11 })],
    f: (x) => F.pad(x, [1, 2, 2, 1], "reflect"),
  },
  {
    name: "replicate 2-D (2,0,1,3)",
    inputs: () => [randomInput([1, 2, 3, 4], { seed: 12 })],
    f: (x) => F.pad(x, [2, 0, 1, 3], { mode: "replicate" }),
  },
  {
    name: "circular 1-D (3,1)",
    inputs: () => [randomInput([2, 2, 4], { seed: 13 })],
    f: (x) => F.pad(x, [3, 1], { mode: "circular" }),
  },
]);

test("pad modes give torch's layouts on a ramp", () => {
  const x = tensor([[[1, 2, 3, 4]]]);
  assert.deepEqual(F.pad(x, [2, 1], "reflect").toList(), [[[3, 2, 1, 2, 3, 4, 3]]]);
  assert.deepEqual(F.pad(x, [2, 1], "replicate").toList(), [[[1, 1, 1, 2, 3, 4, 4]]]);
  assert.deepEqual(F.pad(x, [2, 1], "circular").toList(), [[[3, 4, 1, 2, 3, 4, 1]]]);
  assert.deepEqual(F.pad(x, [1, 0], { value: 9 }).toList(), [[[9, 1, 2, 3, 4]]]);
  assert.deepEqual(F.pad(x, [1, 0], 7).toList(), [[[7, 1, 2, 3, 4]]]);
});

test("errors: pad modes reject widths the mode cannot fill and unknown modes", () => {
  const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
  assert.throws(
    () => F.pad(x, [4, 0], "reflect"),
    /pad: reflect padding \(4, 0\) of dim 2 needs widths below its size 4; input \[2,3,4\]/,
  );
  assert.throws(
    () => F.pad(x, [0, 5], "circular"),
    /pad: circular padding \(0, 5\) of dim 2 needs widths at most/,
  );
  assert.throws(
    () => F.pad(x, [1, 1, 1, 1, 1, 1], "replicate"),
    /pad: replicate padding \[1,1,1,1,1,1\] pads 3 dims of \[2,3,4\]; at most 2/,
  );
  assert.throws(
    () => F.pad(x, [1, 1], "mirror" as F.PadMode),
    /pad: mode must be one of constant, reflect, replicate, circular, got "mirror"/,
  );
  assert.throws(() => F.pad(x, [1, 1], { value: NaN }), /pad: value must be a number, got null/);
});

// Convolutions beyond the fixtures: float64 gradient checks of conv2d and convTranspose2d across stride,
// padding, dilation, groups (incl. depthwise), rectangular kernels and missing bias; forward values against
// a direct nested-loop convolution; the adjoint identity ⟨conv(x), y⟩ = ⟨x, convT(y)⟩; and the errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import type { Conv2dOptions, ConvTranspose2dOptions } from "../../src/ops/conv.js";
import { gradcheckCases, randomInput, type GradCase } from "../helpers/gradcheck.js";

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  options: Conv2dOptions;
}

const conv2dCases: ConvCase[] = [
  { name: "3x3 plain", x: [2, 2, 5, 5], w: [3, 2, 3, 3], bias: true, options: {} },
  { name: "stride 2", x: [1, 2, 6, 6], w: [2, 2, 3, 3], bias: true, options: { stride: 2 } },
  { name: "padding 1", x: [1, 2, 4, 4], w: [3, 2, 3, 3], bias: true, options: { padding: 1 } },
  {
    name: "stride 2 padding 1 (floor drops a row)",
    x: [1, 1, 6, 5],
    w: [2, 1, 3, 3],
    bias: true,
    options: { stride: 2, padding: 1 },
  },
  { name: "dilation 2", x: [1, 2, 6, 6], w: [2, 2, 3, 3], bias: true, options: { dilation: 2 } },
  { name: "groups 2", x: [1, 4, 5, 5], w: [6, 2, 3, 3], bias: true, options: { groups: 2 } },
  { name: "depthwise", x: [2, 3, 5, 5], w: [3, 1, 3, 3], bias: true, options: { groups: 3, padding: 1 } },
  { name: "depthwise multiplier 2", x: [1, 2, 4, 4], w: [4, 1, 3, 3], bias: true, options: { groups: 2 } },
  {
    name: "rectangular kernel, stride, padding, dilation",
    x: [1, 2, 6, 7],
    w: [3, 2, 2, 3],
    bias: true,
    options: { stride: [2, 1], padding: [1, 0], dilation: [1, 2] },
  },
  { name: "1x1 kernel", x: [2, 3, 3, 3], w: [4, 3, 1, 1], bias: true, options: {} },
  { name: "no bias", x: [1, 2, 5, 5], w: [2, 2, 3, 3], options: { padding: 1, stride: 2 } },
  {
    name: "kernel as large as the padded input",
    x: [1, 1, 3, 3],
    w: [2, 1, 5, 5],
    bias: true,
    options: { padding: 1 },
  },
];

interface ConvTCase {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  options: ConvTranspose2dOptions;
}

const convTransposeCases: ConvTCase[] = [
  { name: "plain", x: [2, 2, 3, 3], w: [2, 3, 3, 3], bias: true, options: {} },
  { name: "stride 2", x: [1, 2, 3, 3], w: [2, 2, 3, 3], bias: true, options: { stride: 2 } },
  {
    name: "stride 2 padding 1",
    x: [1, 2, 3, 3],
    w: [2, 2, 3, 3],
    bias: true,
    options: { stride: 2, padding: 1 },
  },
  {
    name: "outputPadding 1",
    x: [1, 2, 3, 3],
    w: [2, 2, 3, 3],
    bias: true,
    options: { stride: 2, padding: 1, outputPadding: 1 },
  },
  { name: "groups 2", x: [1, 4, 3, 3], w: [4, 1, 3, 3], bias: true, options: { groups: 2, stride: 2 } },
  { name: "dilation 2", x: [1, 2, 3, 3], w: [2, 2, 3, 3], bias: true, options: { dilation: 2 } },
  {
    name: "rectangular with outputPadding from dilation",
    x: [1, 2, 3, 4],
    w: [2, 3, 2, 3],
    bias: true,
    options: { stride: [2, 1], padding: [0, 1], dilation: [1, 2], outputPadding: [1, 1] },
  },
  { name: "no bias", x: [2, 2, 3, 3], w: [2, 2, 2, 2], options: { stride: 2 } },
];

function inputsOf(c: { x: number[]; w: number[]; bias?: boolean }, biasSize: number): Tensor[] {
  const inputs = [randomInput(c.x, { seed: 1 }), randomInput(c.w, { seed: 2 })];
  if (c.bias) inputs.push(randomInput([biasSize], { seed: 3 }));
  return inputs;
}

gradcheckCases("conv", [
  ...conv2dCases.map((c): GradCase => ({
    name: `conv2d ${c.name}`,
    inputs: () => inputsOf(c, c.w[0]),
    f: (x, w, b) => F.conv2d(x, w, b, c.options),
  })),
  ...convTransposeCases.map((c): GradCase => ({
    name: `convTranspose2d ${c.name}`,
    inputs: () => inputsOf(c, c.w[1] * (c.options.groups ?? 1)),
    f: (x, w, b) => F.convTranspose2d(x, w, b, c.options),
  })),
]);

const asPair = (v: number | readonly [number, number] | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : typeof v === "number" ? [v, v] : [v[0], v[1]];

/** Direct definition of conv2d: for every output element, the sum over its receptive field. */
function naiveConv2d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  o: Conv2dOptions,
): { shape: number[]; data: number[] } {
  const [n, cin, h, wd] = x.shape;
  const [cout, cinG, kh, kw] = w.shape;
  const [sh, sw] = asPair(o.stride, 1);
  const [ph, pw] = asPair(o.padding as F.Size2 | undefined, 0);
  const [dh, dw] = asPair(o.dilation, 1);
  const groups = o.groups ?? 1;
  const coutG = cout / groups;
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const xv = x.toArray();
  const wv = w.toArray();
  const bv = b?.toArray();
  const data: number[] = [];
  for (let img = 0; img < n; img++)
    for (let co = 0; co < cout; co++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = bv ? bv[co] : 0;
          const g = Math.floor(co / coutG);
          for (let ci = 0; ci < cinG; ci++)
            for (let a = 0; a < kh; a++)
              for (let c = 0; c < kw; c++) {
                const ih = i * sh - ph + a * dh;
                const iw = j * sw - pw + c * dw;
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                const xi = ((img * cin + g * cinG + ci) * h + ih) * wd + iw;
                s += xv[xi] * wv[((co * cinG + ci) * kh + a) * kw + c];
              }
          data.push(s);
        }
  return { shape: [n, cout, oh, ow], data };
}

test("conv2d matches a direct nested-loop convolution for every option set", () => {
  for (const c of conv2dCases) {
    const [x, w, b] = inputsOf(c, c.w[0]);
    const y = F.conv2d(x, w, b, c.options);
    const ref = naiveConv2d(x, w, b ?? null, c.options);
    assert.deepEqual(y.shape, ref.shape, c.name);
    const got = y.toArray();
    ref.data.forEach((v, i) =>
      assert.ok(Math.abs(got[i] - v) < 1e-12, `${c.name} at ${i}: ${got[i]} vs ${v}`),
    );
  }
});

test("convTranspose2d is the adjoint of conv2d: ⟨conv(x), y⟩ = ⟨x, convT(y)⟩", () => {
  for (const c of convTransposeCases) {
    const { outputPadding: _unused, ...convOptions } = c.options;
    const y = randomInput(c.x, { seed: 4 });
    const w = randomInput(c.w, { seed: 5 });
    const z = F.convTranspose2d(y, w, null, c.options);
    const x = randomInput([...z.shape], { seed: 6 });
    // When outputPadding comes from dilation (stride 1), conv sees extra output positions that the
    // transposed conv never produced: the adjoint is of conv cropped to y's size.
    const full = F.conv2d(x, w, null, convOptions);
    const cx = F.slice(F.slice(full, 2, 0, y.shape[2]), 3, 0, y.shape[3]);
    assert.deepEqual(cx.shape, y.shape, `${c.name}: conv of the transposed output covers the input`);
    const lhs = F.sum(F.mul(cx, y)).item();
    const rhs = F.sum(F.mul(x, z)).item();
    assert.ok(Math.abs(lhs - rhs) < 1e-10 * Math.max(1, Math.abs(lhs)), `${c.name}: ${lhs} vs ${rhs}`);
  }
});

test("convTranspose2d output size follows (H-1)·s - 2p + d·(k-1) + outputPadding + 1", () => {
  const y = F.convTranspose2d(randomInput([1, 2, 4, 5]), randomInput([2, 3, 3, 2]), null, {
    stride: [2, 3],
    padding: [1, 0],
    dilation: [1, 2],
    outputPadding: [1, 2],
  });
  assert.deepEqual(y.shape, [1, 3, 3 * 2 - 2 + 2 + 1 + 1, 4 * 3 + 2 * 1 + 2 + 1]);
});

const f32 = (shape: number[]) => tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);

test("errors: conv2d channel, groups, kernel and bias mismatches name the op and every shape", () => {
  const x = f32([8, 1, 28, 28]);
  assert.throws(
    () => F.conv2d(x, f32([6, 3, 5, 5])),
    /conv2d: input has 1 channels but weight \[6,3,5,5\] with groups=1 expects 3; input \[8,1,28,28\]/,
  );
  assert.throws(
    () => F.conv2d(f32([1, 4, 5, 5]), f32([6, 2, 3, 3]), null, { groups: 3 }),
    /conv2d: groups=3 must divide both input channels \(4\) and output channels \(6\); input \[1,4,5,5\], weight \[6,2,3,3\]/,
  );
  assert.throws(
    () => F.conv2d(f32([1, 1, 4, 4]), f32([2, 1, 7, 3]), null, { padding: 1 }),
    /conv2d: kernel 7x3 \(dilation 1x1\) is larger than the padded input 6x6; input \[1,1,4,4\], weight \[2,1,7,3\], padding \[1,1\]/,
  );
  assert.throws(
    () => F.conv2d(f32([1, 1, 5, 5]), f32([2, 1, 3, 3]), null, { dilation: 3 }),
    /conv2d: kernel 3x3 \(dilation 3x3\) is larger than the padded input 5x5/,
  );
  assert.throws(
    () => F.conv2d(f32([1, 1, 5, 5]), f32([2, 1, 3, 3]), f32([3])),
    /conv2d: bias must have shape \[2\], got input \[1,1,5,5\], weight \[2,1,3,3\], bias \[3\]/,
  );
  assert.throws(
    () => F.conv2d(f32([1, 5, 5]), f32([2, 1, 3, 3])),
    /conv2d: input must be 4-D NCHW, got input \[1,5,5\], weight \[2,1,3,3\]/,
  );
  assert.throws(
    () => F.conv2d(f32([1, 1, 5, 5]), f32([2, 9])),
    /conv2d: weight must be 4-D, got input \[1,1,5,5\], weight \[2,9\]/,
  );
});

test("errors: conv2d option values and dtypes", () => {
  const x = f32([1, 1, 5, 5]);
  const w = f32([2, 1, 3, 3]);
  assert.throws(() => F.conv2d(x, w, null, { stride: 0 }), /conv2d: stride must be >= 1, got 0/);
  assert.throws(
    () => F.conv2d(x, w, null, { padding: [-1, 0] }),
    /conv2d: padding must be >= 0, got \[-1,0\]/,
  );
  assert.throws(
    () => F.conv2d(x, w, null, { dilation: 1.5 }),
    /conv2d: dilation must be an integer or a pair of integers, got 1.5/,
  );
  assert.throws(() => F.conv2d(x, w, null, { groups: 0 }), /conv2d: groups=0 must divide/);
  assert.throws(
    () => F.conv2d(tensor(new Int32Array(25), [1, 1, 5, 5]), w),
    /conv2d: input must be a float tensor, got int32 \[1,1,5,5\]/,
  );
  assert.throws(
    () => F.conv2d(x, w.to("float64")),
    /conv2d: dtypes differ \(float32 \[1,1,5,5\] and float64 \[2,1,3,3\]\)/,
  );
});

test("errors: convTranspose2d channels, groups, outputPadding and output size", () => {
  const x = f32([1, 4, 3, 3]);
  assert.throws(
    () => F.convTranspose2d(x, f32([2, 3, 3, 3])),
    /convTranspose2d: input has 4 channels but weight \[2,3,3,3\] expects 2; input \[1,4,3,3\]/,
  );
  assert.throws(
    () => F.convTranspose2d(x, f32([4, 1, 3, 3]), null, { groups: 3 }),
    /convTranspose2d: groups=3 must divide input channels \(4\); input \[1,4,3,3\], weight \[4,1,3,3\]/,
  );
  assert.throws(
    () => F.convTranspose2d(x, f32([4, 1, 3, 3]), null, { stride: 2, outputPadding: 2 }),
    /convTranspose2d: outputPadding \[2,2\] must be smaller than stride \[2,2\] or dilation \[1,1\]; input \[1,4,3,3\], weight \[4,1,3,3\]/,
  );
  assert.throws(
    () => F.convTranspose2d(f32([1, 4, 1, 1]), f32([4, 1, 1, 1]), null, { padding: 1 }),
    /convTranspose2d: output size -1x-1 is too small; input \[1,4,1,1\], weight \[4,1,1,1\]/,
  );
  assert.throws(
    () => F.convTranspose2d(x, f32([4, 2, 3, 3]), f32([4])),
    /convTranspose2d: bias must have shape \[2\], got input \[1,4,3,3\], weight \[4,2,3,3\], bias \[4\]/,
  );
  assert.throws(
    () => F.convTranspose2d(f32([4, 3, 3]), f32([4, 2, 3, 3])),
    /convTranspose2d: input must be 4-D NCHW/,
  );
});

// Issue 15: padding "same" in F.conv2d.
gradcheckCases("conv2d padding same (issue 15)", [
  {
    name: "k3 (symmetric)",
    inputs: () => [randomInput([1, 2, 4, 5], { seed: 31 }), randomInput([2, 2, 3, 3], { seed: 32 })],
    f: (x, w) => F.conv2d(x, w, null, { padding: "same" }),
  },
  {
    name: "k4x2 dilation [1,3] (asymmetric)",
    inputs: () => [
      randomInput([1, 2, 5, 5], { seed: 33 }),
      randomInput([2, 2, 4, 2], { seed: 34 }),
      randomInput([2], { seed: 35 }),
    ],
    f: (x, w, b) => F.conv2d(x, w, b, { padding: "same", dilation: [1, 3] }),
  },
]);

test("conv2d padding same keeps the size and equals explicit torch-style padding; valid is 0", () => {
  const x = randomInput([1, 2, 5, 6], { seed: 36 });
  const w = randomInput([3, 2, 4, 3], { seed: 37 });
  const same = F.conv2d(x, w, null, { padding: "same" });
  assert.deepEqual(same.shape, [1, 3, 5, 6]);
  const explicit = F.conv2d(F.pad(x, [1, 1, 1, 2]), w);
  assert.deepEqual(Array.from(same.toArray()), Array.from(explicit.toArray()));
  assert.deepEqual(
    Array.from(F.conv2d(x, w, null, { padding: "valid" }).toArray()),
    Array.from(F.conv2d(x, w).toArray()),
  );
});

test("errors: conv2d padding same needs stride 1", () => {
  const x = tensor(new Float32Array(2 * 25), [1, 2, 5, 5]);
  const w = tensor(new Float32Array(2 * 2 * 9), [2, 2, 3, 3]);
  assert.throws(
    () => F.conv2d(x, w, null, { padding: "same", stride: 2 }),
    /conv2d: padding "same" needs stride 1, got stride 2/,
  );
});

// Issue 15: conv1d.
gradcheckCases("conv1d (issue 15)", [
  {
    name: "k3 stride 2 padding 1 dilation 2, bias",
    inputs: () => [
      randomInput([2, 2, 9], { seed: 61 }),
      randomInput([3, 2, 3], { seed: 62 }),
      randomInput([3], { seed: 63 }),
    ],
    f: (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }),
  },
  {
    name: "depthwise, padding same (k4)",
    inputs: () => [randomInput([1, 3, 7], { seed: 64 }), randomInput([3, 1, 4], { seed: 65 })],
    f: (x, w) => F.conv1d(x, w, null, { padding: "same", groups: 3 }),
  },
]);

test("conv1d is the direct sum over its receptive field", () => {
  const x = tensor([[[1, 2, 3, 4, 5]]]);
  const w = tensor([[[1, 0, -1]]]);
  assert.deepEqual(F.conv1d(x, w).toList(), [[[-2, -2, -2]]]);
  assert.deepEqual(F.conv1d(x, w, tensor([10]), { padding: 1, stride: 2 }).toList(), [[[8, 8, 14]]]);
});

test("errors: conv1d checks ranks, channels and 1-D options", () => {
  const x = tensor(new Float32Array(2 * 3 * 8), [2, 3, 8]);
  const w = tensor(new Float32Array(4 * 3 * 3), [4, 3, 3]);
  assert.throws(
    () => F.conv1d(F.reshape(x, [2, 3, 2, 4]), w),
    /conv1d: input must be 3-D \[N, C, L\], got \[2,3,2,4\]/,
  );
  assert.throws(
    () => F.conv1d(x, F.reshape(w, [4, 3, 3, 1])),
    /conv1d: weight must be 3-D \[Cout, Cin\/groups, k\], got \[4,3,3,1\]/,
  );
  assert.throws(
    () => F.conv1d(x, tensor(new Float32Array(4 * 2 * 3), [4, 2, 3])),
    /conv1d: input has 3 channels but weight \[4,2,3\] with groups=1 expects 2; input \[2,3,8\]/,
  );
  assert.throws(
    () => F.conv1d(x, w, null, { stride: [1, 2] as unknown as number }),
    /conv1d: stride must be a number, got \[1,2\]/,
  );
  assert.throws(
    () => F.conv1d(x, w, null, { padding: "same", stride: 2 }),
    /conv1d: padding "same" needs stride 1/,
  );
});

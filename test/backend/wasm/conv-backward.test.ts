// The conv2d input gradient computed as a forward conv of dy (stride 1: dgradForwardGeometry) against the js
// reference on random geometries (kernel 1-7, dilation 1-2, padding 0..d(k-1), groups 1/2/3 and groups ==
// C, batch 1 and 3, accumulate), 1 vs 2 threads, the dispatch rule (dgradAsForward) as conv2dBackwardInput
// applies it, and the backend's routing of groups == C to the depthwise kernels.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import {
  conv2dBackwardInput,
  dgradAsForward,
  dgradForwardGeometry,
  type Conv2dBackwardInputForm,
} from "../../../src/backend/wasm/conv.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { initWasm } from "../../../src/backend/wasm/index.js";
import type { WasmBackend } from "../../../src/backend/wasm/backend.js";
import { getBackend } from "../../../src/index.js";
import { conv2dBackwardInput as jsConv2dBackwardInput } from "../../../src/backend/js/conv.js";
import { arr, wrap } from "../../../src/backend/js/storage.js";
import { VARIANTS, randInt, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";
import { convGeometry, type ConvSpec } from "./reference.js";

function sizes(s: ConvSpec) {
  const g = convGeometry(s);
  return {
    x: g.batch * g.inChannels * g.inH * g.inW,
    w: g.outChannels * (g.inChannels / g.groups) * g.kernelH * g.kernelW,
    y: g.batch * g.outChannels * g.outH * g.outW,
  };
}

/** The js backend's input gradient, in float64. */
function reference(s: ConvSpec, dy: Float32Array, w: Float32Array): Float64Array {
  const out = jsConv2dBackwardInput(
    wrap(Float64Array.from(dy), "float64"),
    wrap(Float64Array.from(w), "float64"),
    convGeometry(s),
  );
  return arr(out) as Float64Array;
}

/** conv2dBackwardInput on the im2col path in `form`, into NaNs or (accumulating) onto `dx0`. */
function wasmGrad(
  rt: WasmRuntime,
  s: ConvSpec,
  dy: Float32Array,
  w: Float32Array,
  form: Conv2dBackwardInputForm,
  dx0?: Float32Array,
): Float32Array {
  const n = sizes(s).x;
  const pdy = upload(rt, dy);
  const pw = upload(rt, w);
  const pdx = upload(rt, dx0 ?? new Float32Array(n).fill(NaN));
  try {
    conv2dBackwardInput(rt, convGeometry(s), pdy, pw, pdx, dx0 !== undefined, "im2col", undefined, form);
    return rt.mem.readF32(pdx, n);
  } finally {
    for (const p of [pdy, pw, pdx]) rt.mem.free(p);
  }
}

/** A random stride-1 conv whose padding the forward form takes (p <= d·(k-1)). */
function randomShape(rand: (lo?: number, hi?: number) => number, i: number): ConvSpec {
  const KH = randInt(rand, 1, 7);
  const KW = randInt(rand, 1, 7);
  const dilationH = randInt(rand, 1, 2);
  const dilationW = randInt(rand, 1, 2);
  const padH = randInt(rand, 0, dilationH * (KH - 1));
  const padW = randInt(rand, 0, dilationW * (KW - 1));
  // Every fourth is depthwise-like (groups == C, the backend sends those to the depthwise kernels).
  const depthwise = i % 4 === 3;
  const groups = depthwise ? randInt(rand, 2, 5) : [1, 2, 3][i % 3];
  const C = depthwise ? groups : groups * randInt(rand, 1, 5);
  const O = groups * randInt(rand, 1, depthwise ? 2 : 5);
  const minH = Math.max(1, dilationH * (KH - 1) + 1 - 2 * padH);
  const minW = Math.max(1, dilationW * (KW - 1) + 1 - 2 * padW);
  const H = randInt(rand, minH, minH + 8);
  const W = randInt(rand, minW, minW + 8);
  return { N: i % 2 === 0 ? 1 : 3, C, H, W, O, KH, KW, padH, padW, dilationH, dilationW, groups };
}

/** All three forms against the reference, writing and accumulating. */
function checkForms(rt: WasmRuntime, s: ConvSpec, seed: number): void {
  assert.notEqual(
    dgradForwardGeometry(convGeometry(s)),
    null,
    `forward form exists for ${JSON.stringify(s)}`,
  );
  const rand = rng(seed);
  const n = sizes(s);
  const dy = randomArray(n.y, rand);
  const w = randomArray(n.w, rand);
  const dx0 = randomArray(n.x, rand);
  const ref = reference(s, dy, w);
  const g = convGeometry(s);
  const tol = 1e-4 * Math.sqrt((g.outChannels / g.groups) * g.kernelH * g.kernelW);
  for (const form of ["forward", "scatter", "auto"] as const) {
    const what = `input grad (${form}) ${JSON.stringify(s)}`;
    assertClose(wasmGrad(rt, s, dy, w, form), ref, tol, what);
    assertClose(
      wasmGrad(rt, s, dy, w, form, dx0),
      ref.map((v, i) => v + dx0[i]),
      tol,
      `${what}, accumulate`,
    );
  }
}

const FIXED: ConvSpec[] = [
  // LeNet conv2, the CIFAR net's conv2 and conv3 (small batch), a ResNet-style 1x1.
  { N: 1, C: 6, H: 14, W: 14, O: 16, KH: 5, KW: 5 },
  { N: 1, C: 16, H: 16, W: 16, O: 20, KH: 5, KW: 5, padH: 2, padW: 2 },
  { N: 3, C: 20, H: 8, W: 8, O: 20, KH: 5, KW: 5, padH: 2, padW: 2 },
  { N: 2, C: 24, H: 7, W: 9, O: 8, KH: 1, KW: 1 },
  // Full padding (the forward form needs none), odd sizes, asymmetric kernel and dilation.
  { N: 1, C: 3, H: 5, W: 7, O: 4, KH: 3, KW: 5, padH: 2, padW: 4 },
  { N: 3, C: 4, H: 11, W: 6, O: 6, KH: 2, KW: 3, dilationH: 2, dilationW: 1, padH: 1, padW: 0, groups: 2 },
  // Conv-transpose passes an output smaller than the input allows: input rows no dy row reaches.
  { N: 1, C: 2, H: 9, W: 9, O: 3, KH: 3, KW: 3, padH: 1, padW: 1, OH: 7, OW: 8 },
  { N: 2, C: 2, H: 10, W: 9, O: 3, KH: 3, KW: 3, dilationH: 2, dilationW: 2, OH: 5, OW: 4 },
  // dy's padded copy exceeds the workspace's pad area: the forward's bounds-checked packers.
  { N: 1, C: 1, H: 514, W: 514, O: 2, KH: 3, KW: 3, padH: 1, padW: 1 },
];

for (const v of VARIANTS) {
  describe(`conv2d input gradient as a forward conv (${v.name})`, () => {
    it("matches the js reference on random stride-1 geometries, writing and accumulating", async () => {
      const rt = await runtime(v.relaxed);
      const rand = rng(7100);
      for (let i = 0; i < 40; i++) checkForms(rt, randomShape(rand, i), 7200 + i);
    });

    it("matches the js reference on the nets' layers, full padding, explicit outputs, the checked packers", async () => {
      const rt = await runtime(v.relaxed);
      FIXED.forEach((s, i) => checkForms(rt, s, 7300 + i));
    });
  });
}

describe("conv2d input gradient as a forward conv: threads and dispatch", () => {
  it("gives the same bits with 1 and 2 threads (pixel ranges at batch 1, samples at batch 3)", async () => {
    const rt1 = await runtime(true, 1);
    const rt2 = await runtime(true, 2);
    const shapes: ConvSpec[] = [
      { N: 1, C: 16, H: 32, W: 32, O: 16, KH: 5, KW: 5, padH: 2, padW: 2 },
      { N: 3, C: 12, H: 40, W: 41, O: 18, KH: 3, KW: 3, padH: 1, padW: 1, groups: 3 },
      { N: 1, C: 32, H: 28, W: 28, O: 32, KH: 7, KW: 7, padH: 3, padW: 3 },
    ];
    shapes.forEach((s, i) => {
      const rand = rng(7400 + i);
      const n = sizes(s);
      const dy = randomArray(n.y, rand);
      const w = randomArray(n.w, rand);
      const before = rt2.threadStats().splitCalls;
      const two = wasmGrad(rt2, s, dy, w, "forward");
      assert.ok(rt2.threadStats().splitCalls > before, `2 threads split ${JSON.stringify(s)}`);
      assert.deepEqual(two, wasmGrad(rt1, s, dy, w, "forward"), `1 vs 2 threads ${JSON.stringify(s)}`);
    });
  });

  it("dgradAsForward takes the forward form where the cost model says, and only for stride 1, p <= d(k-1)", async () => {
    const rt = await runtime(true, 1);
    const picks = (shapes: ConvSpec[]) => shapes.map((s) => dgradAsForward(rt, convGeometry(s)));
    assert.deepEqual(
      picks([
        { N: 64, C: 6, H: 14, W: 14, O: 16, KH: 5, KW: 5 }, // LeNet conv2: 2x the work in dy's padding
        { N: 64, C: 16, H: 16, W: 16, O: 20, KH: 5, KW: 5, padH: 2, padW: 2 }, // CIFAR conv2
        { N: 64, C: 20, H: 8, W: 8, O: 20, KH: 5, KW: 5, padH: 2, padW: 2 }, // CIFAR conv3
        { N: 16, C: 256, H: 56, W: 56, O: 64, KH: 1, KW: 1 },
        { N: 16, C: 32, H: 28, W: 28, O: 32, KH: 7, KW: 7, padH: 3, padW: 3 },
        { N: 16, C: 8, H: 20, W: 20, O: 16, KH: 7, KW: 7 },
        { N: 16, C: 32, H: 28, W: 28, O: 32, KH: 3, KW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 },
        { N: 16, C: 32, H: 28, W: 28, O: 32, KH: 3, KW: 3, padH: 3, padW: 1 },
      ]),
      [false, true, true, true, true, false, false, false],
    );
    // With 2 threads the forward form also splits a single sample's pixels; the scatter form cannot.
    const rt2 = await runtime(true, 2);
    const oneSample: ConvSpec = { N: 1, C: 32, H: 28, W: 28, O: 32, KH: 5, KW: 5 };
    assert.equal(dgradAsForward(rt, convGeometry(oneSample)), false);
    assert.equal(dgradAsForward(rt2, convGeometry(oneSample)), true);
  });

  it("conv2dBackwardInput runs the kernel the rule picks, and refuses a forced forward form without one", async () => {
    const rt = await runtime(true, 1);
    const shapes: ConvSpec[] = [
      { N: 2, C: 6, H: 14, W: 14, O: 16, KH: 5, KW: 5 },
      { N: 2, C: 16, H: 16, W: 16, O: 20, KH: 5, KW: 5, padH: 2, padW: 2 },
      { N: 2, C: 16, H: 16, W: 16, O: 16, KH: 3, KW: 3, padH: 1, padW: 1, groups: 2 },
      { N: 2, C: 8, H: 15, W: 15, O: 8, KH: 3, KW: 3, strideH: 2, strideW: 2 },
    ];
    const original = rt.parallel;
    const kernels: string[] = [];
    rt.parallel = (call) => {
      kernels.push(call.name);
      original.call(rt, call);
    };
    try {
      for (const s of shapes) {
        kernels.length = 0;
        const n = sizes(s);
        const rand = rng(7500);
        wasmGrad(rt, s, randomArray(n.y, rand), randomArray(n.w, rand), "auto");
        const expected = dgradAsForward(rt, convGeometry(s)) ? "conv2dForward" : "conv2dBackwardInput";
        assert.deepEqual(kernels, [expected], JSON.stringify(s));
      }
      assert.deepEqual(
        shapes.map((s) => dgradAsForward(rt, convGeometry(s))),
        [false, true, true, false],
      );
      const strided = shapes[3];
      const n = sizes(strided);
      assert.throws(
        () => wasmGrad(rt, strided, new Float32Array(n.y), new Float32Array(n.w), "forward"),
        /conv2dBackwardInput: the forward form needs stride 1/,
      );
    } finally {
      rt.parallel = original;
    }
  });

  it("the backend sends groups == C to the depthwise kernels, not to this path", async () => {
    await initWasm({ setDefault: false, threads: 1 });
    const wasm = getBackend("wasm") as WasmBackend;
    const s: ConvSpec = { N: 2, C: 6, H: 12, W: 12, O: 12, KH: 5, KW: 5, padH: 2, padW: 2, groups: 6 };
    const rand = rng(7600);
    const n = sizes(s);
    const dy = randomArray(n.y, rand);
    const w = randomArray(n.w, rand);
    const rt = wasm.runtime;
    const original = rt.parallel;
    const kernels: string[] = [];
    rt.parallel = (call) => {
      kernels.push(call.name);
      original.call(rt, call);
    };
    try {
      const dx = wasm.conv2dBackwardInput(wasm.fromArray(dy), wasm.fromArray(w), convGeometry(s));
      assertClose(wasm.toArray(dx), reference(s, dy, w), 1e-4 * 5, "depthwise input grad");
    } finally {
      rt.parallel = original;
    }
    assert.deepEqual(kernels, ["depthwiseConv2dBackwardInput"]);
  });

  after(async () => (await runtime(true, 2)).dispose());
});

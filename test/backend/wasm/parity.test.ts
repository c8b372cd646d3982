// The wasm backend against the js reference backend on random shapes: ops forward and backward through
// autograd (conv in every geometry, pooling, broadcasting, reductions over every axis subset, matmul),
// every Backend method directly (all unary kinds, binary kinds, strided gather/scatter, gemm flags), and
// the same results with 1 and 2 threads.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { F, Rng, getBackend, tensor, type Tensor } from "../../../src/index.js";
import { initWasm, setNumThreads } from "../../../src/backend/wasm/index.js";
import type { Backend, BinaryKind, UnaryKind } from "../../../src/backend/backend.js";
import { sizeOf, stridesOf } from "../../../src/tensor/shape.js";
import { assertClose } from "../../helpers/close.js";

const rng = new Rng(20240601);

function randomData(n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.uniform();
  return a;
}

const randInt = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);

interface Input {
  data: Float32Array;
  shape: number[];
  grad?: boolean;
}

/**
 * Runs `f` on both backends with the same inputs, then backward with the same random upstream gradient,
 * and compares outputs and the gradients of every input marked `grad`.
 */
function parity(name: string, inputs: Input[], f: (xs: Tensor[]) => Tensor, atol = 2e-5, rtol = 1e-4): void {
  const results: {
    y: Float32Array | Int32Array | Float64Array;
    grads: (Float32Array | Float64Array | Int32Array)[];
  }[] = [];
  let upstream: Float32Array | null = null;
  for (const backend of ["js", "wasm"]) {
    const xs = inputs.map((i) => tensor(i.data, i.shape, { backend, requiresGrad: i.grad ?? false }));
    const y = f(xs);
    const grads: (Float32Array | Float64Array | Int32Array)[] = [];
    if (inputs.some((i) => i.grad)) {
      upstream ??= randomData(y.size);
      F.sum(F.mul(y, tensor(upstream, y.shape, { backend }))).backward();
      inputs.forEach((i, k) => {
        if (i.grad) grads.push(xs[k].grad!.toArray());
      });
    }
    results.push({ y: y.toArray(), grads });
  }
  const [js, wasm] = results;
  assertClose(wasm.y, js.y, { atol: atol, rtol: rtol }, `${name}: output`);
  js.grads.forEach((g, k) => assertClose(wasm.grads[k], g, { atol: atol, rtol: rtol }, `${name}: grad ${k}`));
}

interface ConvCase {
  N: number;
  C: number;
  O: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  bias: boolean;
}

function convName(c: ConvCase): string {
  return `conv N${c.N} C${c.C} O${c.O} ${c.H}x${c.W} k${c.KH}x${c.KW} s${c.stride} p${c.padding} d${c.dilation} g${c.groups}${c.bias ? " +b" : ""}`;
}

function randomConv(): ConvCase {
  const kind = randInt(0, 3); // 0 dense, 1 grouped, 2 depthwise, 3 1x1
  const groups = kind === 1 ? randInt(2, 3) : kind === 2 ? randInt(2, 5) : 1;
  const C = kind === 2 ? groups : groups * randInt(1, 3);
  const O = kind === 2 ? C * randInt(1, 2) : groups * randInt(1, 4);
  const KH = kind === 3 ? 1 : randInt(1, 4);
  const KW = kind === 3 ? 1 : randInt(1, 4);
  const dilation: [number, number] = [randInt(1, 2), randInt(1, 2)];
  const padding: [number, number] = [randInt(0, 2), randInt(0, 2)];
  const H = Math.max(randInt(3, 11), dilation[0] * (KH - 1) + 1);
  const W = Math.max(randInt(3, 13), dilation[1] * (KW - 1) + 1);
  return {
    N: randInt(1, 3),
    C,
    O,
    H,
    W,
    KH,
    KW,
    stride: [randInt(1, 3), randInt(1, 3)],
    padding,
    dilation,
    groups,
    bias: rng.uniform() < 0.5,
  };
}

function checkConv(c: ConvCase): void {
  const inputs: Input[] = [
    { data: randomData(c.N * c.C * c.H * c.W), shape: [c.N, c.C, c.H, c.W], grad: true },
    {
      data: randomData(c.O * (c.C / c.groups) * c.KH * c.KW),
      shape: [c.O, c.C / c.groups, c.KH, c.KW],
      grad: true,
    },
  ];
  if (c.bias) inputs.push({ data: randomData(c.O), shape: [c.O], grad: true });
  parity(convName(c), inputs, ([x, w, b]) =>
    F.conv2d(x, w, b ?? null, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
    }),
  );
}

const subsets = (n: number): number[][] =>
  Array.from({ length: 1 << n }, (_, m) => [...Array(n).keys()].filter((i) => m & (1 << i)));

let wasm: Backend;

describe("wasm backend parity with js", () => {
  before(async () => {
    await initWasm({ setDefault: false, threads: 1 });
    wasm = getBackend("wasm");
  });

  it("conv2d forward and backward: fixed geometries", () => {
    const base = {
      N: 2,
      C: 4,
      O: 6,
      H: 9,
      W: 7,
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      groups: 1,
      bias: true,
    };
    const cases: ConvCase[] = [
      { ...base, KH: 3, KW: 3 } as ConvCase,
      { ...base, KH: 1, KW: 1 } as ConvCase,
      { ...base, KH: 1, KW: 5, padding: [0, 2] } as ConvCase,
      { ...base, KH: 3, KW: 2, stride: [2, 3], padding: [1, 1] } as ConvCase,
      { ...base, KH: 3, KW: 3, dilation: [2, 3], padding: [2, 1] } as ConvCase,
      { ...base, KH: 3, KW: 3, groups: 2 } as ConvCase,
      { ...base, C: 4, O: 4, KH: 3, KW: 3, groups: 4, padding: [1, 1] } as ConvCase,
      {
        ...base,
        C: 3,
        O: 6,
        KH: 5,
        KW: 3,
        groups: 3,
        stride: [2, 1],
        padding: [2, 1],
        dilation: [1, 2],
      } as ConvCase,
      { ...base, N: 1, C: 1, O: 1, H: 1, W: 1, KH: 1, KW: 1, bias: false } as ConvCase,
    ];
    for (const c of cases) checkConv(c);
  });

  it("conv2d forward and backward: 30 random geometries", () => {
    for (let i = 0; i < 30; i++) checkConv(randomConv());
  });

  it("convTranspose2d with output padding, groups and dilation", () => {
    const cases = [
      {
        C: 4,
        O: 3,
        k: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
        outputPadding: [1, 1],
        dilation: [1, 1],
        groups: 1,
      },
      {
        C: 4,
        O: 2,
        k: [2, 3],
        stride: [1, 2],
        padding: [0, 1],
        outputPadding: [0, 1],
        dilation: [1, 1],
        groups: 2,
      },
      {
        C: 2,
        O: 2,
        k: [3, 2],
        stride: [1, 1],
        padding: [1, 0],
        outputPadding: [1, 0],
        dilation: [2, 1],
        groups: 1,
      },
    ] as const;
    for (const c of cases) {
      const inputs: Input[] = [
        { data: randomData(2 * c.C * 5 * 6), shape: [2, c.C, 5, 6], grad: true },
        {
          data: randomData(c.C * (c.O / c.groups) * c.k[0] * c.k[1]),
          shape: [c.C, c.O / c.groups, ...c.k],
          grad: true,
        },
        { data: randomData(c.O), shape: [c.O], grad: true },
      ];
      parity(`convTranspose2d ${JSON.stringify(c)}`, inputs, ([x, w, b]) =>
        F.convTranspose2d(x, w, b, {
          stride: c.stride,
          padding: c.padding,
          outputPadding: c.outputPadding,
          dilation: c.dilation,
          groups: c.groups,
        }),
      );
    }
  });

  it("max and average pooling with padding, dilation and ceil mode; adaptive average pooling", () => {
    for (let i = 0; i < 25; i++) {
      const k: [number, number] = [randInt(1, 4), randInt(1, 4)];
      const stride: [number, number] = [randInt(1, 3), randInt(1, 3)];
      const padding: [number, number] = [randInt(0, Math.floor(k[0] / 2)), randInt(0, Math.floor(k[1] / 2))];
      const ceilMode = rng.uniform() < 0.5;
      const shape = [randInt(1, 2), randInt(1, 3), randInt(k[0] + 1, 12), randInt(k[1] + 1, 12)];
      const dilation: [number, number] = [randInt(1, 2), 1];
      const x = (): Input => ({ data: randomData(sizeOf(shape)), shape, grad: true });
      const what = `k${k} s${stride} p${padding} d${dilation} ceil=${ceilMode} [${shape}]`;
      parity(`maxPool2d ${what}`, [x()], ([t]) => F.maxPool2d(t, k, { stride, padding, dilation, ceilMode }));
      const countIncludePad = rng.uniform() < 0.5;
      const divisorOverride = rng.uniform() < 0.25 ? 3 : null;
      parity(`avgPool2d ${what} cip=${countIncludePad} div=${divisorOverride}`, [x()], ([t]) =>
        F.avgPool2d(t, k, { stride, padding, ceilMode, countIncludePad, divisorOverride }),
      );
      const out: [number, number] = [randInt(1, shape[2]), randInt(1, shape[3])];
      parity(`adaptiveAvgPool2d ${out} [${shape}]`, [x()], ([t]) => F.adaptiveAvgPool2d(t, out));
    }
    // Indices too.
    const shape = [2, 3, 9, 8];
    const data = randomData(sizeOf(shape));
    const [a, b] = ["js", "wasm"].map((backend) =>
      F.maxPool2dWithIndices(tensor(data, shape, { backend }), 3, {
        stride: 2,
        padding: 1,
        ceilMode: true,
      }).indices.toArray(),
    );
    assert.deepEqual([...b], [...a]);
  });

  it("broadcasting binary ops forward and backward", () => {
    const pairs: [number[], number[]][] = [
      [
        [5, 7],
        [5, 7],
      ],
      [[5, 7], [7]],
      [
        [5, 1],
        [1, 7],
      ],
      [
        [2, 3, 4, 5],
        [3, 1, 5],
      ],
      [
        [2, 1, 4, 1],
        [1, 3, 1, 6],
      ],
      [
        [3, 1, 2, 1, 3],
        [4, 1, 5, 1],
      ],
      [[17], []],
      [[], [4, 3]],
      [
        [1, 9, 1],
        [9, 9],
      ],
    ];
    const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
      ["add", F.add],
      ["sub", F.sub],
      ["mul", F.mul],
      ["div", F.div],
      ["maximum", F.maximum],
      ["minimum", F.minimum],
    ];
    for (const [as, bs] of pairs) {
      for (const [name, op] of ops) {
        const b = randomData(sizeOf(bs), 0.5, 2);
        parity(
          `${name} [${as}] [${bs}]`,
          [
            { data: randomData(sizeOf(as)), shape: as, grad: true },
            { data: b, shape: bs, grad: true },
          ],
          ([x, y]) => op(x, y),
        );
      }
      for (const kind of ["eq", "gt", "lt"] as const) {
        const a = randomData(sizeOf(as));
        const b = randomData(sizeOf(bs));
        if (a.length > 0 && b.length > 0) a[0] = b[0];
        parity(
          `${kind} [${as}] [${bs}]`,
          [
            { data: a, shape: as },
            { data: b, shape: bs },
          ],
          ([x, y]) => F.compare(kind, x, y),
        );
      }
    }
  });

  it("sum, mean, max and min over every axis subset of a 4-D tensor, forward and backward", () => {
    const shape = [3, 5, 4, 7];
    for (const axes of subsets(4)) {
      for (const [name, op] of [
        ["sum", F.sum],
        ["mean", F.mean],
        ["max", F.max],
        ["min", F.min],
      ] as const) {
        if (axes.length === 0 && name !== "sum") continue;
        parity(`${name} axes [${axes}]`, [{ data: randomData(sizeOf(shape)), shape, grad: true }], ([x]) =>
          axes.length === 0 ? op(x) : op(x, axes, axes.length % 2 === 0),
        );
      }
    }
    for (let axis = 0; axis < 4; axis++) {
      parity(`argmax ${axis}`, [{ data: randomData(sizeOf(shape)), shape }], ([x]) => F.argmax(x, axis));
    }
  });

  it("matmul, batched matmul and linear forward and backward (every transpose flag in backward)", () => {
    const shapes: [number[], number[]][] = [
      [
        [7, 13],
        [13, 9],
      ],
      [
        [1, 5],
        [5, 1],
      ],
      [
        [3, 6, 11],
        [3, 11, 4],
      ],
      [
        [3, 6, 11],
        [11, 4],
      ],
      [
        [6, 11],
        [3, 11, 5],
      ],
      [
        [40, 70],
        [70, 33],
      ],
    ];
    for (const [as, bs] of shapes) {
      parity(
        `matmul [${as}] [${bs}]`,
        [
          { data: randomData(sizeOf(as)), shape: as, grad: true },
          { data: randomData(sizeOf(bs)), shape: bs, grad: true },
        ],
        ([a, b]) => F.matmul(a, b),
      );
    }
    parity(
      "linear",
      [
        { data: randomData(8 * 20), shape: [8, 20], grad: true },
        { data: randomData(10 * 20), shape: [10, 20], grad: true },
        { data: randomData(10), shape: [10], grad: true },
      ],
      ([x, w, b]) => F.linear(x, w, b),
    );
  });

  it("gemm with every transpose flag and a batch stride of 0", () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const [batch, m, n, k] = [3, 7, 10, 9];
        const a = randomData(m * k);
        const b = randomData(batch * k * n);
        const g = { batch, m, n, k, transA, transB, batchStrideA: 0, batchStrideB: k * n };
        const run = (be: Backend) => be.toArray(be.gemm(be.fromArray(a), be.fromArray(b), g));
        assertClose(
          run(wasm),
          run(getBackend("js")),
          { atol: 2e-5, rtol: 1e-4 },
          `gemm transA=${transA} transB=${transB}`,
        );
      }
    }
  });

  it("activations, softmax and losses forward and backward", () => {
    const shape = [6, 11];
    const acts: [string, (x: Tensor) => Tensor][] = [
      ["relu", F.relu],
      ["relu6", F.relu6],
      ["leakyRelu", (x) => F.leakyRelu(x, 0.2)],
      ["elu", (x) => F.elu(x, 0.7)],
      ["gelu", F.gelu],
      ["silu", F.silu],
      ["sigmoid", F.sigmoid],
      ["tanh", F.tanh],
      ["softmax", (x) => F.softmax(x, 1)],
      ["logSoftmax", (x) => F.logSoftmax(x, 0)],
      ["exp", F.exp],
      ["abs", F.abs],
      ["square", F.square],
      ["pow", (x) => F.pow(F.abs(x), 1.5)],
      ["clamp", (x) => F.clamp(x, -2, 3)],
    ];
    for (const [name, f] of acts) {
      parity(name, [{ data: randomData(sizeOf(shape), -7, 7), shape, grad: true }], ([x]) => f(x));
    }
    const labels = Int32Array.from({ length: 6 }, () => rng.int(11));
    parity("crossEntropy", [{ data: randomData(66, -3, 3), shape, grad: true }], ([x]) =>
      F.crossEntropy(x, tensor(labels, [6], { backend: x.backend.name })),
    );
  });

  it("every Backend method directly: unary kinds, binary kinds, where, cast, gather, scatterInto, concat, oneHot", () => {
    const js = getBackend("js");
    const both = <T>(f: (be: Backend) => T): [T, T] => [f(wasm), f(js)];
    const x = randomData(103, -4, 4);
    const kinds: [UnaryKind, { a?: number; b?: number }][] = [
      ["neg", {}],
      ["exp", {}],
      ["sign", {}],
      ["square", {}],
      ["relu", {}],
      ["relu6", {}],
      ["sigmoid", {}],
      ["tanh", {}],
      ["erf", {}],
      ["gelu", {}],
      ["geluGrad", {}],
      ["leakyRelu", { a: 0.3 }],
      ["elu", { a: 1.3 }],
      ["clamp", { a: -1, b: 2 }],
      ["greaterScalar", { a: 0.5 }],
      ["abs", {}],
    ];
    for (const [kind, params] of kinds) {
      const [a, b] = both((be) => be.toArray(be.unary(kind, be.fromArray(x), params)));
      assertClose(a, b, { atol: 2e-5, rtol: 1e-4 }, `unary ${kind}`);
    }
    const pos = x.map((v) => Math.abs(v) + 0.1);
    for (const kind of ["log", "sqrt", "reciprocal"] as UnaryKind[]) {
      const [a, b] = both((be) => be.toArray(be.unary(kind, be.fromArray(pos), {})));
      assertClose(a, b, { atol: 2e-5, rtol: 1e-4 }, `unary ${kind}`);
    }
    const [pa, pb] = both((be) => be.toArray(be.unary("powScalar", be.fromArray(pos), { a: -1.7 })));
    assertClose(pa, pb, { atol: 2e-5, rtol: 1e-4 }, "unary powScalar");
    const y = randomData(103, -4, 4);
    y[5] = x[5];
    const kindsB: BinaryKind[] = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "gt", "lt"];
    for (const kind of kindsB) {
      const [a, b] = both((be) =>
        be.toArray(be.binary(kind, be.fromArray(x), [103], be.fromArray(y), [103], [103])),
      );
      assertClose(a, b, { atol: 2e-5, rtol: 1e-4 }, `binary ${kind}`);
    }
    const [wa, wb] = both((be) =>
      be.toArray(be.binary("pow", be.fromArray(pos), [103], be.fromArray(y), [103], [103])),
    );
    assertClose(wa, wb, { atol: 2e-5, rtol: 1e-4 }, "binary pow");
    const cond = x.map((v) => (v > 0 ? 1 : 0));
    const [ca, cb] = both((be) => be.toArray(be.where(be.fromArray(cond), be.fromArray(x), be.fromArray(y))));
    assert.deepEqual(ca, cb);
    const [ta, tb] = both((be) => be.toArray(be.cast(be.fromArray(x), "int32")));
    assert.deepEqual(ta, tb);
    const ints = Int32Array.from(x, (v) => Math.round(v * 100));
    const [fa, fb] = both((be) => be.toArray(be.cast(be.fromArray(ints), "float32")));
    assert.deepEqual(fa, fb);
    // Int32 arithmetic goes through the cold path but must agree too.
    const [ia, ib] = both((be) => be.toArray(be.reduce("sum", be.fromArray(ints), [103], [0])));
    assert.deepEqual(ia, ib);

    // Strided views: a permutation, a stepped slice with offset, a broadcast (stride 0), 5-D and 6-D.
    const src = randomData(2 * 3 * 4 * 5 * 6);
    const full = [2, 3, 4, 5, 6];
    const st = stridesOf(full);
    const views: [number[], number[], number][] = [
      [[6, 5, 4, 3, 2], [st[4], st[3], st[2], st[1], st[0]], 0],
      [[2, 2, 2, 5, 3], [st[0], st[1], st[2] * 2, st[3], st[4] * 2], st[1] + 1],
      [[2, 7, 3, 4, 5, 6], [st[0], 0, st[1], st[2], st[3], st[4]], 0],
      [[4, 9], [0, 1], 17],
      [[3, 5], [st[3], 7], 2],
    ];
    for (const [shape, strides, offset] of views) {
      const [a, b] = both((be) => be.toArray(be.gather(be.fromArray(src), shape, strides, offset)));
      assert.deepEqual(a, b, `gather [${shape}] strides [${strides}] offset ${offset}`);
    }
    const dst = randomData(src.length);
    for (const [shape, strides, offset] of views.filter(([, s]) => !s.includes(0))) {
      const part = randomData(sizeOf(shape));
      const [a, b] = both((be) =>
        be.toArray(be.scatterInto(be.fromArray(dst), be.fromArray(part), shape, strides, offset)),
      );
      assert.deepEqual(a, b, `scatterInto [${shape}] strides [${strides}]`);
    }
    const parts = [
      [2, 3, 4],
      [2, 1, 4],
      [2, 5, 4],
    ];
    for (const axis of [0, 1, 2]) {
      const shapes = parts.map((p) => p.map((d, i) => (i === axis ? d : parts[0][i])));
      const datas = shapes.map((s) => randomData(sizeOf(s)));
      const [a, b] = both((be) =>
        be.toArray(
          be.concat(
            datas.map((d) => be.fromArray(d)),
            shapes,
            axis,
          ),
        ),
      );
      assert.deepEqual(a, b, `concat axis ${axis}`);
    }
    const lab = Int32Array.from({ length: 9 }, () => rng.int(5));
    const [oa, ob] = both((be) => be.toArray(be.oneHot(be.fromArray(lab), 5, "float32")));
    assert.deepEqual(oa, ob);
    const [za, zb] = both((be) => be.toArray(be.full("float32", 37, 2.5)));
    assert.deepEqual(za, zb);
    assert.equal(wasm.supports("float64"), false);
    assert.throws(() => wasm.fromArray(new Float64Array(3)), /float64 is not supported/);
  });
});

describe("wasm threads: 1 and 2 threads give the same results", () => {
  after(async () => {
    await setNumThreads(1);
  });

  it("conv forward/backward, pooling, matmul, elementwise and reductions above the parallel threshold", async () => {
    const x = randomData(8 * 16 * 20 * 20);
    const w = randomData(32 * 16 * 3 * 3);
    const b = randomData(32);
    const dw = randomData(16 * 1 * 3 * 3);
    const big = randomData(1 << 20);
    const m1 = randomData(256 * 384);
    const m2 = randomData(384 * 200);
    const run = (): Float32Array[] => {
      const t = (d: Float32Array, s: number[]) => tensor(d, s, { backend: "wasm", requiresGrad: true });
      const xt = t(x, [8, 16, 20, 20]);
      const wt = t(w, [32, 16, 3, 3]);
      const bt = t(b, [32]);
      const dwt = t(dw, [16, 1, 3, 3]);
      const y = F.conv2d(xt, wt, bt, { padding: 1 });
      const z = F.conv2d(xt, dwt, null, { padding: 1, groups: 16 });
      const p = F.maxPool2d(y, 2);
      const q = F.avgPool2d(z, 3, { stride: 2, padding: 1 });
      const loss = F.add(F.sum(F.mul(p, p)), F.sum(F.mul(q, q)));
      loss.backward();
      const e = tensor(big, [1024, 1024], { backend: "wasm" });
      const mm = F.matmul(
        tensor(m1, [256, 384], { backend: "wasm" }),
        tensor(m2, [384, 200], { backend: "wasm" }),
      );
      const outs = [y, z, p, q, xt.grad!, wt.grad!, bt.grad!, dwt.grad!, mm];
      outs.push(F.gelu(e), F.mul(e, F.sigmoid(e)), F.sum(e, 0), F.max(e, 1), F.permute(e, [1, 0]));
      return outs.map((o) => o.toArray() as Float32Array);
    };
    await setNumThreads(1);
    const one = run();
    await setNumThreads(2);
    const two = run();
    one.forEach((a, i) => assertClose(two[i], a, { atol: 1e-6, rtol: 1e-6 }, `output ${i}`));
  });
});

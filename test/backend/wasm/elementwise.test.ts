// Elementwise and reduction kernels against plain Math loops: unary ops (with SIMD tails),
// broadcasting binary ops, sum/mean/max over axis sets; activations also against the PyTorch fixtures.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { binary, broadcastShape, reduce, unary } from "../../../src/backend/wasm/elementwise.js";
import { erf } from "../../../src/backend/js/elementwise.js";
import type { BinaryKind, UnaryKind } from "../../../src/backend/backend.js";
import { UnaryCode } from "../../../src/backend/wasm/op-codes.js";
import { decode, loadFixtures } from "./fixtures.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";
import { assertClose } from "../../helpers/close.js";

const ALPHA = 0.1;
type ForwardOnly = "sign" | "relu6" | "erf" | "gelu" | "geluGrad" | "elu" | "powScalar" | "greaterScalar";
const REF: Record<Exclude<UnaryKind, "clamp" | ForwardOnly>, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  relu: (x) => Math.max(x, 0),
  leakyRelu: (x) => (x < 0 ? ALPHA * x : x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
};

// Codes with a parameter or an erf, with the js reference's formulas.
const FORWARD: Record<ForwardOnly, [(x: number) => number, number]> = {
  sign: [Math.sign, 0],
  relu6: [(x) => Math.min(Math.max(x, 0), 6), 0],
  erf: [erf, 0],
  gelu: [(x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), 0],
  geluGrad: [
    (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
    0,
  ],
  elu: [(x) => (x > 0 ? x : 0.7 * Math.expm1(x)), 0.7],
  powScalar: [(x) => Math.pow(Math.abs(x), 1.7), 1.7],
  greaterScalar: [(x) => (x > 0.25 ? 1 : 0), 0.25],
};

function product(s: readonly number[]): number {
  return s.reduce((p, q) => p * q, 1);
}

function index(shape: readonly number[], flat: number): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

function offset(shape: readonly number[], idx: readonly number[]): number {
  // idx is right-aligned and may be longer than shape; broadcast axes read index 0.
  let o = 0;
  for (let i = 0; i < shape.length; i++) {
    const j = idx.length - shape.length + i;
    o = o * shape[i] + (shape[i] === 1 ? 0 : idx[j]);
  }
  return o;
}

for (const v of VARIANTS) {
  describe(`elementwise (${v.name})`, () => {
    it("forward-only unary ops (sign, relu6, erf, gelu, geluGrad, elu, pow, greaterScalar) match Math", async () => {
      const rt = await runtime(v.relaxed);
      const rand = rng(78);
      for (const n of [1, 5, 8, 37, 1000]) {
        for (const [op, [f, alpha]] of Object.entries(FORWARD) as [
          ForwardOnly,
          [(x: number) => number, number],
        ][]) {
          const x = randomArray(n, rand, -6, 6);
          if (n > 4) x.set([0, -0.3, 0.3, 1e-4, -1e-4].slice(0, n));
          if (op === "powScalar") for (let i = 0; i < n; i++) x[i] = Math.abs(x[i]);
          const px = upload(rt, x);
          const py = rt.mem.alloc(n * 4);
          unary(rt, op, px, py, n, alpha);
          assertClose(rt.mem.readF32(py, n), Array.from(x, f), 1e-6, `${op} n=${n}`);
          for (const p of [px, py]) rt.mem.free(p);
        }
      }
    });

    it("an op code the kernel has no case for traps instead of writing nothing", async () => {
      const rt = await runtime(v.relaxed);
      const px = upload(rt, new Float32Array([1, 2, 3, 4, 5]));
      const py = rt.mem.alloc(5 * 4);
      // One past the last code: what a code added to op-codes.ts without its kernel case would do.
      const unknown = Object.keys(UnaryCode).length / 2;
      assert.throws(() => rt.exports.unary(unknown, px, py, 0, 0, 0, 0, 5), WebAssembly.RuntimeError);
      for (const p of [px, py]) rt.mem.free(p);
    });

    it("unary ops match Math", async () => {
      const rt = await runtime(v.relaxed);
      const rand = rng(77);
      for (const n of [1, 3, 4, 7, 37, 1000]) {
        for (const [op, f] of Object.entries(REF) as [UnaryKind, (x: number) => number][]) {
          const positive = op === "log" || op === "sqrt" || op === "reciprocal";
          const scale = op === "exp" || op === "sigmoid" || op === "tanh" ? 12 : 3;
          const x = randomArray(n, rand, positive ? 0.1 : -scale, scale);
          const px = upload(rt, x);
          const py = rt.mem.alloc(n * 4);
          unary(rt, op, px, py, n, ALPHA);
          assertClose(rt.mem.readF32(py, n), Array.from(x, f), 2e-6, `${op} n=${n}`);
          for (const p of [px, py]) rt.mem.free(p);
        }
      }
    });

    it("exp/sigmoid/tanh handle extremes and NaN", async () => {
      const rt = await runtime(v.relaxed);
      const x = Float32Array.from([-200, -90, -1e-6, 0, 1e-6, 0.3, 0.7, 20, 88, 100, NaN, -0.62]);
      const px = upload(rt, x);
      const py = rt.mem.alloc(x.length * 4);
      for (const [op, f] of [
        ["exp", Math.exp],
        ["sigmoid", (t: number) => 1 / (1 + Math.exp(-t))],
        ["tanh", Math.tanh],
      ] as const) {
        unary(rt, op, px, py, x.length);
        const got = rt.mem.readF32(py, x.length);
        const want = Array.from(x, (t) => Math.fround(f(t)));
        for (let i = 0; i < x.length; i++) {
          const ok =
            (Number.isNaN(want[i]) && Number.isNaN(got[i])) ||
            got[i] === want[i] ||
            Math.abs(got[i] - want[i]) <= 2e-6 * Math.abs(want[i]) + 1e-30;
          if (!ok) throw new Error(`${op}(${x[i]}) = ${got[i]}, expected ${want[i]}`);
        }
      }
      rt.mem.free(px);
      rt.mem.free(py);
    });

    it("binary ops broadcast like PyTorch", async () => {
      const rt = await runtime(v.relaxed);
      const rand = rng(78);
      const pairs: [number[], number[]][] = [
        [[7], [7]],
        [
          [2, 3, 5, 5],
          [1, 3, 1, 1],
        ],
        [
          [2, 4, 3, 3],
          [2, 4, 1, 1],
        ],
        [
          [4, 1, 6],
          [5, 1],
        ],
        [[1], [3, 9]],
        [
          [3, 1, 7, 1],
          [1, 5, 1, 3],
        ],
        [
          [2, 3, 4, 5, 6],
          [3, 1, 5, 1],
        ],
        [[13], []],
      ];
      for (const [as, bs] of pairs) {
        const out = broadcastShape(as, bs);
        for (const op of [
          "add",
          "sub",
          "mul",
          "div",
          "maximum",
          "minimum",
          "pow",
          "eq",
          "gt",
          "lt",
        ] as const) {
          const a = randomArray(product(as), rand);
          const b = randomArray(product(bs), rand, 0.5, 2);
          // Equal pairs for eq; positive bases for pow.
          for (let i = 0; i < Math.min(a.length, b.length); i += 3) a[i] = b[i];
          if (op === "pow") for (let i = 0; i < a.length; i++) a[i] = Math.abs(a[i]) + 0.1;
          const pa = upload(rt, a);
          const pb = upload(rt, b);
          const py = rt.mem.alloc(product(out) * 4);
          binary(rt, op, pa, as, pb, bs, py);
          const f = {
            add: (p: number, q: number) => p + q,
            sub: (p: number, q: number) => p - q,
            mul: (p: number, q: number) => p * q,
            div: (p: number, q: number) => p / q,
            maximum: Math.max,
            minimum: Math.min,
            pow: Math.pow,
            eq: (p: number, q: number) => (p === q ? 1 : 0),
            gt: (p: number, q: number) => (p > q ? 1 : 0),
            lt: (p: number, q: number) => (p < q ? 1 : 0),
          }[op satisfies BinaryKind];
          const ref = Array.from({ length: product(out) }, (_, i) => {
            const idx = index(out, i);
            return f(a[offset(as, idx)], b[offset(bs, idx)]);
          });
          assertClose(rt.mem.readF32(py, ref.length), ref, 1e-6, `${op} [${as}] [${bs}]`);
          for (const p of [pa, pb, py]) rt.mem.free(p);
        }
      }
    });

    it("sum/mean/max/min over axis sets match loops", async () => {
      const rt = await runtime(v.relaxed);
      const rand = rng(79);
      const cases: [number[], number[]][] = [
        [
          [4, 3, 5, 5],
          [0, 2, 3],
        ],
        [[2, 4, 3, 3], [1]],
        [
          [2, 4, 3, 3],
          [2, 3],
        ],
        [[37], [0]],
        [[6, 7], [1]],
        [[6, 7], [0]],
        [
          [3, 1, 5, 2, 7],
          [0, 3],
        ],
        [[2, 3], []],
      ];
      for (const [shape, axes] of cases) {
        const x = randomArray(product(shape), rand);
        const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const n = product(kept);
        for (const op of ["sum", "mean", "max", "min"] as const) {
          const ref = new Float64Array(n).fill(op === "max" ? -Infinity : op === "min" ? Infinity : 0);
          for (let i = 0; i < x.length; i++) {
            const o = offset(kept, index(shape, i));
            ref[o] =
              op === "max" ? Math.max(ref[o], x[i]) : op === "min" ? Math.min(ref[o], x[i]) : ref[o] + x[i];
          }
          if (op === "mean") for (let i = 0; i < n; i++) ref[i] /= x.length / n;
          const px = upload(rt, x);
          const py = rt.mem.alloc(n * 4);
          reduce(rt, op, px, shape, axes, py);
          assertClose(rt.mem.readF32(py, n), ref, 1e-5, `${op} [${shape}] axes [${axes}]`);
          rt.mem.free(px);
          rt.mem.free(py);
        }
      }
    });

    it("activations match the PyTorch fixtures", async () => {
      const rt = await runtime(v.relaxed);
      const map: Record<string, UnaryKind> = {
        relu: "relu",
        leaky_relu: "leakyRelu",
        sigmoid: "sigmoid",
        tanh: "tanh",
      };
      for (const c of loadFixtures("activations")) {
        const op = map[c.op];
        if (op === undefined) continue;
        const slope = (c.attrs.negative_slope as number | undefined) ?? 0;
        const x = decode(c.inputs.x);
        const n = x.length;
        const px = upload(rt, x);
        const py = rt.mem.alloc(n * 4);
        unary(rt, op, px, py, n, slope);
        assertClose(rt.mem.readF32(py, n), decode(c.outputs.y), 1e-5, `${c.name} y`);
        for (const p of [px, py]) rt.mem.free(p);
      }
    });
  });
}

describe("elementwise: the dedicated loops of the cheap ops", () => {
  it("relu, greaterScalar, clamp and add/sub/mul (dense and by a scalar) match Math, tails and NaN included", async () => {
    for (const v of VARIANTS) {
      const rt = await runtime(v.relaxed);
      const rand = rng(4242);
      for (const n of [1, 3, 4, 7, 17, 1030]) {
        const x = randomArray(n, rand, -3, 3);
        if (n > 5) x[5] = NaN;
        const px = upload(rt, x);
        const py = rt.mem.alloc(n * 4);
        const unaryCases: [UnaryKind, number, number, (t: number) => number][] = [
          ["relu", 0, 0, (t) => (t < 0 ? 0 : t)],
          ["greaterScalar", 0.5, 0, (t) => (t > 0.5 ? 1 : 0)],
          ["clamp", -1, 2, (t) => Math.min(Math.max(t, -1), 2)],
        ];
        for (const [op, a, b, f] of unaryCases) {
          unary(rt, op, px, py, n, a, b);
          const ref = Array.from(x, f);
          // NaN stays NaN through relu and clamp (PyTorch); greaterScalar gives 0.
          assertClose(rt.mem.readF32(py, n), ref, 1e-6, `${v.name} ${op} n=${n}`);
        }
        const y = randomArray(n, rand, -3, 3);
        const pz = upload(rt, y);
        const ops: [BinaryKind, (p: number, q: number) => number][] = [
          ["add", (p, q) => p + q],
          ["sub", (p, q) => p - q],
          ["mul", (p, q) => p * q],
        ];
        for (const [op, f] of ops) {
          binary(rt, op, px, [n], pz, [n], py);
          const dense = Array.from(x, (t, i) => Math.fround(f(t, y[i])));
          assertClose(rt.mem.readF32(py, n), dense, 0, `${v.name} ${op} dense n=${n}`);
          binary(rt, op, px, [n], pz, [], py);
          const scalar = Array.from(x, (t) => Math.fround(f(t, y[0])));
          assertClose(rt.mem.readF32(py, n), scalar, 0, `${v.name} ${op} by a scalar n=${n}`);
        }
        for (const p of [px, py, pz]) rt.mem.free(p);
      }
    }
  });
});

// Kernel parity of the webgpu backend against js, the reference: every Backend kernel on small random
// inputs (shapes chosen to cross tile and workgroup edges), compared with the fixtures' tolerance rule
// (test/helpers/compare.ts). Runs on a page (webgpu-page.ts); only type imports from src/.
import type * as Api from "../../src/index.js";
import type { Backend, Storage } from "../../src/index.js";
import type { Conv2dGeometry, Pool2dGeometry } from "../../src/backend/backend.js";
import type { TypedArray } from "../../src/tensor/dtype.js";
import { compareArrays } from "../helpers/compare.js";

type StriateApi = typeof Api;
type Outputs = Storage | null | Storage[] | Record<string, Storage | null>;

export interface ParityCase {
  name: string;
  /** Runs the kernel on both backends; resolves to the worst |a−b|, throws on a mismatch. */
  run(): Promise<number>;
}

/** Deterministic normal-ish values (sum of uniforms), so a failure reproduces. */
function randn(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  let s = seed * 2654435761;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Float32Array.from({ length: n }, () => (next() + next() + next() - 1.5) * 2 * scale + shift);
}

function ints(n: number, seed: number, lo: number, hi: number): Int32Array {
  return Int32Array.from(randn(n, seed), (v) => lo + (Math.abs(Math.round(v * 1000)) % (hi - lo)));
}

function flatten(o: Outputs): [string, Storage | null][] {
  if (o === null || "dtype" in (o as object)) return [["out", o as Storage | null]];
  if (Array.isArray(o)) return o.map((s, i) => [`out${i}`, s]);
  return Object.entries(o as Record<string, Storage | null>);
}

export function parityCases(S: StriateApi): ParityCase[] {
  const js = S.getBackend("js");
  const gpu = S.getBackend("webgpu");
  const cases: ParityCase[] = [];
  const kernel = (
    name: string,
    inputs: TypedArray[],
    call: (b: Backend, s: Storage[]) => Outputs,
    tol: { atol?: number; rtol?: number; tiled?: boolean } = {},
  ) =>
    cases.push({
      name,
      async run() {
        const expected = flatten(
          call(
            js,
            inputs.map((a) => js.fromArray(a)),
          ),
        );
        // `tiled` runs the products on the tiled kernel even on a software adapter (runtime.preferDirect).
        const runtime = (gpu as { runtime?: { preferDirect: boolean } }).runtime;
        const preferDirect = runtime?.preferDirect ?? false;
        if (runtime && tol.tiled) runtime.preferDirect = false;
        let actual: [string, Storage | null][];
        try {
          actual = flatten(
            call(
              gpu,
              inputs.map((a) => gpu.fromArray(a)),
            ),
          );
        } finally {
          if (runtime) runtime.preferDirect = preferDirect;
        }
        let worst = 0;
        for (const [i, [key, e]] of expected.entries()) {
          const a = actual[i][1];
          if ((e === null) !== (a === null)) throw new Error(`${key}: null on one backend only`);
          if (e === null || a === null) continue;
          if (a.dtype !== e.dtype || a.size !== e.size)
            throw new Error(`${key}: ${a.dtype}[${a.size}] vs ${e.dtype}[${e.size}]`);
          const c = compareArrays(
            await gpu.readAsync!(a),
            js.toArray(e),
            tol.atol ?? 1e-5,
            tol.rtol ?? 1e-4,
            true,
          );
          if (c.worstRatio > 1) throw new Error(`${key} differs by ${c.maxAbs} at element ${c.index}`);
          worst = Math.max(worst, c.maxAbs);
        }
        return worst;
      },
    });

  // Elementwise.
  const x = randn(1031, 1);
  const positive = x.map((v) => Math.abs(v) + 0.1);
  const unaries = [
    "neg",
    "exp",
    "abs",
    "sign",
    "square",
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "erf",
    "gelu",
    "geluGrad",
  ] as const;
  for (const kind of unaries) kernel(`unary ${kind}`, [x], (b, [s]) => b.unary(kind, s, {}));
  for (const kind of ["log", "sqrt", "reciprocal"] as const)
    kernel(`unary ${kind}`, [positive], (b, [s]) => b.unary(kind, s, {}));
  kernel("unary leakyRelu", [x], (b, [s]) => b.unary("leakyRelu", s, { a: 0.2 }));
  kernel("unary elu", [x], (b, [s]) => b.unary("elu", s, { a: 1.5 }));
  kernel("unary powScalar 2 on negatives", [x], (b, [s]) => b.unary("powScalar", s, { a: 2 }));
  kernel("unary powScalar 3 on negatives", [x], (b, [s]) => b.unary("powScalar", s, { a: 3 }));
  kernel("unary powScalar 0.5", [positive], (b, [s]) => b.unary("powScalar", s, { a: 0.5 }));
  kernel("unary clamp", [x], (b, [s]) => b.unary("clamp", s, { a: -0.5, b: 0.7 }));
  kernel("unary greaterScalar", [x], (b, [s]) => b.unary("greaterScalar", s, { a: 0.1 }));
  kernel("unary neg int32", [ints(50, 2, -9, 9)], (b, [s]) => b.unary("neg", s, {}));
  const binaries = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "gt", "lt"] as const;
  const a3 = randn(3 * 1 * 5, 3);
  const b2 = randn(4 * 5, 4);
  b2.set(a3.subarray(0, 5), 0); // some equal pairs for eq
  for (const kind of binaries)
    kernel(`binary ${kind} broadcast [3,1,5]·[4,5]`, [a3, b2], (b, [p, q]) =>
      b.binary(kind, p, [3, 1, 5], q, [4, 5], [3, 4, 5]),
    );
  kernel("binary pow", [positive.subarray(0, 20), randn(20, 5)], (b, [p, q]) =>
    b.binary("pow", p, [20], q, [20], [20]),
  );
  kernel("binary add scalar", [x, Float32Array.of(2.5)], (b, [p, q]) =>
    b.binary("add", p, [1031], q, [], [1031]),
  );
  for (const kind of ["add", "mul", "div", "maximum"] as const)
    kernel(`binary ${kind} int32`, [ints(40, 6, -20, 20), ints(40, 7, 1, 9)], (b, [p, q]) =>
      b.binary(kind, p, [40], q, [40], [40]),
    );
  kernel("where", [Float32Array.from(x, (v) => (v > 0 ? 1 : 0)), x, positive], (b, [c, p, q]) =>
    b.where(c, p, q),
  );
  kernel("full float32 / int32", [], (b) => [b.full("float32", 300, -1.25), b.full("int32", 7, 3)]);
  kernel("cast float32 → int32 → float32", [x.map((v) => v * 7)], (b, [s]) => {
    const i = b.cast(s, "int32");
    return [i, b.cast(i, "float32")];
  });
  kernel("oneHot", [ints(9, 8, 0, 5)], (b, [l]) => b.oneHot(l, 5, "float32"));

  // Reductions.
  const r = randn(3 * 4 * 5, 9);
  for (const kind of ["sum", "max", "min"] as const) {
    for (const axes of [[1], [0, 2], [0, 1, 2], []])
      kernel(`reduce ${kind} axes [${axes}]`, [r], (b, [s]) => b.reduce(kind, s, [3, 4, 5], axes));
  }
  kernel("reduce sum int32", [ints(60, 10, -50, 50)], (b, [s]) => b.reduce("sum", s, [6, 10], [1]));
  kernel(
    "reduce sum of 100,000 values of 1000 ± 0.1",
    [randn(100_000, 11, 0.1, 1000)],
    (b, [s]) => b.reduce("sum", s, [100_000], [0]),
    { rtol: 1e-6 },
  );
  const long = randn(3 * 2000, 47);
  long[4321] = Number.NaN;
  for (const kind of ["max", "min"] as const)
    kernel(`reduce ${kind} of 2000 per row, one NaN (workgroup kernel)`, [long], (b, [s]) =>
      b.reduce(kind, s, [3, 2000], [1]),
    );
  kernel("argmax axis 1", [r], (b, [s]) => b.argmax(s, [3, 4, 5], 1));

  // Movement.
  kernel("gather permute [2,3,4] → [4,2,3]", [randn(24, 12)], (b, [s]) =>
    b.gather(s, [4, 2, 3], [1, 12, 4], 0),
  );
  kernel("gather flip and slice", [randn(24, 13)], (b, [s]) => b.gather(s, [2, 2], [-12, 1], 13));
  kernel("scatterInto", [randn(24, 14), randn(6, 15)], (b, [d, s]) =>
    b.scatterInto(d, s, [2, 3], [12, 2], 1),
  );
  kernel("concat axis 1", [randn(2 * 3, 16), randn(2 * 1, 17), randn(2 * 4, 18)], (b, parts) =>
    b.concat(
      parts,
      [
        [2, 3],
        [2, 1],
        [2, 4],
      ],
      1,
    ),
  );
  kernel("concat int32 axis 0", [ints(4, 19, 0, 9), ints(6, 20, 0, 9)], (b, parts) =>
    b.concat(
      parts,
      [
        [2, 2],
        [3, 2],
      ],
      0,
    ),
  );

  // GEMM.
  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])
    kernel(
      `gemm 70×33·33×65 transA ${transA} transB ${transB}`,
      [randn(70 * 33, 21), randn(33 * 65, 22)],
      (b, [p, q]) =>
        b.gemm(p, q, { batch: 1, m: 70, n: 65, k: 33, transA, transB, batchStrideA: 0, batchStrideB: 0 }),
    );
  // Above 2^23 multiply-adds and 16 rows and columns the tiled kernel runs (gemm.ts; on a software adapter
  // only when asked, as these cases do).
  kernel(
    "gemm 130×260·260×250 transB (tiled kernel)",
    [randn(130 * 260, 48), randn(260 * 250, 49)],
    (b, [p, q]) =>
      b.gemm(p, q, {
        batch: 1,
        m: 130,
        n: 250,
        k: 260,
        transA: false,
        transB: true,
        batchStrideA: 0,
        batchStrideB: 0,
      }),
    { atol: 1e-4, tiled: true },
  );
  // Few outputs over a long K split K across threads, then sum the parts (gemm.ts).
  kernel(
    "gemm 20×3000·3000×30 (split-K kernel)",
    [randn(20 * 3000, 50), randn(3000 * 30, 51)],
    (b, [p, q]) =>
      b.gemm(p, q, {
        batch: 1,
        m: 20,
        n: 30,
        k: 3000,
        transA: false,
        transB: false,
        batchStrideA: 0,
        batchStrideB: 0,
      }),
    { atol: 1e-4 },
  );
  kernel("gemm batch 3 sharing B", [randn(3 * 5 * 17, 23), randn(17 * 9, 24)], (b, [p, q]) =>
    b.gemm(p, q, {
      batch: 3,
      m: 5,
      n: 9,
      k: 17,
      transA: false,
      transB: false,
      batchStrideA: 85,
      batchStrideB: 0,
    }),
  );

  // Convolution, forward and both gradients.
  const conv = (name: string, g: Conv2dGeometry, bias: boolean, tiled = false) => {
    const xs = randn(g.batch * g.inChannels * g.inH * g.inW, 25);
    const ws = randn((g.outChannels * g.inChannels * g.kernelH * g.kernelW) / g.groups, 26);
    const gys = randn(g.batch * g.outChannels * g.outH * g.outW, 27);
    const inputs = bias ? [xs, ws, gys, randn(g.outChannels, 28)] : [xs, ws, gys];
    kernel(
      `conv2d ${name}`,
      inputs,
      (b, [xv, wv, gy, bv]) => [
        b.conv2d(xv, wv, bv ?? null, g),
        b.conv2dBackwardInput(gy, wv, g),
        b.conv2dBackwardWeight(xv, gy, g),
      ],
      { atol: 1e-4, tiled },
    );
  };
  const geometry = (
    o: Partial<Conv2dGeometry> & Pick<Conv2dGeometry, "inChannels" | "outChannels" | "inH" | "inW">,
  ): Conv2dGeometry => {
    const g = {
      batch: 2,
      kernelH: 3,
      kernelW: 3,
      strideH: 1,
      strideW: 1,
      padH: 1,
      padW: 1,
      dilationH: 1,
      dilationW: 1,
      groups: 1,
      outH: 0,
      outW: 0,
      ...o,
    };
    g.outH = Math.floor((g.inH + 2 * g.padH - g.dilationH * (g.kernelH - 1) - 1) / g.strideH) + 1;
    g.outW = Math.floor((g.inW + 2 * g.padW - g.dilationW * (g.kernelW - 1) - 1) / g.strideW) + 1;
    return g;
  };
  conv(
    "3×3 pad 1, 8→20 channels on 9×11",
    geometry({ inChannels: 8, outChannels: 20, inH: 9, inW: 11 }),
    true,
  );
  const strided = { inH: 10, inW: 9, strideH: 2, strideW: 2, dilationH: 2, dilationW: 2, padH: 2, padW: 1 };
  conv(
    "stride 2 dilation 2 groups 2",
    geometry({ ...strided, inChannels: 4, outChannels: 6, groups: 2 }),
    true,
  );
  conv(
    "depthwise multiplier 2 stride 2",
    geometry({ inChannels: 3, outChannels: 6, inH: 8, inW: 8, strideH: 2, strideW: 2, groups: 3 }),
    false,
  );
  conv(
    "depthwise multiplier 2 stride 2 (tiled: the weight gradient's workgroup reduction)",
    geometry({ inChannels: 3, outChannels: 6, inH: 8, inW: 8, strideH: 2, strideW: 2, groups: 3 }),
    false,
    true,
  );
  conv(
    "1×1 projection stride 2",
    geometry({
      inChannels: 5,
      outChannels: 7,
      inH: 8,
      inW: 6,
      kernelH: 1,
      kernelW: 1,
      padH: 0,
      padW: 0,
      strideH: 2,
      strideW: 2,
    }),
    false,
  );
  conv(
    "3×3 16→64 channels on 24×24 (tiled kernel)",
    geometry({ inChannels: 16, outChannels: 64, inH: 24, inW: 24 }),
    true,
    true,
  );
  // The weight gradient sums over several chunks of output rows (depthwise.ts: 1,024 per thread), the
  // last one partial; 3 output channels per thread.
  conv(
    "weight gradient over several row chunks",
    geometry({ batch: 3, inChannels: 2, outChannels: 6, inH: 40, inW: 36 }),
    true,
  );
  // 4×4 kernel, 4→3 channels: the weight gradient fills its 768-byte buffer exactly, so a thread writing
  // past the last weight (robust access clamps it onto the last element) would show.
  conv(
    "4×4 kernel, weight gradient filling its buffer exactly",
    geometry({ inChannels: 4, outChannels: 3, inH: 6, inW: 6, kernelH: 4, kernelW: 4 }),
    true,
  );
  // Padding wider than the kernel's reach: whole rows and columns of outputs read only padding.
  conv(
    "padding beyond the kernel, stride 3×2, dilation 2×1",
    geometry({
      inChannels: 2,
      outChannels: 5,
      inH: 7,
      inW: 6,
      kernelH: 2,
      kernelW: 3,
      padH: 3,
      padW: 2,
      strideH: 3,
      strideW: 2,
      dilationH: 2,
    }),
    false,
  );
  conv(
    "stride 2 dilation 2 groups 2, 32 channels (tiled kernel)",
    geometry({ ...strided, inChannels: 32, outChannels: 32, groups: 2 }),
    true,
    true,
  );
  conv(
    "5×5 rectangular 1→70 channels",
    geometry({ inChannels: 1, outChannels: 70, inH: 12, inW: 7, kernelH: 5, kernelW: 3, padH: 2, padW: 0 }),
    true,
  );

  // Pooling.
  const pool: Pool2dGeometry = {
    batch: 2,
    channels: 3,
    inH: 9,
    inW: 8,
    outH: 5,
    outW: 4,
    kernelH: 3,
    kernelW: 2,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 0,
    dilationH: 1,
    dilationW: 1,
  };
  const poolX = randn(2 * 3 * 9 * 8, 30);
  const poolGy = randn(2 * 3 * 5 * 4, 31);
  kernel("maxPool2d forward and backward", [poolX, poolGy], (b, [xv, gy]) => {
    const { y, indices } = b.maxPool2d(xv, pool);
    return [y, indices, b.maxPool2dBackward(gy, indices, pool)];
  });
  const dilated = { ...pool, dilationH: 2, outH: 4 };
  kernel("maxPool2d dilated", [poolX, randn(2 * 3 * 4 * 4, 32)], (b, [xv, gy]) => {
    const { y, indices } = b.maxPool2d(xv, dilated);
    return [y, indices, b.maxPool2dBackward(gy, indices, dilated)];
  });
  for (const [countIncludePad, divisorOverride] of [
    [true, null],
    [false, null],
    [false, 5],
  ] as const) {
    const g = { ...pool, countIncludePad, divisorOverride };
    kernel(
      `avgPool2d countIncludePad ${countIncludePad} divisor ${divisorOverride}`,
      [poolX, poolGy],
      (b, [xv, gy]) => [b.avgPool2d(xv, g), b.avgPool2dBackward(gy, g)],
    );
  }
  const adaptive = { batch: 2, channels: 3, inH: 9, inW: 8, outH: 4, outW: 3 };
  kernel("adaptiveAvgPool2d 9×8 → 4×3", [poolX, randn(2 * 3 * 4 * 3, 33)], (b, [xv, gy]) => [
    b.adaptiveAvgPool2d(xv, adaptive),
    b.adaptiveAvgPool2dBackward(gy, adaptive),
  ]);

  // Detection: RoI Align and RoI pooling, boxes inside, across and outside the map, one on the second
  // image, one naming no image (it contributes nothing), one inverted.
  const roiX = randn(2 * 3 * 9 * 8, 52);
  const rois = Float32Array.of(
    ...[0, 0.5, 1.2, 6.3, 7.9],
    ...[1, -2, -1.5, 3.5, 4],
    ...[1, 4.5, 5, 12, 11],
    ...[0, 2, 2, 2.2, 2.6],
    ...[5, 1, 1, 4, 4],
    ...[0, 6, 7, 1, 2],
  );
  const roi = { batch: 2, channels: 3, height: 9, width: 8, numRois: 6, pooledH: 3, pooledW: 2 };
  const roiGy = randn(6 * 3 * 3 * 2, 53);
  for (const [samplingRatio, aligned, spatialScale] of [
    [2, false, 1],
    [-1, true, 0.5],
    [-1, false, 1.5],
  ] as const) {
    const g = { ...roi, spatialScale, samplingRatio, aligned };
    kernel(
      `roiAlign sampling ${samplingRatio} aligned ${aligned} scale ${spatialScale}`,
      [roiX, rois, roiGy],
      (b, [xv, r, gy]) => [b.roiAlign(xv, r, g), b.roiAlignBackward(gy, r, g)],
    );
  }
  for (const spatialScale of [1, 0.5]) {
    const g = { ...roi, spatialScale };
    kernel(`roiPool scale ${spatialScale}`, [roiX, rois, roiGy], (b, [xv, r, gy]) => {
      const { y, argmax } = b.roiPool(xv, r, g);
      return [y, argmax, b.roiPoolBackward(gy, argmax, r, g)];
    });
  }

  // topk: rows longer than a workgroup, ties (rounded values), a NaN and infinities.
  const topX = randn(3 * 300, 54).map((v) => Math.round(v * 4) / 4);
  topX[17] = Number.NaN;
  topX[301] = Number.POSITIVE_INFINITY;
  topX[302] = Number.NEGATIVE_INFINITY;
  for (const [k, largest] of [
    [5, true],
    [40, false],
    [300, true],
  ] as const) {
    const g = { rows: 3, size: 300, k, largest };
    kernel(`topk k ${k} of 300, largest ${largest}`, [topX, randn(3 * k, 55)], (b, [xv, gy]) => {
      const { values, indices } = b.topk(xv, g);
      return [values, indices, b.topkBackward(gy, indices, g)];
    });
  }

  // Batch norm.
  const bn = { batch: 4, channels: 3, spatial: 50 };
  const bnX = randn(600, 34, 2, 1);
  const bnGy = randn(600, 35);
  const stats = [randn(3, 36), randn(3, 37).map((v) => Math.abs(v) + 0.5), randn(3, 38), randn(3, 39)];
  // 600 values per channel: one workgroup per channel on a GPU, one thread per channel on a software
  // adapter; `tiled` runs the workgroup kernels there too. 128 values (short) always run one thread each.
  for (const tiled of [false, true]) {
    const how = tiled ? " (workgroup kernels)" : "";
    kernel(`batchNormStats${how}`, [bnX], (b, [xv]) => b.batchNormStats(xv, bn), { tiled });
    kernel(
      `batchNormStats of 1000 ± 0.1${how}`,
      [randn(600, 40, 0.1, 1000)],
      (b, [xv]) => b.batchNormStats(xv, bn),
      { atol: 1e-4, rtol: 1e-3, tiled },
    );
  }
  const shortBn = { batch: 2, channels: 300, spatial: 64 };
  kernel("batchNormStats, 300 short channels", [randn(2 * 300 * 64, 43, 2, 1)], (b, [xv]) =>
    b.batchNormStats(xv, shortBn),
  );
  kernel("batchNormForward with and without affine", [bnX, ...stats], (b, [xv, m, inv, w, bias]) => [
    b.batchNormForward(xv, m, inv, w, bias, bn),
    b.batchNormForward(xv, m, inv, null, null, bn),
  ]);
  for (const [training, tiled] of [
    [true, false],
    [false, false],
    [true, true],
  ]) {
    kernel(
      `batchNormBackward training ${training}${tiled ? " (workgroup kernels)" : ""}`,
      [bnGy, bnX, ...stats],
      (b, [gy, xv, m, inv, w]) =>
        [
          b.batchNormBackward(gy, xv, m, inv, w, training, bn),
          b.batchNormBackward(gy, xv, m, inv, null, training, bn),
        ].flatMap((o) => [o.dx, o.dWeight, o.dBias]),
      { atol: 1e-4, tiled },
    );
  }
  kernel(
    "batchNormBackward, 300 short channels",
    [
      randn(2 * 300 * 64, 44),
      randn(2 * 300 * 64, 45, 2, 1),
      randn(300, 46),
      randn(300, 47).map((v) => Math.abs(v) + 0.5),
      randn(300, 48),
    ],
    (b, [gy, xv, m, inv, w]) => {
      const o = b.batchNormBackward(gy, xv, m, inv, w, true, shortBn);
      return [o.dx, o.dWeight, o.dBias];
    },
    { atol: 1e-4 },
  );

  // Loss.
  const logits = randn(6 * 11, 41, 3);
  const target = new Float32Array(66);
  ints(6, 42, 0, 11).forEach((l, row) => (target[row * 11 + l] = 1));
  kernel("softmaxCrossEntropy forward and backward", [logits, target, randn(6, 43)], (b, [l, t, g]) => {
    const { loss, logProbs } = b.softmaxCrossEntropy(l, t, 6, 11);
    return [loss, logProbs, b.softmaxCrossEntropyBackward(logProbs, t, g, 6, 11)];
  });

  // Optimizers.
  const p = randn(300, 44);
  const grad = randn(300, 45);
  const state = randn(300, 46).map(Math.abs);
  const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
  kernel("sgd plain", [p, grad], (b, [pv, g]) => b.sgdUpdate(pv, g, null, { ...sgd, momentum: 0 }));
  kernel("sgd momentum first step", [p, grad], (b, [pv, g]) => b.sgdUpdate(pv, g, null, sgd));
  kernel("sgd nesterov + weight decay + dampening, in place", [p, grad, state], (b, [pv, g, m]) =>
    b.sgdUpdate(pv, g, m, { ...sgd, nesterov: true, weightDecay: 0.01, dampening: 0.1, inPlace: true }),
  );
  kernel("sgd maximize", [p, grad, state], (b, [pv, g, m]) =>
    b.sgdUpdate(pv, g, m, { ...sgd, maximize: true }),
  );
  const adam = {
    lr: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    decoupledWeightDecay: false,
    amsgrad: false,
    maximize: false,
    step: 1,
  };
  kernel("adam step 1", [p, grad, state, state], (b, [pv, g, m, v]) => b.adamUpdate(pv, g, m, v, null, adam));
  kernel("adam amsgrad + weight decay, step 3", [p, grad, state, state, state], (b, [pv, g, m, v, vm]) =>
    b.adamUpdate(pv, g, m, v, vm, { ...adam, amsgrad: true, weightDecay: 0.01, step: 3 }),
  );
  kernel("adamw maximize in place", [p, grad, state, state], (b, [pv, g, m, v]) =>
    b.adamUpdate(pv, g, m, v, null, {
      ...adam,
      decoupledWeightDecay: true,
      weightDecay: 0.05,
      maximize: true,
      step: 2,
      inPlace: true,
    }),
  );
  return cases;
}

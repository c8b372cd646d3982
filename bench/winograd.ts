// Per-layer timing of stride-1 convolutions through the im2col GEMM and through Winograd (kernels/winograd.ts):
// by default the 3x3 layers of ResNet-18 at 224x224 (64 ch at 56x56, 128 at 28x28, 256 at 14x14, 512 at
// 7x7, padding 1) with F(2x2,3x3) and F(4x4,3x3); with --kernel 5 the 5x5 layers of the ConvNetJS CIFAR-10
// net (3->16 at 32x32, 16->20 at 16x16, 20->20 at 8x8, padding 2), LeNet-5's conv2 (6->16 at 14x14,
// padding 0) and 64 ch at 28x28 with F(2x2,5x5) (f2). 1 and 2 threads, batch 1 and 16, in one process.
// Variants alternate within each round of runs, so drift of a shared machine hits them alike; cells are
// medians.
// Run: node --import tsx bench/winograd.ts [options]; `--help` lists them (batch, threads, reps, kernel,
// variants, layers, --accuracy, --backward, --cold). The cached variants' transformed weights are filled in
// the warm-up runs (a free transform).
import { F, tensor } from "../src/index.js";
import type { Conv2dGeometry } from "../src/backend/backend.js";
import { conv2dBackwardInput, conv2dForward } from "../src/backend/wasm/conv.js";
import { createWasmRuntime, type WasmRuntime } from "../src/backend/wasm/runtime.js";
import { WasmStorage } from "../src/backend/wasm/storage.js";
import {
  winogradConv2dBackwardInput,
  winogradConv2dForward,
  type WinogradOptions,
} from "../src/backend/wasm/winograd.js";
import { winogradWeightCache } from "../src/backend/wasm/winograd-cache.js";
import { UsageError, oneOfList, orExit, parseCommandLine, positiveInts } from "./args.js";

/** [input channels, output channels, height = width, padding]. */
type Layer = [C: number, O: number, S: number, pad: number];
const RESNET18: Layer[] = [
  [64, 64, 56, 1],
  [128, 128, 28, 1],
  [256, 256, 14, 1],
  [512, 512, 7, 1],
];
/** The CIFAR-10 demo net's convs, LeNet-5's conv2 and a bigger layer. */
const FIVE: Layer[] = [
  [3, 16, 32, 2],
  [16, 20, 16, 2],
  [20, 20, 8, 2],
  [6, 16, 14, 0],
  [64, 64, 28, 2],
];

const COMMAND = "node --import tsx bench/winograd.ts";
const flags = parseCommandLine({
  command: COMMAND,
  summary:
    "Per-layer timing of stride-1 convolutions, im2col GEMM against Winograd variants, 1 and 2 threads\n" +
    "(the 3x3 layers of ResNet-18, or with --kernel 5 the CIFAR-10 net's 5x5 layers).",
  options: {
    batch: { type: "string", value: "LIST", help: "batch sizes", default: "1,16" },
    threads: { type: "string", value: "LIST", help: "thread counts", default: "1,2" },
    kernel: { type: "string", value: "3|5", help: "kernel size", default: "3" },
    variants: {
      type: "string",
      value: "LIST",
      help:
        "im2col,f2,f4,auto,f2t,f4t,f2f,f4f,f2c,f4c,autoc (t: weights transformed first, f: fused per unit, " +
        "c: transformed weights from the cache); default im2col,f2,f4,auto (kernel 5: im2col,f2,auto)",
    },
    reps: { type: "string", value: "N", help: "timed runs per cell (0: by time)", default: "0" },
    layers: {
      type: "string",
      value: "C:O@S[pP],...",
      help: "other layers (padding P, default (kernel - 1) / 2)",
    },
    accuracy: {
      type: "boolean",
      help: "instead: error of each variant against the js backend in float64, batch 2",
    },
    backward: { type: "boolean", help: "the input gradient instead of the forward: dx from dy and w" },
    cold: {
      type: "boolean",
      help: "overwrite 64 MiB before each timed run (weights and data come from memory)",
    },
  },
});
const BATCHES = orExit(() => positiveInts(COMMAND, "batch", flags.batch));
const THREADS = orExit(() => positiveInts(COMMAND, "threads", flags.threads));
/** Kernel size r (3 or 5). */
const K = Number(orExit(() => oneOfList(COMMAND, "kernel", flags.kernel, ["3", "5"]))[0]);
const VARIANTS = (flags.variants ?? (K === 3 ? "im2col,f2,f4,auto" : "im2col,f2,auto")).split(",");
const REPS = flags.reps === "0" ? 0 : orExit(() => positiveInts(COMMAND, "reps", flags.reps))[0];
/** --layers 16:32@32,6:16@14p0 (C:O@size, padding pP) replaces the default layers. */
const LAYERS: Layer[] =
  flags.layers === undefined ? (K === 3 ? RESNET18 : FIVE) : orExit(() => parseLayers(flags.layers!));

function parseLayers(text: string): Layer[] {
  return text.split(",").map((l) => {
    const m = /^(\d+):(\d+)@(\d+)(?:p(\d+))?$/.exec(l.trim());
    if (!m)
      throw new UsageError(
        `${COMMAND}: --layers expects C:O@S or C:O@SpP items (e.g. 16:32@32p1), got '${l}'`,
      );
    return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? (K - 1) / 2 : Number(m[4])];
  });
}

function convShape(N: number, layer: Layer): Conv2dGeometry {
  const [C, O, S, pad] = layer;
  const out = outSize(layer);
  return {
    ...{
      batch: N,
      inChannels: C,
      inH: S,
      inW: S,
      outChannels: O,
      outH: out,
      outW: out,
      kernelH: K,
      kernelW: K,
    },
    ...{ strideH: 1, strideW: 1, padH: pad, padW: pad, dilationH: 1, dilationW: 1, groups: 1 },
  };
}

/** Output height = width of a layer. */
function outSize([, , S, pad]: Layer): number {
  return S + 2 * pad - K + 1;
}
type Run = (
  rt: WasmRuntime,
  s: Conv2dGeometry,
  x: number,
  w: number,
  b: number,
  y: number,
  storage: WasmStorage,
) => void;
const BACKWARD = flags.backward;
const COLD = flags.cold;
const COLD_BYTES = 64 << 20;

/** Forward: y from x; --backward: the input gradient written over x from y (as dy). */
function winograd(options: WinogradOptions, cached = false): Run {
  const opts = (storage: WasmStorage) => (cached ? { ...options, weightStorage: storage } : options);
  return BACKWARD
    ? (rt, s, x, w, _b, y, st) => winogradConv2dBackwardInput(rt, s, y, w, x, opts(st))
    : (rt, s, x, w, b, y, st) => winogradConv2dForward(rt, s, x, w, b, y, opts(st));
}

function conv(algorithm: "auto" | "im2col", cached = false): Run {
  const key = (storage: WasmStorage) => (cached ? storage : undefined);
  return BACKWARD
    ? (rt, s, x, w, _b, y, st) => conv2dBackwardInput(rt, s, y, w, x, false, algorithm, key(st))
    : (rt, s, x, w, b, y, st) => conv2dForward(rt, s, x, w, b, y, algorithm, key(st));
}

const RUNS: Record<string, { label: string; run: Run }> = {
  im2col: { label: "im2col", run: conv("im2col") },
  auto: { label: "dispatch", run: conv("auto") },
  f2: { label: `F(2,${K})`, run: winograd({ tile: 2 }) },
  f4: { label: `F(4,${K})`, run: winograd({ tile: 4 }) },
  f2t: { label: `F(2,${K}) transformed`, run: winograd({ tile: 2, weights: "transformed" }) },
  f4t: { label: `F(4,${K}) transformed`, run: winograd({ tile: 4, weights: "transformed" }) },
  f2f: { label: `F(2,${K}) fused`, run: winograd({ tile: 2, weights: "fused" }) },
  f4f: { label: `F(4,${K}) fused`, run: winograd({ tile: 4, weights: "fused" }) },
  f2c: { label: `F(2,${K}) cached`, run: winograd({ tile: 2, weights: "transformed" }, true) },
  f4c: { label: `F(4,${K}) cached`, run: winograd({ tile: 4, weights: "transformed" }, true) },
  autoc: { label: "dispatch, cache", run: conv("auto", true) },
};

/**
 * ResNet-like data: post-ReLU activations, He-initialised weights (uniform, std sqrt(2 / (K² C))), small
 * bias; with --backward, dy (in y's place) uniform in [-1, 1).
 */
function layerData(
  N: number,
  layer: Layer,
): { x: Float32Array; w: Float32Array; b: Float32Array; dy: Float32Array } {
  const [C, O, S] = layer;
  const x = new Float32Array(N * C * S * S).map(() => Math.max(0, Math.random() * 2 - 1));
  const limit = Math.sqrt(2 / (C * K * K)) * Math.sqrt(3);
  const w = new Float32Array(O * C * K * K).map(() => (Math.random() * 2 - 1) * limit);
  const b = new Float32Array(O).map(() => Math.random() * 0.1);
  const dy = new Float32Array(BACKWARD ? N * O * outSize(layer) ** 2 : 0).map(() => Math.random() * 2 - 1);
  return { x, w, b, dy };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function upload(rt: WasmRuntime, a: Float32Array): number {
  const p = rt.mem.alloc(a.length * 4);
  rt.mem.writeF32(p, a);
  return p;
}

/**
 * Worst |error| over max |y| and RMS error over RMS y of each variant against float64 on the js backend
 * (--backward: of dx).
 */
function accuracy(rt: WasmRuntime, N: number, layer: Layer): string[] {
  const [C, O, S, pad] = layer;
  const d = layerData(N, layer);
  const js = (a: Float32Array, shape: number[]) =>
    tensor(Float64Array.from(a), shape, { backend: "js", dtype: "float64" });
  const OS = outSize(layer);
  const ref = BACKWARD
    ? F.convTranspose2d(js(d.dy, [N, O, OS, OS]), js(d.w, [O, C, K, K]), null, { padding: pad }).toArray()
    : F.conv2d(js(d.x, [N, C, S, S]), js(d.w, [O, C, K, K]), js(d.b, [O]), { padding: pad }).toArray();
  let yMax = 0;
  let ySq = 0;
  for (const v of ref) {
    yMax = Math.max(yMax, Math.abs(v));
    ySq += v * v;
  }
  const s = convShape(N, layer);
  // Backward runs write dx over x from dy in y's place.
  const x = upload(rt, d.x);
  const w = upload(rt, d.w);
  const b = upload(rt, d.b);
  const y = BACKWARD ? upload(rt, d.dy) : rt.mem.alloc(ref.length * 4);
  const out = BACKWARD ? x : y;
  const storage = new WasmStorage("float32", O * C * K * K, w);
  const cells = VARIANTS.map((v) => {
    try {
      RUNS[v].run(rt, s, x, w, b, y, storage);
    } catch {
      return "—";
    }
    const got = rt.mem.readF32(out, ref.length);
    let worst = 0;
    let sq = 0;
    for (let i = 0; i < ref.length; i++) {
      const e = Math.abs(got[i] - ref[i]);
      worst = Math.max(worst, e);
      sq += e * e;
    }
    return `${(worst / yMax).toExponential(1)}, ${Math.sqrt(sq / ySq).toExponential(1)}`;
  });
  winogradWeightCache(rt).clear();
  for (const p of [x, w, b, y]) rt.mem.free(p);
  return cells;
}

/** Median ms of each variant and the widest interquartile range relative to its median. */
function measure(rt: WasmRuntime, N: number, layer: Layer): { ms: number[]; spread: number } {
  const [C, O] = layer;
  const s = convShape(N, layer);
  const data = layerData(N, layer);
  const x = upload(rt, data.x);
  const w = upload(rt, data.w);
  const b = upload(rt, data.b);
  const y = BACKWARD ? upload(rt, data.dy) : rt.mem.alloc(N * O * outSize(layer) ** 2 * 4);
  // The weights' identity for the cached variants (their transform is cached in the warm-up runs).
  const storage = new WasmStorage("float32", O * C * K * K, w);
  // A variant that cannot run this layer (a forced fused transform that does not fit) shows as NaN.
  const runs = VARIANTS.map((v) => {
    try {
      for (let i = 0; i < 2; i++) RUNS[v].run(rt, s, x, w, b, y, storage);
      return RUNS[v].run;
    } catch {
      return null;
    }
  });
  const reps = REPS > 0 ? REPS : N === 1 ? 21 : 7;
  const times: number[][] = runs.map(() => []);
  const flush = COLD ? rt.mem.alloc(COLD_BYTES) : 0;
  for (let r = 0; r < reps; r++) {
    runs.forEach((run, i) => {
      if (run === null) return void times[i].push(NaN);
      if (COLD) rt.mem.f32().fill(r + i, flush >> 2, (flush + COLD_BYTES) >> 2);
      const t0 = performance.now();
      run(rt, s, x, w, b, y, storage);
      times[i].push(performance.now() - t0);
    });
  }
  winogradWeightCache(rt).clear();
  for (const p of [x, w, b, y]) rt.mem.free(p);
  if (COLD) rt.mem.free(flush);
  let spread = 0;
  const ms = times.map((t) => {
    if (t.some(Number.isNaN)) return NaN;
    const sorted = [...t].sort((p, q) => p - q);
    const med = quantile(sorted, 0.5);
    spread = Math.max(spread, (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / med);
    return med;
  });
  return { ms, spread };
}

orExit(() => oneOfList(COMMAND, "variants", VARIANTS.join(","), Object.keys(RUNS)));
const rt = await createWasmRuntime({ maximumBytes: 4 * 2 ** 30 });
const layerName = ([C, O, S, pad]: Layer) =>
  `${C === O ? C : `${C}→${O}`} ch @ ${S}×${S}${pad === (K - 1) / 2 ? "" : ` pad ${pad}`}`;
if (flags.accuracy) {
  const what = BACKWARD ? "dx" : "y";
  const header = [
    "layer",
    "batch",
    ...VARIANTS.map((v) => `${RUNS[v].label} error: max ÷ max ${what}, RMS ÷ RMS ${what}`),
  ];
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const layer of LAYERS)
    console.log(`| ${[layerName(layer), 2, ...accuracy(rt, 2, layer)].join(" | ")} |`);
} else {
  const base = VARIANTS.indexOf("im2col");
  const others = VARIANTS.filter((v) => v !== "im2col");
  const header = [
    "layer",
    "batch",
    "threads",
    ...VARIANTS.map((v) => `${RUNS[v].label} ms`),
    ...(base >= 0 ? others.map((v) => `im2col ÷ ${RUNS[v].label}`) : []),
    "IQR",
  ];
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const threads of THREADS) {
    await rt.setNumThreads(threads);
    if (rt.numThreads !== threads) {
      console.log(`(${threads} threads unavailable: no shared memory)`);
      continue;
    }
    for (const N of BATCHES) {
      for (const layer of LAYERS) {
        const { ms, spread } = measure(rt, N, layer);
        const fmt = (t: number) => (Number.isNaN(t) ? "—" : t.toFixed(2));
        const ratio = (t: number) => (Number.isNaN(t) ? "—" : `${(ms[base] / t).toFixed(2)}×`);
        const ratios = base >= 0 ? ms.filter((_, i) => i !== base).map(ratio) : [];
        const cells = [
          layerName(layer),
          N,
          threads,
          ...ms.map(fmt),
          ...ratios,
          `${(100 * spread).toFixed(0)} %`,
        ];
        console.log(`| ${cells.join(" | ")} |`);
      }
    }
  }
}
rt.dispose();

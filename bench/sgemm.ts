// SGEMM throughput of the wasm kernels: prints a Markdown table of GFLOP/s (median of repeated runs) for
// the plain-SIMD and relaxed-SIMD (FMA) builds, 1 and 2 threads. Run: npm run bench:sgemm [-- --ms N]
import { sgemm } from "../src/backend/wasm/gemm.js";
import { createWasmRuntime, type WasmRuntime } from "../src/backend/wasm/runtime.js";
import { orExit, parseCommandLine, positiveInts } from "./args.js";

const SHAPES: [number, number, number][] = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [64, 4096, 576],
];
const THREADS = [1, 2];
const COMMAND = "npm run bench:sgemm --";
const flags = parseCommandLine({
  command: COMMAND,
  summary: "GFLOP/s of the wasm SGEMM kernels (plain SIMD and relaxed SIMD), 1 and 2 threads, four shapes.",
  options: {
    ms: {
      type: "string",
      value: "N",
      help: "time each shape for at least N ms (also the BENCH_MS variable)",
      default: process.env.BENCH_MS ?? "600",
    },
  },
});
const MIN_MS = orExit(() => positiveInts(COMMAND, "ms", flags.ms))[0];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(rt: WasmRuntime, M: number, N: number, K: number): number {
  const a = rt.mem.alloc(M * K * 4);
  const b = rt.mem.alloc(K * N * 4);
  const c = rt.mem.alloc(M * N * 4);
  const f = rt.mem.f32();
  for (let i = 0; i < M * K; i++) f[(a >> 2) + i] = Math.random() - 0.5;
  for (let i = 0; i < K * N; i++) f[(b >> 2) + i] = Math.random() - 0.5;
  const call = () => sgemm(rt, { M, N, K, a, b, c });
  for (let i = 0; i < 2; i++) call();
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < MIN_MS || times.length < 5) {
    const t0 = performance.now();
    call();
    times.push(performance.now() - t0);
  }
  for (const p of [a, b, c]) rt.mem.free(p);
  return (2 * M * N * K) / (median(times) * 1e6);
}

const rows: string[] = [];
const header = [
  "build",
  "threads",
  ...SHAPES.map(([m, n, k]) => (m === n && n === k ? `${m}³` : `${m}×${n}×${k}`)),
];
rows.push(`| ${header.join(" | ")} |`);
rows.push(`|${header.map(() => "---").join("|")}|`);
for (const relaxed of [false, true]) {
  const rt = await createWasmRuntime({ relaxed });
  if (relaxed && !rt.relaxed) {
    rows.push(`| relaxed (unavailable) | | ${SHAPES.map(() => "").join(" | ")} |`);
    continue;
  }
  for (const threads of THREADS) {
    await rt.setNumThreads(threads);
    if (rt.numThreads !== threads) continue;
    const cells = SHAPES.map(([m, n, k]) => measure(rt, m, n, k).toFixed(1));
    rows.push(`| ${relaxed ? "relaxed-simd (FMA)" : "simd"} | ${threads} | ${cells.join(" | ")} |`);
  }
  rt.dispose();
}
console.log("SGEMM GFLOP/s (median), C = A·B, row-major f32\n");
console.log(rows.join("\n"));

// Shared by the benchmark's case runners: the timing policy (warm-up, then repeated timed runs until a time
// budget is spent, reporting the median), the result line a case prints for bench/run.ts to read, and the
// workload definitions every implementation must match (LeNet-5, the ConvNetJS CIFAR-10 net, ResNets).
// bench/peers/torch_bench.py mirrors the same policy and workloads in Python.

import { spawn } from "node:child_process";

/** One benchmark case, as run.ts passes it to a child process (JSON on the command line). */
export interface CaseSpec {
  /** Which benchmark: "lenet" | "cifar" | "resnet18" | "resnet50" | "resnet18-train" | "sgemm" | "loop" | "zoo-infer" | "zoo-train". */
  task: string;
  /** Which implementation: "striate-wasm" | "striate-js" | "striate-webgpu" | "convnetjs" | "tfjs-cpu" | "tfjs-wasm" | "tfjs-webgpu" | "ort" | "torch" | "numpy". */
  impl: string;
  threads: number;
  /** Training/inference batch size (ignored by sgemm). */
  batch: number;
  /** Time budget of the timed runs in ms (after warm-up). */
  budgetMs: number;
  /** Timed runs at least (unless one run alone exceeds maxRunMs). */
  minReps: number;
  /** Warm-up runs. */
  warmup: number;
  /** Give up (and report a skip) when one warm-up run takes longer than this. */
  maxRunMs: number;
  /** sgemm: [M, N, K] shapes. */
  shapes?: [number, number, number][];
  quick?: boolean;
  /** Zoo cases (bench/zoo-case.ts): the registry name of the model. */
  model?: string;
  /** Zoo cases: timed runs at most (the count is chosen from the first run's time). */
  maxReps?: number;
  /** ResNet cases: the square input's side (default 224; the webgpu section shrinks it on software adapters). */
  size?: number;
}

/** What a case reports: a figure (higher is better unless `unit` is "ms") or the reason it has none. */
export interface CaseResult {
  value?: number;
  unit?: string;
  reps?: number;
  /** Per-shape figures (sgemm). */
  values?: Record<string, number>;
  skip?: string;
  note?: string;
  /** Threads the implementation actually used, where it can say. */
  actualThreads?: number;
}

export const RESULT_PREFIX = "BENCH_RESULT ";

/**
 * Starts a case process (`command args`), kills it after `timeoutMs`, and resolves to the result line it
 * printed, or to a skip saying why there is none (timed out, or the exit code and its last stderr line).
 */
export function spawnCase(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<CaseResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
      if (line) return resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as CaseResult);
      const why = code === null ? `timed out after ${timeoutMs / 1000} s` : `exited with ${code}`;
      const detail = err.trim().split("\n").slice(-1)[0] ?? "";
      resolve({ skip: `failed: ${why} ${detail}`.trim().slice(0, 200) });
    });
  });
}

export function printResult(result: CaseResult): void {
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Thrown when a warm-up run is too slow to measure within the budget. */
export class TooSlow extends Error {}

/**
 * Runs `fn` `warmup` times, then times runs until `budgetMs` has passed and at least `minReps` ran (a
 * run longer than the whole budget counts once more, at most), and returns the median ms and the count.
 */
export async function timeIt(
  fn: () => unknown | Promise<unknown>,
  spec: Pick<CaseSpec, "warmup" | "budgetMs" | "minReps" | "maxRunMs">,
): Promise<{ ms: number; reps: number }> {
  for (let i = 0; i < spec.warmup; i++) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    if (dt > spec.maxRunMs) throw new TooSlow(`one run takes ${(dt / 1000).toFixed(1)} s`);
  }
  const times: number[] = [];
  const start = performance.now();
  while (times.length < spec.minReps || performance.now() - start < spec.budgetMs) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    if (times.length >= 2 && performance.now() - start > 3 * spec.budgetMs) break;
  }
  return { ms: median(times), reps: times.length };
}

/** Deterministic pseudo-random floats in [0, 1) (xorshift), so every peer sees comparable data. */
export function randomFloats(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 4294967296;
  }
  return out;
}

export function randomLabels(n: number, classes: number, seed = 2): Int32Array {
  const f = randomFloats(n, seed);
  return Int32Array.from(f, (v) => Math.floor(v * classes));
}

/** Input shape [C, H, W] of each training task. */
export const TRAIN_INPUT: Record<string, [number, number, number]> = {
  lenet: [1, 28, 28],
  cifar: [3, 32, 32],
};

/** Learning rate and momentum of the training tasks (the values only matter for being equal across peers). */
export const LR = 0.01;
export const MOMENTUM = 0.9;

/** Result helper for a training case: images per second from the median step time. */
export function imagesPerSecond(batch: number, ms: number): number {
  return (batch * 1000) / ms;
}

export function errorMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0].slice(0, 200);
}

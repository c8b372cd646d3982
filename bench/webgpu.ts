// The webgpu section of `npm run bench` (`--only webgpu`): LeNet-5 and CIFAR-net training, a ResNet-18
// training step (batch 32) and ResNet-18 inference (batch 1 and 16) on Striate's webgpu backend beside
// TF.js's webgpu backend (the same Dawn binding), Striate's wasm backend and PyTorch on the CPU, one fresh
// process per case as in the rest of the benchmark (bench/case.ts, bench/peers/torch_bench.py).
//
// In Node (the default) Dawn picks the machine's GPU itself; on a machine without one the section falls back
// to SwiftShader's Vulkan driver (VK_ICD_FILENAMES), shrinks the ResNet cases and says that its figures only
// show that every case runs. `--webgpu-in chromium` runs Striate's two backends on a Chromium page instead
// (test/browser/webgpu-bench.ts; STRIATE_WEBGPU=hardware lets Chromium use the GPU). Either way the adapter's
// name is printed first, so the one command runs unchanged on a machine with a GPU (docs/webgpu.md).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openChromium, WEBGPU_FLAGS } from "../test/browser/chromium.js";
import type { BenchCase, BenchRow } from "../test/browser/webgpu-bench.js";
import type { CaseResult, CaseSpec } from "./common.js";
import { ADAPTER_PREFIX, type AdapterProbe } from "./webgpu-adapter.js";
import { SWIFTSHADER_ICD } from "../src/backend/webgpu/device.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Chromium flags for a real GPU: WebGPU on, the GPU process on (chromium.ts drops --disable-gpu). */
const HARDWARE_FLAGS = [
  "--enable-gpu",
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--ignore-gpu-blocklist",
];

/** Longest a case may take (SwiftShader runs a ResNet-18 training step in minutes). */
const CASE_TIMEOUT_MS = 30 * 60_000;

export type WebGpuTask = "lenet" | "cifar" | "resnet18-train" | "resnet18";

/** One row of the section: a workload, timed the same way on every implementation. */
export interface WebGpuCase {
  task: WebGpuTask;
  batch: number;
  /** Square input side. */
  size: number;
  warmup: number;
  /** Timed steps at least (fewer only when a budget is set and they run long). */
  steps: number;
  /** Time budget of the timed steps in ms (0: exactly `steps`). */
  budgetMs: number;
}

/** The implementations, in the table's column order. */
export const IMPLS = ["striate-webgpu", "tfjs-webgpu", "striate-wasm", "torch"] as const;
export type WebGpuImpl = (typeof IMPLS)[number];

/**
 * The cases: the workloads at full size on a GPU (10 timed steps after 3 warm-up steps, or until 2 s
 * have passed); on a software adapter ResNet-18 runs on 32×32 inputs and trains on batch 8, and every case
 * times one step after one warm-up step (SwiftShader takes minutes per ResNet-18 step; its training step
 * needs no `warmup`: every training case first runs one untimed step that checks the loss); `quick` is a
 * smoke run.
 */
export function webGpuPlan(options: { software: boolean; quick: boolean }): WebGpuCase[] {
  const { software, quick } = options;
  const timing =
    quick || software
      ? { warmup: 1, steps: quick && !software ? 2 : 1, budgetMs: 0 }
      : { warmup: 3, steps: 10, budgetMs: 2_000 };
  const tiny = quick && software;
  const resnetSize = software ? 32 : 224;
  return [
    { task: "lenet", batch: tiny ? 8 : 64, size: 28, ...timing },
    { task: "cifar", batch: tiny ? 8 : 64, size: 32, ...timing },
    {
      task: "resnet18-train",
      batch: tiny ? 2 : software ? 8 : 32,
      size: resnetSize,
      ...timing,
      warmup: software ? 0 : timing.warmup,
    },
    { task: "resnet18", batch: 1, size: resnetSize, ...timing },
    { task: "resnet18", batch: tiny ? 2 : 16, size: resnetSize, ...timing },
  ];
}

/**
 * The case as bench/case.ts and torch_bench.py take it (their timing policy: bench/common.ts timeIt). The CPU
 * implementations take at least 2 warm-up and 5 timed steps or 1 s: the step caps are for SwiftShader, and
 * one CPU step on a shared machine is noise.
 */
export function caseSpec(c: WebGpuCase, impl: WebGpuImpl, threads: number): CaseSpec {
  const cpu = impl === "striate-wasm" || impl === "torch";
  return {
    task: c.task,
    impl,
    threads: cpu ? threads : 1,
    batch: c.batch,
    size: c.size,
    warmup: cpu ? Math.max(c.warmup, 2) : c.warmup,
    minReps: cpu ? Math.max(c.steps, 5) : c.steps,
    budgetMs: cpu ? Math.max(c.budgetMs, 1_000) : c.budgetMs,
    maxRunMs: CASE_TIMEOUT_MS,
  };
}

const LABELS: Record<WebGpuTask, string> = {
  lenet: "LeNet-5 training",
  cifar: "CIFAR-net training",
  "resnet18-train": "ResNet-18 training step",
  resnet18: "ResNet-18 inference",
};

/** Milliseconds per step of a result (results are img/s, or ms for batch-1 latency), or null without one. */
export function msPerStep(result: CaseResult | undefined, batch: number): number | null {
  if (result?.value === undefined) return null;
  return result.unit === "ms" ? result.value : (batch * 1000) / result.value;
}

const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toPrecision(3));

function cell(result: CaseResult | undefined, batch: number): string {
  const ms = msPerStep(result, batch);
  if (ms === null) return result?.skip ? result.skip.replace(/\|/g, "/").slice(0, 120) : "–";
  return `${fmt(ms)} ms (${fmt((batch * 1000) / ms)} img/s)`;
}

/** How many times faster Striate webgpu is than `peer` on a case ("–" without both figures). */
function speedRatio(mine: number | null, peer: number | null): string {
  if (mine === null || peer === null) return "–";
  const r = peer / mine;
  return `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

/** What the section found and how it ran, for its heading and notes. */
export interface SectionInfo {
  runtime: "node" | "chromium";
  adapter: string;
  software: boolean;
  /** How the adapter was found, e.g. "Dawn on this machine's drivers". */
  found: string;
  /** CPU threads of Striate wasm and PyTorch. */
  threads: number;
  quick: boolean;
}

/** The section as Markdown: adapter first, the software note, one row per case, ratios, notes. */
export function formatWebGpuSection(
  info: SectionInfo,
  cases: readonly WebGpuCase[],
  results: ReadonlyMap<string, CaseResult>,
): string {
  const where = info.runtime === "node" ? "Node, Dawn" : "Chromium";
  const lines = [
    `## webgpu backend (${where}), adapter: ${info.adapter}\n`,
    `Adapter found by ${info.found}.\n`,
  ];
  if (info.software) {
    lines.push(
      "> **Software adapter:** these figures only show that every case runs on webgpu; they say nothing about " +
        "GPU speed (SwiftShader runs WGSL on the CPU). ResNet-18 runs on 32×32 inputs and trains on batch 8 here " +
        "(224×224, batch 32 on a GPU); webgpu cases time one step after one warm-up step. Run the same command " +
        "on a machine with a GPU for real figures.\n",
    );
  }
  const wasmLabel =
    info.runtime === "node" ? `Striate wasm (${info.threads} threads)` : "Striate wasm (page, 1 thread)";
  lines.push(
    `| case | batch | input | Striate webgpu | TF.js webgpu | ${wasmLabel} | PyTorch CPU (${info.threads} threads) | ` +
      "webgpu vs TF.js webgpu | webgpu vs wasm | webgpu vs PyTorch |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const c of cases) {
    const result = (impl: WebGpuImpl) => results.get(resultKey(c, impl));
    const ms = IMPLS.map((impl) => msPerStep(result(impl), c.batch));
    lines.push(
      `| ${LABELS[c.task]} | ${c.batch} | ${c.size}×${c.size} | ` +
        IMPLS.map((impl) => cell(result(impl), c.batch)).join(" | ") +
        ` | ${ms
          .slice(1)
          .map((peer) => speedRatio(ms[0], peer))
          .join(" | ")} |`,
    );
  }
  lines.push(
    "",
    "Figures: median ms per step (a training step, or one forward pass) after warm-up; a step ends with an " +
      "awaited read of its loss or output, so the GPU's work is inside the time. Ratios: how many times faster " +
      "Striate webgpu is (> 1: faster). An implementation that cannot run a case says why in its cell " +
      "(TF.js: an op without a gradient kernel on webgpu).",
  );
  if (info.runtime === "chromium")
    lines.push(
      "TF.js webgpu runs in the Node mode only (`npm run bench -- --only webgpu`); PyTorch runs in Node.",
    );
  if (info.quick)
    lines.push("--quick: a smoke run (tiny batches on a software adapter); not for comparison.");
  return lines.join("\n") + "\n";
}

export function resultKey(c: WebGpuCase, impl: WebGpuImpl): string {
  return `${c.task}/${c.batch}/${impl}`;
}

/** Runs one case in a fresh process and resolves to its result (bench/run.ts's runner). */
export type CaseRunner = (spec: CaseSpec, timeoutMs: number) => Promise<CaseResult>;

function probeAdapter(env: NodeJS.ProcessEnv): AdapterProbe {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(here, "webgpu-adapter.ts")], {
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  const line = (run.stdout ?? "").split("\n").find((l) => l.startsWith(ADAPTER_PREFIX));
  if (line) return JSON.parse(line.slice(ADAPTER_PREFIX.length)) as AdapterProbe;
  return {
    error: `the probe exited with ${run.status}: ${(run.stderr ?? "").trim().split("\n").pop() ?? ""}`,
  };
}

/**
 * Dawn's adapter in Node: with the environment as it is (a GPU's driver), else through SwiftShader's Vulkan
 * driver; sets VK_ICD_FILENAMES for the case processes in that case. Throws when neither gives one.
 */
function findNodeAdapter(): { adapter: string; software: boolean; found: string } {
  const own = probeAdapter(process.env);
  const how = process.env.VK_ICD_FILENAMES
    ? `Dawn (the \`webgpu\` package) through VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}`
    : "Dawn (the `webgpu` package) on this machine's own drivers";
  if ("adapter" in own) return { ...own, found: how };
  if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) {
    const env = { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD };
    const soft = probeAdapter(env);
    if ("adapter" in soft) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      return {
        ...soft,
        found:
          `Dawn through SwiftShader's Vulkan driver (VK_ICD_FILENAMES=${SWIFTSHADER_ICD}); ` +
          "it found none on this machine's own drivers",
      };
    }
  }
  throw new Error(`webgpu bench: Dawn finds no WebGPU adapter in Node: ${own.error}`);
}

function progress(c: WebGpuCase, impl: string, result: CaseResult, seconds: number): void {
  const ms = msPerStep(result, c.batch);
  const shown = ms === null ? (result.skip ?? "no figure") : `${fmt(ms)} ms/step`;
  process.stderr.write(`${shown} (${seconds.toFixed(1)} s)\n`);
}

async function runNode(quick: boolean, runCase: CaseRunner): Promise<void> {
  const found = findNodeAdapter();
  console.log(`webgpu bench: adapter ${found.adapter}, found by ${found.found}`);
  const threads = availableParallelism();
  const cases = webGpuPlan({ software: found.software, quick });
  const results = new Map<string, CaseResult>();
  for (const c of cases) {
    for (const impl of IMPLS) {
      process.stderr.write(`webgpu bench: ${c.task} batch ${c.batch} ${c.size}×${c.size} on ${impl} … `);
      const t0 = performance.now();
      const result = await runCase(caseSpec(c, impl, threads), CASE_TIMEOUT_MS);
      progress(c, impl, result, (performance.now() - t0) / 1000);
      results.set(resultKey(c, impl), result);
    }
  }
  console.log(formatWebGpuSection({ runtime: "node", ...found, threads, quick }, cases, results));
}

/** The page's case for a row (test/browser/webgpu-bench.ts names inference "resnet18-infer"). */
function pageCase(c: WebGpuCase, backend: "webgpu" | "wasm"): BenchCase {
  const task = c.task === "resnet18" ? "resnet18-infer" : c.task;
  return { task, backend, batch: c.batch, size: c.size, steps: c.steps, warmup: c.warmup };
}

async function runChromium(quick: boolean, runCase: CaseRunner): Promise<void> {
  const hardware = process.env.STRIATE_WEBGPU === "hardware";
  const chromium = await openChromium(hardware ? HARDWARE_FLAGS : WEBGPU_FLAGS);
  const results = new Map<string, CaseResult>();
  let probe: { adapter: string; software: boolean };
  let cases: WebGpuCase[];
  try {
    probe = await chromium.evaluate<{ adapter: string; software: boolean }>(
      "open",
      `import("./webgpu-bench.js").then((m) => m.adapter())`,
      120_000,
    );
    console.log(`webgpu bench: adapter ${probe.adapter} (Chromium${hardware ? ", hardware flags" : ""})`);
    cases = webGpuPlan({ software: probe.software, quick });
    // One page per case: progress shows between cases, and a case that fails leaves the others standing.
    for (const c of cases) {
      for (const backend of ["webgpu", "wasm"] as const) {
        process.stderr.write(
          `webgpu bench: ${c.task} batch ${c.batch} ${c.size}×${c.size} on ${backend} (page) … `,
        );
        const t0 = performance.now();
        const one = await chromium.evaluate<{ rows: BenchRow[] }>(
          "open",
          `import("./webgpu-bench.js").then((m) => m.run(${JSON.stringify([pageCase(c, backend)])}))`,
          CASE_TIMEOUT_MS,
        );
        const row = one.rows[0];
        const result: CaseResult = row.error
          ? { skip: `failed: ${row.error}` }
          : { value: row.ms, unit: "ms" };
        progress(c, backend, result, (performance.now() - t0) / 1000);
        results.set(resultKey(c, backend === "webgpu" ? "striate-webgpu" : "striate-wasm"), result);
      }
    }
  } finally {
    await chromium.close();
  }
  const threads = availableParallelism();
  for (const c of cases) {
    results.set(resultKey(c, "tfjs-webgpu"), { skip: "Node mode only" });
    process.stderr.write(`webgpu bench: ${c.task} batch ${c.batch} ${c.size}×${c.size} on torch … `);
    const t0 = performance.now();
    const result = await runCase(caseSpec(c, "torch", threads), CASE_TIMEOUT_MS);
    progress(c, "torch", result, (performance.now() - t0) / 1000);
    results.set(resultKey(c, "torch"), result);
  }
  const found = hardware
    ? "Chromium with the GPU process on (STRIATE_WEBGPU=hardware)"
    : "Chromium's SwiftShader (STRIATE_WEBGPU=hardware uses the GPU)";
  console.log(formatWebGpuSection({ runtime: "chromium", ...probe, found, threads, quick }, cases, results));
}

/** The section: in Node (default) or on a Chromium page (`--webgpu-in chromium`). */
export async function runWebGpuBench(options: {
  quick: boolean;
  runtime: "node" | "chromium";
  runCase: CaseRunner;
}): Promise<void> {
  if (options.runtime === "chromium") await runChromium(options.quick, options.runCase);
  else await runNode(options.quick, options.runCase);
}

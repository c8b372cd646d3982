// `npm run bench`: Striate against its peers on this machine, in one run, printed as Markdown tables of
// absolute figures and ratios (absolute times on a shared 2-core machine are noisy; ratios measured minutes
// apart are much steadier). Every case runs in a fresh process (bench/case.ts for the JavaScript ones,
// bench/peers/torch_bench.py for PyTorch and NumPy) and reports the median of its timed runs after warm-up.
// `--zoo` measures every zoo model instead (bench/zoo.ts). Options: `npm run bench -- --help`.
// Progress goes to stderr; the tables go to stdout.

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { type CaseSpec, type CaseResult, spawnCase } from "./common.js";
import { oneOfList, orExit, parseCommandLine, UsageError } from "./args.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The sections of the peer comparison, for --only. */
const SECTIONS = ["lenet", "cifar", "resnet18", "resnet50", "sgemm", "loop", "webgpu"] as const;
const COMMAND = "npm run bench --";
const flags = parseCommandLine({
  command: COMMAND,
  summary:
    "Striate against its peers (PyTorch, ONNX Runtime, TF.js, ConvNetJS, NumPy) on this machine, printed as\n" +
    "Markdown tables; or, with --zoo, every zoo model's latency, training step and memory (bench/zoo.ts).",
  options: {
    quick: { type: "boolean", help: "short budgets, slow peers left out: a smoke run of a few minutes" },
    json: {
      type: "string",
      value: "FILE",
      help:
        "also write the raw results (--zoo: where to write them; default docs/data/zoo-bench.json, " +
        "and then docs/models.md is regenerated from it)",
    },
    only: { type: "string", value: "SECTIONS", help: `run only these sections: ${SECTIONS.join(",")}` },
    "webgpu-in": {
      type: "string",
      value: "WHERE",
      default: "node",
      help: "the webgpu section: node (Dawn; beside TF.js webgpu, wasm, PyTorch) or chromium (a page)",
    },
    zoo: { type: "boolean", help: "measure the model zoo instead of the peer comparison (see --models)" },
    models: { type: "string", value: "NAMES", help: "--zoo: only these models (comma-separated names)" },
    note: {
      type: "string",
      value: "TEXT",
      help: "--zoo: a note stored with the results (e.g. 'preliminary')",
    },
  },
});

const usageError = (message: string) => () => {
  throw new UsageError(`${COMMAND}: ${message} (see --help)`);
};
if (flags.zoo) {
  if (flags.only !== undefined)
    orExit(usageError("--only picks peer-comparison sections; with --zoo use --models"));
  const { runZoo } = await import("./zoo.js");
  await runZoo({
    quick: flags.quick,
    json: flags.json,
    models: flags.models,
    note: flags.note,
    command: COMMAND,
  });
  process.exit(0);
}
for (const zooOnly of ["models", "note"] as const)
  if (flags[zooOnly] !== undefined) orExit(usageError(`--${zooOnly} only applies with --zoo`));

const quick = flags.quick;
const jsonOut = flags.json ?? null;
const only =
  flags.only === undefined ? null : orExit(() => oneOfList(COMMAND, "only", flags.only!, SECTIONS));
const webGpuIn = orExit(() => {
  const where = flags["webgpu-in"];
  if (where === "node" || where === "chromium") return where;
  throw new UsageError(`${COMMAND}: --webgpu-in takes node or chromium, got '${where}' (see --help)`);
});
const CASE_TIMEOUT_MS = quick ? 120_000 : 300_000;
/** Rounds over the whole plan (see runPlan). */
const ROUNDS = quick ? 1 : 2;

const SGEMM_SHAPES: [number, number, number][] = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [64, 4096, 576],
];

type Speed = "fast" | "slow";

/** Timing settings: fast implementations get more runs; slow peers get few, long ones. */
function timing(
  kind: "train" | "latency" | "throughput" | "sgemm",
  speed: Speed,
): Omit<CaseSpec, "task" | "impl" | "threads" | "batch"> {
  if (quick) return { budgetMs: 300, minReps: 2, warmup: 1, maxRunMs: 15_000, quick };
  // Slow peers: one warm-up, then timed runs for 2 s, or one run when a run is longer than that.
  if (speed === "slow") return { budgetMs: 2_000, minReps: 1, warmup: 1, maxRunMs: 40_000 };
  if (kind === "train") return { budgetMs: 2_000, minReps: 10, warmup: 5, maxRunMs: 40_000 };
  if (kind === "latency") return { budgetMs: 2_000, minReps: 10, warmup: 3, maxRunMs: 40_000 };
  if (kind === "sgemm") return { budgetMs: 400, minReps: 5, warmup: 2, maxRunMs: 40_000 };
  return { budgetMs: 2_500, minReps: 3, warmup: 1, maxRunMs: 60_000 };
}

// ---- Python peers --------------------------------------------------------------------------------------

function pythonWith(module: string): string | null {
  const candidates = [process.env.PYTHON, "python3", "/usr/bin/python3", "python"].filter(
    (c): c is string => !!c,
  );
  for (const python of [...new Set(candidates)]) {
    const probe = spawnSync(python, ["-c", `import ${module}`], { stdio: "ignore", timeout: 60_000 });
    if (probe.status === 0) return python;
  }
  return null;
}

const torchPython = pythonWith("torch");
const numpyPython = pythonWith("numpy");

// ---- running cases -------------------------------------------------------------------------------------

interface Row {
  section: string;
  label: string;
  impl: string;
  threads: number;
  batch: number;
  result: CaseResult;
}

function runCase(spec: CaseSpec, timeoutMs = CASE_TIMEOUT_MS): Promise<CaseResult> {
  const python = spec.impl === "torch" ? torchPython : spec.impl === "numpy" ? numpyPython : undefined;
  if (python === null) {
    const module = spec.impl === "torch" ? "torch" : "numpy";
    return Promise.resolve({ skip: `not installed: no python3 here can \`import ${module}\`` });
  }
  const threads = String(spec.threads);
  // Thread variables only for Python: onnxruntime-node also reads OMP_NUM_THREADS, and its own pool plus
  // an OpenMP pool of 2 then contend for the 2 cores (ResNet-18 latency goes from 8.5 to 31 ms).
  const env: Record<string, string | undefined> =
    python === undefined
      ? { ...process.env }
      : { ...process.env, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads };
  if (spec.impl === "numpy") {
    // This machine's environment pins OpenBLAS to its AVX2 (Haswell) kernels because old OpenBLAS builds
    // misdetect newer CPUs; NumPy's own recent OpenBLAS detects them right, so let it pick (e.g. AVX-512).
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  const command = python ?? process.execPath;
  const commandArgs =
    python !== undefined
      ? [join(here, "peers", "torch_bench.py"), JSON.stringify(spec)]
      : ["--import", "tsx", join(here, "case.ts"), JSON.stringify(spec)];
  return spawnCase(command, commandArgs, env, timeoutMs);
}

const LABELS: Record<string, string> = {
  "striate-wasm": "Striate (wasm)",
  "striate-js": "Striate (js)",
  "striate-chromium": "Striate (wasm, Chromium)",
  convnetjs: "ConvNetJS",
  "tfjs-cpu": "TF.js cpu",
  "tfjs-wasm": "TF.js wasm",
  ort: "ONNX Runtime",
  torch: "PyTorch",
  numpy: "NumPy",
};

const rows: Row[] = [];

/** A case to run: its row (filled in when it has run) and its spec. */
interface Planned {
  row: Row;
  spec: CaseSpec;
  speed: Speed;
}
const plan: Planned[] = [];

/** Plans a case; its row keeps the table order, its result comes from runPlan(). */
function measure(
  section: string,
  task: string,
  impl: string,
  threads: number,
  batch: number,
  kind: "train" | "latency" | "throughput" | "sgemm",
  speed: Speed = "fast",
  extra: Partial<CaseSpec> = {},
): void {
  const spec: CaseSpec = { task, impl, threads, batch, ...timing(kind, speed), ...extra };
  const row: Row = {
    section,
    label: LABELS[impl] ?? impl,
    impl,
    threads,
    batch,
    result: { skip: "not run" },
  };
  rows.push(row);
  plan.push({ row, spec, speed });
}

/** The better of two results of one case: the faster median (other load on the machine only slows runs). */
function better(a: CaseResult | undefined, b: CaseResult): CaseResult {
  if (a === undefined || a.skip !== undefined) return b;
  if (b.skip !== undefined) return a;
  const pick = (x: number, y: number) => (a.unit === "ms" ? Math.min(x, y) : Math.max(x, y));
  const merged: CaseResult = { ...a, reps: (a.reps ?? 0) + (b.reps ?? 0) };
  if (a.value !== undefined && b.value !== undefined) merged.value = pick(a.value, b.value);
  if (a.values && b.values) {
    merged.values = { ...a.values };
    for (const [k, v] of Object.entries(b.values)) merged.values[k] = pick(merged.values[k] ?? v, v);
  }
  return merged;
}

/**
 * Runs the plan ROUNDS times, in order, so that each Striate case and its peers run close together in
 * every round, and keeps each case's best round (slow peers run once). On a shared machine, another
 * process's load only ever slows a round down, so the best round is the least disturbed measurement.
 */
async function runPlan(): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const { row, spec, speed } of plan) {
      if (round > 1 && (speed === "slow" || row.result.skip !== undefined)) continue;
      const t0 = performance.now();
      process.stderr.write(
        `bench [${round}/${ROUNDS}]: ${row.section} / ${row.label} / ${spec.threads} thread(s) … `,
      );
      const result = await runCase(spec);
      const shown =
        result.skip ?? (result.value !== undefined ? `${result.value.toFixed(1)} ${result.unit}` : "ok");
      process.stderr.write(`${shown} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      row.result = round === 1 ? result : better(row.result, result);
    }
  }
}

function skipRow(section: string, impl: string, threads: number, batch: number, why: string): void {
  rows.push({ section, label: LABELS[impl] ?? impl, impl, threads, batch, result: { skip: why } });
}

const wanted = (section: string) => only === null || only.includes(section);

// ---- the benchmark plan --------------------------------------------------------------------------------

const TRAIN_PEERS: [string, number, Speed][] = [
  ["striate-wasm", 1, "fast"],
  ["striate-wasm", 2, "fast"],
  ["striate-js", 1, "slow"],
  ["convnetjs", 1, "slow"],
  ["tfjs-cpu", 1, "slow"],
  ["tfjs-wasm", 1, "slow"],
  ["torch", 1, "fast"],
  ["torch", 2, "fast"],
];

const started = performance.now();
const loadBefore = loadavg()[0];
for (const task of ["lenet", "cifar"]) {
  if (!wanted(task)) continue;
  const section =
    task === "lenet" ? "LeNet-5 training, MNIST-shaped 1x28x28" : "ConvNetJS CIFAR-10 net training, 3x32x32";
  for (const [impl, threads, speed] of TRAIN_PEERS) {
    if (quick && impl === "tfjs-cpu" && task === "cifar") {
      skipRow(section, impl, threads, 64, "left out of --quick (one step takes ~25 s)");
      continue;
    }
    measure(section, task, impl, threads, 64, "train", speed);
  }
}

for (const task of ["resnet18", "resnet50"]) {
  if (!wanted(task)) continue;
  const name = task === "resnet18" ? "ResNet-18" : "ResNet-50";
  for (const batch of [1, 16]) {
    const section = `${name} inference 224x224, batch ${batch}`;
    const kind = batch === 1 ? "latency" : "throughput";
    for (const threads of [1, 2]) measure(section, task, "striate-wasm", threads, batch, kind);
    if (batch === 1 && !quick) measure(section, task, "striate-js", 1, batch, kind, "slow");
    else
      skipRow(
        section,
        "striate-js",
        1,
        batch,
        batch === 1 ? "left out of --quick" : "reference backend: batch 1 only",
      );
    for (const threads of [1, 2]) measure(section, task, "ort", threads, batch, kind);
    measure(
      section,
      task,
      "tfjs-wasm",
      1,
      batch,
      kind,
      batch === 16 || task === "resnet50" ? "slow" : "fast",
    );
    if (batch === 1 && !quick) measure(section, task, "tfjs-cpu", 1, batch, kind, "slow");
    else
      skipRow(
        section,
        "tfjs-cpu",
        1,
        batch,
        batch === 1 ? "left out of --quick" : "too slow (seconds per image at batch 1)",
      );
    for (const threads of [1, 2]) measure(section, task, "torch", threads, batch, kind);
  }
}

if (wanted("sgemm")) {
  const section = "SGEMM";
  const shapes = quick ? SGEMM_SHAPES.filter(([m]) => m !== 1024) : SGEMM_SHAPES;
  measure(section, "sgemm", "striate-wasm", 0, 0, "sgemm", "fast", { shapes });
  measure(section, "sgemm", "tfjs-wasm", 1, 0, "sgemm", "fast", { shapes });
  measure(section, "sgemm", "tfjs-cpu", 1, 0, "sgemm", "slow", { shapes, minReps: 2, warmup: 1 });
  for (const threads of [1, 2]) measure(section, "sgemm", "numpy", threads, 0, "sgemm", "fast", { shapes });
  for (const threads of [1, 2]) measure(section, "sgemm", "torch", threads, 0, "sgemm", "fast", { shapes });
}

if (wanted("loop")) {
  const section = `hand-written loop: README example, ${quick ? 300 : 2000} steps, batch 64 (figure: the loop)`;
  // One round each: a case times 2 x 2,000 steps already (loop and fit alternated inside it).
  for (const threads of [1, 2]) measure(section, "loop", "striate-wasm", threads, 64, "train", "slow");
  measure(section, "loop", "striate-chromium", 1, 64, "train", "slow");
}

if (only?.includes("webgpu")) {
  const { runWebGpuBench } = await import("./webgpu.js"); // bench/webgpu.ts
  await runWebGpuBench({ quick, runtime: webGpuIn, runCase });
}
await runPlan();

// ---- tables --------------------------------------------------------------------------------------------

const fmt = (v: number) => (v >= 1000 ? v.toFixed(0) : v >= 100 ? v.toFixed(1) : v.toPrecision(3));
const ratio = (r: number) => `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;

function table(header: string[], body: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** Striate wasm's figure at `threads` in a section (a peer that only runs 1 thread is compared with 1). */
function striate(section: string, threads: number): CaseResult | undefined {
  return rows.find((r) => r.section === section && r.impl === "striate-wasm" && r.threads === threads)
    ?.result;
}

function speedup(striateResult: CaseResult | undefined, peer: CaseResult): number | null {
  if (striateResult?.value === undefined || peer.value === undefined) return null;
  // Latency (ms): lower is better; throughput: higher is better. "How many times faster Striate is."
  return peer.unit === "ms" ? peer.value / striateResult.value : striateResult.value / peer.value;
}

const out: string[] = [];
const sections = [...new Set(rows.map((r) => r.section))].filter((s) => s !== "SGEMM");
for (const section of sections) {
  const sectionRows = rows.filter((r) => r.section === section);
  const unit = sectionRows.find((r) => r.result.unit)?.result.unit ?? "";
  out.push(`### ${section}\n`);
  const body = sectionRows.map((r) => {
    const res = r.result;
    const figure = res.value !== undefined ? fmt(res.value) : "—";
    let vs = "";
    if (!r.impl.startsWith("striate-wasm") && res.value !== undefined) {
      const s = speedup(striate(section, r.threads), res);
      vs = s === null ? "" : ratio(s);
    }
    const notes = [res.skip, res.note].filter(Boolean).join("; ");
    return [r.label, String(res.actualThreads ?? r.threads), figure, vs, notes];
  });
  const figureName =
    unit === "ms" ? "latency (ms, lower is better)" : `${unit || "img/s"} (higher is better)`;
  out.push(
    table(
      [
        "implementation",
        "threads",
        figureName,
        "speed ratio Striate wasm ÷ peer (same threads; > 1: Striate faster)",
        "notes",
      ],
      body,
    ),
  );
  out.push("");
}

const sgemmRows = rows.filter((r) => r.section === "SGEMM");
if (sgemmRows.length > 0) {
  const shapes = Object.keys(
    sgemmRows.find((r) => r.impl !== "striate-wasm" && r.result.values)?.result.values ?? {},
  );
  const header = ["implementation", "threads", ...shapes.map((s) => s.replace(/x/g, "×")), "notes"];
  const body: string[][] = [];
  const striateRow = sgemmRows.find((r) => r.impl === "striate-wasm");
  const striateAt = (threads: number, shape: string) => striateRow?.result.values?.[`${threads}:${shape}`];
  for (const threads of [1, 2]) {
    if (!striateRow) break;
    body.push([
      striateRow.label,
      String(threads),
      ...shapes.map((s) => (striateAt(threads, s) !== undefined ? fmt(striateAt(threads, s)!) : "—")),
      [striateRow.result.skip, striateRow.result.note?.split("; ")[threads - 1]].filter(Boolean).join("; "),
    ]);
  }
  for (const r of sgemmRows.filter((x) => x.impl !== "striate-wasm")) {
    const threads = r.result.actualThreads ?? r.threads;
    body.push([
      r.label,
      String(threads),
      ...shapes.map((s) => {
        const v = r.result.values?.[s];
        const mine = striateAt(threads, s);
        return v === undefined ? "—" : mine === undefined ? fmt(v) : `${fmt(v)} (Striate ${ratio(mine / v)})`;
      }),
      [r.result.skip, r.result.note].filter(Boolean).join("; "),
    ]);
  }
  out.push(
    "### SGEMM, GFLOP/s (C = A·B, float32, M×N×K; in brackets: Striate wasm at the same threads ÷ peer)\n",
  );
  out.push(table(header, body));
  out.push("");
}

// ---- targets -------------------------------------------------------------------------------------------

function value(sectionStart: string, impl: string, threads: number): number | undefined {
  return rows.find((r) => r.section.startsWith(sectionStart) && r.impl === impl && r.threads === threads)
    ?.result.value;
}
function best(sectionStart: string, impl: string, lowerIsBetter = false): number | undefined {
  const vs = [1, 2].map((t) => value(sectionStart, impl, t)).filter((v): v is number => v !== undefined);
  if (vs.length === 0) return undefined;
  return lowerIsBetter ? Math.min(...vs) : Math.max(...vs);
}

const targets: string[][] = [];
const verdict = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "**met**" : "not met");
{
  const s = best("LeNet", "striate-wasm");
  const p = best("LeNet", "torch");
  const r = s !== undefined && p !== undefined ? s / p : undefined;
  targets.push([
    "LeNet-5 training ≥ 1.5× PyTorch (best thread setting each)",
    r === undefined ? "—" : `${fmt(s!)} vs ${fmt(p!)} img/s = ${ratio(r)}`,
    verdict(r === undefined ? undefined : r >= 1.5),
  ]);
}
{
  const s = value("ConvNetJS", "striate-wasm", 2);
  const p = value("ConvNetJS", "torch", 2);
  const r = s !== undefined && p !== undefined ? s / p : undefined;
  targets.push([
    "CIFAR-10 net training ≥ 1× PyTorch, 2 threads",
    r === undefined ? "—" : `${fmt(s!)} vs ${fmt(p!)} img/s = ${ratio(r)}`,
    verdict(r === undefined ? undefined : r >= 1),
  ]);
}
{
  const s = best("ResNet-18 inference 224x224, batch 1", "striate-wasm", true);
  const p = best("ResNet-18 inference 224x224, batch 1", "ort", true);
  const r = s !== undefined && p !== undefined ? s / p : undefined;
  targets.push([
    "ResNet-18 batch-1 latency ≤ 2× ONNX Runtime (best thread setting each)",
    r === undefined ? "—" : `${fmt(s!)} vs ${fmt(p!)} ms = ${ratio(r)} ORT's latency`,
    verdict(r === undefined ? undefined : r <= 2),
  ]);
}
{
  const values = sgemmRows.find((r) => r.impl === "striate-wasm")?.result.values;
  const perThread = values ? Object.entries(values).map(([k, v]) => v / Number(k.split(":")[0])) : [];
  const worst = perThread.length > 0 ? Math.min(...perThread) : undefined;
  targets.push([
    "SGEMM ≥ 40 GFLOP/s per thread (every shape, 1 and 2 threads)",
    worst === undefined ? "—" : `lowest ${fmt(worst)} GFLOP/s per thread`,
    verdict(worst === undefined ? undefined : worst >= 40),
  ]);
}

{
  const loopRows = rows.filter((r) => r.section.startsWith("hand-written loop"));
  for (const threads of [1, 2]) {
    const ratio = loopRows.find((r) => r.impl === "striate-wasm" && r.threads === threads)?.result.values
      ?.ratio;
    targets.push([
      `hand-written loop ≥ 0.9× fit() (${threads} thread${threads > 1 ? "s" : ""})`,
      ratio === undefined ? "—" : `${ratio.toFixed(2)}×`,
      verdict(ratio === undefined ? undefined : ratio >= 0.9),
    ]);
  }
  const inBrowser = loopRows.find((r) => r.impl === "striate-chromium")?.result.values?.ratio;
  targets.push([
    "hand-written loop in Chromium ≥ 0.8× Node (1 thread)",
    inBrowser === undefined ? "—" : `${inBrowser.toFixed(2)}×`,
    verdict(inBrowser === undefined ? undefined : inBrowser >= 0.8),
  ]);
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
const torchVersion = torchPython
  ? spawnSync(torchPython, ["-c", "import torch; print(torch.__version__)"], {
      encoding: "utf8",
    }).stdout.trim()
  : "not installed";
console.log(`## Striate benchmark${quick ? " (--quick: short budgets, smoke run only)" : ""}\n`);
console.log(
  `${new Date().toISOString()} · ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · PyTorch ${torchVersion}${torchPython ? ` (${torchPython})` : ""} · batch 64 for training · per case: median of timed runs after warm-up, best of ${ROUNDS} round(s) · ${((performance.now() - started) / 60000).toFixed(1)} min\n`,
);
const loadAfter = loadavg()[0];
if (Math.max(loadBefore, loadAfter) > cpus().length * 0.75) {
  console.log(
    `> **Busy machine:** load average ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end, on ` +
      `${cpus().length} cores. Other processes took CPU time during the run; 2-thread figures (which need both ` +
      `cores) are the least reliable. Rerun when the machine is idle.\n`,
  );
}
if (rows.length > 0) {
  // Without a CPU section (--only webgpu) there is nothing to tabulate or check against the targets.
  console.log(out.join("\n"));
  console.log("### Targets\n");
  console.log(table(["target", "reached", "verdict"], targets));
}
if (jsonOut)
  writeFileSync(
    jsonOut,
    JSON.stringify({ date: new Date().toISOString(), cpu, node: process.version, rows }, null, 2),
  );

// `npm run bench -- --zoo`: every model of the zoo registry (never a fixed list) measured on the wasm
// backend of this machine — batch-1 inference latency at 1 and 2 threads, one training step at batch 8, the
// wasm heap's high-water mark (and the process's peak RSS) — beside its parameters and MACs from the model
// summary. Each model runs in two fresh processes (bench/zoo-case.ts: inference, then training), so every
// memory figure is that model's alone. Results go to a JSON file (default docs/data/zoo-bench.json, written
// after every model, so an interrupted run keeps what it measured) and a Markdown table on stdout. Written
// to the default file, the run then regenerates docs/models.md (scripts/gen-models-doc.ts: the measured
// section and the chart), so one command refreshes the documented figures.

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { listModels } from "../src/models/index.js";
import { oneOfList, orExit } from "./args.js";
import { type CaseResult, type CaseSpec, spawnCase } from "./common.js";
import { ZOO_TRAIN_BATCH, ZOO_TRAIN_THREADS } from "./zoo-case.js";
import {
  type ZooBenchEntry,
  type ZooBenchFile,
  type ZooInference,
  type ZooTraining,
  measuredTable,
  zooFigures,
} from "./zoo-report.js";

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_ZOO_JSON = join(here, "..", "docs", "data", "zoo-bench.json");

/** Time budgets of one zoo run: full (the documented figures) and --quick (a smoke run). */
const TIMING = {
  full: {
    infer: { budgetMs: 3_000, maxReps: 20, maxRunMs: 60_000 },
    train: { budgetMs: 5_000, maxReps: 5, maxRunMs: 60_000 },
  },
  quick: {
    infer: { budgetMs: 300, maxReps: 3, maxRunMs: 10_000 },
    train: { budgetMs: 300, maxReps: 1, maxRunMs: 10_000 },
  },
} as const;
/** A case process killed after this long reports a skip (a model too big or too slow for the machine). */
const CASE_TIMEOUT_MS = { infer: 10 * 60_000, train: 20 * 60_000 };

export interface ZooRunOptions {
  quick: boolean;
  /** Output JSON (default docs/data/zoo-bench.json). */
  json?: string;
  /** Comma-separated registry names (default: every model). */
  models?: string;
  /** A note stored with the results, shown above the generated table. */
  note?: string;
  /** How the run was started, for error messages. */
  command: string;
}

function spec(kind: "infer" | "train", model: string, quick: boolean): CaseSpec {
  const timing = TIMING[quick ? "quick" : "full"][kind];
  const train = kind === "train";
  return {
    task: train ? "zoo-train" : "zoo-infer",
    impl: "striate-wasm",
    threads: train ? ZOO_TRAIN_THREADS : 1,
    batch: train ? ZOO_TRAIN_BATCH : 1,
    budgetMs: timing.budgetMs,
    minReps: 1,
    maxReps: timing.maxReps,
    warmup: 1,
    maxRunMs: timing.maxRunMs,
    model,
    quick,
  };
}

function runZooCase(kind: "infer" | "train", model: string, quick: boolean): Promise<CaseResult> {
  const args = ["--import", "tsx", join(here, "case.ts"), JSON.stringify(spec(kind, model, quick))];
  return spawnCase(process.execPath, args, { ...process.env }, CASE_TIMEOUT_MS[kind]);
}

/** The memory figures every zoo case reports (bench/zoo-case.ts, memoryFigures). */
function memoryOf(v: Record<string, number>) {
  return { heapPeakBytes: v.heapPeakBytes, wasmMemoryBytes: v.wasmMemoryBytes, maxRssBytes: v.maxRssBytes };
}

function inferenceOf(r: CaseResult): ZooInference {
  const v = r.values;
  if (r.skip !== undefined || v === undefined) return { skip: r.skip ?? "no result" };
  const latencies = { latency1Ms: v.latency1Ms, latency2Ms: v.latency2Ms, reps1: v.reps1, reps2: v.reps2 };
  return { ...latencies, ...memoryOf(v), note: r.note };
}

function trainingOf(r: CaseResult): ZooTraining {
  const v = r.values;
  if (r.skip !== undefined || v === undefined) return { skip: r.skip ?? "no result" };
  const threads = r.actualThreads ?? ZOO_TRAIN_THREADS;
  return { stepMs: v.trainMs, reps: v.trainReps, firstMs: v.trainFirstMs, threads, ...memoryOf(v) };
}

/** docs/models.md from the new results (the generator prints what it wrote). */
function regenerateDocs(): void {
  const script = join(here, "..", "scripts", "gen-models-doc.ts");
  const run = spawnSync(process.execPath, ["--import", "tsx", script], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (run.status !== 0)
    process.stderr.write(`zoo bench: ${script} failed (exit ${run.status}); docs not updated\n`);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Measures the chosen zoo models one after another and writes the JSON after each. */
export async function runZoo(options: ZooRunOptions): Promise<ZooBenchFile> {
  const all = listModels();
  const names = options.models
    ? orExit(() =>
        oneOfList(
          options.command,
          "models",
          options.models!,
          all.map((m) => m.name),
        ),
      )
    : all.map((m) => m.name);
  const out = resolve(options.json ?? DEFAULT_ZOO_JSON);
  mkdirSync(dirname(out), { recursive: true });
  const started = new Date();
  const t0 = performance.now();
  const file: ZooBenchFile = {
    date: started.toISOString(),
    cpu: cpus()[0]?.model ?? "unknown CPU",
    cores: cpus().length,
    availableParallelism: availableParallelism(),
    totalMemoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageStart: loadavg(),
    loadAverageEnd: loadavg(),
    minutes: 0,
    quick: options.quick,
    note: options.note,
    trainBatch: ZOO_TRAIN_BATCH,
    trainThreads: ZOO_TRAIN_THREADS,
    timing: TIMING[options.quick ? "quick" : "full"],
    models: [],
  };
  process.stderr.write(
    `zoo bench: ${names.length} models, ${file.cpu}, ${file.cores} cores, load average ` +
      `${file.loadAverageStart.map((l) => l.toFixed(2)).join(" ")}; writing ${out}\n`,
  );
  for (const [i, name] of names.entries()) {
    const info = all.find((m) => m.name === name)!;
    const figures = zooFigures(info);
    const m0 = performance.now();
    process.stderr.write(`zoo bench [${i + 1}/${names.length}] ${name}: inference … `);
    const inference = inferenceOf(await runZooCase("infer", name, options.quick));
    process.stderr.write(
      "skip" in inference
        ? `${inference.skip}; `
        : `${inference.latency1Ms.toFixed(1)} / ${inference.latency2Ms?.toFixed(1) ?? "—"} ms; `,
    );
    process.stderr.write("training step … ");
    const training = trainingOf(await runZooCase("train", name, options.quick));
    process.stderr.write(
      `${"skip" in training ? training.skip : `${training.stepMs.toFixed(0)} ms`} (${seconds(performance.now() - m0)})\n`,
    );
    const entry: ZooBenchEntry = {
      name,
      family: info.family,
      inputSize: info.inputSize,
      params: figures.params,
      macs: figures.macs,
      inference,
      training,
    };
    file.models.push(entry);
    file.loadAverageEnd = loadavg();
    file.minutes = (performance.now() - t0) / 60_000;
    // Formatted as the repository's files are, so `prettier --check .` passes on the committed results.
    writeFileSync(
      out,
      await format(JSON.stringify(file, null, 2), { ...(await resolveConfig(out)), parser: "json" }),
    );
  }
  console.log(measuredTable(file, all));
  process.stderr.write(`zoo bench: done in ${file.minutes.toFixed(1)} min; wrote ${out}\n`);
  if (out === resolve(DEFAULT_ZOO_JSON)) regenerateDocs();
  return file;
}

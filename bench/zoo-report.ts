// The zoo's figures as docs/models.md shows them: the measured table from `npm run bench -- --zoo`'s JSON
// (docs/data/zoo-bench.json) and the accuracy-against-operations chart — torchvision's published ImageNet
// top-1 (docs/data/imagenet-top1.json, one cited source per figure) against the MACs computed from our
// own models, blob area ∝ parameters, as in Bianco et al. 2018. Pure functions over the registry and the
// two files; scripts/gen-models-doc.ts writes their output, test/bench/zoo-report.test.ts checks it.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getModel, summary, formatCount, type ModelInfo } from "../src/models/index.js";
import { bubbleChartScene } from "../src/viz/bubble.js";
import { sceneToSvg } from "../src/viz/plots.js";

const here = dirname(fileURLToPath(import.meta.url));
export const ZOO_BENCH_JSON = join(here, "..", "docs", "data", "zoo-bench.json");
export const IMAGENET_TOP1_JSON = join(here, "..", "docs", "data", "imagenet-top1.json");
/** Where the chart is written, and its path relative to docs/models.md. */
export const CHART_SVG = join(here, "..", "docs", "images", "zoo-accuracy-vs-macs.svg");
export const CHART_LINK = "images/zoo-accuracy-vs-macs.svg";
/** The delimiters of the generated measured section in docs/models.md. */
export const SECTION_BEGIN = "<!-- zoo-bench:begin (generated from docs/data/zoo-bench.json) -->";
export const SECTION_END = "<!-- zoo-bench:end -->";

/** Inference of one model: latencies at 1 and 2 threads and the process's memory, or why it has none. */
export type ZooInference =
  | {
      latency1Ms: number;
      /** Missing when 2 threads were unavailable. */
      latency2Ms?: number;
      reps1: number;
      reps2?: number;
      /** The wasm heap's high-water mark (allocator's top address), bytes. */
      heapPeakBytes: number;
      /** The wasm linear memory's size at the end (it only grows), bytes. */
      wasmMemoryBytes: number;
      /** The process's peak resident set (Node, V8 and the wasm memory's touched pages), bytes. */
      maxRssBytes: number;
      note?: string;
    }
  | { skip: string };

/** One training step at batch 8, or why there is none. */
export type ZooTraining =
  | {
      stepMs: number;
      reps: number;
      /** The first step (allocations, kernel choices), not in the median. */
      firstMs: number;
      threads: number;
      heapPeakBytes: number;
      wasmMemoryBytes: number;
      maxRssBytes: number;
    }
  | { skip: string };

export interface ZooBenchEntry {
  name: string;
  family: string;
  inputSize: [number, number, number];
  params: number;
  macs: number;
  inference: ZooInference;
  training: ZooTraining;
}

/** docs/data/zoo-bench.json: one run of `npm run bench -- --zoo`. */
export interface ZooBenchFile {
  date: string;
  cpu: string;
  cores: number;
  availableParallelism: number;
  totalMemoryGiB: number;
  node: string;
  /** os.loadavg() (1, 5, 15 minutes) when the run started and when it ended. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
  minutes: number;
  quick: boolean;
  note?: string;
  trainBatch: number;
  trainThreads: number;
  timing: unknown;
  models: ZooBenchEntry[];
}

/** docs/data/imagenet-top1.json: published accuracy per zoo name, each with its source. */
export interface PublishedTop1File {
  about: string;
  torchvision: string;
  models: Record<string, { weights: string; top1: number; top5: number; numParams: number; source: string }>;
}

/** Parameters and MACs (one image at the default input size) from the model's summary on the meta backend. */
export function zooFigures(info: ModelInfo): { params: number; macs: number } {
  const s = summary(getModel(info.name, { backend: "meta" }), [1, ...info.inputSize]);
  return { params: s.totalParams, macs: s.totalMacs };
}

/** ImageNet models: the zoo's 1000-class classifiers (224x224 input, or 227 for alexnet_2012). */
export function isImageNetModel(info: ModelInfo): boolean {
  return info.task === "classification" && info.numClasses === 1000;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export function readZooBench(path = ZOO_BENCH_JSON): ZooBenchFile | null {
  return existsSync(path) ? readJson<ZooBenchFile>(path) : null;
}

// ---- the measured table -----------------------------------------------------------------------------------

const MiB = 2 ** 20;
const ms = (v: number | undefined) =>
  v === undefined
    ? "—"
    : v >= 1000
      ? Math.round(v).toLocaleString("en-US")
      : v >= 10
        ? v.toFixed(1)
        : v.toFixed(2);
const mib = (bytes: number) => Math.round(bytes / MiB).toLocaleString("en-US");
/** A skipped cell: out-of-memory failures in a few words (the JSON keeps the whole message), others cut short. */
export function skipCell(reason: string): string {
  if (/out of memory/i.test(reason)) return "out of memory (wasm32's 4 GiB)";
  const cell = reason.replace(/\|/g, "/");
  return cell.length > 90 ? `${cell.slice(0, 89)}…` : cell;
}
const loads = (l: readonly number[]) => l.map((v) => v.toFixed(2)).join(" ");

/** True when the load average says other processes took CPU time during the run. */
export function wasBusy(file: ZooBenchFile): boolean {
  return Math.max(file.loadAverageStart[0], file.loadAverageEnd[0]) > file.cores * 0.75;
}

/** One line on how, where and when the figures were measured (and a warning when the machine was busy). */
export function runDescription(file: ZooBenchFile): string {
  const lines = [
    `Measured ${file.date.slice(0, 16).replace("T", " ")} UTC by \`npm run bench -- --zoo\`${file.quick ? " --quick (smoke-run budgets)" : ""}: ` +
      `${file.cpu}, ${file.cores} cores, ${file.totalMemoryGiB} GiB, Node ${file.node}; load average (1, 5, 15 min) ` +
      `${loads(file.loadAverageStart)} at the start, ${loads(file.loadAverageEnd)} at the end; ${file.models.length} ` +
      `models in ${file.minutes.toFixed(1)} min.`,
  ];
  if (file.note) lines.push(`> **Note:** ${file.note}`);
  if (wasBusy(file)) {
    lines.push(
      `> **Busy machine:** the load average exceeded ${(file.cores * 0.75).toFixed(1)} on ${file.cores} cores, so other ` +
        `processes took CPU time during the run; the figures are slower than this machine can do (2-thread ` +
        `figures most). Rerun on an idle machine.`,
    );
  }
  return lines.join("\n\n");
}

/**
 * The measured table: one row per model the run measured, in registry order, with the run's date, CPU,
 * cores and load above it and the registered models it did not measure below.
 */
export function measuredTable(file: ZooBenchFile | null, infos: readonly ModelInfo[]): string {
  if (file === null) return "_No measurements yet: run `npm run bench -- --zoo`._";
  const byName = new Map(file.models.map((m) => [m.name, m]));
  const header = [
    "Model",
    "Input",
    "Parameters",
    "MACs",
    "Latency, 1 thread (ms)",
    "Latency, 2 threads (ms)",
    `Training step, batch ${file.trainBatch} (ms)`,
    "Peak wasm heap, inference / training (MiB)",
    "Peak RSS, training (MiB)",
  ];
  const measured = infos.filter((info) => byName.has(info.name));
  const rows = measured.map((info) => {
    const m = byName.get(info.name)!;
    const [c, h, w] = info.inputSize;
    const inf = m.inference;
    const tr = m.training;
    const infCells = "skip" in inf ? [skipCell(inf.skip), ""] : [ms(inf.latency1Ms), ms(inf.latency2Ms)];
    const trCell = "skip" in tr ? skipCell(tr.skip) : ms(tr.stepMs);
    const heap = `${"skip" in inf ? "—" : mib(inf.heapPeakBytes)} / ${"skip" in tr ? "—" : mib(tr.heapPeakBytes)}`;
    const rss = "skip" in tr ? "—" : mib(tr.maxRssBytes);
    const head = [`\`${info.name}\``, `${c}x${h}x${w}`, formatCount(m.params), formatCount(m.macs)];
    return [...head, ...infCells, trCell, heap, rss];
  });
  const missing = infos.filter((info) => !byName.has(info.name)).map((info) => `\`${info.name}\``);
  const lines = [
    runDescription(file),
    "",
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
  if (missing.length > 0) lines.push("", `Not measured in this run: ${missing.join(", ")}.`);
  return lines.join("\n");
}

// ---- the accuracy-against-operations chart ------------------------------------------------------------------

/** One ImageNet zoo model in the chart data: computed MACs and parameters, published top-1 when there is one. */
export interface ChartEntry {
  name: string;
  family: string;
  macs: number;
  params: number;
  /** Published ImageNet-1K top-1 (%) of torchvision's IMAGENET1K_V1 weights; absent: not plotted. */
  top1?: number;
  weights?: string;
  source?: string;
  /** Parameters of the published weights (GoogLeNet's lack the auxiliary heads ours count). */
  publishedParams?: number;
}

/**
 * Every ImageNet model of the zoo with its computed MACs and parameters, and the published top-1 where
 * torchvision publishes one (`figures` comes from zooFigures, or from a bench file's entries).
 */
export function chartData(
  infos: readonly ModelInfo[],
  published: PublishedTop1File,
  figures: (info: ModelInfo) => { params: number; macs: number } = zooFigures,
): ChartEntry[] {
  return infos.filter(isImageNetModel).map((info) => {
    const { params, macs } = figures(info);
    const p = published.models[info.name];
    const entry: ChartEntry = { name: info.name, family: info.family, macs, params };
    if (!p) return entry;
    return { ...entry, top1: p.top1, weights: p.weights, source: p.source, publishedParams: p.numParams };
  });
}

/** 100M, 1.5G: a tick or legend label. */
function shortCount(n: number): string {
  const [div, unit] = n >= 1e9 ? [1e9, "G"] : n >= 1e6 ? [1e6, "M"] : n >= 1e3 ? [1e3, "K"] : [1, ""];
  return `${Number((n / div).toPrecision(3))}${unit}`;
}

/** The chart as an SVG document. */
export function chartSvg(entries: readonly ChartEntry[]): string {
  const plotted = entries.filter((e) => e.top1 !== undefined);
  const scene = bubbleChartScene(
    plotted.map((e) => ({ label: e.name, x: e.macs, y: e.top1!, size: e.params, group: e.family })),
    {
      title: "ImageNet top-1 (torchvision IMAGENET1K_V1) against MACs per image; area: parameters",
      xLabel: "multiply-accumulates per 224x224 image (log scale), computed from the Striate models",
      yLabel: "top-1 accuracy (%)",
      logX: true,
      formatX: shortCount,
      formatSize: (s) => `${shortCount(s)} params`,
      sizeLegend: [5e6, 25e6, 100e6],
      width: 1000,
      height: 620,
    },
  );
  return sceneToSvg(scene);
}

/** The table under the chart: every plotted figure with its source, then the models without one. */
export function chartTable(entries: readonly ChartEntry[]): string {
  const plotted = entries.filter((e) => e.top1 !== undefined).sort((a, b) => a.macs - b.macs);
  const missing = entries.filter((e) => e.top1 === undefined).map((e) => `\`${e.name}\``);
  const params = (e: ChartEntry) =>
    e.publishedParams === undefined || e.publishedParams === e.params
      ? formatCount(e.params)
      : `${formatCount(e.params)} (weights: ${formatCount(e.publishedParams)}, no auxiliary heads)`;
  const rows = plotted.map(
    (e) =>
      `| \`${e.name}\` | ${formatCount(e.macs)} | ${params(e)} | ${e.top1!.toFixed(3)} | [${e.weights}](${e.source}) |`,
  );
  const lines = [
    "| Model | MACs (ours) | Parameters (ours) | Top-1 (%) | Source (torchvision weights) |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ];
  if (missing.length > 0) {
    lines.push(
      "",
      `Not plotted (no torchvision ImageNet weights, so no figure measured the same way): ${missing.join(", ")}.`,
    );
  }
  return lines.join("\n");
}

/** docs/models.md's generated measured section (between SECTION_BEGIN and SECTION_END). */
export function zooSection(
  bench: ZooBenchFile | null,
  infos: readonly ModelInfo[],
  entries: readonly ChartEntry[],
  published: PublishedTop1File,
): string {
  return `${SECTION_BEGIN}

## Measured on the wasm backend

Batch-1 inference latency (eval mode, no gradient, logits read back) at 1 and 2 threads, and one training
step at batch ${bench?.trainBatch ?? 8} on ${bench?.trainThreads ?? 2} threads (forward, cross-entropy, backward, SGD with momentum;
GoogLeNet adds its auxiliary heads' losses × 0.3), each on random input of the model's default size; the
median of as many runs as fit a few seconds after a first run (at least one, so a multi-second step is run
twice). Memory: the wasm heap's high-water mark in the process that ran the model (weights, activations,
gradients, optimizer state and kernel workspaces), and the whole process's peak RSS for the training step.
Each model runs in fresh processes. Regenerate with \`npm run bench -- --zoo\` (docs/performance.md).

${measuredTable(bench, infos)}

## Accuracy against operations

![ImageNet top-1 against MACs, blob area proportional to parameters](${CHART_LINK})

As the lecture notes compare the architectures (Bianco et al., "Benchmark analysis of representative deep
neural network architectures", IEEE Access 2018): x is the multiply-accumulates of one 224x224 image,
computed from our models (the table above), y the ImageNet-1K top-1 accuracy that torchvision publishes for
its IMAGENET1K_V1 weights (torchvision ${published.torchvision}; our models have the same architecture and state_dict,
so these weights load into them), and a blob's area is proportional to the parameter count. The figures come
from \`docs/data/imagenet-top1.json\` (written by \`scripts/fixtures/imagenet_top1.py\`); each links its source.

${chartTable(entries)}

${SECTION_END}`;
}

// Child-process harness for the checkpoint robustness tests (test/node/checkpoint-store.test.ts) and their
// long version (scripts/checkpoint-stress.ts): a writer process that saves checkpoint after checkpoint
// (checkpoint n holds weights all equal to n and epoch n, and prints "ack n" once saveCheckpoint returned),
// a reader process that loads in a loop and checks every load is one whole checkpoint, and SIGKILLs of the
// writer at random instants.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const src = (path: string) => JSON.stringify(join(ROOT, "src", path));

const COMMON = `
import { buildBuiltin } from ${src("spec/index.ts")};
import { full } from ${src("tensor/tensor.ts")};
import { Adam } from ${src("optim/index.ts")};
import { saveCheckpoint, loadCheckpoint } from ${src("node/checkpoint.ts")};
const architecture = { kind: "builtin", name: "convnetjs-mnist" };
const model = buildBuiltin("convnetjs-mnist");
`;

/** Saves checkpoints 1, 2, 3, … into argv[2] until argv[3] ms have passed (0: forever). */
const WRITER = `${COMMON}
const [dir, ms] = [process.argv[2], Number(process.argv[3])];
const optimizer = new Adam(model.parameters());
const end = Date.now() + ms;
let n = 0;
while (ms === 0 || Date.now() < end) {
  n++;
  const state = new Map();
  for (const [k, t] of model.stateDict()) state.set(k, full(t.shape, n));
  model.loadStateDict(state);
  await saveCheckpoint(dir, { model, optimizer, architecture, epoch: n, globalStep: n });
  process.stdout.write("ack " + n + "\\n");
}
`;

/** Loads argv[2] in a loop for argv[3] ms; prints { loads, failures, mixed, errors }. */
const READER = `${COMMON}
const [dir, ms] = [process.argv[2], Number(process.argv[3])];
const end = Date.now() + ms;
let loads = 0, failures = 0, mixed = 0;
const errors = [];
const epochs = new Set();
while (Date.now() < end) {
  try {
    const { config, weights, optimizerState } = await loadCheckpoint(dir);
    loads++;
    epochs.add(config.epoch);
    const whole = [...weights.values()].every((t) => t.toArray().every((v) => v === config.epoch)) &&
      config.globalStep === config.epoch && optimizerState !== undefined;
    if (!whole) mixed++;
  } catch (error) {
    failures++;
    if (errors.length < 3) errors.push(String(error.message));
  }
}
process.stdout.write(JSON.stringify({ loads, failures, mixed, distinct: epochs.size, errors }) + "\\n");
`;

function script(name: string, source: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "striate-harness-")), name);
  writeFileSync(path, source);
  return path;
}

function start(source: string, name: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", script(name, source), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function collect(child: ChildProcess): Promise<{ stdout: string; stderr: string; code: number | null }> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c));
  child.stderr!.on("data", (c: Buffer) => (stderr += c));
  return new Promise((done) => child.on("exit", (code) => done({ stdout, stderr, code })));
}

export interface ConcurrencyResult {
  saves: number;
  loads: number;
  failures: number;
  mixed: number;
  /** Distinct checkpoints the reader saw. */
  distinct: number;
  errors: string[];
}

/**
 * Runs a writer and a reader process on `dir` at the same time for `ms` milliseconds (the reader starts
 * once the first checkpoint exists). Returns their counts.
 */
export async function runConcurrently(dir: string, ms: number): Promise<ConcurrencyResult> {
  const writer = start(WRITER, "writer.mts", [dir, String(ms + 1500)]);
  const writerDone = collect(writer);
  // Start reading once the first save was acknowledged.
  await new Promise<void>((ready) => {
    const onData = (c: Buffer) => {
      if (String(c).includes("ack ")) {
        writer.stdout!.off("data", onData);
        ready();
      }
    };
    writer.stdout!.on("data", onData);
  });
  const reader = await collect(start(READER, "reader.mts", [dir, String(ms)]));
  const written = await writerDone;
  if (reader.code !== 0 || written.code !== 0)
    throw new Error(`harness child failed: ${reader.stderr}${written.stderr}`);
  const acks = written.stdout.match(/ack \d+/g) ?? [];
  return { saves: acks.length + 1, ...(JSON.parse(reader.stdout) as Omit<ConcurrencyResult, "saves">) };
}

export interface KillResult {
  /** Last checkpoint whose save had returned before the kill. */
  acknowledged: number;
  /** Epoch of the checkpoint loaded after the kill. */
  loaded: number;
  /** Whether every loaded weight equals the loaded epoch (one whole checkpoint). */
  whole: boolean;
  error?: string;
}

/**
 * Starts a writer on a fresh directory, SIGKILLs it `delayMs` after its first acknowledged save, then loads
 * the checkpoint in this process.
 */
export async function killWriterAfter(delayMs: number): Promise<KillResult> {
  const dir = join(mkdtempSync(join(tmpdir(), "striate-kill-")), "ckpt");
  const writer = start(WRITER, "writer.mts", [dir, "0"]);
  const done = collect(writer);
  let acknowledged = 0;
  let timer: NodeJS.Timeout | undefined;
  writer.stdout!.on("data", (c: Buffer) => {
    for (const m of String(c).matchAll(/ack (\d+)/g)) acknowledged = Math.max(acknowledged, Number(m[1]));
    timer ??= setTimeout(() => writer.kill("SIGKILL"), delayMs);
  });
  await done;
  const { loadCheckpoint } = await import("../../src/node/checkpoint.js");
  try {
    const { config, weights } = await loadCheckpoint(dir);
    const whole = [...weights.values()].every((t) => t.toArray().every((v) => v === config.epoch));
    return { acknowledged, loaded: config.epoch, whole };
  } catch (error) {
    return { acknowledged, loaded: -1, whole: false, error: (error as Error).message };
  }
}

/** A small seeded generator (mulberry32) for reproducible kill instants and fuzz cases. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

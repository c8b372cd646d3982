// Hyperparameter search in Node: trials in worker threads (so that several train at once, each with its
// own wasm backend), and the search's files — results.jsonl, results.csv and the plot as SVG and PNG,
// written next to each other without overwriting a file the user did not ask to replace.

import { Worker } from "node:worker_threads";
import { mkdir, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Objective, TrialContext, TuneResult } from "../tune/search.js";
import type { Config, Space } from "../tune/space.js";
import { searchScene } from "../tune/plot.js";
import { sceneToSvg } from "../viz/plots.js";
import { svgToPng } from "./svg-png.js";

// Runs as CommonJS (eval), imports the user's module and answers one trial per message.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.module).then((m) => {
  const objective = m[workerData.exportName];
  if (typeof objective !== "function") {
    parentPort.postMessage({ fatal: "the module " + workerData.module + " has no exported function '" + workerData.exportName + "'" });
    return;
  }
  parentPort.on("message", async ({ id, config, context }) => {
    try {
      parentPort.postMessage({ id, score: await objective(config, context) });
    } catch (e) {
      parentPort.postMessage({ id, error: e && e.message ? e.message : String(e) });
    }
  });
  parentPort.postMessage({ ready: true });
}, (e) => parentPort.postMessage({ fatal: "cannot import " + workerData.module + ": " + (e && e.message ? e.message : e) }));
`;

interface Pending {
  resolve: (score: number) => void;
  reject: (error: Error) => void;
}

/** An objective evaluated in a pool of worker threads; close() ends them. */
export interface WorkerObjective<S extends Space> {
  objective: Objective<S>;
  /** Worker threads in the pool: pass it as the search's `concurrency`. */
  workers: number;
  /** Ends the worker threads; call it when the search is done. */
  close(): Promise<void>;
}

class TrialWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;
  private failure: Error | null = null;

  constructor(module: string, exportName: string) {
    // A worker must not inherit --input-type: its source is CommonJS.
    const execArgv = process.execArgv.filter((a) => !a.startsWith("--input-type"));
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, exportName }, execArgv });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on(
        "message",
        (m: { ready?: true; fatal?: string; id?: number; score?: number; error?: string }) => {
          if (m.ready) return resolve();
          if (m.fatal) return this.fail(new Error(`workerObjective: ${m.fatal}`), reject);
          const job = this.pending.get(m.id!);
          this.pending.delete(m.id!);
          if (m.error !== undefined) job?.reject(new Error(m.error));
          else job?.resolve(m.score!);
        },
      );
      this.worker.on("error", (e) => this.fail(e, reject));
      this.worker.on("exit", (code) =>
        this.fail(new Error(`workerObjective: a worker exited with code ${code}`), reject),
      );
    });
  }

  private fail(error: Error, reject: (e: Error) => void): void {
    this.failure ??= error;
    reject(error);
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }

  run(id: number, config: unknown, context: TrialContext): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, config, context });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
  }
}

/**
 * An objective that runs each trial in one of `workers` worker threads. The objective is the function
 * exported as `exportName` from `module` (a path or file: URL); it receives the config and the
 * TrialContext and returns the score. Give the search `concurrency: workers`. A worker that trains should
 * call `setNumThreads(1)`, so that trials, not threads, share the cores. The module must be one Node can
 * load in a worker thread by itself: JavaScript (a worker does not inherit a loader such as tsx).
 * @example
 * const pool = workerObjective("./objective.ts", "objective", { workers: 2 });
 * const result = await randomSearch(pool.objective, space, { trials: 16, mode: "max", concurrency: pool.workers });
 * await pool.close();
 */
export function workerObjective<S extends Space>(
  module: string,
  exportName = "objective",
  options: { workers?: number } = {},
): WorkerObjective<S> {
  const workers = options.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`workerObjective: workers must be a positive integer, got ${workers}`);
  const url = module.startsWith("file:") ? module : pathToFileURL(module).href;
  const pool = Array.from({ length: workers }, () => new TrialWorker(url, exportName));
  const idle = [...pool];
  const waiting: ((w: TrialWorker) => void)[] = [];
  let next = 0;
  const acquire = () =>
    new Promise<TrialWorker>((resolve) => (idle.length > 0 ? resolve(idle.pop()!) : waiting.push(resolve)));
  const release = (w: TrialWorker) => (waiting.length > 0 ? waiting.shift()!(w) : idle.push(w));
  const objective = async (config: Config<S>, context: TrialContext): Promise<number> => {
    const worker = await acquire();
    try {
      await worker.ready;
      return await worker.run(next++, config, context);
    } finally {
      release(worker);
    }
  };
  return { objective, workers, close: async () => void (await Promise.all(pool.map((w) => w.close()))) };
}

/** Writes a file through a temporary name in the same folder, so a reader never sees half of it. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, data, { flag: "wx" });
  await rename(temporary, path);
}

/**
 * Writes results.jsonl, results.csv, search.svg and search.png of a search into `dir` (created if
 * missing) and returns their paths.
 */
export async function writeTuneResults<S extends Space>(
  dir: string,
  result: TuneResult<S>,
  space: S,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const scene = searchScene(result, space);
  const files: [string, string | Uint8Array][] = [
    ["results.jsonl", result.toJSONL()],
    ["results.csv", result.toCSV()],
    ["search.svg", sceneToSvg(scene)],
    ["search.png", await svgToPng(sceneToSvg(scene))],
  ];
  for (const [name, data] of files) await writeAtomic(join(dir, name), data);
  return files.map(([name]) => join(dir, name));
}

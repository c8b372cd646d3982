// Runs in the test page (served transpiled by server.ts): loads the package's browser entry from dist/,
// starts the wasm backend and trains the CNN of train-cnn.ts, reporting what the Node side asserts on.
import { trainCnn, type StriateApi, type TrainResult } from "./train-cnn.js";
import type { ThreadStats } from "../../src/backend/wasm/runtime.js";

export interface PageReport {
  crossOriginIsolated: boolean;
  /** getNumThreads() right after initWasm({ threads: 2 }). */
  threads: number;
  sharedMemory: boolean;
  relaxedSimd: boolean;
  /** Thread statistics before training, after the 2-thread run and after the 1-thread run. */
  stats: ThreadStats[];
  /** Training at the threads initWasm gave (2 when isolated, else 1). */
  first: TrainResult;
  /** The same training after setNumThreads(1) (isolated page only). */
  single: TrainResult | null;
  /** Without shared memory: getNumThreads() after a second initWasm() and setNumThreads(2). */
  threadsAfterRetry: number | null;
  /** Milliseconds: initWasm, first training, second training. */
  ms: number[];
}

/** The browser entry of the package, as a page next to test/browser/ of the served tree sees it. */
const ENTRY = new URL("../../dist/index.js", import.meta.url).href;

export async function run(): Promise<PageReport> {
  const S = (await import(ENTRY)) as StriateApi;
  const t0 = performance.now();
  const backend = await S.initWasm({ threads: 2 });
  const t1 = performance.now();
  const rt = backend.runtime;
  const threads = S.getNumThreads();
  const stats = [rt.threadStats()];
  const first = trainCnn(S);
  probeWorkers(S, rt, stats[0].workerRanges);
  stats.push(rt.threadStats());
  const t2 = performance.now();
  let single: TrainResult | null = null;
  let threadsAfterRetry: number | null = null;
  if (threads > 1) {
    await S.setNumThreads(1);
    single = trainCnn(S);
    stats.push(rt.threadStats());
  } else {
    // Asking again must neither start threads nor repeat the warning.
    await S.initWasm();
    await S.setNumThreads(2);
    threadsAfterRetry = S.getNumThreads();
  }
  const t3 = performance.now();
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    threads,
    sharedMemory: rt.mem.shared,
    relaxedSimd: rt.relaxed,
    stats,
    first,
    single,
    threadsAfterRetry,
    ms: [t1 - t0, t2 - t1, t3 - t2].map(Math.round),
  };
}

/**
 * On a loaded machine the worker can be descheduled through the whole short training, and the calling
 * thread then runs every range itself (it takes back unclaimed ranges). Repeating a split product until a
 * worker has run a range shows that the workers do work, without making the test depend on scheduling
 * (bounded: at most 2,000 products of 64x576 by 576x1024, 75 MFLOP each).
 */
function probeWorkers(S: StriateApi, rt: { threadStats(): ThreadStats }, before: number): void {
  const a = S.randn([64, 576]);
  const b = S.randn([576, 1024]);
  for (let i = 0; i < 2000 && rt.threadStats().workerRanges === before; i++) {
    S.scope(() => {
      a.matmul(b);
    });
  }
}

// Worker pool over the shared memory: every worker instantiates the same compiled module on the same
// WebAssembly.Memory, then waits on a control block in that memory. A kernel call is handed over by
// writing its arguments there and bumping a sequence number (no postMessage per call); workers spin a
// little before blocking in Atomics.wait, because a blocking hand-off costs ~50-120 µs on this class of
// machine and a spin ~0.3 µs (docs/wasm-backend.md). The calling thread computes the first share itself.
//
// Each worker's share is claimed with a compare-exchange, by the worker or — if the worker has not claimed
// it by the time the calling thread has finished its own share — by the calling thread. A worker that is
// descheduled (a busy shared machine, a throttled browser tab) then costs nothing, instead of stalling
// every split kernel until the OS runs it again. Any thread may run any range: a range uses the workspace
// of its index, not of the thread that runs it, so results do not depend on who ran what.
//
// Control block (CTRL_BYTES at `ctrl`, i32 slots): 0 sequence, 1 claimed ranges not yet finished by
// workers, 2 function id, 3 argument count, 4 shutdown, 5 sleeping workers, 6 error flag, 7 ranges run by
// workers (a statistic: the proof that work really left the calling thread), 8 ranges taken back by the
// calling thread (a statistic); slots 16+4w.. hold worker w's (workspace, u0, u1, claim: 0 open,
// 1 taken); f64 arguments start at byte ctrl + ARGS_OFFSET.

import type { WasmMemory } from "./memory.js";

export interface WorkerHandle {
  postMessage(message: unknown): void;
  onMessage(cb: (message: unknown) => void): void;
  onError(cb: (error: unknown) => void): void;
  terminate(): void;
}

/** Starts a worker running `source` (plain JavaScript, no imports). */
export type SpawnWorker = (source: string) => WorkerHandle;

export const CTRL_BYTES = 1024;
const ARGS_OFFSET = 512;
const MAX_ARGS = (CTRL_BYTES - ARGS_OFFSET) / 8;
const MAX_WORKERS = (ARGS_OFFSET / 4 - 16) / 4;
/** How long a worker spins for the next call before it blocks (ms). */
const WORKER_SPIN_MS = 0.2;
/** How long the calling thread spins for the workers before it blocks, where it may block (ms). */
const MAIN_SPIN_MS = 2;

/** The worker program. Runs in Node worker_threads (eval) and in browser Web Workers alike. */
export const WORKER_SOURCE = `
"use strict";
const inNode = typeof require === "function" && typeof process === "object";
let post;
let listen;
if (inNode) {
  const { parentPort } = require("node:worker_threads");
  post = (m) => parentPort.postMessage(m);
  listen = (cb) => parentPort.on("message", cb);
} else {
  post = (m) => self.postMessage(m);
  listen = (cb) => self.addEventListener("message", (e) => cb(e.data));
}
listen(async (msg) => {
  try {
    if (inNode && msg.relaxed) {
      try { require("node:v8").setFlagsFromString("--experimental-wasm-relaxed-simd"); } catch (e) {}
    }
    const instance = await WebAssembly.instantiate(msg.module, {
      env: { memory: msg.memory, abort() { throw new Error("striate wasm kernel aborted"); } },
    });
    const fns = msg.names.map((n) => instance.exports[n]);
    const i32 = new Int32Array(msg.memory.buffer);
    const f64 = new Float64Array(msg.memory.buffer);
    const c = msg.ctrl >> 2;
    const a = (msg.ctrl + ${ARGS_OFFSET}) >> 3;
    const me = c + 16 + 4 * msg.index;
    const spin = msg.spinMs;
    let seen = Atomics.load(i32, c);
    post("ready");
    for (;;) {
      let s = Atomics.load(i32, c);
      if (s === seen) {
        const t0 = performance.now();
        while ((s = Atomics.load(i32, c)) === seen && performance.now() - t0 < spin) {}
        while (s === seen) {
          Atomics.add(i32, c + 5, 1);
          Atomics.wait(i32, c, seen);
          Atomics.sub(i32, c + 5, 1);
          s = Atomics.load(i32, c);
        }
      }
      seen = s;
      if (Atomics.load(i32, c + 4) !== 0) break;
      // The call's arguments and ranges are all written before its claims are opened.
      if (Atomics.compareExchange(i32, me + 3, 0, 1) !== 0) continue;
      const n = i32[c + 3];
      const args = new Array(n + 3);
      for (let k = 0; k < n; k++) args[k] = f64[a + k];
      args[n] = i32[me];
      args[n + 1] = i32[me + 1];
      args[n + 2] = i32[me + 2];
      try {
        fns[i32[c + 2]](...args);
      } catch (e) {
        Atomics.store(i32, c + 6, 1);
      }
      Atomics.add(i32, c + 7, 1);
      if (Atomics.sub(i32, c + 1, 1) === 1) Atomics.notify(i32, c + 1);
    }
  } catch (e) {
    post({ error: String(e && e.stack ? e.stack : e) });
  }
});
`;

function canBlock(): boolean {
  // Browsers forbid Atomics.wait on the main thread (the one with a `document`).
  return typeof document === "undefined";
}

export class ThreadPool {
  readonly size: number;
  private readonly mem: WasmMemory;
  private readonly ctrl: number;
  private readonly workers: WorkerHandle[] = [];
  private readonly ids = new Map<string, number>();
  private readonly started: Promise<void>;
  private failed: string | null = null;

  constructor(
    mem: WasmMemory,
    module: WebAssembly.Module,
    relaxed: boolean,
    size: number,
    spawn: SpawnWorker,
  ) {
    if (!mem.shared) throw new Error("ThreadPool needs a shared memory");
    if (size > MAX_WORKERS) throw new Error(`ThreadPool: at most ${MAX_WORKERS} workers`);
    this.size = size;
    this.mem = mem;
    this.ctrl = mem.allocZeroed(CTRL_BYTES);
    const names = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === "function")
      .map((e) => e.name);
    names.forEach((n, i) => this.ids.set(n, i));
    const readies: Promise<void>[] = [];
    for (let index = 0; index < size; index++) {
      const w = spawn(WORKER_SOURCE);
      this.workers.push(w);
      readies.push(
        new Promise<void>((resolve, reject) => {
          w.onMessage((m) => {
            if (m === "ready") resolve();
            else if (typeof m === "object" && m !== null && "error" in m) {
              this.failed = String((m as { error: unknown }).error);
              reject(new Error(`striate worker failed: ${this.failed}`));
            }
          });
          w.onError((e) => {
            this.failed = String(e);
            reject(new Error(`striate worker failed: ${this.failed}`));
          });
        }),
      );
      w.postMessage({
        module,
        memory: mem.memory,
        ctrl: this.ctrl,
        index,
        names,
        relaxed,
        spinMs: WORKER_SPIN_MS,
      });
    }
    this.started = Promise.all(readies).then(() => undefined);
  }

  ready(): Promise<void> {
    return this.started;
  }

  /**
   * Runs `name(...args, ws[t], bounds[t], bounds[t+1])` for every range t: range 0 on the calling thread
   * (`runRange(0)`), the others on the workers, except those a worker has not claimed by the time range 0
   * is done, which the calling thread runs itself (`runRange(t)`). Returns when all are done.
   */
  run(name: string, args: number[], ws: number[], bounds: number[], runRange: (t: number) => void): void {
    if (this.failed !== null) throw new Error(`striate worker failed: ${this.failed}`);
    const id = this.ids.get(name);
    if (id === undefined) throw new Error(`ThreadPool: unknown kernel ${name}`);
    if (args.length > MAX_ARGS) throw new Error(`ThreadPool: too many arguments for ${name}`);
    const i32 = this.mem.i32();
    const f64 = new Float64Array(i32.buffer, this.ctrl + ARGS_OFFSET, args.length);
    const c = this.ctrl >> 2;
    f64.set(args);
    i32[c + 2] = id;
    i32[c + 3] = args.length;
    const ranges = this.workerRanges(bounds);
    // Range t ≥ 1 belongs to worker t - 1: its slots hold (workspace, u0, u1, claim).
    const slot = (t: number) => c + 16 + 4 * (t - 1);
    for (let t = 1; t <= this.size; t++) {
      const mine = ranges.includes(t);
      i32[slot(t)] = mine ? ws[t] : 0;
      i32[slot(t) + 1] = mine ? bounds[t] : 0;
      i32[slot(t) + 2] = mine ? bounds[t + 1] : 0;
    }
    Atomics.store(i32, c + 1, ranges.length);
    // Open the claims last: a worker that claims has everything of this call in place.
    for (let t = 1; t <= this.size; t++) Atomics.store(i32, slot(t) + 3, ranges.includes(t) ? 0 : 1);
    Atomics.add(i32, c, 1);
    if (Atomics.load(i32, c + 5) > 0) Atomics.notify(i32, c);
    let ownError: unknown = null;
    try {
      runRange(0);
      for (const t of ranges) {
        if (Atomics.compareExchange(i32, slot(t) + 3, 0, 1) !== 0) continue;
        Atomics.add(i32, c + 8, 1);
        try {
          runRange(t);
        } finally {
          Atomics.sub(i32, c + 1, 1);
        }
      }
    } catch (e) {
      ownError = e;
      // Nobody may start a range of a failed call; the ranges already claimed are waited for below.
      for (const t of ranges)
        if (Atomics.compareExchange(i32, slot(t) + 3, 0, 1) === 0) Atomics.sub(i32, c + 1, 1);
    }
    const block = canBlock();
    const t0 = performance.now();
    for (;;) {
      const pending = Atomics.load(i32, c + 1);
      if (pending === 0) break;
      if (block && performance.now() - t0 > MAIN_SPIN_MS) Atomics.wait(i32, c + 1, pending, 20);
    }
    if (Atomics.load(i32, c + 6) !== 0) {
      Atomics.store(i32, c + 6, 0);
      throw new Error(`striate wasm kernel ${name} failed in a worker`);
    }
    if (ownError !== null) throw ownError;
  }

  /** Indices t ≥ 1 of the non-empty ranges of `bounds` that workers exist for. */
  private workerRanges(bounds: number[]): number[] {
    const out: number[] = [];
    for (let t = 1; t < bounds.length - 1 && t <= this.size; t++) if (bounds[t + 1] > bounds[t]) out.push(t);
    return out;
  }

  /** Kernel ranges the workers have run since the pool started (counted by the workers themselves). */
  rangesRunByWorkers(): number {
    return Atomics.load(this.mem.i32(), (this.ctrl >> 2) + 7);
  }

  /** Worker ranges the calling thread ran itself because no worker had claimed them in time. */
  rangesTakenBack(): number {
    return Atomics.load(this.mem.i32(), (this.ctrl >> 2) + 8);
  }

  terminate(): void {
    const i32 = this.mem.i32();
    const c = this.ctrl >> 2;
    Atomics.store(i32, c + 4, 1);
    Atomics.add(i32, c, 1);
    Atomics.notify(i32, c);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    this.mem.free(this.ctrl);
  }
}

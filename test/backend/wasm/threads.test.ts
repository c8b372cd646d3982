// The thread pool hands every range of a split call to exactly one thread: to its worker when the worker
// claims it in time, otherwise back to the calling thread, so a worker that is not running never stalls a
// call. Results do not depend on which thread ran a range.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { initWasm, type WasmBackend } from "../../../src/backend/wasm/index.js";
import { ThreadPool, type SpawnWorker } from "../../../src/backend/wasm/threads.js";

let wasm: WasmBackend;
before(async () => {
  wasm = await initWasm({ setDefault: false, threads: 2 });
});

/** A worker that never gets to run (as one descheduled for the whole call would be). */
const absentWorker: SpawnWorker = () => ({
  postMessage: () => {},
  onMessage: () => {},
  onError: () => {},
  terminate: () => {},
});

describe("ThreadPool", () => {
  it("runs a range its worker never claims on the calling thread, once", () => {
    const rt = wasm.runtime;
    const pool = new ThreadPool(rt.mem, rt.module, rt.relaxed, 1, absentWorker);
    try {
      for (let call = 1; call <= 3; call++) {
        const ran: number[] = [];
        pool.run("cast", [0, 0, 0], [rt.workspace(0), rt.workspace(1)], [0, 8, 16], (t) => ran.push(t));
        assert.deepEqual(ran, [0, 1]);
        assert.equal(pool.rangesTakenBack(), call);
        assert.equal(pool.rangesRunByWorkers(), 0);
      }
    } finally {
      pool.terminate();
    }
  });

  it("accounts for every worker range of real split calls, run by the worker or taken back", () => {
    const rt = wasm.runtime;
    const before = rt.threadStats();
    const x = wasm.full("float32", 1 << 20, -1);
    let out = x;
    for (let i = 0; i < 50; i++) out = wasm.unary("relu", x, {});
    const after = rt.threadStats();
    const split = after.splitCalls - before.splitCalls;
    assert.ok(split >= 50, `relu of 1M floats should split on 2 threads (split ${split})`);
    assert.equal(
      after.workerRanges - before.workerRanges + (after.rangesTakenBack - before.rangesTakenBack),
      split,
    );
    assert.ok([...wasm.toArray(out)].every((v) => v === 0));
  });
});

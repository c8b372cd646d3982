// Node-only: starts a pool worker with worker_threads (imported dynamically by runtime.ts).
import { Worker } from "node:worker_threads";
import type { WorkerHandle } from "./threads.js";

/**
 * The parent's flags minus those that make eval'd code an ES module (`node --input-type=module -e …` passes
 * its flags on to workers, and the worker program is a CommonJS script: as a module it found no `require`
 * and failed with "self is not defined").
 */
function workerExecArgv(): string[] {
  const moduleFlags = /^--(input-type|experimental-default-type)(=|$)/;
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    if (!moduleFlags.test(args[i])) out.push(args[i]);
    else if (!args[i].includes("=")) i++; // the flag's value is the next argument
  }
  return out;
}

export function spawnNodeWorker(source: string): WorkerHandle {
  const w = new Worker(source, { eval: true, execArgv: workerExecArgv() });
  // A starting worker keeps the process alive (someone awaits its "ready"); once it has answered, an idle
  // pool worker must not, so it is unref'd after its first message.
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (cb) =>
      w.on("message", (m) => {
        w.unref();
        cb(m);
      }),
    onError: (cb) => w.on("error", cb),
    terminate: () => void w.terminate(),
  };
}

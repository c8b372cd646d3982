// Node-only: starts a pool worker with worker_threads (imported dynamically by runtime.ts).
import { Worker } from "node:worker_threads";
import type { WorkerHandle } from "./threads.js";

/**
 * The parent's Node flags minus `--input-type`: the pool's worker source is a CommonJS script, and a worker
 * inherits `--input-type=module` from `node --input-type=module -e 'import "striate"'`, which would make
 * `require` undefined in it.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--input-type") i++;
    else if (!argv[i].startsWith("--input-type=")) out.push(argv[i]);
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

// Node-only: starts a pool worker with worker_threads (imported dynamically by runtime.ts).
import { Worker } from "node:worker_threads";
import type { WorkerHandle } from "./threads.js";

export function spawnNodeWorker(source: string): WorkerHandle {
  const w = new Worker(source, { eval: true });
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

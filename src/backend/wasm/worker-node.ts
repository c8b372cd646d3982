// Node-only: starts a pool worker with worker_threads (imported dynamically by runtime.ts).
import { Worker } from "node:worker_threads";
import type { WorkerHandle } from "./threads.js";

export function spawnNodeWorker(source: string): WorkerHandle {
  const w = new Worker(source, { eval: true });
  // Idle pool workers must not keep the process alive.
  w.unref();
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (cb) => w.on("message", cb),
    onError: (cb) => w.on("error", cb),
    terminate: () => void w.terminate(),
  };
}

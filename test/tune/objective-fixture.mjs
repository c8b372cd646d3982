// Objectives for the worker-thread test, in JavaScript (a worker thread does not inherit tsx's loader).
import { threadId } from "node:worker_threads";

/** A smooth function of lr with its optimum at 0.01. @param {{ lr: number }} config */
export function objective(config) {
  const distance = Math.log10(config.lr) + 2;
  return -(distance * distance);
}

/** The id of the worker thread that ran the trial. */
export function whichThread() {
  return threadId;
}

export function broken() {
  throw new Error("this objective always fails");
}

// Which backend new tensors are created on. Explicit: a backend is registered by the code that imports it.

import type { Backend } from "./backend.js";
import { jsBackend } from "./js/index.js";
import { metaBackend } from "./meta/index.js";

const backends = new Map<string, Backend>([
  ["js", jsBackend],
  ["meta", metaBackend],
]);
let current: Backend = jsBackend;

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Makes `name` the backend for tensors created from now on. */
export function setBackend(name: string): void {
  const found = backends.get(name);
  if (!found) {
    throw new Error(`setBackend: unknown backend '${name}'; registered: ${[...backends.keys()].join(", ")}`);
  }
  current = found;
}

export function getBackend(name?: string): Backend {
  if (name === undefined) return current;
  const found = backends.get(name);
  if (!found) throw new Error(`getBackend: unknown backend '${name}'`);
  return found;
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

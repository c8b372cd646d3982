// The backends the op suite runs against: every registered backend that computes values (not `meta`).
// The wasm backend is loaded here (top-level await) without becoming the default, so tests that name no
// backend keep running on js, the reference.

import { initWasm, listBackends } from "../../src/index.js";

await initWasm({ setDefault: false });

export function computingBackends(): string[] {
  return listBackends().filter((name) => name !== "meta");
}

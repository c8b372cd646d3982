// --backend for the CLI: the wasm backend by default (falling back to js when it cannot load, e.g. kernels
// not built), or the one named, selected before any tensor is created.

import { listBackends, setBackend } from "../../backend/registry.js";
import { initWasm } from "../../backend/wasm/index.js";
import { UsageError } from "./args.js";

export async function selectBackend(name: string | undefined): Promise<void> {
  if (name === undefined || name === "wasm") {
    try {
      await initWasm();
      return;
    } catch (error) {
      if (name === "wasm")
        throw new Error(`--backend wasm: the wasm backend could not load: ${(error as Error).message}`);
      process.stderr.write(`striate: wasm backend unavailable (${(error as Error).message}); using js\n`);
      setBackend("js");
      return;
    }
  }
  if (!listBackends().includes(name)) {
    throw new UsageError(`--backend: unknown backend '${name}'; available: js, wasm`);
  }
  setBackend(name);
}

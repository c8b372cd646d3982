// Loading the wasm backend: the Node entry makes it the default with one thread per core, setBackend
// switches, scope is a no-op on js, and a process that used the thread pool exits by itself.
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const entry = fileURLToPath(new URL("../../../src/index-node.ts", import.meta.url));

/** Runs an ES module script with tsx in a fresh process; returns its exit status and output. */
function runScript(source: string) {
  const dir = mkdtempSync(join(tmpdir(), "striate-wasm-"));
  const file = join(dir, "script.mts");
  writeFileSync(file, source);
  return spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", timeout: 60_000 });
}

it("the Node entry makes wasm the default with one thread per core, and the process exits by itself", () => {
  const run = runScript(`
    import { F, getBackend, getNumThreads, memory, randn, scope, setBackend, tensor } from ${JSON.stringify(entry)};
    const x = randn([8, 16, 24, 24]);
    const w = randn([32, 16, 3, 3]);
    const y = scope(() => F.sum(F.relu(F.conv2d(x, w, null, { padding: 1 }))).item());
    setBackend("js");
    const onJs = scope(() => tensor([1, 2]).add(1));
    console.log(JSON.stringify({
      backend: x.backend.name,
      threads: getNumThreads(),
      finite: Number.isFinite(y),
      storages: memory("wasm").storages,
      afterSwitch: getBackend().name,
      jsValues: [...onJs.toArray()],
    }));
  `);
  assert.equal(run.error, undefined, `the process did not exit by itself: ${run.error}`);
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split("\n").pop()!);
  assert.deepEqual(out, {
    backend: "wasm",
    threads: availableParallelism(),
    finite: true,
    storages: 2,
    afterSwitch: "js",
    jsValues: [2, 3],
  });
});

it("the core entry stays on js until initWasm is awaited", () => {
  const core = fileURLToPath(new URL("../../../src/index.ts", import.meta.url));
  const run = runScript(`
    import { getBackend, initWasm, tensor } from ${JSON.stringify(core)};
    const before = getBackend().name;
    await initWasm({ threads: 2 });
    console.log(JSON.stringify({ before, after: getBackend().name, t: tensor([1]).backend.name }));
  `);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout.trim()), { before: "js", after: "wasm", t: "wasm" });
});

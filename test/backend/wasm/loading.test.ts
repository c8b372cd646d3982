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

it("a kernel file the browser cannot fetch is an error naming the URL tried and kernelBaseUrl", async () => {
  const { fetchKernel } = await import("../../../src/backend/wasm/runtime.js");
  const { createServer } = await import("node:http");
  const { readFileSync } = await import("node:fs");
  const wasm = readFileSync(new URL("../../../build/kernels/striate-simd.wasm", import.meta.url));
  // Serves the kernel under /kernels/, a 404 elsewhere, and an HTML page under /spa/ (a single-page-app
  // server's fallback).
  const server = createServer((req, res) => {
    if (req.url === "/kernels/striate-simd.wasm")
      res.writeHead(200, { "content-type": "application/wasm" }).end(wasm);
    else if (req.url?.startsWith("/spa/"))
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html>");
    else res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  try {
    const bytes = await fetchKernel("striate-simd.wasm", `${origin}/kernels/`);
    assert.equal(bytes.byteLength, wasm.byteLength);
    await assert.rejects(fetchKernel("striate-simd.wasm", `${origin}/assets/`), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(`fetching ${origin}/assets/striate-simd\\.wasm failed: HTTP 404`),
      );
      assert.match(error.message, /kernelBaseUrl/);
      return true;
    });
    await assert.rejects(fetchKernel("striate-simd.wasm", new URL(`${origin}/spa/`)), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(`${origin}/spa/striate-simd\\.wasm is not a WebAssembly file \\(text/html`),
      );
      assert.match(error.message, /kernelBaseUrl/);
      return true;
    });
  } finally {
    server.close();
  }
});

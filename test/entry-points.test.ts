// Every entry point of the package runs on the fast backend in Node: importing one subpath alone (the file
// package.json's "node" condition names, mapped from dist/ back to src/) makes wasm the default backend, and
// a backend the user chose afterwards stays chosen when another subpath is imported.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  exports: Record<string, { node?: string; default: string }>;
};
const registry = resolve("src/backend/registry.ts");

/** The source file behind a subpath's Node entry (./dist/nn/index-node.js -> src/nn/index-node.ts). */
function nodeEntry(subpath: string): string {
  const target = pkg.exports[subpath].node;
  assert.ok(target, `package.json exports["${subpath}"] has no "node" condition`);
  return resolve(target.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
}

/** Runs an ES module script with tsx in a fresh process; resolves with its last line of output, parsed. */
function runScript(source: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), "striate-entry-"));
  const file = join(dir, "script.mts");
  writeFileSync(file, source);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", fail);
    child.on("close", (code) => {
      if (code !== 0) fail(new Error(`exit ${code}: ${err}`));
      else done(JSON.parse(out.trim().split("\n").pop()!));
    });
  });
}

describe("entry points in Node", { concurrency: true }, () => {
  const subpaths = Object.keys(pkg.exports);

  for (const subpath of subpaths) {
    it(`import "${subpath === "." ? "striate" : `striate/${subpath.slice(2)}`}" alone gives the wasm backend`, async () => {
      const out = await runScript(`
        const entry = await import(${JSON.stringify(nodeEntry(subpath))});
        const { getBackend } = await import(${JSON.stringify(registry)});
        console.log(JSON.stringify({ backend: getBackend().name, exports: Object.keys(entry).length > 0 }));
      `);
      assert.deepEqual(out, { backend: "wasm", exports: true });
    });
  }

  it("a backend chosen after one import stays chosen when another subpath is imported", async () => {
    const out = await runScript(`
      await import(${JSON.stringify(nodeEntry("./nn"))});
      const { getBackend, setBackend } = await import(${JSON.stringify(registry)});
      setBackend("js");
      await import(${JSON.stringify(nodeEntry("./models"))});
      console.log(JSON.stringify({ backend: getBackend().name }));
    `);
    assert.deepEqual(out, { backend: "js" });
  });

  it("starts its worker threads under `node --input-type=module -e` (workers inherit the flag)", () => {
    const code = `const m = await import(${JSON.stringify(nodeEntry("."))});
      console.log(JSON.stringify({ backend: m.getBackend().name, threads: m.getNumThreads() }));`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout.trim().split("\n").pop()!) as { backend: string; threads: number };
    assert.equal(out.backend, "wasm");
    assert.ok(out.threads >= 1);
  });
});

// The README's example must run as written: extract the first TypeScript block, point its import at the
// source tree, and run it in a child process.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";

test("README example runs and prints a finite loss", () => {
  const readme = readFileSync("README.md", "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, "README.md has a ```ts block");
  const entry = resolve("src/index.ts");
  const code = match[1].replace(/from "striate"/g, `from ${JSON.stringify(entry)}`);
  const dir = mkdtempSync(join(tmpdir(), "striate-readme-"));
  const file = join(dir, "example.ts");
  writeFileSync(file, code);
  const run = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const loss = /loss after one step: ([\d.]+)/.exec(run.stdout);
  assert.ok(loss, `unexpected output: ${run.stdout}`);
  const value = Number(loss[1]);
  // Ten classes at random initialisation: cross-entropy near ln(10) ≈ 2.3.
  assert.ok(value > 1.5 && value < 3.5, `loss ${value}`);
});

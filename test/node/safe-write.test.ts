// writeFileAtomic (src/node/safe-write.ts): replaces the target whole, creates missing directories, and
// replaces a symlink at the target instead of writing through it; no temporary file is left behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/node/safe-write.js";

test("writeFileAtomic replaces a symlink instead of following it, and leaves no temporary", () => {
  const dir = mkdtempSync(join(tmpdir(), "striate-safe-"));
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "precious");
  const target = join(dir, "out", "history.csv");
  writeFileAtomic(target, "a\n");
  assert.equal(readFileSync(target, "utf8"), "a\n");
  const link = join(dir, "out", "plot.svg");
  symlinkSync(victim, link);
  writeFileAtomic(link, new Uint8Array([60, 115, 118, 103, 62]));
  assert.equal(readFileSync(victim, "utf8"), "precious");
  assert.ok(!lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(link, "utf8"), "<svg>");
  writeFileAtomic(target, "b\n");
  assert.equal(readFileSync(target, "utf8"), "b\n");
  assert.deepEqual(readdirSync(join(dir, "out")).sort(), ["history.csv", "plot.svg"]);
});

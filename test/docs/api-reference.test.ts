// The API reference (`npm run docs`, TypeDoc over typedoc.json) covers every public export, and every export
// has a doc comment. The comment check is scripts/doc-coverage.mjs (the TypeScript compiler's view of the
// entry points, seconds instead of a TypeDoc build); it requires what TypeDoc's `notDocumented` validation
// requires. TypeDoc's own validation also runs (--emit none: nothing written), since it catches what the
// comment check cannot: referenced types left out of the reference, broken links.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
// @ts-expect-error: a plain JavaScript script without declarations
import { docCoverage, entryPoints } from "../../scripts/doc-coverage.mjs";

type Undocumented = { name: string; file: string; line: number };

test("typedoc.json's entry points are exactly package.json's exports", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
    exports: Record<string, { default: string }>;
  };
  const fromExports = Object.values(pkg.exports)
    .map((target) => resolve(target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")))
    .sort();
  assert.deepEqual([...(entryPoints() as string[])].sort(), fromExports);
});

test("every public export has a doc comment", () => {
  const { declarations, undocumented } = docCoverage() as {
    declarations: number;
    undocumented: Undocumented[];
  };
  assert.ok(declarations > 500, `only ${declarations} declarations found: is the entry point list right?`);
  const missing = undocumented.map((u) => `${u.file}:${u.line} ${u.name}`);
  assert.deepEqual(missing, [], `${missing.length} public exports have no /** doc comment */`);
});

test("the API reference builds without a warning (TypeDoc's validation, nothing written)", () => {
  const typedoc = resolve("node_modules", "typedoc", "bin", "typedoc");
  const run = spawnSync(process.execPath, [typedoc, "--emit", "none"], {
    encoding: "utf8",
    timeout: 180_000,
  });
  const output = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 0, output);
  assert.doesNotMatch(output, /warning|error/i, output);
});

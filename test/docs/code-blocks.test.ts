// Every code block of README.md and docs/*.md runs (the info-string convention is in test/docs/code-blocks.ts
// and docs/writing-docs.md). The programs import from the package name, "striate" and "striate/<subpath>",
// which is pointed at this checkout's sources (the Node entry points, src/**/index-node.ts); they run one
// after another in a single tsx process, each page's programs in order in a fresh empty working directory
// of the page's own (a later program may read what an earlier one wrote), and each must finish without
// throwing. The packed package runs the getting-started guide in test/docs/getting-started.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { codeBlocks, programs, type Program } from "./code-blocks.js";

const GUIDE = "docs/getting-started.md";
const pages = [
  "README.md",
  ...readdirSync("docs")
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** "striate" -> src/index-node.ts, "striate/nn" -> src/nn/index-node.ts. */
function pointAtSources(code: string): string {
  return code.replace(/(from\s+|import\s*\(\s*)"striate(\/[a-z]+)?"/g, (_, head: string, sub = "") => {
    const entry = resolve("src", `.${sub}`, "index-node.ts");
    if (!existsSync(entry)) throw new Error(`no entry point for "striate${sub}"`);
    return `${head}${JSON.stringify(entry)}`;
  });
}

const cwdOf = (program: Program) => `cwd-${program.page.replace(/\W/g, "-")}`;

/** Runs the programs in one process; returns the error (or null) of each and the milliseconds each took. */
function runAll(list: readonly Program[]): { errors: (string | null)[]; times: number[] } {
  const dir = mkdtempSync(join(tmpdir(), "striate-docs-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const files = list.map((program, i) => {
      const ext = program.lang.startsWith("j") ? "mjs" : "ts";
      const file = join(dir, `${i}-${program.page.replace(/\W/g, "-")}-${program.line}.${ext}`);
      writeFileSync(file, `// ${program.page}:${program.line}\n${pointAtSources(program.code)}`);
      mkdirSync(join(dir, cwdOf(program)), { recursive: true });
      return file;
    });
    const runner = join(dir, "run.ts");
    writeFileSync(
      runner,
      `const files = ${JSON.stringify(files)};
const cwds = ${JSON.stringify(list.map(cwdOf))};
const errors = [];
const times = [];
for (const [i, file] of files.entries()) {
  const t0 = performance.now();
  process.chdir(${JSON.stringify(dir)} + "/" + cwds[i]);
  try {
    await import(file);
    errors.push(null);
  } catch (error) {
    errors.push(String(error instanceof Error ? error.stack ?? error.message : error).split("\\n").slice(0, 4).join("\\n"));
  }
  times.push(Math.round(performance.now() - t0));
}
console.log("\\nRESULTS " + JSON.stringify({ errors, times }));
process.exit(0);
`,
    );
    const run = spawnSync(process.execPath, ["--import", "tsx", runner], { encoding: "utf8" });
    const line = run.stdout.split("\n").find((l) => l.startsWith("RESULTS "));
    assert.ok(line, `the runner did not finish (status ${run.status}):\n${run.stderr}\n${run.stdout}`);
    return JSON.parse(line.slice("RESULTS ".length)) as { errors: (string | null)[]; times: number[] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("every code block in README.md and docs/*.md says what it is, and the runnable ones run", (t) => {
  // getting-started.md's programs run against the packed package (getting-started.test.ts), not twice.
  const list = pages.flatMap((page) => programs(codeBlocks(page))).filter((p) => p.page !== GUIDE);
  assert.ok(list.length >= 8, `only ${list.length} runnable programs found`);
  const { errors, times } = runAll(list);
  t.diagnostic(list.map((program, i) => `${program.page}:${program.line} ${times[i]} ms`).join(", "));
  const failures = list
    .map((program, i) => (errors[i] === null ? null : `${program.page}:${program.line}\n${errors[i]}`))
    .filter((f) => f !== null);
  assert.deepEqual(failures, [], `${failures.length} of ${list.length} documentation programs failed`);
});

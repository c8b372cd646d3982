// Runs the parser fuzz suites (test/fuzz/) at full count and prints the table recorded in docs/reliability.md.
// Usage: node scripts/fuzz.mjs [cases per parser, default 1000]   (npm run fuzz)
// npm test runs the same suites with 120 cases each; the seeds are fixed, so a run is reproducible.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cases = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), "striate-fuzz-"));
const report = join(dir, "report.jsonl");
const files = readdirSync("test/fuzz")
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => join("test/fuzz", f));
const started = Date.now();
const run = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_CASES: String(cases), FUZZ_REPORT: report },
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);
let rows = [];
try {
  rows = readFileSync(report, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
} catch {
  // no report: the suites failed before writing one
}
rmSync(dir, { recursive: true, force: true });
console.log(`\n| Parser | Cases tried | Clean errors | Parsed (values checked) | Bad outcomes |`);
console.log(`|---|---:|---:|---:|---:|`);
for (const r of rows.sort((a, b) => a.parser.localeCompare(b.parser))) {
  console.log(`| ${r.parser} | ${r.cases} | ${r.cleanErrors} | ${r.parsed} | ${r.bad.length} |`);
}
console.log(`\n${rows.length} suites, ${seconds} s in total (node ${process.version})`);
process.exit(run.status ?? 1);

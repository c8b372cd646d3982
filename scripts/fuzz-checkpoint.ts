// The full checkpoint-directory fuzz run (issue 9; docs/reliability.md, "Checkpoints"): 1,200 seeded
// mutated checkpoints by default. Prints the counts per file and outcome, the slowest case, and every bad
// outcome; exits 1 if there is any.
// --no-seal-safetensors leaves edited safetensors headers unsealed (the digest stops them), as npm test
// does; by default they are re-sealed and reach the safetensors parser.
//   node --import tsx scripts/fuzz-checkpoint.ts [count] [seed] [--no-seal-safetensors]
import { fuzzCheckpoints } from "../test/node/checkpoint-fuzz.js";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const count = Number(args[0] ?? 1200);
const seed = Number(args[1] ?? 1);
const sealSafetensors = !process.argv.includes("--no-seal-safetensors");
const started = performance.now();
const cases = await fuzzCheckpoints(count, seed, { sealSafetensors });
const seconds = (performance.now() - started) / 1000;
const rows = new Map<string, Record<string, number>>();
for (const c of cases) {
  const row = rows.get(c.file) ?? {};
  row[c.outcome] = (row[c.outcome] ?? 0) + 1;
  row.total = (row.total ?? 0) + 1;
  rows.set(c.file, row);
}
console.log(
  `${cases.length} cases, seed ${seed}, safetensors headers ${sealSafetensors ? "re-sealed" : "unsealed"}, ${seconds.toFixed(1)} s`,
);
console.log("file               cases  clean-error  loaded-unchanged  accepted-valid-edit  bad");
for (const [file, r] of [...rows].sort()) {
  console.log(
    `${file.padEnd(18)} ${String(r.total).padStart(5)}  ${String(r["clean-error"] ?? 0).padStart(11)}  ${String(r["loaded-unchanged"] ?? 0).padStart(16)}  ${String(r["accepted-valid-edit"] ?? 0).padStart(19)}  ${String(r.bad ?? 0).padStart(3)}`,
  );
}
const slowest = cases.reduce((a, b) => (b.ms > a.ms ? b : a));
console.log(`slowest case: ${slowest.ms.toFixed(0)} ms (${slowest.file}: ${slowest.mutation})`);
const bad = cases.filter((c) => c.outcome === "bad");
for (const c of bad)
  console.log(`BAD #${c.index} ${c.file} ${c.mutation}${c.sealed ? " (sealed)" : ""}: ${c.detail}`);
process.exit(bad.length > 0 ? 1 : 0);

// Fuzzes importOnnx with mutated fixture files: each case flips, overwrites, inserts or deletes a few bytes
// of a file from test/fixtures/onnx (or truncates it), imports the result and, when it imports, runs it on
// the fixture's input. Every outcome must be a clean Error (a message naming the problem) or a result; a
// non-Error throw, a hang (a case over the time limit) or heap growth past the budget fails.
//   node --import tsx scripts/onnx-fuzz.ts [mutations=1000] [seed=1]

import { fuzzOnnx } from "../test/io/onnx-fuzz-harness.js";

const count = Number(process.argv[2] ?? 1000);
const seed = Number(process.argv[3] ?? 1);
const report = fuzzOnnx(count, seed);
console.log(
  `${report.cases} mutations (seed ${seed}): ${report.imported} imported, ${report.ran} ran, ` +
    `${report.rejected} rejected with an error; slowest case ${report.slowestMs.toFixed(0)} ms; ` +
    `heap grew ${(report.heapGrowthBytes / 1e6).toFixed(1)} MB`,
);
for (const [message, n] of [...report.messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40))
  console.log(`  ${n} × ${message}`);
if (report.failures.length > 0) {
  console.log(`FAILURES:\n${report.failures.join("\n")}`);
  process.exit(1);
}

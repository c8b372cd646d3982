// Exports every zoo model to ONNX (small inputs, 10 classes), runs each file in ONNX Runtime against
// Striate's forward and re-imports it, and prints the table docs/onnx.md shows. The test suite runs the
// models below 30 M parameters (test/io/onnx-zoo.test.ts); this runs all of them:
//   node --import tsx scripts/onnx-zoo.ts [name ...]

import { models } from "../src/index.js";
import { checkZooModel } from "../test/io/onnx-harness.js";

const names = process.argv.length > 2 ? process.argv.slice(2) : models.listModels().map((m) => m.name);
console.log(
  "| model | input | parameters | ONNX nodes | file MB | max abs output | ORT vs Striate | export → import vs Striate | s |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
let failed = 0;
const f64 = (r: { float64?: { ort: number; striate: number } }) =>
  r.float64
    ? ` (vs float64: ORT ${r.float64.ort.toExponential(1)}, Striate ${r.float64.striate.toExponential(1)})`
    : "";
for (const name of names) {
  try {
    const r = await checkZooModel(name);
    // Past 1e-4 the two float32 results are judged against the float64 forward: both within 1e-3 of it
    // is float32 rounding through a deep network, not a mapping error.
    const rounding = r.float64 !== undefined && r.float64.ort <= 1e-3 && r.float64.striate <= 1e-3;
    const ok = (r.ortDiff <= 1e-4 || rounding) && r.roundTripDiff <= 1e-4;
    if (!ok) failed++;
    console.log(
      `| ${name} | ${r.input.join("×")} | ${(r.parameters / 1e6).toFixed(2)} M | ${r.nodes} | ${(r.bytes / 1e6).toFixed(1)} | ` +
        `${r.outputScale.toPrecision(2)} | ${r.ortDiff.toExponential(1)}${f64(r)} | ${r.roundTripDiff.toExponential(1)} | ${r.seconds.toFixed(1)} |${ok ? "" : " FAIL"}`,
    );
  } catch (e) {
    failed++;
    console.log(`| ${name} | | | | | | error: ${(e as Error).message.slice(0, 200)} | | |`);
  }
}
process.exit(failed > 0 ? 1 : 0);

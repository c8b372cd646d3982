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
for (const name of names) {
  try {
    const r = await checkZooModel(name);
    const ok = r.ortDiff <= 1e-4 && r.roundTripDiff <= 1e-4;
    if (!ok) failed++;
    console.log(
      `| ${name} | ${r.input.join("×")} | ${(r.parameters / 1e6).toFixed(2)} M | ${r.nodes} | ${(r.bytes / 1e6).toFixed(1)} | ` +
        `${r.outputScale.toPrecision(2)} | ${r.ortDiff.toExponential(1)} | ${r.roundTripDiff.toExponential(1)} | ${r.seconds.toFixed(1)} |${ok ? "" : " FAIL"}`,
    );
  } catch (e) {
    failed++;
    console.log(`| ${name} | | | | | | error: ${(e as Error).message.slice(0, 200)} | | |`);
  }
}
process.exit(failed > 0 ? 1 : 0);

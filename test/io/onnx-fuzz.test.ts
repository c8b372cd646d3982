// Mutated ONNX files (flipped, overwritten, inserted, deleted bytes, truncation) give clean errors or run,
// never a non-Error throw or a hang. npm test runs 150 cases; scripts/onnx-fuzz.ts runs 1,000 or more.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzOnnx } from "./onnx-fuzz-harness.js";

test("importOnnx: 150 mutated fixture files give clean errors or run", () => {
  const report = fuzzOnnx(150, 3);
  assert.deepEqual(report.failures, []);
  assert.equal(report.cases, 150);
  assert.ok(report.rejected > 0, "no mutation was rejected: the mutations do not reach the decoder");
  assert.ok(report.heapGrowthBytes < 500e6, `heap grew by ${report.heapGrowthBytes} bytes`);
});

// docs/coverage.md is generated from the code (scripts/gen-coverage.ts runs every primitive forward and
// backward on js and wasm): this fails when the file no longer says what the code does.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { COVERAGE_PATH, renderCoverage } from "../../scripts/gen-coverage.js";

test("docs/coverage.md is what scripts/gen-coverage.ts renders from the code", async () => {
  const written = readFileSync(COVERAGE_PATH, "utf8");
  const current = await renderCoverage();
  assert.ok(
    written === current,
    "docs/coverage.md is stale: run `node --import tsx scripts/gen-coverage.ts` and commit the result",
  );
});

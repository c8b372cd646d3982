// 150 seeded mutated checkpoint directories (the full 1,200 run is scripts/fuzz-checkpoint.ts): each ends
// in a clean error naming the file, or — for a re-sealed valid edit — a successful load; never an internal
// TypeError/RangeError text, a stack overflow or a raw mutation loading silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzCheckpoints } from "./checkpoint-fuzz.js";

test("150 mutated checkpoint directories: clean errors naming the file, no bad outcome", async () => {
  const cases = await fuzzCheckpoints(150, 2, { sealSafetensors: false });
  const bad = cases.filter((c) => c.outcome === "bad");
  assert.deepEqual(
    bad.map((c) => `#${c.index} ${c.file} ${c.mutation}: ${c.detail}`),
    [],
  );
  const clean = cases.filter((c) => c.outcome === "clean-error").length;
  // Most mutations must be refused; the rest are valid re-sealed edits or left the contents unchanged.
  assert.ok(clean > 120, `${clean} clean errors of ${cases.length}`);
  for (const file of ["config.json", "optimizer.json", "model.safetensors", "checkpoint.json"])
    assert.ok(cases.filter((c) => c.file === file && c.outcome === "clean-error").length > 15, file);
});

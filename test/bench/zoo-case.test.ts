// The zoo bench's case runner in this process: the repetition count follows the first run's time, an
// inference case reports latencies at 1 and 2 threads with memory figures, and a training step runs for a
// classifier and for the segmentation U-Net (per-pixel labels of the class count listModels reports).
// Only the shape and plausibility of the results are checked: no timing is asserted.

import { test } from "node:test";
import assert from "node:assert/strict";
import { repetitions, runZooCase } from "../../bench/zoo-case.js";
import type { CaseSpec } from "../../bench/common.js";

const timing = { budgetMs: 1000, maxReps: 20, maxRunMs: 5000 };

test("the number of timed runs is what fits the budget after the first run, within [1, maxReps]", () => {
  assert.equal(repetitions(100, timing), 10);
  assert.equal(repetitions(0.01, timing), 20);
  assert.equal(repetitions(900, timing), 1);
  assert.equal(repetitions(3000, timing), 1);
  assert.equal(repetitions(6000, timing), 0, "a first run over maxRunMs is the only one");
});

function spec(task: string, model: string): CaseSpec {
  return {
    task,
    impl: "striate-wasm",
    model,
    threads: 1,
    batch: 1,
    budgetMs: 1,
    minReps: 1,
    maxReps: 2,
    warmup: 1,
    maxRunMs: 60_000,
  };
}

test("an inference case reports latencies at 1 and 2 threads and the process's memory", async () => {
  const r = await runZooCase(spec("zoo-infer", "lenet5"));
  assert.equal(r.skip, undefined);
  const v = r.values!;
  for (const key of ["latency1Ms", "latency2Ms", "heapPeakBytes", "wasmMemoryBytes", "maxRssBytes"])
    assert.ok(v[key] > 0, `${key}: ${v[key]}`);
  assert.ok(v.reps1 >= 1 && v.reps1 <= 2 && v.reps2 >= 1 && v.reps2 <= 2);
  assert.ok(v.heapPeakBytes <= v.wasmMemoryBytes, "the heap lies inside the linear memory");
  assert.equal(r.value, v.latency1Ms);
});

test("a training step runs for a classifier and for the segmentation U-Net", async () => {
  for (const model of ["lenet5", "unet"]) {
    const r = await runZooCase(spec("zoo-train", model));
    assert.equal(r.skip, undefined, `${model}: ${r.skip}`);
    assert.ok(r.values!.trainMs > 0 && r.values!.heapPeakBytes > 0, model);
    assert.equal(r.actualThreads, 2);
  }
});

test("an unknown model is refused by name", async () => {
  await assert.rejects(runZooCase(spec("zoo-infer", "lenet6")), /zoo bench: no zoo model 'lenet6'/);
});

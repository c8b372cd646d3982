// The synthetic shapes set: deterministic per seed, every class present, outlines marked ignore.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IGNORE_LABEL, SHAPE_CLASSES, syntheticShapes } from "../../src/data/shapes.js";

test("syntheticShapes is deterministic per seed, labels every class and marks outlines", () => {
  const a = syntheticShapes(64, { seed: 3 });
  assert.deepEqual(syntheticShapes(64, { seed: 3 }).masks, a.masks);
  assert.notDeepEqual(syntheticShapes(64, { seed: 4 }).masks, a.masks);
  const counts = new Map<number, number>();
  for (const v of a.masks) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual(
    [...counts.keys()].sort((x, y) => x - y),
    [0, 1, 2, 3, IGNORE_LABEL],
  );
  assert.equal(a.classes, SHAPE_CLASSES);
  assert.ok(a.images.every((v) => v >= 0 && v <= 1));
  // Without outlines every pixel has a class; each shape pixel is brighter than the background there.
  const plain = syntheticShapes(8, { seed: 3, ignoreBoundary: false });
  assert.ok(!plain.masks.includes(IGNORE_LABEL));
  assert.throws(() => syntheticShapes(0), /count must be an integer >= 1/);
});

// WeightGuard on its own: the on-device finiteness check (exact even when a sum overflows), the host
// snapshot kept every step for small models and every few steps for large ones, and restore().
import { test } from "node:test";
import assert from "node:assert/strict";
import { Module } from "../../src/nn/module.js";
import { Parameter } from "../../src/nn/parameter.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { SNAPSHOT_VALUES_PER_STEP, WeightGuard } from "../../src/train/weight-guard.js";

/** A module holding one parameter of `size` values, all `value`, and an int32 buffer 'count'. */
class Holder extends Module {
  w: Parameter;
  constructor(size: number, value: number) {
    super();
    this.w = new Parameter(tensor(new Float32Array(size).fill(value), [size]));
    this.registerBuffer("count", tensor([3], [1], { dtype: "int32" }));
  }
  forward(x: Tensor): Tensor {
    return x;
  }
  set(index: number, value: number): void {
    const data = this.w.toArray();
    data[index] = value;
    this.w.assign(tensor(data, [data.length]));
  }
}

test("a state whose sum overflows float32 but whose values are all finite passes the check", () => {
  const model = new Holder(4, 3e38);
  const guard = new WeightGuard(model);
  assert.equal(guard.checkAndKeep(), null);
});

test("NaN and ±Infinity are found and named with their first index", () => {
  for (const bad of [Number.NaN, Infinity, -Infinity]) {
    const model = new Holder(8, 1);
    const guard = new WeightGuard(model);
    model.set(5, bad);
    model.set(6, bad);
    assert.deepEqual(guard.checkAndKeep(), { name: "w", index: 5, value: bad });
  }
});

test("a small model's snapshot follows every finite step; restore brings back the last one", () => {
  const model = new Holder(10, 1);
  const guard = new WeightGuard(model);
  assert.equal(guard.snapshotEvery, 1);
  model.set(0, 2);
  assert.equal(guard.checkAndKeep(), null);
  assert.equal(guard.stepsBehind, 0);
  model.set(0, Number.NaN);
  assert.notEqual(guard.checkAndKeep(), null);
  guard.restore();
  assert.equal(model.w.toArray()[0], 2);
});

test("a model larger than SNAPSHOT_VALUES_PER_STEP is copied every few steps and restore says how far back", () => {
  const model = new Holder(2 * SNAPSHOT_VALUES_PER_STEP + 1, 0);
  const guard = new WeightGuard(model);
  assert.equal(guard.snapshotEvery, 3);
  model.set(0, 1);
  assert.equal(guard.checkAndKeep(), null);
  assert.equal(guard.stepsBehind, 1);
  model.set(0, 2);
  assert.equal(guard.checkAndKeep(), null);
  assert.equal(guard.stepsBehind, 2);
  model.set(0, 3);
  assert.equal(guard.checkAndKeep(), null);
  assert.equal(guard.stepsBehind, 0, "third step: snapshot taken");
  model.set(0, 4);
  model.setBuffer("count", tensor([7], [1], { dtype: "int32" }));
  assert.equal(guard.checkAndKeep(), null);
  model.set(0, Number.NaN);
  assert.deepEqual(guard.checkAndKeep(), { name: "w", index: 0, value: Number.NaN });
  assert.equal(guard.stepsBehind, 1);
  guard.restore();
  assert.equal(model.w.toArray()[0], 3);
  assert.deepEqual([...model.getBuffer("count").toArray()], [3], "int32 buffers come back too");
});

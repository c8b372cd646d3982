// Tensor.data() and itemAsync(): the asynchronous reads every backend answers (webgpu needs them; on js and
// wasm they return what toArray() and item() return).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../../src/index.js";
import { computingBackends } from "../helpers/backends.js";

for (const backend of computingBackends()) {
  test(`data() and itemAsync() read values [${backend}]`, async () => {
    const x = tensor([1, 2, 3, 4], [2, 2], { backend });
    const y = x.mul(x);
    const values = await y.data();
    assert.deepEqual(Array.from(values), [1, 4, 9, 16]);
    assert.ok(values instanceof Float32Array);
    values[0] = 99; // a copy: the tensor is unchanged
    assert.deepEqual(Array.from(y.toArray()), [1, 4, 9, 16]);
    assert.equal(await y.sum().itemAsync(), 30);
    await assert.rejects(y.itemAsync(), /itemAsync: tensor of shape \[2,2\] has 4 elements, not 1/);
  });
}

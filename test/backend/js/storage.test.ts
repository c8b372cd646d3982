// js backend storage: a tensor too large for a typed array fails with the dtype, the size and what to do,
// not the engine's bare "Invalid typed array length".

import { test } from "node:test";
import assert from "node:assert/strict";
import { zeros } from "../../../src/tensor/tensor.js";

test("a tensor too large for a typed array names its dtype, size and bytes", () => {
  assert.throws(
    () => zeros([1e5, 1e5], { backend: "js" }),
    /^Error: js backend: cannot allocate a float32 tensor of 10000000000 values \(37\.3 GiB\): .*Use a smaller shape/,
  );
  assert.throws(() => zeros([1e10], { backend: "js", dtype: "float64" }), /float64 tensor .*74\.5 GiB/);
});

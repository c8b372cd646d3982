// The webgpu backend in Node: initWebGpu() imports the optional `webgpu` package (Dawn) only when asked.
// Where an adapter exists, tensors run on it and read back asynchronously; where none does (this machine:
// the package is not installed, or Dawn finds no adapter over Mesa's lavapipe), the error says so and the
// adapter tests are skipped with a visible notice. The full suite runs on webgpu in Chromium
// (test/browser/webgpu.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { getBackend, initWebGpu, listBackends, tensor } from "../../../src/index.js";

let backendError: Error | null = null;
try {
  await initWebGpu({ setDefault: false });
} catch (e) {
  backendError = e as Error;
}
const skip = backendError
  ? `no WebGPU adapter in Node here, webgpu tests run in Chromium instead: ${backendError.message.slice(0, 200)}`
  : false;
if (skip) console.log(`# ${skip}`);

test("without an adapter, initWebGpu says why and registers nothing", { skip: backendError === null }, () => {
  assert.match(backendError!.message, /^no WebGPU adapter: /);
  assert.ok(!listBackends().includes("webgpu"));
});

test("a tensor computed on webgpu is read back with await data()", { skip }, async () => {
  const x = tensor([1, -2, 3], [3], { backend: "webgpu" });
  const y = x.mul(2).relu();
  assert.deepEqual(Array.from(await y.data()), [2, 0, 6]);
  assert.equal(await y.sum().itemAsync(), 8);
});

test("toArray() of a value only the GPU holds points to data()", { skip }, () => {
  const y = tensor([1, 2], [2], { backend: "webgpu" }).add(1);
  assert.throws(() => y.toArray(), /await tensor\.data\(\)/);
  assert.equal(getBackend("webgpu").syncReads, false);
});

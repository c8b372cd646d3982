// The webgpu backend in Node: initWebGpu() imports the optional `webgpu` package (Dawn) only when asked.
// test/helpers/node-webgpu.ts finds an adapter (SwiftShader's Vulkan driver from Debian's chromium where
// there is no GPU); where none exists the error says so and the adapter tests are skipped with a visible
// notice. The fixture suite and training on webgpu in Node are in test/backend/webgpu/*.test.ts beside this.
import { test } from "node:test";
import assert from "node:assert/strict";
import { F, getBackend, listBackends, tensor } from "../../../src/index.js";
import { openNodeWebGpu } from "../../helpers/node-webgpu.js";

const { backend, skip, error } = await openNodeWebGpu();

test("without an adapter, initWebGpu says why and registers nothing", { skip: error === null }, () => {
  assert.match(error!.message, /^no WebGPU adapter: /);
  assert.ok(!listBackends().includes("webgpu"));
});

test("names the adapter and registers the backend", { skip }, (t) => {
  t.diagnostic(`adapter: ${backend!.adapterName}`);
  assert.ok(listBackends().includes("webgpu"));
  assert.ok(backend!.adapterName.length > 0);
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

test(
  "a batch of 64 images through a convolution: the Dawn instance outlives the call that made it",
  { skip },
  async () => {
    // Dawn's instance was once left to the garbage collector after requestAdapter(); Node then crashed
    // (SIGSEGV or a futex abort in SwiftShader's threads) on the first large dispatch.
    const xs = Array.from({ length: 64 * 28 * 28 }, (_, i) => Math.sin(i));
    const ws = Array.from({ length: 6 * 25 }, (_, i) => Math.cos(i) / 5);
    const on = (backend: "js" | "webgpu") =>
      F.conv2d(tensor(xs, [64, 1, 28, 28], { backend }), tensor(ws, [6, 1, 5, 5], { backend }))
        .relu()
        .sum();
    const y = await on("webgpu").itemAsync();
    const yJs = on("js").item();
    assert.ok(Math.abs(y - yJs) <= 1e-3 * Math.max(1, Math.abs(yJs)), `${y} vs js ${yJs}`);
  },
);

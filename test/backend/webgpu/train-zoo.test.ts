// The zoo's small models train on webgpu in Node as on js: each is built under setBackend() from the same
// seed, trained for two fit() steps (SGD with momentum) on the same batch with the same dropout masks, and
// its losses and every parameter and buffer afterwards must match js's within float32's reduction-order
// differences (ZOO_LOSS_RTOL 1e-3, ZOO_STATE_RTOL 5e-3 relative), and the loss must fall. Which models and why: ZOO_CASES in test/helpers/webgpu-zoo.ts (together they cover
// depthwise convolutions, squeeze-excitation and hardswish, channel shuffle, batch norm, dropout, adaptive
// pooling and concatenation); STRIATE_WEBGPU_FULL=1 adds the slower ZOO_EXTRA. Skipped with the notice of
// test/helpers/node-webgpu.ts where Node has no WebGPU adapter. The Chromium page trains a subset
// (test/browser/webgpu.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as S from "../../../src/index.js";
import { openNodeWebGpu } from "../../helpers/node-webgpu.js";
import { trainOnBoth, ZOO_CASES, ZOO_EXTRA, zooProblems, zooSummary } from "../../helpers/webgpu-zoo.js";

const { skip } = await openNodeWebGpu();

test("dropout, dropout2d and stochastic depth draw the same masks on webgpu as on js", { skip }, async () => {
  // The masks come from the seeded generator on the host (src/ops/dropout.ts, src/nn/dropout.ts) and are
  // uploaded to the input's backend: a model with dropout trains identically on both backends.
  const masks = async (backend: string) => {
    S.manualSeed(5);
    const x = S.tensor(
      Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => 1 + i),
      [2, 3, 4, 4],
      { backend },
    );
    const outs = [
      S.F.dropout(x, 0.3),
      new S.nn.Dropout2d(0.5).forward(x),
      S.F.stochasticDepth(x, 0.5, { mode: "row" }),
    ];
    return Promise.all(outs.map(async (t) => Array.from(await t.data())));
  };
  const [js, gpu] = [await masks("js"), await masks("webgpu")];
  assert.deepEqual(gpu, js);
  assert.ok(js[0].includes(0) && js[0].some((v) => v !== 0), "dropout zeroed some elements, not all");
});

const cases = process.env.STRIATE_WEBGPU_FULL === "1" ? [...ZOO_CASES, ...ZOO_EXTRA] : ZOO_CASES;
for (const c of cases) {
  test(`${c.name} trains on webgpu as on js (${c.size}×${c.size}, batch ${c.batch})`, { skip }, async (t) => {
    const r = await trainOnBoth(S, c);
    t.diagnostic(zooSummary(r));
    assert.deepEqual(zooProblems(r), []);
  });
}

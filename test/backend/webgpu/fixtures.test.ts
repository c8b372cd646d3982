// The webgpu backend in Node (Dawn over SwiftShader's Vulkan driver where there is no GPU) runs what the
// Chromium page runs (test/browser/webgpu-page.ts): every PyTorch fixture family through the shared
// runners (test/helpers/fixture-runners.ts), the LeNet-5 end-to-end fixture (two SGD-momentum steps,
// test/helpers/lenet-fixture.ts) and the kernel parity cases against js (test/browser/webgpu-parity.ts).
// Every case runs (the RoI ops and topk are backend kernels now). Without an adapter the whole file is
// skipped with the notice of test/helpers/node-webgpu.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as S from "../../../src/index.js";
import { openNodeWebGpu } from "../../helpers/node-webgpu.js";
import { fixtureFamilies, loadFixture } from "../../helpers/fixtures.js";
import { fixtureRunners, HANDLED_ELSEWHERE, runFixtureCase } from "../../helpers/fixture-runners.js";
import { runLenetFixture } from "../../helpers/lenet-fixture.js";
import { parityCases } from "../../browser/webgpu-parity.js";

const { skip } = await openNodeWebGpu();
const runners = fixtureRunners(S.F);
const families = fixtureFamilies().filter((f) => !HANDLED_ELSEWHERE.has(f));

for (const family of families) {
  test(`fixtures ${family} [webgpu, Node]`, { skip }, async (t) => {
    const { cases } = loadFixture(family);
    let worst = 0;
    for (const c of cases) {
      await t.test(c.name, async () => {
        const errors = await runFixtureCase(S, runners, c, "webgpu");
        for (const err of errors.values()) worst = Math.max(worst, err);
      });
    }
    t.diagnostic(`${family}: ${cases.length} cases run on webgpu, worst |a-b| ${worst.toExponential(2)}`);
  });
}

test("the LeNet-5 end-to-end fixture (two SGD-momentum steps) on webgpu", { skip }, async (t) => {
  const worst = await runLenetFixture(S, loadFixture("end_to_end").cases[0], "webgpu");
  t.diagnostic(`worst |a-b| over loss, logits, grads and params: ${worst.toExponential(2)}`);
});

// The parity cases also run on the Chromium page in npm test, on the same SwiftShader; here only with
// STRIATE_WEBGPU_FULL=1 (10 s), to keep npm test within its budget.
const parityHere =
  process.env.STRIATE_WEBGPU_FULL === "1"
    ? skip
    : "the parity cases run on the Chromium page; STRIATE_WEBGPU_FULL=1 runs them here";
test("every kernel matches the js backend", { skip: parityHere }, async (t) => {
  const cases = parityCases(S);
  assert.ok(cases.length >= 90, `only ${cases.length} parity cases`);
  let worst = 0;
  for (const c of cases) {
    await t.test(c.name, async () => {
      worst = Math.max(worst, await c.run());
    });
  }
  t.diagnostic(`${cases.length} kernel cases, worst |a-b| ${worst.toExponential(2)}`);
});

// Every forward/backward case of the PyTorch fixtures, read generically: a new case needs no new code (the
// runners live in test/helpers/fixture-runners.ts, shared with the webgpu page harness).
// Each case runs on every registered backend; the worst error per family is reported.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, tensor } from "../../src/index.js";
import { fixtureFamilies, loadFixture } from "../helpers/fixtures.js";
import { fixtureRunners, HANDLED_ELSEWHERE, runFixtureCase } from "../helpers/fixture-runners.js";
import { computingBackends } from "../helpers/backends.js";

// Families with their own harness elsewhere (different layouts): optimizers and lr_schedulers in
// test/optim, end_to_end in test/e2e, models in test/models. Every other fixture file is an op family and
// runs here, so a new file or case needs no new code (a new op needs one runner in fixture-runners.ts).
const runners = fixtureRunners(F);
const families = fixtureFamilies().filter((f) => !HANDLED_ELSEWHERE.has(f));

test("every fixture file is run by a harness", () => {
  assert.ok(families.length >= 10, `only ${families.length} op families found in ${families.join(", ")}`);
  for (const family of families) {
    for (const c of loadFixture(family).cases)
      assert.ok(runners[c.op], `${family}/${c.name}: no runner for op '${c.op}'`);
  }
});

for (const backend of computingBackends()) {
  for (const family of families) {
    test(`fixtures ${family} [${backend}]`, async (t) => {
      const file = loadFixture(family);
      assert.ok(file.cases.length > 0);
      let worst = 0;
      for (const c of file.cases) {
        await t.test(c.name, async () => {
          const errors = await runFixtureCase({ F, tensor }, runners, c, backend);
          for (const err of errors.values()) worst = Math.max(worst, err);
        });
      }
      t.diagnostic(
        `worst |a-b| in ${family} on ${backend}: ${worst.toExponential(2)} over ${file.cases.length} cases`,
      );
    });
  }
}

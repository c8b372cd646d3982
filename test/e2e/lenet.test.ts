// End to end against PyTorch: a LeNet-5 built from nn layers reproduces end_to_end.json — the loss, the
// logits, every parameter gradient, and the parameters after each of two SGD-momentum steps
// (test/helpers/lenet-fixture.ts, shared with the webgpu page harness).

import { test } from "node:test";
import { F, nn, optim, tensor } from "../../src/index.js";
import { loadFixture } from "../helpers/fixtures.js";
import { runLenetFixture } from "../helpers/lenet-fixture.js";
import { computingBackends } from "../helpers/backends.js";

for (const backend of computingBackends()) {
  test(`LeNet-5: two SGD-momentum steps match PyTorch [${backend}]`, async (t) => {
    const c = loadFixture("end_to_end").cases[0];
    const worst = await runLenetFixture({ F, nn, optim, tensor }, c, backend);
    t.diagnostic(`worst |a-b| over loss, logits, grads and params: ${worst.toExponential(2)}`);
  });
}

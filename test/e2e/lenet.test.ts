// End to end against PyTorch: a LeNet-5 built from nn layers reproduces end_to_end.json — the loss, the
// logits, every parameter gradient, and the parameters after each of two SGD-momentum steps.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, nn, optim, type Tensor } from "../../src/index.js";
import { loadFixture, toTensor, type FixtureTensor } from "../helpers/fixtures.js";
import { compareArrays } from "../helpers/close.js";
import { computingBackends } from "../helpers/backends.js";

interface Step {
  batch: number;
  loss: FixtureTensor;
  logits: FixtureTensor;
  grads: Record<string, FixtureTensor>;
  params_after: Record<string, FixtureTensor>;
}

function lenet5(backend: string): nn.Module & { forward(x: Tensor): Tensor } {
  const o = { backend };
  class LeNet5 extends nn.Module {
    conv1 = new nn.Conv2d(1, 6, 5, { padding: 2, ...o });
    conv2 = new nn.Conv2d(6, 16, 5, o);
    fc1 = new nn.Linear(400, 120, o);
    fc2 = new nn.Linear(120, 84, o);
    fc3 = new nn.Linear(84, 10, o);
    forward(x: Tensor): Tensor {
      let h = F.maxPool2d(F.relu(this.conv1.forward(x)), 2);
      h = F.maxPool2d(F.relu(this.conv2.forward(h)), 2);
      h = F.relu(this.fc1.forward(F.flatten(h, 1)));
      h = F.relu(this.fc2.forward(h));
      return this.fc3.forward(h);
    }
  }
  return new LeNet5();
}

// The same tolerance as the single-op fixtures: two float32 steps stay well inside it.
const atol = 1e-5;
const rtol = 1e-4;

function expectClose(actual: Tensor, expected: FixtureTensor, what: string): number {
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  const cmp = compareArrays(actual.toArray(), toTensor(expected, { backend: "js" }).toArray(), atol, rtol);
  assert.ok(cmp.worstRatio <= 1, `${what}: differs by ${cmp.maxAbs} at element ${cmp.index}`);
  return cmp.maxAbs;
}

for (const backend of computingBackends()) {
  test(`LeNet-5: two SGD-momentum steps match PyTorch [${backend}]`, (t) => {
    const c = loadFixture("end_to_end").cases[0];
    const params = c.params as Record<string, FixtureTensor>;
    const steps = c.steps as Step[];
    const model = lenet5(backend);
    const names = model.namedParameters().map(([name]) => name);
    assert.deepEqual(names.sort(), Object.keys(params).sort(), "parameter names match torch's");
    model.loadStateDict(
      new Map(Object.entries(params).map(([name, value]) => [name, toTensor(value, { backend })])),
    );
    const opt = c.attrs!.optimizer as { lr: number; momentum: number };
    const optimizer = new optim.SGD(model.parameters(), { lr: opt.lr, momentum: opt.momentum });
    let worst = 0;
    steps.forEach((step, i) => {
      const x = toTensor(c.inputs[`x${i + 1}`], { backend });
      const labels = toTensor(c.inputs[`labels${i + 1}`], { backend });
      const logits = model.forward(x);
      const loss = F.crossEntropy(logits, labels);
      worst = Math.max(worst, expectClose(logits, step.logits, `step ${i} logits`));
      worst = Math.max(worst, expectClose(loss, step.loss, `step ${i} loss`));
      optimizer.zeroGrad();
      loss.backward();
      const byName = new Map(model.namedParameters());
      for (const [name, g] of Object.entries(step.grads)) {
        worst = Math.max(worst, expectClose(byName.get(name)!.grad!, g, `step ${i} grad ${name}`));
      }
      optimizer.step();
      for (const [name, p] of Object.entries(step.params_after)) {
        worst = Math.max(worst, expectClose(byName.get(name)!, p, `step ${i} ${name} after the update`));
      }
    });
    t.diagnostic(`worst |a-b| over loss, logits, grads and params: ${worst.toExponential(2)}`);
  });
}

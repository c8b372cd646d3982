// The LeNet-5 end-to-end fixture (end_to_end.json) as code shared by Node (test/e2e/lenet.test.ts) and the
// webgpu page (test/browser/webgpu-page.ts): build the model from nn layers, load torch's initial weights,
// take two SGD-momentum steps and compare loss, logits, every gradient and every updated parameter.
// Browser-safe: the library comes in as a parameter, values are read with `await tensor.data()`.

import type * as Api from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { compareArrays } from "./compare.js";
import { decodeFixture, type FixtureCase, type FixtureTensor } from "./fixture-runners.js";

interface Step {
  batch: number;
  loss: FixtureTensor;
  logits: FixtureTensor;
  grads: Record<string, FixtureTensor>;
  params_after: Record<string, FixtureTensor>;
}

export type LenetApi = Pick<typeof Api, "F" | "nn" | "optim" | "tensor">;

function lenet5(S: LenetApi, backend: string): Api.nn.Module & { forward(x: Tensor): Tensor } {
  const { F, nn } = S;
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

/** Runs the fixture's two steps on `backend`; returns the worst |a−b|, throws naming the first mismatch. */
export async function runLenetFixture(S: LenetApi, c: FixtureCase, backend: string): Promise<number> {
  const load = (t: FixtureTensor) => S.tensor(decodeFixture(t), t.shape, { backend });
  const expectClose = async (actual: Tensor, expected: FixtureTensor, what: string): Promise<number> => {
    if (actual.shape.join() !== expected.shape.join())
      throw new Error(`${what}: shape [${actual.shape}], expected [${expected.shape}]`);
    const cmp = compareArrays(await actual.data(), decodeFixture(expected), atol, rtol);
    if (cmp.worstRatio > 1) throw new Error(`${what}: differs by ${cmp.maxAbs} at element ${cmp.index}`);
    return cmp.maxAbs;
  };
  const params = c.params as Record<string, FixtureTensor>;
  const steps = c.steps as Step[];
  const model = lenet5(S, backend);
  const names = model.namedParameters().map(([name]) => name);
  if (names.sort().join() !== Object.keys(params).sort().join())
    throw new Error(`parameter names ${names} do not match torch's ${Object.keys(params)}`);
  model.loadStateDict(new Map(Object.entries(params).map(([name, value]) => [name, load(value)])));
  const opt = c.attrs!.optimizer as { lr: number; momentum: number };
  const optimizer = new S.optim.SGD(model.parameters(), { lr: opt.lr, momentum: opt.momentum });
  let worst = 0;
  for (const [i, step] of steps.entries()) {
    const x = load(c.inputs[`x${i + 1}`]);
    const labels = load(c.inputs[`labels${i + 1}`]);
    const logits = model.forward(x);
    const loss = S.F.crossEntropy(logits, labels);
    worst = Math.max(worst, await expectClose(logits, step.logits, `step ${i} logits`));
    worst = Math.max(worst, await expectClose(loss, step.loss, `step ${i} loss`));
    optimizer.zeroGrad();
    loss.backward();
    const byName = new Map(model.namedParameters());
    for (const [name, g] of Object.entries(step.grads))
      worst = Math.max(worst, await expectClose(byName.get(name)!.grad!, g, `step ${i} grad ${name}`));
    optimizer.step();
    for (const [name, p] of Object.entries(step.params_after))
      worst = Math.max(worst, await expectClose(byName.get(name)!, p, `step ${i} ${name} after the update`));
  }
  return worst;
}

// LeNet-5: the modern variant reproduces PyTorch's end-to-end LeNet case (test/fixtures/torch/end_to_end.json)
// once its weights are loaded by name — same layout, names, logits, loss and gradients — and the classic
// variant has the parameter and connection counts LeCun et al. 1998 give per layer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { decode, loadFixture, toTensor, type FixtureTensor } from "../helpers/fixtures.js";
import { compareArrays } from "../helpers/close.js";
import {
  LeNet5,
  LeNet5Classic,
  ConnectionTableConv2d,
  LENET_C3_TABLE,
  summary,
} from "../../src/models/index.js";
import { crossEntropy } from "../../src/ops/losses.js";
import { noGrad, randn, randint, manualSeed } from "../../src/index.js";

interface EndToEndCase {
  inputs: Record<string, FixtureTensor>;
  params: Record<string, FixtureTensor>;
  steps: { loss: FixtureTensor; logits: FixtureTensor; grads: Record<string, FixtureTensor> }[];
}

test("lenet5 has the layout of the PyTorch fixture and reproduces its logits, loss and gradients", () => {
  const c = loadFixture("end_to_end").cases[0] as unknown as EndToEndCase;
  const model = new LeNet5();
  assert.deepEqual(
    [...model.stateDict().entries()].map(([k, t]) => `${k} [${t.shape.join(",")}]`),
    Object.entries(c.params).map(([k, t]) => `${k} [${t.shape.join(",")}]`),
  );
  model.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, t]) => [k, toTensor(t)])));
  const logits = model.forward(toTensor(c.inputs.x1));
  const loss = crossEntropy(logits, toTensor(c.inputs.labels1));
  const step = c.steps[0];
  assert.ok(compareArrays(logits.toArray(), decode(step.logits), 1e-4, 1e-4).worstRatio <= 1);
  assert.ok(compareArrays(loss.toArray(), decode(step.loss), 1e-5, 1e-4).worstRatio <= 1);
  loss.backward();
  for (const [name, p] of model.namedParameters()) {
    const cmp = compareArrays(p.grad!.toArray(), decode(step.grads[name]), 1e-5, 1e-3);
    assert.ok(cmp.worstRatio <= 1, `${name}: max |diff| ${cmp.maxAbs}`);
  }
});

test("lenet5_classic: C1 156, C3 1516, C5 48120, F6 10164 trainable parameters, connections as in the paper", () => {
  const model = new LeNet5Classic({ backend: "meta" });
  const s = summary(model, [1, 1, 32, 32]);
  const row = (name: string) => s.rows.find((r) => r.name === name)!;
  assert.deepEqual(row("c1").outputShape, [1, 6, 28, 28]);
  assert.deepEqual(row("s2").outputShape, [1, 6, 14, 14]);
  assert.deepEqual(row("c3").outputShape, [1, 16, 10, 10]);
  assert.deepEqual(row("s4").outputShape, [1, 16, 5, 5]);
  assert.deepEqual(row("c5").outputShape, [1, 120, 1, 1]);
  assert.equal(row("c1").params, 156);
  assert.equal((model.c3 as ConnectionTableConv2d).liveParameters, 1516);
  assert.equal(row("c5").params, 48120);
  assert.equal(row("f6").params, 10164);
  // The paper counts connections with the bias: MACs + one per output value.
  const connections = (name: string) =>
    row(name).macs +
    row(name)
      .outputShape.slice(1)
      .reduce((a, b) => a * b, 1);
  assert.equal(connections("c1"), 122304);
  assert.equal(connections("c3"), 151600);
  assert.equal(connections("c5"), 48120);
  assert.equal(
    LENET_C3_TABLE.reduce((n, r) => n + r.length, 0),
    60,
  );
});

test("lenet5_classic: C3's missing connections stay zero through training", () => {
  manualSeed(5);
  const model = new LeNet5Classic();
  const c3 = model.c3 as ConnectionTableConv2d;
  const x = randn([4, 1, 32, 32]);
  const y = randint(0, 10, [4]);
  for (let i = 0; i < 2; i++) {
    crossEntropy(model.forward(x), y).backward();
    noGrad(() => {
      for (const p of model.parameters()) {
        if (p.grad) p.assign(p.sub(p.grad.mul(0.1)));
        p.grad = null;
      }
    });
  }
  const w = c3.weight.toArray();
  let live = 0;
  for (let o = 0; o < 16; o++) {
    for (let i = 0; i < 6; i++) {
      const slice = w.subarray((o * 6 + i) * 25, (o * 6 + i + 1) * 25);
      const connected = LENET_C3_TABLE[o].includes(i);
      if (connected) live += slice.some((v) => v !== 0) ? 1 : 0;
      else
        assert.ok(
          slice.every((v) => v === 0),
          `C3 map ${o} reads S2 map ${i}`,
        );
    }
  }
  assert.equal(live, 60);
  const full = new LeNet5Classic({ connectionTable: false, backend: "meta" });
  assert.equal(full.numParameters(), 61706);
});

// Guided backprop, deconvnet and guided Grad-CAM: the ReLU rules by hand on a two-layer net, the same maps
// whether ReLUs are nn.ReLU modules or F.relu calls, the plain gradient for a model without ReLUs (the
// documented behaviour), batched = per-image, and guided Grad-CAM as the product it is defined to be.

import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, tensor, type Tensor } from "../../src/index.js";
import { Deconvolution, GradCam, GuidedBackprop, GuidedGradCam, Saliency } from "../../src/explain/index.js";
import { SmallConvNet, imageBatch, maxDiff, values } from "./helpers.js";

const w1 = [
  [1, -2, 0.5],
  [-1, 1, 2],
  [0.5, 0.5, -1],
];
const w2 = [
  [1, -3, 2],
  [-1, 2, 1],
];

function twoLayer(activation: nn.TensorModule = new nn.ReLU()): nn.Module {
  const first = new nn.Linear(3, 3, { bias: false });
  const second = new nn.Linear(3, 2, { bias: false });
  first.loadStateDict({ weight: tensor(w1) });
  second.loadStateDict({ weight: tensor(w2) });
  return new nn.Sequential(first, activation, second);
}

/** W1ᵀ·v for a hidden-layer gradient v. */
const throughFirst = (v: number[]) => [0, 1, 2].map((j) => v.reduce((s, vi, i) => s + vi * w1[i][j], 0));

test("the ReLU rules by hand: gradient, guided (positive grads at positive inputs), deconvnet (positive grads)", () => {
  // Hidden pre-activations [1.1, 0.3, -0.05]: with w2's mixed signs the three rules give three answers.
  const input = [1, 0.1, 0.6];
  const hidden = w1.map((row) => row.reduce((s, w, j) => s + w * input[j], 0));
  const x = tensor([input]);
  const model = twoLayer();
  for (const target of [0, 1]) {
    const g = w2[target];
    const plain = throughFirst(g.map((gi, i) => (hidden[i] > 0 ? gi : 0)));
    const guided = throughFirst(g.map((gi, i) => (hidden[i] > 0 && gi > 0 ? gi : 0)));
    const deconv = throughFirst(g.map((gi) => Math.max(gi, 0)));
    const close = (a: Tensor, b: number[], what: string) =>
      values(a).forEach((v, i) =>
        assert.ok(Math.abs(v - b[i]) < 1e-6, `${what} target ${target}: ${values(a)} vs ${b}`),
      );
    close(new Saliency(model).attribute(x, { target, abs: false }), plain, "gradient");
    close(new GuidedBackprop(model).attribute(x, { target }), guided, "guided");
    close(new Deconvolution(model).attribute(x, { target }), deconv, "deconvnet");
  }
});

test("nn.ReLU modules and F.relu inside forward() give the same guided and deconvnet maps", () => {
  const x = imageBatch(2);
  const modules = new SmallConvNet(false).eval();
  const functional = new SmallConvNet(true).eval();
  for (const Method of [GuidedBackprop, Deconvolution]) {
    const a = new Method(modules).attribute(x, { target: [1, 2] });
    const b = new Method(functional).attribute(x, { target: [1, 2] });
    assert.ok(maxDiff(a, b) < 1e-6, Method.name);
    assert.ok(
      maxDiff(a, new Saliency(modules).attribute(x, { target: [1, 2], abs: false })) > 1e-3,
      `${Method.name} differs from the gradient`,
    );
  }
});

test("a model without ReLUs gets the plain gradient from guided backprop and the deconvnet", () => {
  const model = twoLayer(new nn.LeakyReLU(0.1));
  const x = tensor([[1, 0.2, 0.4]]);
  const gradient = new Saliency(model).attribute(x, { target: 0, abs: false });
  assert.ok(maxDiff(new GuidedBackprop(model).attribute(x, { target: 0 }), gradient) < 1e-7);
  assert.ok(maxDiff(new Deconvolution(model).attribute(x, { target: 0 }), gradient) < 1e-7);
});

test("guided Grad-CAM is guided backprop times the upsampled Grad-CAM; batched equals per-image", () => {
  const model = new SmallConvNet().eval();
  const x = imageBatch(3);
  const targets = [3, 1, 0];
  const ggc = new GuidedGradCam(model, { layer: "features.4" }).attribute(x, { target: targets });
  const cam = new GradCam(model, { layer: "features.4" }).attribute(x, { target: targets, upsample: true });
  const guided = new GuidedBackprop(model).attribute(x, { target: targets });
  assert.deepEqual([...ggc.shape], [3, 3, 8, 8]);
  assert.ok(maxDiff(ggc, guided.mul(cam.unsqueeze(1))) < 1e-7);
  for (const method of [
    new GuidedBackprop(model),
    new Deconvolution(model),
    new GuidedGradCam(model, { layer: "features.4" }),
  ]) {
    const batched = method.attribute(x, { target: targets });
    targets.forEach((k, i) => {
      assert.ok(
        maxDiff(batched.slice(0, i, i + 1), method.attribute(x.slice(0, i, i + 1), { target: k })) < 1e-6,
      );
    });
  }
  assert.ok(model.parameters().every((p) => p.grad === null));
});

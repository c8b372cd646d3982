// Every attribution method rejects bad input with an error naming the method: an unknown layer (listing
// the valid names), a target out of range or of the wrong count, an image of the wrong shape, a missing
// target for a multi-class model, and a model whose output does not depend differentiably on the input.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, nn, noGrad, tensor, type Tensor } from "../../src/index.js";
import {
  Deconvolution,
  GradCam,
  GradCamPlusPlus,
  GuidedBackprop,
  GuidedGradCam,
  InputXGradient,
  IntegratedGradients,
  Occlusion,
  Saliency,
  SmoothGrad,
  type Attribution,
  type TargetOptions,
} from "../../src/explain/index.js";
import { SmallConvNet, imageBatch } from "./helpers.js";

type Method = { name: string; make: (model: nn.Module) => Attribution<TargetOptions> };

const window = { slidingWindowShapes: [3, 4, 4], strides: 4 };
const methods: Method[] = [
  { name: "Saliency", make: (m) => new Saliency(m) },
  { name: "InputXGradient", make: (m) => new InputXGradient(m) },
  { name: "SmoothGrad", make: (m) => new SmoothGrad(m) },
  { name: "IntegratedGradients", make: (m) => new IntegratedGradients(m) },
  { name: "GradCam", make: (m) => new GradCam(m, { layer: "features.4" }) },
  { name: "GradCamPlusPlus", make: (m) => new GradCamPlusPlus(m, { layer: "features.4" }) },
  { name: "GuidedBackprop", make: (m) => new GuidedBackprop(m) },
  { name: "Deconvolution", make: (m) => new Deconvolution(m) },
  { name: "GuidedGradCam", make: (m) => new GuidedGradCam(m, { layer: "features.4" }) },
  {
    name: "Occlusion",
    make: (m) => {
      const occlusion = new Occlusion(m);
      return { attribute: (x, o) => occlusion.attribute(x, { ...window, ...o }) };
    },
  },
];

// The method named in the message: GuidedGradCam reports through its Grad-CAM or guided part, SmoothGrad
// names itself and the method it wraps.
const named = (name: string) =>
  ({ GuidedGradCam: "(GuidedGradCam|GradCam|GuidedBackprop)", SmoothGrad: "SmoothGrad(: Saliency)?" })[
    name
  ] ?? name;
const model = new SmallConvNet().eval();
const x = imageBatch(2);

for (const { name, make } of methods) {
  test(`${name}: targets out of range, of the wrong count or missing are named`, () => {
    const method = make(model);
    assert.throws(
      () => method.attribute(x, { target: 4 }),
      new RegExp(`${named(name)}: target 4 \\(image 0\\) is out of range for a model with 4 classes`),
    );
    assert.throws(
      () => method.attribute(x, { target: [1] }),
      new RegExp(`${named(name)}: target has 1 class indices for a batch of 2`),
    );
    assert.throws(() => method.attribute(x, { target: -1 }), /target -1 \(image 0\) is not a class index/);
    assert.throws(
      () => method.attribute(x, {}),
      new RegExp(`${named(name)}: the model has 4 outputs per image; pass \\{ target \\}`),
    );
  });

  test(`${name}: an image of the wrong shape is named with its shape`, () => {
    const method = make(model);
    const wrongChannels = tensor(new Float32Array(2 * 64), [2, 1, 8, 8]);
    assert.throws(
      () => method.attribute(wrongChannels, { target: 0 }),
      new RegExp(
        `${named(name)}: (the model rejected the input \\[2,1,8,8\\]: Conv2d.*input has 1 channels, expected 3|.*slidingWindowShapes|.*window size)`,
      ),
    );
    assert.throws(
      () => method.attribute(tensor([1, 2, 3]), { target: 0 }),
      new RegExp(`${named(name)}: expected .*got \\[3\\]`),
    );
  });

  test(`${name}: a model that is not differentiable is named`, () => {
    class Detached extends SmallConvNet {
      override forward(input: Tensor): Tensor {
        return noGrad(() => super.forward(input));
      }
    }
    const method = make(new Detached().eval());
    if (name === "Occlusion") {
      // Occlusion needs no gradient: it works on any model.
      assert.deepEqual([...method.attribute(x, { target: 0 }).shape], [2, 3, 8, 8]);
      return;
    }
    assert.throws(
      () => method.attribute(x, { target: 0 }),
      /does not depend differentiably on (its input|layer 'features.4')/,
    );
  });
}

test("layer methods list the valid layer names for an unknown one", () => {
  for (const Method of [GradCam, GradCamPlusPlus, GuidedGradCam]) {
    assert.throws(
      () => new Method(model, { layer: "features.44" }),
      /no layer named 'features.44' in SmallConvNet; valid names: features \(Sequential\), features.0 \(Conv2d\), features.1 \(ReLU\)/,
    );
  }
  const other = new nn.Conv2d(1, 1, 1);
  assert.throws(
    () => new GradCam(model, { layer: other }),
    /GradCam: the given Conv2d is not a layer of this SmallConvNet/,
  );
});

test("a model that does not return per-image scores is named", () => {
  class Scalar extends nn.Module {
    forward(input: Tensor): Tensor {
      return F.sum(input);
    }
  }
  assert.throws(
    () => new Saliency(new Scalar()).attribute(x, { target: 0 }),
    /Saliency: the model must return scores \[2, K\] \(or \[2\]\) for this batch, got \[\]/,
  );
});

// The PyTorch references of test/fixtures/explain (definitions and tolerance in its README), matched through
// the public striate/explain API by one table: each reference the attribution methods produce has an entry
// computing it from the case's model and inputs. References made by other parts of the module (attacks,
// class model) are listed as such, so a reference added to the fixtures without a check fails here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, noGrad, type Tensor } from "../../src/index.js";
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
  layerGradient,
} from "../../src/explain/index.js";
import { compareArrays, toTensor } from "../helpers/fixtures.js";
import { loadExplainCases, plainNet, type ExplainCase } from "./plain-net.js";
import { computingBackends } from "../helpers/backends.js";

/** The fields of a case's meta that the computations read. */
interface Meta {
  integrated_gradients: { n_steps: number; method: "riemann_trapezoid" };
  occlusion: { baseline: number; window: number[]; strides: number[] };
}

const cases = loadExplainCases();

interface Inputs {
  model: nn.Module;
  x: Tensor;
  target: number[];
  c: ExplainCase & { meta: Meta };
}

/** How each reference is computed through the public API. */
const computations: Record<string, (i: Inputs) => Tensor> = {
  logits: ({ model, x }) => noGrad(() => (model as unknown as { forward(x: Tensor): Tensor }).forward(x)),
  gradient: ({ model, x, target }) => new Saliency(model).attribute(x, { target, abs: false }),
  saliency: ({ model, x, target }) => new Saliency(model).attribute(x, { target, reduce: "max" }),
  input_x_gradient: ({ model, x, target }) => new InputXGradient(model).attribute(x, { target }),
  integrated_gradients: ({ model, x, target, c }) =>
    new IntegratedGradients(model).attribute(x, {
      target,
      nSteps: c.meta.integrated_gradients.n_steps,
      method: c.meta.integrated_gradients.method,
    }),
  integrated_gradients_delta: ({ model, x, target, c }) =>
    new IntegratedGradients(model).attribute(x, {
      target,
      nSteps: c.meta.integrated_gradients.n_steps,
      method: c.meta.integrated_gradients.method,
      internalBatchSize: 7, // chunks that split steps across images: the result must not depend on it
      returnConvergenceDelta: true,
    })[1],
  target_layer_activation: ({ model, x, target, c }) =>
    layerGradient(model, c.target_layer, x, target).activation,
  target_layer_gradient: ({ model, x, target, c }) =>
    layerGradient(model, c.target_layer, x, target).gradient,
  gradcam: ({ model, x, target, c }) =>
    new GradCam(model, { layer: c.target_layer }).attribute(x, { target }),
  gradcam_upsampled: ({ model, x, target, c }) =>
    new GradCam(model, { layer: c.target_layer }).attribute(x, { target, upsample: true }),
  gradcam_pp: ({ model, x, target, c }) =>
    new GradCamPlusPlus(model, { layer: c.target_layer }).attribute(x, { target }),
  guided_backprop: ({ model, x, target }) => new GuidedBackprop(model).attribute(x, { target }),
  deconvnet: ({ model, x, target }) => new Deconvolution(model).attribute(x, { target }),
  guided_gradcam: ({ model, x, target, c }) =>
    new GuidedGradCam(model, { layer: c.target_layer }).attribute(x, { target }),
  occlusion: ({ model, x, target, c }) =>
    new Occlusion(model).attribute(x, {
      target,
      slidingWindowShapes: c.meta.occlusion.window,
      strides: c.meta.occlusion.strides,
      baselines: c.meta.occlusion.baseline,
      perturbationsPerEval: 4,
    }),
};

/** References produced by the attack and class-model tools, checked by their own tests. */
const checkedElsewhere = new Set(["fgsm", "fgsm_logits", "pgd", "class_model"]);

for (const backend of computingBackends()) {
  for (const c of cases) {
    test(`explain fixtures: ${c.model} attributions match PyTorch [${backend}]`, (t) => {
      assert.equal(c.model, "PlainNet", `no model builder for fixture model '${c.model}'`);
      const inputs: Inputs = {
        model: plainNet(c, backend),
        x: toTensor(c.inputs.x, { backend }),
        target: Array.from(toTensor(c.inputs.target).toArray()),
        c: c as ExplainCase & { meta: Meta },
      };
      const unchecked = Object.keys(c.references).filter((r) => !computations[r] && !checkedElsewhere.has(r));
      assert.deepEqual(unchecked, [], "every reference has a computation");
      for (const [name, compute] of Object.entries(computations)) {
        const expected = toTensor(c.references[name]).toArray();
        const actual = compute(inputs);
        assert.deepEqual([...actual.shape], c.references[name].shape, `${name}: shape`);
        const scale = Math.max(1, ...Array.from(expected, Math.abs));
        const cmp = compareArrays(actual.toArray(), expected, 1e-4 * scale, 0);
        t.diagnostic(
          `${name}: worst |a-b| ${cmp.maxAbs.toExponential(2)} (tolerance ${(1e-4 * scale).toExponential(2)})`,
        );
        assert.ok(cmp.worstRatio <= 1, `${name}: differs by ${cmp.maxAbs} at element ${cmp.index}`);
      }
    });
  }
}

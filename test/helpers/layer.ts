// A Keras-style layer test: one spec per layer drives the same checks — output shape, parameter names,
// shapes and count against formulas, a forward+backward pass reaching every parameter, a state-dict round
// trip into a fresh layer, and train/eval behaviour — plus a float64 finite-difference gradient check.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { F, Rng, noGrad, randn, tensor, type Tensor, type nn } from "../../src/index.js";

export interface LayerSpec<M extends nn.Module> {
  /** A fresh layer; successive calls should give differently initialised layers (global generator). */
  make: () => M;
  /** The forward inputs; the first one is the differentiated input. */
  inputs: () => Tensor[];
  outputShape: readonly number[];
  /** Expected parameters, in order, with their shapes. */
  params: readonly (readonly [string, readonly number[]])[];
  /** Expected total parameter count, computed by formula in the test. */
  paramCount: number;
  /** Expected persistent buffers with their shapes (order not checked). */
  buffers?: readonly (readonly [string, readonly number[]])[];
  /** True when training and eval mode give different outputs (dropout, batch norm). */
  modeDependent?: boolean;
  /** Whether the first input is a float tensor that should receive a gradient. Default true. */
  inputGrad?: boolean;
}

type Forward = { forward(...inputs: Tensor[]): Tensor };

export function runForward(layer: nn.Module, inputs: readonly Tensor[]): Tensor {
  return (layer as unknown as Forward).forward(...inputs);
}

function assertFinite(label: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    assert.ok(Number.isFinite(values[i]), `${label}: non-finite value ${values[i]} at ${i}`);
  }
}

/** sum(y · u) for a fixed random u, so every output element gets a distinct gradient. */
function weightedSum(y: Tensor, seed = 1): Tensor {
  const u = randn(y.shape, { dtype: y.dtype, backend: y.backend.name, rng: new Rng(seed) });
  return F.sum(F.mul(y, u));
}

export function runLayerTest<M extends nn.Module>(title: string, spec: LayerSpec<M>): void {
  describe(title, () => {
    it("gives the expected output shape in training and eval mode", () => {
      const layer = spec.make();
      const inputs = spec.inputs();
      assert.deepEqual(runForward(layer.train(), inputs).shape, spec.outputShape);
      assert.deepEqual(runForward(layer.eval(), inputs).shape, spec.outputShape);
    });

    it("has the expected parameter names, shapes, count and buffers", () => {
      const layer = spec.make();
      const actual = layer.namedParameters().map(([name, p]) => [name, [...p.shape]]);
      assert.deepEqual(
        actual,
        spec.params.map(([name, shape]) => [name, [...shape]]),
      );
      assert.equal(layer.numParameters(), spec.paramCount);
      const buffers = new Map(layer.namedBuffers().map(([name, b]) => [name, [...b.shape]]));
      assert.deepEqual(buffers, new Map((spec.buffers ?? []).map(([name, shape]) => [name, [...shape]])));
      const keys = [...layer.stateDict().keys()].sort();
      const expectedKeys = [...spec.params, ...(spec.buffers ?? [])].map(([name]) => name).sort();
      assert.deepEqual(keys, expectedKeys);
    });

    it("backpropagates into every parameter and the input", () => {
      const layer = spec.make().train();
      const inputs = spec.inputs();
      const differentiate = spec.inputGrad !== false;
      if (differentiate) inputs[0].requiresGrad = true;
      weightedSum(runForward(layer, inputs)).backward();
      const targets: [string, Tensor][] = [...layer.namedParameters()];
      if (differentiate) targets.push(["input", inputs[0]]);
      for (const [name, t] of targets) {
        assert.ok(t.grad, `${title}: ${name} got no gradient`);
        assert.deepEqual(t.grad.shape, t.shape, `${title}: gradient of ${name} has the wrong shape`);
        const g = t.grad.toArray();
        assertFinite(`${title}: gradient of ${name}`, g);
        assert.ok(
          g.some((v) => v !== 0),
          `${title}: gradient of ${name} is all zero`,
        );
      }
    });

    it("round-trips its state dict into a fresh layer", () => {
      const source = spec.make();
      const inputs = spec.inputs();
      // One training step first, so that buffers such as running statistics hold non-default values.
      noGrad(() => runForward(source.train(), inputs));
      source.eval();
      const expected = runForward(source, inputs).toArray();
      const target = spec.make().eval();
      const hasState = source.stateDict().size > 0;
      if (hasState) {
        const before = runForward(target, inputs).toArray();
        assert.notDeepEqual(before, expected, `${title}: a fresh layer should differ before loading`);
      }
      const result = target.loadStateDict(source.stateDict());
      assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
      assert.deepEqual(runForward(target, inputs).toArray(), expected);
    });

    it(
      spec.modeDependent
        ? "behaves differently in training and eval"
        : "behaves the same in training and eval",
      () => {
        const layer = spec.make();
        const inputs = spec.inputs();
        const evalOut = noGrad(() => runForward(layer.eval(), inputs).toArray());
        const evalAgain = noGrad(() => runForward(layer, inputs).toArray());
        assert.deepEqual(evalAgain, evalOut, `${title}: eval mode should be deterministic`);
        const fresh = spec.make();
        fresh.loadStateDict(layer.stateDict());
        const trainOut = noGrad(() => runForward(fresh.train(), inputs).toArray());
        if (spec.modeDependent) assert.notDeepEqual(trainOut, evalOut);
        else assert.deepEqual(trainOut, evalOut);
      },
    );
  });
}

export interface GradCheckOptions {
  /** Coordinates probed per tensor (chosen at random); all when the tensor is smaller. Default 12. */
  probes?: number;
  step?: number;
  tolerance?: number;
}

/**
 * Compares the autograd gradients of sum(layer(inputs) · u) with central finite differences, for the first
 * input and every parameter. The layer and inputs should be float64 and the layer deterministic.
 */
export function gradCheck(layer: nn.Module, inputs: Tensor[], options: GradCheckOptions = {}): void {
  const { probes = 12, step = 1e-6, tolerance = 1e-6 } = options;
  const objective = () => weightedSum(runForward(layer, inputs), 7);
  inputs[0].requiresGrad = true;
  inputs[0].grad = null;
  layer.zeroGrad();
  objective().backward();
  const rng = new Rng(99);
  const targets: [string, Tensor][] = [["input", inputs[0]], ...layer.namedParameters()];
  for (const [name, t] of targets) {
    assert.ok(t.grad, `gradCheck: ${name} got no gradient`);
    const analytic = t.grad.toArray();
    const base = Float64Array.from(t.toArray());
    const indices =
      base.length <= probes ? [...base.keys()] : Array.from({ length: probes }, () => rng.int(base.length));
    const valueAt = (i: number, delta: number) => {
      const moved = Float64Array.from(base);
      moved[i] += delta;
      t.assign(tensor(moved, t.shape, { dtype: t.dtype, backend: t.backend.name }));
      return noGrad(() => objective().item());
    };
    for (const i of indices) {
      const numeric = (valueAt(i, step) - valueAt(i, -step)) / (2 * step);
      t.assign(tensor(base, t.shape, { dtype: t.dtype, backend: t.backend.name }));
      const diff = Math.abs(numeric - analytic[i]);
      assert.ok(
        diff <= tolerance * (1 + Math.abs(numeric)),
        `gradCheck: d/d${name}[${i}] autograd ${analytic[i]} vs finite difference ${numeric}`,
      );
    }
  }
}

// The playground's fitting of a text-box model to the data (web/src/fit-spec.ts): the fitted text must build
// with the library's own readers into a model that takes the data's images and gives one logit per class.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spec, zeros, type Tensor } from "../../src/index.js";
import { fitSpecToData } from "../../web/src/fit-spec.js";
import { LENET_SPEC, formatLayerDefs, formatSpec } from "../../web/src/config.js";

const logits = (model: unknown, x: Tensor): Tensor => (model as { forward(x: Tensor): Tensor }).forward(x);

describe("fitSpecToData", () => {
  it("fits a JSON spec's input and last linear layer; the result builds and runs on the data", () => {
    const fitted = fitSpecToData(formatSpec(LENET_SPEC), [3, 32, 32], 4);
    assert.equal(
      fitted.note,
      "fitted to the data: input [1,28,28] → [3,32,32], last layer's outFeatures 10 → 4",
    );
    const { model } = spec.buildFromSpec(JSON.parse(fitted.text));
    assert.deepEqual(logits(model, zeros([2, 3, 32, 32])).shape, [2, 4]);
  });

  it("fits ConvNetJS layer_defs' input size and num_classes", () => {
    const fitted = fitSpecToData(formatLayerDefs(spec.CONVNETJS_CIFAR10_LAYER_DEFS), [1, 28, 28], 10);
    assert.equal(fitted.note, "fitted to the data: input 32x32x3 → 28x28x1");
    const { model } = spec.fromConvNetJs(JSON.parse(fitted.text));
    assert.deepEqual(logits(model, zeros([1, 1, 28, 28])).shape, [1, 10]);
  });

  it("leaves fitting text and text that is not JSON as it is", () => {
    const text = formatSpec(LENET_SPEC);
    assert.deepEqual(fitSpecToData(text, [1, 28, 28], 10), { text, note: null });
    assert.deepEqual(fitSpecToData("{ not json", [1, 28, 28], 10), { text: "{ not json", note: null });
  });
});

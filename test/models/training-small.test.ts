// Every family of the zoo trains: a few SGD steps on a fixed small batch lower the loss. Small members,
// small inputs and narrow classifiers (hiddenFeatures) keep this fast on the js reference backend; the
// full-size shapes are checked on the meta backend in torchvision.test.ts and zoo.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { getModel } from "../../src/models/index.js";
import { trainFixedBatch } from "./train-steps.js";

const CASES: [string, Record<string, unknown>, number[], number][] = [
  ["lenet5", {}, [4, 1, 28, 28], 10],
  ["alexnet", { hiddenFeatures: 64 }, [2, 3, 63, 63], 5],
  ["alexnet_2012", { hiddenFeatures: 64 }, [2, 3, 67, 67], 5],
  ["zfnet", { hiddenFeatures: 64 }, [2, 3, 64, 64], 5],
  ["squeezenet1_1", {}, [2, 3, 32, 32], 5],
  ["mobilenet_v1", { smallInput: true, widthMultiplier: 0.25 }, [2, 3, 32, 32], 5],
  ["mobilenet_v2", { smallInput: true }, [2, 3, 32, 32], 5],
  ["shufflenet_v2_x1_0", {}, [2, 3, 32, 32], 5],
  ["resnet20_cifar", { shortcut: "A" }, [2, 3, 32, 32], 10],
  ["resnet20_cifar", { shortcut: "B" }, [2, 3, 32, 32], 10],
];

for (const [name, options, shape, classes] of CASES) {
  test(`${name} ${JSON.stringify(options)}: SGD steps on a fixed ${shape.join("x")} batch lower the loss`, () => {
    const model = getModel(name, { ...options, numClasses: classes, inChannels: shape[1] });
    const { before, after, losses } = trainFixedBatch(model, shape, classes, {
      lr: name === "alexnet_2012" ? 0.05 : 0.01,
    });
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(after < before, `loss ${before} -> ${after}`);
  });
}

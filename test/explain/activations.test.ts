// captureActivations, feature-map and filter grids and per-layer statistics on the explain fixture's net.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, tensor } from "../../src/index.js";
import {
  activationStatistics,
  captureActivations,
  featureMapGrid,
  filterGrid,
} from "../../src/explain/index.js";
import { toTensor } from "../helpers/fixtures.js";
import { loadExplainCase, plainNet, withinTolerance } from "./plain-net.js";

const c = loadExplainCase();

test("captureActivations returns a layer's output by name or module, equal to PyTorch's", () => {
  const model = plainNet(c);
  const x = toTensor(c.inputs.x);
  const acts = captureActivations(model, x, ["features.4", model.features]);
  assert.deepEqual([...acts.keys()], ["features.4", "features"]);
  const cmp = withinTolerance(
    acts.get("features.4")!.toArray(),
    toTensor(c.references.target_layer_activation).toArray(),
  );
  assert.ok(cmp.ok, `activation differs by ${cmp.maxAbs}`);
  assert.deepEqual(acts.get("features")!.toArray(), F.maxPool2d(acts.get("features.4")!, 2).toArray());
  assert.throws(
    () => captureActivations(model, x, "features.9"),
    /captureActivations: no layer named 'features.9' in PlainNet; valid names: features \(Sequential\), features.0 \(Conv2d\)/,
  );
});

test("featureMapGrid and filterGrid tile one picture per map and filter", () => {
  const model = plainNet(c);
  const acts = captureActivations(model, toTensor(c.inputs.x), "features.4");
  const grid = featureMapGrid(acts.get("features.4")!, { index: 1, scale: 2, columns: 3, labels: true });
  // 3 columns of 8x2 = 16 px maps (+2 px padding), 2 rows.
  assert.equal(grid.width, 3 * 18 + 2);
  assert.throws(
    () => featureMapGrid(acts.get("features.4")!, { index: 2 }),
    /index 2 is out of range for a batch of 2/,
  );
  assert.throws(() => featureMapGrid(tensor([1, 2])), /expected feature maps \[N, C, H, W\], got \[2\]/);
  const filters = filterGrid(model.parameters()[0], { scale: 4, columns: 4 }); // [4, 1, 3, 3]
  assert.equal(filters.width, 4 * (12 + 2) + 2);
  const deep = filterGrid(model.parameters()[2], { scale: 1 }); // [6, 4, 3, 3]: a row per output channel
  assert.equal(deep.height, 6 * (3 + 2) + 2);
});

test("activationStatistics summarises every leaf layer", () => {
  const stats = activationStatistics(plainNet(c), toTensor(c.inputs.x));
  assert.deepEqual(
    stats.map((s) => s.name),
    [
      "features.0",
      "features.1",
      "features.2",
      "features.3",
      "features.4",
      "features.5",
      "flatten",
      "classifier",
    ],
  );
  const relu = stats.find((s) => s.name === "features.1")!;
  assert.ok(relu.min >= 0 && relu.zeroFraction > 0 && relu.zeroFraction < 1);
  assert.deepEqual(stats.at(-1)!.shape, [2, 5]);
});

// The explain fixtures' model (test/fixtures/explain/explain.json, format in its README): PlainNet,
// conv(1->4,3,p1) relu maxpool2 conv(4->6,3,p1) relu maxpool2 flatten linear(96->5), rebuilt from nn layers
// with PyTorch's state_dict names and loaded with the stored weights, plus the case's inputs and references.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { nn, type Tensor } from "../../src/index.js";
import { toTensor, type FixtureTensor } from "../helpers/fixtures.js";

export const explainFixtureDir = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "explain");

export interface ExplainCase {
  model: string;
  params: Record<string, FixtureTensor>;
  inputs: { x: FixtureTensor; target: FixtureTensor };
  target_layer: string;
  references: Record<string, FixtureTensor>;
  meta: Record<string, unknown>;
}

export function loadExplainCase(model = "PlainNet"): ExplainCase {
  const file = JSON.parse(readFileSync(join(explainFixtureDir, "explain.json"), "utf8")) as {
    cases: ExplainCase[];
  };
  const found = file.cases.find((c) => c.model === model);
  if (!found) throw new Error(`explain.json has no case for ${model}`);
  return found;
}

export class PlainNet extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
  );
  flatten = new nn.Flatten();
  classifier = new nn.Linear(96, 5);

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.flatten.forward(this.features.forward(x)));
  }
}

/** PlainNet with the fixture's weights, in eval mode. */
export function plainNet(c: ExplainCase): PlainNet {
  const model = new PlainNet();
  model.loadStateDict(new Map(Object.entries(c.params).map(([name, t]) => [name, toTensor(t)])));
  return model.eval();
}

/** Largest |a - b| and whether it is within the README's tolerance 1e-4 · max(1, max|b|). */
export function withinTolerance(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): { maxAbs: number; ok: boolean } {
  if (actual.length !== expected.length)
    throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let maxAbs = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { maxAbs, ok: maxAbs <= 1e-4 * scale };
}

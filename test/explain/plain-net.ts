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

/** Every case of explain.json. */
export function loadExplainCases(): ExplainCase[] {
  return (
    JSON.parse(readFileSync(join(explainFixtureDir, "explain.json"), "utf8")) as { cases: ExplainCase[] }
  ).cases;
}

export function loadExplainCase(model = "PlainNet"): ExplainCase {
  const found = loadExplainCases().find((c) => c.model === model);
  if (!found) throw new Error(`explain.json has no case for ${model}`);
  return found;
}

export class PlainNet extends nn.Module {
  features: nn.Sequential;
  flatten = new nn.Flatten();
  classifier: nn.Linear;

  /** Parameters on `backend` (default: the current backend), for running the fixtures on each. */
  constructor(backend?: string) {
    super();
    this.features = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1, backend }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(4, 6, 3, { padding: 1, backend }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
    );
    this.classifier = new nn.Linear(96, 5, { backend });
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.flatten.forward(this.features.forward(x)));
  }
}

/** PlainNet with the fixture's weights, in eval mode, on `backend` (default: the current one). */
export function plainNet(c: ExplainCase, backend?: string): PlainNet {
  const model = new PlainNet(backend);
  model.loadStateDict(new Map(Object.entries(c.params).map(([name, t]) => [name, toTensor(t, { backend })])));
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

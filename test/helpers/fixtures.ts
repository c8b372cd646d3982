// Reads the PyTorch golden fixtures (test/fixtures/torch/*.json; format in its README.md).

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tensor, type Tensor } from "../../src/index.js";
import type { FixtureCase, FixtureTensor } from "./fixture-runners.js";

// The comparison lives with the other tolerance helpers; re-exported for the fixture tests that import it here.
export { compareArrays, type Comparison } from "./close.js";

export const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "torch");

export type { FixtureCase, FixtureTensor } from "./fixture-runners.js";

export interface FixtureFile {
  family: string;
  cases: FixtureCase[];
}

export function loadFixture(name: string): FixtureFile {
  return JSON.parse(readFileSync(join(fixtureDir, `${name}.json`), "utf8")) as FixtureFile;
}

export function fixtureFamilies(): string[] {
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.replace(/\.json$/, ""));
}

export function decode(t: FixtureTensor): Float32Array | Int32Array {
  const bytes = Buffer.from(t.data, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / 4;
  if (t.dtype === "int32") {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

export function toTensor(
  t: FixtureTensor,
  options: { requiresGrad?: boolean; backend?: string } = {},
): Tensor {
  return tensor(decode(t), t.shape, { requiresGrad: options.requiresGrad, backend: options.backend });
}

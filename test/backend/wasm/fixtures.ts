// Reads the PyTorch golden fixtures (test/fixtures/torch/*.json, format in its README.md).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface FixtureTensor {
  shape: number[];
  dtype: "float32" | "int32";
  data: string;
}

export interface FixtureCase {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  upstream?: Record<string, FixtureTensor>;
  grads?: Record<string, FixtureTensor>;
}

const DIR = fileURLToPath(new URL("../../fixtures/torch/", import.meta.url));

export function loadFixtures(family: string): FixtureCase[] {
  return (JSON.parse(readFileSync(DIR + family + ".json", "utf8")) as { cases: FixtureCase[] }).cases;
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

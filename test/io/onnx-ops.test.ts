// Every graph of test/fixtures/onnx/ops (built node by node by scripts/fixtures/onnx_ops.py for the ops,
// attributes and opset variants PyTorch's exporter does not emit) runs in importOnnx like in ONNX Runtime,
// the reference, on a seeded input; and each imported graph exports again and still runs like it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { noGrad, randn, manualSeed } from "../../src/index.js";
import { exportOnnx, importOnnx } from "../../src/io/onnx.js";
import { maxScaledDiff, runOrt } from "./onnx-harness.js";

const DIR = new URL("../fixtures/onnx/ops/", import.meta.url);

interface OpCase {
  name: string;
  file: string;
  opset: number;
  input_shape: number[];
  onnx_ops: string[];
  what: string;
}

const cases: OpCase[] = JSON.parse(readFileSync(new URL("cases.json", DIR), "utf8")).cases;

for (const c of cases) {
  test(`importOnnx ${c.name} (${c.onnx_ops.join(", ")}): ${c.what}`, async () => {
    manualSeed(c.name.length);
    const bytes = new Uint8Array(readFileSync(new URL(c.file, DIR)));
    const x = randn(c.input_shape);
    const want = await runOrt(bytes, x);
    const model = importOnnx(bytes).eval();
    const y = noGrad(() => model.forward(x));
    assert.deepEqual([...y.shape], [...want.dims], `${c.name}: shape`);
    const diff = maxScaledDiff(y.toArray(), want.data);
    assert.ok(diff <= 1e-4, `${c.name}: scaled difference ${diff} from ONNX Runtime`);
    const again = await runOrt(exportOnnx(model, x), x);
    const reexported = maxScaledDiff(again.data, want.data);
    assert.ok(reexported <= 1e-4, `${c.name}: the re-exported file differs by ${reexported}`);
  });
}

// ONNX import: every file of test/fixtures/onnx (written by PyTorch's exporter and by onnx.helper, with
// PyTorch's outputs) imports and matches through one generic harness; the imported model fine-tunes with
// gradients reaching every initializer and exports again; bad files fail at import, naming the node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tensor, noGrad, optim, F, manualSeed, randn } from "../../src/index.js";
import { importOnnx, exportOnnx } from "../../src/io/onnx.js";
import { decodeModel, encodeModel, type ModelProto } from "../../src/io/onnx/proto.js";
import { loadOnnx } from "../../src/node/onnx.js";
import { maxScaledDiff, runOrt } from "./onnx-harness.js";

const DIR = new URL("../fixtures/onnx/", import.meta.url);

interface FixtureTensor {
  shape: number[];
  data: string;
}
interface Case {
  name: string;
  file: string;
  opset: number;
  onnx_ops: string[];
  input: FixtureTensor;
  output: FixtureTensor;
}

const cases: Case[] = JSON.parse(readFileSync(new URL("cases.json", DIR), "utf8")).cases;
const decode = (t: FixtureTensor) =>
  tensor(new Float32Array(new Uint8Array(Buffer.from(t.data, "base64")).buffer), t.shape);
const bytesOf = (c: Case) => new Uint8Array(readFileSync(new URL(c.file, DIR)));

for (const c of cases) {
  test(`importOnnx: ${c.name} (opset ${c.opset}: ${c.onnx_ops.join(", ")}) matches PyTorch`, () => {
    const model = importOnnx(bytesOf(c)).eval();
    const y = noGrad(() => model.forward(decode(c.input)));
    assert.deepEqual([...y.shape], c.output.shape);
    const diff = maxScaledDiff(y.toArray(), decode(c.output).toArray());
    assert.ok(diff <= 1e-4, `${c.name}: scaled difference ${diff} > 1e-4`);
  });
}

test("importOnnx: initializers become Parameters and buffers under PyTorch's state-dict names", () => {
  const model = importOnnx(bytesOf(cases.find((c) => c.name === "resnet_bn_opset13")!));
  const keys = [...model.stateDict().keys()];
  for (const key of [
    "conv1.weight",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "fc.weight",
  ])
    assert.ok(keys.includes(key), `missing ${key} in ${keys.join(", ")}`);
  const params = model.namedParameters().map(([n]) => n);
  assert.ok(!params.includes("bn1.running_mean"), "running statistics are buffers, not parameters");
});

test("loadOnnx reads a file from disk; a missing file names the path", () => {
  const model = loadOnnx(new URL("lenet_classic_opset11.onnx", DIR).pathname);
  assert.equal(model.opset, 11);
  assert.throws(
    () => loadOnnx("/nonexistent/model.onnx"),
    /loadOnnx: cannot read '\/nonexistent\/model.onnx'/,
  );
});

test("fine-tuning an imported model: the loss decreases and every initializer gets a gradient", () => {
  manualSeed(11);
  for (const name of ["resnet_bn_opset13", "mobile_opset14", "fcn_opset13"]) {
    const c = cases.find((k) => k.name === name)!;
    const model = importOnnx(bytesOf(c));
    const x = randn(c.input.shape);
    const target = randn(c.output.shape);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      opt.zeroGrad();
      const loss = F.mseLoss(model.forward(x), target);
      loss.backward();
      if (step === 0) {
        for (const [n, p] of model.namedParameters()) assert.ok(p.grad, `${name}: no gradient reached ${n}`);
      }
      opt.step();
      losses.push(loss.item());
    }
    assert.ok(losses[4] < losses[0], `${name}: loss ${losses.join(" -> ")} did not decrease`);
  }
});

test("an imported model exports again and ONNX Runtime agrees with it", async () => {
  for (const name of ["inception_opset11", "handmade_opset13", "fcn_opset13"]) {
    const c = cases.find((k) => k.name === name)!;
    const model = importOnnx(bytesOf(c)).eval();
    const x = decode(c.input);
    const want = noGrad(() => model.forward(x)).toArray();
    const got = await runOrt(exportOnnx(model, x), x);
    assert.ok(maxScaledDiff(got.data, want) <= 1e-4, `${name}: re-export differs from the import`);
  }
});

/** The handmade file decoded, changed by `edit`, encoded again. */
function edited(edit: (m: ModelProto) => void): Uint8Array {
  const m = decodeModel(bytesOf(cases.find((c) => c.name === "handmade_opset13")!));
  edit(m);
  return encodeModel(m);
}

test("importOnnx: unsupported ops, attributes and opsets fail at import, naming the op, node and opset", () => {
  const withOp = edited((m) => (m.graph!.node[3].op_type = "Einsum"));
  assert.throws(() => importOnnx(withOp), /unsupported op Einsum node 'lrn' \(opset 13\)/);
  const resizeCubic = edited((m) => {
    const node = m.graph!.node.find((n) => n.op_type === "Pad")!;
    node.attribute[0].s = new TextEncoder().encode("wrap");
  });
  assert.throws(() => importOnnx(resizeCubic), /Pad node 'pad' \(opset 13\): mode='wrap' is not supported/);
  const badAttr = edited((m) =>
    m.graph!.node[0].attribute.push({ name: "bogus", type: 2, i: 1, floats: [], ints: [], strings: [] }),
  );
  assert.throws(() => importOnnx(badAttr), /Conv node 'c' \(opset 13\) has attribute 'bogus'/);
  const oldOpset = edited((m) => (m.opset_import[0].version = 7));
  assert.throws(() => importOnnx(oldOpset), /opset 7 is not supported \(supported: 9 to 18\)/);
  const dangling = edited((m) => (m.graph!.node[1].input[0] = "nowhere"));
  assert.throws(() => importOnnx(dangling), /BatchNormalization node 'bn' .* reads 'nowhere'/);
  assert.throws(() => importOnnx(new Uint8Array([0x0a, 0xff, 0xff, 0x01])), /not an ONNX ModelProto/);
});

test("importOnnx: a wrong input shape is refused with the declared shape", () => {
  const model = importOnnx(bytesOf(cases[0]));
  assert.throws(
    () => model.forward(randn([2, 3, 28, 28])),
    /input 'input' is declared \[\?,1,28,28\] in the file, got \[2,3,28,28\]/,
  );
});

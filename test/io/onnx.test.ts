// ONNX export: the fields written (decoded back with protobufjs), exported models run in ONNX Runtime
// (onnxruntime-node) against Striate's own forward on the same input, and re-imported with importOnnx.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, Tensor, nn, models, noGrad, rand, randn, manualSeed } from "../../src/index.js";
import { exportOnnx, importOnnx } from "../../src/io/onnx.js";
import { decodeModel } from "../../src/io/onnx/proto.js";
import { maxScaledDiff, runOrt } from "./onnx-harness.js";

test("exportOnnx writes onnx.proto's fields: opset 13, named input/output with a symbolic batch, named initializers", () => {
  manualSeed(1);
  const model = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.ReLU()).eval();
  const m = decodeModel(exportOnnx(model, randn([1, 3, 8, 8])));
  assert.equal(m.ir_version, 7);
  assert.deepEqual(
    m.opset_import.map((o) => o.version),
    [13],
  );
  const g = m.graph!;
  assert.deepEqual(
    g.node.map((n) => n.op_type),
    ["Conv", "Relu"],
  );
  assert.deepEqual(g.initializer.map((t) => [t.name, t.dims]).sort(), [
    ["0.bias", [4]],
    ["0.weight", [4, 3, 3, 3]],
  ]);
  assert.deepEqual(
    g.input[0].type!.tensor_type!.shape!.dim.map((d) => d.dim_param ?? d.dim_value),
    ["N", 3, 8, 8],
  );
  assert.equal(g.output[0].name, "output");
});

async function assertSameAsOrt(model: nn.Module, x: Tensor, exportInput = x): Promise<number> {
  const onnx = exportOnnx(model, exportInput);
  const got = await runOrt(onnx, x);
  const want = noGrad(() => models.call(model, x));
  assert.deepEqual([...got.dims], [...want.shape]);
  const diff = maxScaledDiff(got.data, want.toArray());
  assert.ok(diff <= 1e-4, `ONNX Runtime and Striate differ by ${diff} (scaled)`);
  const again = noGrad(() => importOnnx(onnx).eval().forward(x));
  assert.ok(maxScaledDiff(again.toArray(), want.toArray()) <= 1e-5, "export -> import changes the outputs");
  return diff;
}

/** Every exported op in one graph: conv (stride, padding, groups, bias), batch norm with real running
 * statistics, max/avg pooling (padding, ceil mode, count_include_pad), a concat of two branches, an SE-style
 * sigmoid gate (global pool, mul with broadcasting), a residual add, adaptive pooling, flatten and gemm. */
class AllOps extends nn.Module {
  stem = new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 });
  bn = new nn.BatchNorm2d(8);
  relu = new nn.ReLU();
  pool = new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true });
  branchA = new nn.Conv2d(8, 4, 1);
  branchB = new nn.Conv2d(8, 4, 3, { padding: 1, groups: 4, bias: false });
  avg = new nn.AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false });
  gate = new nn.AdaptiveAvgPool2d(1);
  sigmoid = new nn.Sigmoid();
  head = new nn.AdaptiveAvgPool2d(2);
  flatten = new nn.Flatten();
  fc = new nn.Linear(8 * 2 * 2, 5);

  forward(x: Tensor): Tensor {
    const h = this.pool.forward(this.relu.forward(this.bn.forward(this.stem.forward(x))));
    const cat = F.concat([this.branchA.forward(h), this.branchB.forward(h)], 1);
    const gated = F.mul(this.avg.forward(cat), this.sigmoid.forward(this.gate.forward(cat)));
    const res = F.relu(F.add(gated, h));
    return this.fc.forward(this.flatten.forward(this.head.forward(res)));
  }
}

test("exportOnnx: a graph with every supported op runs in ONNX Runtime like Striate", async () => {
  manualSeed(3);
  const model = new AllOps();
  model.bn.setBuffer("running_mean", randn([8]));
  model.bn.setBuffer("running_var", rand([8], { low: 0.5, high: 2 }));
  noGrad(() => {
    model.bn.weight!.assign(randn([8]));
    model.bn.bias!.assign(randn([8]));
  });
  model.eval();
  // 28x36 -> stem 14x18 -> pool 8x10, with ceil mode taking the last partial window in both directions.
  await assertSameAsOrt(model, randn([2, 3, 28, 36]));
});

test("exportOnnx: LeNet-5 traced at batch 1 runs at batch 4 (symbolic batch through Flatten)", async () => {
  manualSeed(5);
  const model = new models.LeNet5().eval();
  await assertSameAsOrt(model, rand([4, 1, 28, 28]), rand([1, 1, 28, 28]));
});

/** What the zoo writes as functions in forward(): a masked conv, channel shuffle, ReLU6, constant pad,
 * strided slice, pooling with ceil mode, uneven adaptive pooling, a transposed conv and exact GELU. */
class Functional extends nn.Module {
  conv = new nn.Conv2d(3, 8, 3, { padding: 1 });
  mask = rand([8, 3, 3, 3]);
  up = new nn.ConvTranspose2d(8, 4, 3, { stride: 2, padding: 1, outputPadding: 1 });

  forward(x: Tensor): Tensor {
    let h = F.conv2d(x, F.mul(this.conv.weight, this.mask), this.conv.bias, { padding: 1 });
    const [n, c, hh, ww] = h.shape;
    h = F.reshape(F.permute(F.reshape(h, [n, 2, c / 2, hh, ww]), [0, 2, 1, 3, 4]), [n, c, hh, ww]);
    h = F.maxPool2d(F.relu6(h), 3, { stride: 2, ceilMode: true });
    h = F.slice(F.pad(h, [1, 0, 0, 1], 0.5), 3, 0, undefined, 2);
    h = F.gelu(this.up.forward(F.adaptiveAvgPool2d(h, [3, 5])));
    return F.sum(h, [2, 3]);
  }
}

test("exportOnnx: functional ops map from the autograd graph's primitives and attributes", async () => {
  manualSeed(6);
  await assertSameAsOrt(new Functional().eval(), randn([2, 3, 11, 13]));
});

test("exportOnnx: hardswish, softplus (beta, threshold), sign, step, prelu, reflect/replicate pad and interpolate", async () => {
  manualSeed(9);
  class Activations extends nn.Module {
    slope = new nn.Conv2d(3, 3, 1).bias!;
    forward(x: Tensor): Tensor {
      let h = F.pad(x, [1, 2, 2, 1], "reflect");
      h = F.pad(h, [1, 0, 0, 1], "replicate");
      h = F.add(F.hardswish(h.mul(4)), F.softplus(h, { beta: 2, threshold: 1 }));
      h = F.add(h, F.mul(F.sign(x.mean([2, 3], true)), F.step(x.sum([2, 3], true))));
      h = F.prelu(h, this.slope);
      return F.interpolate(h, { scaleFactor: 1.5, mode: "bilinear" });
    }
  }
  await assertSameAsOrt(new Activations().eval(), randn([2, 3, 6, 7]));
});

test("exportOnnx: LocalResponseNorm and Softmax layers export as LRN and Softmax", async () => {
  manualSeed(8);
  const model = new nn.Sequential(
    new nn.Conv2d(3, 6, 3),
    new nn.LocalResponseNorm(5, { k: 2, alpha: 1e-2 }),
    new nn.Softmax(1),
  ).eval();
  await assertSameAsOrt(model, randn([2, 3, 7, 7]));
});

test("exportOnnx: refuses a batch norm in training mode, functional softmax and an op without ONNX form", () => {
  const bn = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4));
  assert.throws(
    () => exportOnnx(bn, randn([1, 3, 8, 8])),
    /BatchNorm2d\(4\) is in training mode; call model.eval\(\)/,
  );
  class FunctionalSoftmax extends nn.Module {
    forward(x: Tensor): Tensor {
      return F.softmax(x, 1);
    }
  }
  assert.throws(
    () => exportOnnx(new FunctionalSoftmax(), randn([2, 5])),
    /outside the autograd graph.*nn\.Softmax/,
  );
  class TwoOutputs extends nn.Module {
    forward(x: Tensor): Tensor[] {
      return [x, x];
    }
  }
  assert.throws(() => exportOnnx(new TwoOutputs(), randn([2, 5])), /must return one Tensor/);
});

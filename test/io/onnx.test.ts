// ONNX export: the protobuf writer against the encoding examples of the protobuf documentation, and
// exported models run in ONNX Runtime (onnxruntime-node) against Striate's own forward on the same input.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { F, Tensor, nn, models, noGrad, rand, randn, manualSeed } from "../../src/index.js";
import { ProtoWriter, exportOnnx } from "../../src/io/onnx.js";

const bytes = (w: ProtoWriter) => [...w.finish()];

test("ProtoWriter encodes varints, floats and strings as the protobuf docs show", () => {
  // "A simple message": field 1 = 150 is 08 96 01.
  assert.deepEqual(bytes(new ProtoWriter().int(1, 150)), [0x08, 0x96, 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().varint(300)), [0xac, 0x02]);
  assert.deepEqual(bytes(new ProtoWriter().varint(1)), [0x01]);
  // Negative int64: ten bytes of two's complement.
  assert.deepEqual(bytes(new ProtoWriter().varint(-1)), [...new Array(9).fill(0xff), 0x01]);
  // 2^53 does not fit a 32-bit shift; int64 fields need it.
  assert.deepEqual(bytes(new ProtoWriter().varint(2 ** 35)), [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  // Field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
  assert.deepEqual(bytes(new ProtoWriter().string(2, "testing")), [
    0x12,
    0x07,
    ...new TextEncoder().encode("testing"),
  ]);
  // Fixed32 (wire type 5) little-endian IEEE float: 1.0f = 0x3f800000.
  assert.deepEqual(bytes(new ProtoWriter().float(2, 1)), [0x15, 0x00, 0x00, 0x80, 0x3f]);
  // Embedded message: field 3 = { field 1 = 150 } is 1a 03 08 96 01.
  assert.deepEqual(bytes(new ProtoWriter().message(3, (m) => m.int(1, 150))), [0x1a, 0x03, 0x08, 0x96, 0x01]);
});

async function runOrt(
  model: Uint8Array,
  x: Tensor,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(model);
  assert.deepEqual(session.inputNames, ["input"]);
  assert.deepEqual(session.outputNames, ["output"]);
  const feeds = { input: new ort.Tensor("float32", Float32Array.from(x.toArray()), [...x.shape]) };
  const out = (await session.run(feeds)).output;
  await session.release();
  return { data: out.data as Float32Array, dims: out.dims };
}

/** Largest |a - b| relative to max(1, largest |b|): 1e-4 means agreement to float32 rounding of the ops. */
function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

async function assertSameAsOrt(model: nn.Module, x: Tensor, exportInput = x): Promise<number> {
  const onnx = exportOnnx(model, exportInput);
  const got = await runOrt(onnx, x);
  const want = noGrad(() => models.call(model, x));
  assert.deepEqual([...got.dims], [...want.shape]);
  const diff = maxScaledDiff(got.data, want.toArray());
  assert.ok(diff <= 1e-4, `ONNX Runtime and Striate differ by ${diff} (scaled)`);
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

test("exportOnnx: ResNet-18 (torchvision layout) matches ONNX Runtime, at another batch size too", async () => {
  manualSeed(4);
  const model = models.getModel("resnet18", { numClasses: 10 }).eval();
  // Traced at batch 1; the file's batch dimension is symbolic, so batch 3 runs too.
  await assertSameAsOrt(model, randn([3, 3, 64, 64]), randn([1, 3, 64, 64]));
});

test("exportOnnx: a Sequential LeNet-5 with flatten and ReLU modules exports", async () => {
  manualSeed(5);
  const model = new models.LeNet5().eval();
  await assertSameAsOrt(model, rand([4, 1, 28, 28]));
});

test("exportOnnx: refuses a batch norm in training mode and a functional conv", () => {
  const bn = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4));
  assert.throws(
    () => exportOnnx(bn, randn([1, 3, 8, 8])),
    /BatchNorm2d\(4\) is in training mode; call model.eval\(\)/,
  );

  class Functional extends nn.Module {
    w = randn([4, 3, 3, 3]);
    forward(x: Tensor): Tensor {
      return F.conv2d(x, this.w);
    }
  }
  assert.throws(
    () => exportOnnx(new Functional(), randn([1, 3, 8, 8])),
    /cannot export the op 'conv2d'.*use nn\.Conv2d/,
  );
});

// Weights written by others: the two files in test/fixtures/interop/ were written by PyTorch through the
// Python safetensors library (F32 with I64 num_batches_tracked, and F16). They load exactly into a net built
// from nn layers with PyTorch's parameter names and reproduce PyTorch's eval-mode outputs (README's
// tolerance); serializeWeights / saveWeights write them back with the same names and values, I64 buffers
// included, and the written file reads back identically.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Module } from "../../src/nn/module.js";
import { Conv2d } from "../../src/nn/conv.js";
import { BatchNorm2d } from "../../src/nn/normalization.js";
import { Linear } from "../../src/nn/linear.js";
import { Sequential } from "../../src/nn/containers.js";
import { add } from "../../src/ops/elementwise.js";
import { relu } from "../../src/ops/activations.js";
import { maxPool2d, adaptiveAvgPool2d } from "../../src/ops/pool.js";
import { flatten } from "../../src/ops/movement.js";
import {
  decodeSafetensors,
  loadWeights,
  readSafetensors,
  serializeWeights,
} from "../../src/io/safetensors.js";
import { saveWeights } from "../../src/node/weights.js";
import { decode, type FixtureTensor } from "../helpers/fixtures.js";
import { tensor, type Tensor } from "../../src/index.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "interop");
const cases = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")) as {
  cases: { name: string; file: string; input: FixtureTensor; output: FixtureTensor }[];
  state_dict: { key: string; shape: number[]; dtype: string }[];
};

/** The README's basic block: conv-bn-relu-conv-bn plus the (optionally downsampled) input, then relu. */
class Block extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  down: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number) {
    super();
    this.conv1 = new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = new Conv2d(planes, planes, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(planes);
    this.down =
      stride === 1 && inPlanes === planes
        ? null
        : new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes));
  }
  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
    return relu(add(out, this.down ? this.down.forward(x) : x));
  }
}

/** The architecture of cases.json in words, with PyTorch's names (conv1, bn1, layer1, layer2, fc). */
class ResNetBn extends Module {
  conv1 = new Conv2d(3, 8, 3, { padding: 1, bias: false });
  bn1 = new BatchNorm2d(8);
  layer1 = new Block(8, 8, 1);
  layer2 = new Block(8, 16, 2);
  fc = new Linear(16, 5);
  forward(x: Tensor): Tensor {
    const stem = maxPool2d(relu(this.bn1.forward(this.conv1.forward(x))), 3, { stride: 2, padding: 1 });
    return this.fc.forward(flatten(adaptiveAvgPool2d(this.layer2.forward(this.layer1.forward(stem)), 1), 1));
  }
}

function fixtureTensor(t: FixtureTensor): Tensor {
  return tensor(decode(t), t.shape);
}

let tmp = "";
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "striate-interop-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

for (const c of cases.cases) {
  test(`${c.file} (written by Python safetensors) loads exactly and reproduces PyTorch's output`, () => {
    const bytes = new Uint8Array(readFileSync(join(dir, c.file)));
    const model = new ResNetBn();
    assert.deepEqual(loadWeights(model, bytes, { source: c.file }), { missingKeys: [], unexpectedKeys: [] });
    // Every tensor, in the file's order and with its shapes, is what the file holds.
    const { tensors, metadata } = readSafetensors(bytes, { source: c.file });
    assert.deepEqual([...tensors.keys()].sort(), cases.state_dict.map((e) => e.key).sort());
    assert.equal(typeof metadata, "object");
    const state = model.stateDict();
    for (const [key, t] of tensors) assert.deepEqual([...state.get(key)!.toArray()], [...t.toArray()], key);
    model.eval();
    const y = model.forward(fixtureTensor(c.input)).toArray();
    const want = decode(c.output);
    const scale = Math.max(1, ...[...want].map(Math.abs));
    const worst = Math.max(...[...want].map((w, i) => Math.abs(y[i] - w)));
    assert.ok(worst <= 1e-4 * scale, `${c.name}: max |striate - torch| = ${worst}`);
  });
}

test("serializeWeights writes torch names, F32 floats and I64 buffers; the bytes read back identically", () => {
  const bytes = new Uint8Array(readFileSync(join(dir, "resnet_bn.safetensors")));
  const model = new ResNetBn();
  loadWeights(model, bytes);
  const written = serializeWeights(model);
  const header = JSON.parse(
    new TextDecoder().decode(
      written.subarray(8, 8 + Number(new DataView(written.buffer).getBigUint64(0, true))),
    ),
  ) as Record<string, { dtype: string; shape: number[] }>;
  assert.deepEqual(header.__metadata__, { format: "pt" });
  for (const { key, shape, dtype } of cases.state_dict) {
    assert.deepEqual(header[key].shape, shape, key);
    assert.equal(header[key].dtype, dtype === "int64" ? "I64" : "F32", key);
  }
  const original = decodeSafetensors(bytes);
  const back = decodeSafetensors(written);
  assert.deepEqual([...back.keys()].sort(), [...original.keys()].sort());
  for (const [key, t] of original) assert.deepEqual([...back.get(key)!.toArray()], [...t.toArray()], key);
  // Each tensor's bytes are identical to those PyTorch's file holds (same little-endian F32 and I64 encoding).
  const spans = (b: Uint8Array) => {
    const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    const h = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<
      string,
      { data_offsets: number[] }
    >;
    return (key: string) => b.subarray(8 + n + h[key].data_offsets[0], 8 + n + h[key].data_offsets[1]);
  };
  const [ours, theirs] = [spans(written), spans(bytes)];
  for (const { key } of cases.state_dict) assert.deepEqual(ours(key), theirs(key), key);
});

test("saveWeights writes a file that loads into a fresh model, and never replaces what is there unasked", async () => {
  const model = new ResNetBn();
  loadWeights(model, new Uint8Array(readFileSync(join(dir, "resnet_bn.safetensors"))));
  const path = join(tmp, "resnet_bn.safetensors");
  await saveWeights(model, path);
  const fresh = new ResNetBn();
  loadWeights(fresh, new Uint8Array(await readFile(path)), { source: path });
  for (const [key, t] of model.stateDict())
    assert.deepEqual([...fresh.stateDict().get(key)!.toArray()], [...t.toArray()], key);
  await assert.rejects(
    saveWeights(model, path),
    /resnet_bn\.safetensors already exists \(a file\); nothing was written \(pass \{ overwrite: true \}/,
  );
  await saveWeights(model, path, { overwrite: true });
  const target = join(tmp, "precious.txt");
  await writeFile(target, "keep me");
  await symlink(target, join(tmp, "link.safetensors"));
  await assert.rejects(
    saveWeights(model, join(tmp, "link.safetensors"), { overwrite: true }),
    /already exists \(a symlink\)/,
  );
  assert.equal(await readFile(target, "utf8"), "keep me");
});

test("saveWeights into a folder that does not exist names the folder and leaves nothing behind", async () => {
  const model = new Linear(2, 2);
  const missing = join(tmp, "no-such-folder");
  await assert.rejects(
    saveWeights(model, join(missing, "w.safetensors")),
    new RegExp(
      `the folder ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} does not exist; nothing was written`,
    ),
  );
  await writeFile(join(tmp, "a-file"), "x");
  await assert.rejects(saveWeights(model, join(tmp, "a-file", "w.safetensors")), /a-file is not a directory/);
});

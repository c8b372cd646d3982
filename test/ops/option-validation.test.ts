// Numeric options are validated where they enter the API, with the op or layer name (issue 9, defect 8):
// non-finite or non-numeric values, sizes too large to allocate, thread counts and seeds, options objects for
// keyword arguments, and unknown or unimplemented option keys.

import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor, manualSeed, randn, setNumThreads, initWasm, getNumThreads } from "../../src/index.js";
import * as F from "../../src/ops/index.js";
import { Conv2d } from "../../src/nn/conv.js";
import { Linear } from "../../src/nn/linear.js";
import { ELU, LeakyReLU } from "../../src/nn/activation.js";
import { BatchNorm2d, LocalResponseNorm } from "../../src/nn/normalization.js";
import { closestName } from "../../src/ops/util.js";

const x = tensor([-2, -0.5, 0, 1.5], [1, 1, 2, 2]);

test("LRN alpha/beta/k: NaN, Infinity, arrays and objects are rejected by the layer and the op", () => {
  for (const bad of [NaN, Infinity, -Infinity, [1], {}, "1"]) {
    for (const key of ["alpha", "beta", "k"]) {
      assert.throws(
        () => new LocalResponseNorm(3, { [key]: bad } as never),
        new RegExp(`^Error: LocalResponseNorm: ${key} must be a finite number, got `),
      );
      assert.throws(
        () => F.localResponseNorm(x, 3, { [key]: bad } as never),
        new RegExp(`localResponseNorm: ${key} must be a finite number`),
      );
    }
  }
  assert.throws(
    () => new LocalResponseNorm(1e308),
    /LocalResponseNorm: size must be an integer in \[1, 4096\]/,
  );
  assert.throws(
    () => F.localResponseNorm(x, 3, { gamma: 1 } as never),
    /localResponseNorm: unknown option 'gamma'/,
  );
});

test("negativeSlope and ELU alpha must be finite; options objects work like the positional form", () => {
  for (const bad of [Infinity, -Infinity, NaN]) {
    assert.throws(() => new LeakyReLU(bad), /^Error: LeakyReLU: negativeSlope must be a finite number/);
    assert.throws(() => new ELU(bad), /^Error: ELU: alpha must be a finite number/);
    assert.throws(() => F.leakyRelu(x, bad), /leakyRelu: negativeSlope must be a finite number/);
    assert.throws(() => F.elu(x, { alpha: bad }), /elu: alpha must be a finite number/);
  }
  assert.deepEqual([...F.leakyRelu(x, { negativeSlope: 0.2 }).toArray()], [...F.leakyRelu(x, 0.2).toArray()]);
  assert.deepEqual(
    [...F.leakyRelu(x, { negativeSlope: 0.2 }).toArray()].map((v) => Math.round(v * 100) / 100),
    [-0.4, -0.1, 0, 1.5],
  );
  assert.deepEqual([...F.elu(x, { alpha: 2 }).toArray()], [...F.elu(x, 2).toArray()]);
  assert.ok(Math.abs(F.elu(x, { alpha: 2 }).toArray()[0] - 2 * (Math.exp(-2) - 1)) < 1e-6);
  assert.deepEqual([...F.elu(x, {}).toArray()], [...F.elu(x).toArray()]);
  assert.throws(
    () => F.leakyRelu(x, { slope: 0.2 } as never),
    /leakyRelu: unknown option 'slope'; did you mean 'negativeSlope'\?/,
  );
});

test("sizes too large to allocate name the layer and the size (not a wasm RangeError)", () => {
  assert.throws(
    () => new Conv2d(3, 1e308, 3),
    /^Error: Conv2d\(3, 1e\+308, kernelSize=3\): weight \[1e\+308,3,3,3\] would hold Infinity elements, more than the 1073741824 \(2\^30\)/,
  );
  assert.throws(
    () => new Linear(1e10, 10),
    /^Error: Linear\(10000000000, 10\): weight \[10,10000000000\] would hold 100000000000 elements/,
  );
  assert.throws(
    () => new BatchNorm2d(4, { eps: Infinity }),
    /eps must be a positive finite number, got Infinity/,
  );
  assert.throws(
    () => new BatchNorm2d(1e10),
    /^Error: BatchNorm2d\(10000000000\): running_mean \[10000000000\] would hold/,
  );
  assert.throws(
    () => F.adaptiveAvgPool2d(x, 2 ** 31),
    /^Error: adaptiveAvgPool2d: output \[1,1,2147483648,2147483648\] would hold/,
  );
});

test("setNumThreads and initWasm reject NaN, 0, fractions and absurd counts", async () => {
  await initWasm({ setDefault: false });
  const before = getNumThreads();
  for (const bad of [NaN, 0, -1, 1.5, Infinity, 10_000]) {
    await assert.rejects(
      setNumThreads(bad),
      /^Error: setNumThreads: the number of threads must be an integer in \[1, 256\], got /,
    );
    await assert.rejects(
      initWasm({ threads: bad, setDefault: false }),
      /^Error: initWasm: the number of threads must be an integer/,
    );
  }
  assert.equal(getNumThreads(), before);
});

test("manualSeed rejects NaN, fractions and unsafe integers; large safe seeds do not alias small ones", () => {
  for (const bad of [NaN, Infinity, 0.5, 2 ** 53, "1" as unknown as number]) {
    assert.throws(
      () => manualSeed(bad),
      /^Error: manualSeed: seed must be an integer with \|seed\| <= 2\^53 - 1/,
    );
  }
  const draw = (seed: number): number[] => {
    manualSeed(seed);
    return [...randn([4]).toArray()];
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(1), draw(2 ** 32 + 1));
  assert.notDeepEqual(draw(2 ** 32 + 1), draw(-(2 ** 32) - 1));
});

test("F.pad rejects modes it does not implement instead of padding with NaN", () => {
  assert.throws(
    () => F.pad(x, [1, 1], "mirror" as never),
    /^Error: pad: mode must be one of constant, reflect, replicate, circular, got "mirror"/,
  );
  assert.throws(
    () => F.pad(x, [1, 1], { mode: "constant", value: "0" } as never),
    /pad: value must be a number/,
  );
  assert.deepEqual(F.pad(x, [1, 0], "constant").shape, [1, 1, 2, 3]);
  assert.equal(F.pad(x, [1, 0], 3).toArray()[0], 3);
});

test("crossEntropy and other F ops reject unknown option keys, suggesting the one meant", () => {
  const logits = tensor([[1, 2, 3]]);
  const target = tensor(new Int32Array([2]), [1]);
  assert.throws(
    () => F.crossEntropy(logits, target, { labelSmoothin: 0.1 } as never),
    /crossEntropy: unknown option 'labelSmoothin'; did you mean 'labelSmoothing'\?/,
  );
  assert.throws(
    () => F.mseLoss(logits, logits, { reduce: "sum" } as never),
    /mseLoss: unknown option 'reduce'; did you mean 'reduction'\?/,
  );
  assert.throws(
    () => F.conv2d(x, tensor([1], [1, 1, 1, 1]), null, { pad: 1 } as never),
    /conv2d: unknown option 'pad'; did you mean 'padding'\?/,
  );
  assert.throws(
    () => F.maxPool2d(x, 2, { ceil_mode: true } as never),
    /maxPool2d: unknown option 'ceil_mode'; did you mean 'ceilMode'\?/,
  );
  assert.throws(
    () => F.dropout(x, 0.5, { train: true } as never),
    /dropout: unknown option 'train'; did you mean 'training'\?/,
  );
  assert.throws(
    () => F.crossEntropy(logits, target, 0.1 as never),
    /crossEntropy: options must be an object/,
  );
  assert.throws(
    () => F.nllLoss(logits, target, { ignore_index: 1 } as never),
    /nllLoss: unknown option 'ignore_index'; did you mean 'ignoreIndex'\?/,
  );
  assert.ok(F.crossEntropy(logits, target, { labelSmoothing: 0.1, reduction: "sum" }).item() > 0);
  // The options the ops implement pass the check.
  const weighted = F.crossEntropy(logits, target, { weight: tensor([1, 1, 2]), ignoreIndex: 0 });
  assert.ok(Number.isFinite(weighted.item()));
});

test("closestName prefers a prefix, then a small edit distance, and gives up on unrelated names", () => {
  assert.equal(closestName("kernel", ["outChannels", "kernelSize", "stride"]), "kernelSize");
  assert.equal(closestName("strdie", ["kernelSize", "stride"]), "stride");
  assert.equal(closestName("xyz", ["kernelSize", "stride"]), undefined);
});

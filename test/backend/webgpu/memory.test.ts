// Memory of the webgpu backend in Node (SwiftShader where there is no GPU: test/helpers/node-webgpu.ts).
// Scopes free what they record, as on wasm (src/backend/scopes.ts is shared); storages no scope owns go
// back to the GPU through the garbage collector's finalizers, which need the event loop to turn, so a loop
// of backward passes that never yields gets one warning saying what to do.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { F, memory, nn, optim, scope, setBackend, tensor } from "../../../src/index.js";
import { openNodeWebGpu } from "../../helpers/node-webgpu.js";
import { STEPS_WITHOUT_YIELD_WARNING } from "../../../src/backend/webgpu/storage.js";

const { skip } = await openNodeWebGpu();

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function smallNet(): { model: nn.Sequential; optimizer: optim.SGD } {
  const model = new nn.Sequential(new nn.Linear(16, 32), new nn.ReLU(), new nn.Linear(32, 4));
  return { model, optimizer: new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) };
}

function step(model: nn.Sequential, optimizer: optim.SGD, i: number) {
  const x = tensor(
    Array.from({ length: 8 * 16 }, (_, j) => Math.sin(i + j)),
    [8, 16],
  );
  const y = tensor(
    Array.from({ length: 8 }, (_, j) => (i + j) % 4),
    [8],
    { dtype: "int32" },
  );
  optimizer.zeroGrad();
  const loss = F.crossEntropy(model.forward(x), y);
  loss.backward();
  optimizer.step();
  return loss;
}

async function withWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (message: string) => warnings.push(String(message));
  try {
    return { result: await fn(), warnings };
  } finally {
    console.warn = original;
  }
}

async function turn(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * Full collections, each followed by a turn of the event loop for the finalizers it queued, until the count
 * of live storages stops falling (a loaded machine runs some finalizers late).
 */
async function collect(): Promise<void> {
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0, stable = 0; round < 20 && stable < 2; round++) {
    gc();
    await turn();
    const now = memory().storages;
    stable = now < last ? 0 : stable + 1;
    last = now;
  }
}

test("a scope frees the batches and intermediates of a step it wraps", { skip }, async () => {
  setBackend("webgpu");
  try {
    const { model, optimizer } = smallNet();
    step(model, optimizer, 0);
    await turn();
    const before = memory().storages;
    for (let i = 1; i <= 5; i++) scope(() => void step(model, optimizer, i));
    // Left over per step: the gradients zeroGrad() dropped (kept storages only the collector frees).
    const grads = model.parameters().length;
    assert.ok(
      memory().storages - before <= 5 * grads,
      `${memory().storages - before} storages left after 5 scoped steps`,
    );
  } finally {
    setBackend("js");
  }
});

test("a loop that awaits between steps gives its storages back once collected", { skip }, async () => {
  setBackend("webgpu");
  try {
    const { model, optimizer } = smallNet();
    const { warnings } = await withWarnings(async () => {
      for (let i = 0; i < 3; i++) await step(model, optimizer, i).itemAsync();
      await collect();
      const settled = memory().storages;
      for (let i = 0; i < 30; i++) await step(model, optimizer, i).itemAsync();
      gc();
      await turn();
      assert.ok(
        memory().storages <= settled + 2,
        `${settled} storages before 30 steps, ${memory().storages} after`,
      );
    });
    assert.deepEqual(warnings, []);
  } finally {
    setBackend("js");
  }
});

test("a loop that never yields is warned once, with what to do", { skip }, async () => {
  setBackend("webgpu");
  try {
    const { model, optimizer } = smallNet();
    await turn();
    const { warnings } = await withWarnings(async () => {
      for (let i = 0; i < STEPS_WITHOUT_YIELD_WARNING + 20; i++) step(model, optimizer, i);
      await turn();
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /without yielding to the event loop/);
    assert.match(warnings[0], /await loss\.itemAsync\(\)/);
    assert.match(warnings[0], /scope\(\)/);
  } finally {
    setBackend("js");
  }
});

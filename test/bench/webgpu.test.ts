// The webgpu section of `npm run bench` (bench/webgpu.ts): its plan (full size on a GPU, shrunk on a software
// adapter), the case specs it hands to bench/case.ts and torch_bench.py, the table it prints, and — where Dawn
// finds an adapter in Node — one tiny case of each webgpu implementation run the way the section runs it
// (a fresh bench/case.ts process). No figure is asserted beyond its existence: speed belongs to the bench.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  caseSpec,
  formatWebGpuSection,
  IMPLS,
  msPerStep,
  resultKey,
  webGpuPlan,
  type SectionInfo,
  type WebGpuCase,
} from "../../bench/webgpu.js";
import { spawnCase, type CaseResult } from "../../bench/common.js";
import { runStriate } from "../../bench/striate.js";
import { openNodeWebGpu } from "../helpers/node-webgpu.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The issue's cases as [task, batch, input side], with ResNet-18's training batch and input side. */
const issueCases = (trainBatch: number, size: number) => [
  ["lenet", 64, 28],
  ["cifar", 64, 32],
  ["resnet18-train", trainBatch, size],
  ["resnet18", 1, size],
  ["resnet18", 16, size],
];

test("the plan: the issue's workloads at full size on a GPU, shrunk on a software adapter", () => {
  const shapes = (plan: WebGpuCase[]) => plan.map((c) => [c.task, c.batch, c.size]);
  const gpu = webGpuPlan({ software: false, quick: false });
  assert.deepEqual(shapes(gpu), issueCases(32, 224));
  assert.ok(gpu.every((c) => c.steps === 10 && c.warmup === 3));
  const soft = webGpuPlan({ software: true, quick: false });
  assert.deepEqual(shapes(soft), issueCases(8, 32));
  assert.ok(soft.every((c) => c.steps === 1 && c.budgetMs === 0));
  assert.equal(soft.find((c) => c.task === "resnet18-train")!.warmup, 0);
  const smoke = webGpuPlan({ software: true, quick: true });
  assert.ok(
    smoke.every((c) => c.batch <= 8),
    "--quick on a software adapter uses tiny batches",
  );
});

test("case specs: CPU threads only for Striate wasm and PyTorch, the input size and step counts passed on", () => {
  const [resnetTrain] = webGpuPlan({ software: true, quick: false }).filter(
    (c) => c.task === "resnet18-train",
  );
  const specs = IMPLS.map((impl) => caseSpec(resnetTrain, impl, 4));
  assert.deepEqual(
    specs.map((s) => [s.impl, s.threads]),
    [
      ["striate-webgpu", 1],
      ["tfjs-webgpu", 1],
      ["striate-wasm", 4],
      ["torch", 4],
    ],
  );
  for (const s of specs) {
    assert.equal(s.task, "resnet18-train");
    assert.equal(s.size, 32);
    assert.equal(s.batch, 8);
  }
  // SwiftShader's cap (one step, no warm-up) for the webgpu columns; CPU columns time enough steps to mean something.
  assert.deepEqual(
    specs.map((s) => [s.warmup, s.minReps]),
    [
      [0, 1],
      [0, 1],
      [2, 5],
      [2, 5],
    ],
  );
});

test("msPerStep reads img/s and batch-1 latencies alike", () => {
  assert.equal(msPerStep({ value: 64, unit: "img/s" }, 64), 1000);
  assert.equal(msPerStep({ value: 12.5, unit: "ms" }, 1), 12.5);
  assert.equal(msPerStep({ skip: "cannot train" }, 8), null);
  assert.equal(msPerStep(undefined, 8), null);
});

const INFO: SectionInfo = {
  runtime: "node",
  adapter: "google/swiftshader",
  software: true,
  found: "Dawn through SwiftShader's Vulkan driver",
  threads: 2,
  quick: false,
};

test("the table: adapter first, the software note, figures, ratios against Striate webgpu and skips", () => {
  const cases = webGpuPlan({ software: true, quick: false }).slice(0, 2);
  const results = new Map<string, CaseResult>([
    [resultKey(cases[0], "striate-webgpu"), { value: 64, unit: "img/s" }], // 1,000 ms per step
    [resultKey(cases[0], "tfjs-webgpu"), { value: 32, unit: "img/s" }], // 2,000 ms
    [resultKey(cases[0], "striate-wasm"), { value: 6400, unit: "img/s" }], // 10 ms
    [resultKey(cases[0], "torch"), { skip: "not installed" }],
    [resultKey(cases[1], "tfjs-webgpu"), { skip: "cannot train: gradient for MaxPoolGrad | missing" }],
  ]);
  const text = formatWebGpuSection(INFO, cases, results);
  const lines = text.split("\n");
  assert.equal(lines[0], "## webgpu backend (Node, Dawn), adapter: google/swiftshader");
  assert.match(text, /Software adapter:.*only show that every case runs/);
  const lenet = lines.find((l) => l.startsWith("| LeNet-5 training"))!;
  assert.deepEqual(lenet.split(" | ").slice(3), [
    "1,000 ms (64.0 img/s)",
    "2,000 ms (32.0 img/s)",
    "10.0 ms (6,400 img/s)",
    "not installed",
    "2.00×",
    "0.010×",
    "– |",
  ]);
  const cifar = lines.find((l) => l.startsWith("| CIFAR-net training"))!;
  // A skip is shown as it came, without breaking the table's columns.
  assert.match(cifar, /cannot train: gradient for MaxPoolGrad \/ missing/);
  assert.equal(cifar.split(" | ").length, lenet.split(" | ").length);
  assert.doesNotMatch(formatWebGpuSection({ ...INFO, software: false }, cases, results), /Software adapter/);
});

/** The tiny LeNet-5 case of an implementation: batch 2, one timed step after the untimed first one. */
function tinySpec(impl: "striate-webgpu" | "tfjs-webgpu") {
  const [lenet] = webGpuPlan({ software: true, quick: true });
  return caseSpec({ ...lenet, batch: 2, warmup: 0 }, impl, 1);
}

function assertFigure(impl: string, result: CaseResult): void {
  assert.equal(result.skip, undefined, `${impl}: ${result.skip}`);
  assert.equal(result.unit, "img/s");
  assert.ok(result.value! > 0 && Number.isFinite(result.value), `${impl}: ${result.value}`);
}

test("in Node, Striate webgpu and TF.js webgpu each run a tiny LeNet-5 training case", async (t) => {
  const gpu = await openNodeWebGpu(); // sets VK_ICD_FILENAMES for SwiftShader where no GPU driver exists
  if (gpu.skip) return t.skip(gpu.skip);
  // TF.js in a fresh bench/case.ts process, as the section runs it (it installs Dawn's navigator.gpu
  // globals, which must not meet this process's device); Striate's case here, on the device already open.
  const tfjs = spawnCase(
    process.execPath,
    ["--import", "tsx", join(root, "bench", "case.ts"), JSON.stringify(tinySpec("tfjs-webgpu"))],
    process.env,
    120_000,
  );
  assertFigure("striate-webgpu", await runStriate(tinySpec("striate-webgpu")));
  assertFigure("tfjs-webgpu", await tfjs);
});

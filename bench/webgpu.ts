// The webgpu section of `npm run bench` (`--only webgpu`): LeNet-5 and CIFAR-net training, a ResNet-18
// training step (batch 32) and ResNet-18 inference (batch 1 and 16) on the webgpu backend in Chromium,
// beside the wasm backend on the same page (one thread: a plain page has no shared memory). It prints the
// adapter's name first; on a software adapter (SwiftShader, CI) inputs are shrunk and the figures only
// show that it runs. On a machine with a GPU run it unchanged with STRIATE_WEBGPU=hardware (Chromium then
// uses the GPU: no --disable-gpu, no SwiftShader); docs/webgpu.md says how.

import { openChromium, WEBGPU_FLAGS } from "../test/browser/chromium.js";
import type { BenchCase, BenchReport, BenchRow } from "../test/browser/webgpu-bench.js";

/** Chromium flags for a real GPU: WebGPU on, the GPU process on (chromium.ts drops --disable-gpu). */
const HARDWARE_FLAGS = [
  "--enable-gpu",
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--ignore-gpu-blocklist",
];

/** Longest a case may take (a page that hangs fails the bench rather than blocking it). */
const CASE_TIMEOUT_MS = 20 * 60_000;

function plan(software: boolean, quick: boolean): Omit<BenchCase, "backend">[] {
  const steps = quick || software ? 2 : 10;
  const warmup = quick || software ? 1 : 3;
  const resnetSize = software ? 32 : 224;
  return [
    { task: "lenet", batch: 64, size: 28, steps, warmup },
    { task: "cifar", batch: 64, size: 32, steps, warmup },
    { task: "resnet18-train", batch: 32, size: resnetSize, steps, warmup },
    { task: "resnet18-infer", batch: 1, size: resnetSize, steps, warmup },
    { task: "resnet18-infer", batch: 16, size: resnetSize, steps, warmup },
  ];
}

const LABELS: Record<string, string> = {
  lenet: "LeNet-5 training",
  cifar: "CIFAR-net training",
  "resnet18-train": "ResNet-18 training step",
  "resnet18-infer": "ResNet-18 inference",
};

function cell(row: BenchRow | undefined): string {
  if (!row) return "–";
  if (row.error) return `error: ${row.error.slice(0, 80)}`;
  return `${row.ms.toFixed(1)} ms (${row.imagesPerSec.toFixed(1)} img/s)`;
}

export async function runWebGpuBench(quick: boolean): Promise<void> {
  const hardware = process.env.STRIATE_WEBGPU === "hardware";
  const chromium = await openChromium(hardware ? HARDWARE_FLAGS : WEBGPU_FLAGS);
  try {
    const probe = await chromium.evaluate<{ adapter: string; software: boolean }>(
      "open",
      `import("./webgpu-bench.js").then((m) => m.adapter())`,
      120_000,
    );
    const cases = plan(probe.software, quick).flatMap((c) => [
      { ...c, backend: "webgpu" as const },
      { ...c, backend: "wasm" as const },
    ]);
    // One page per case: progress shows between cases, and a case that fails leaves the others standing.
    const report: BenchReport = { ...probe, rows: [] };
    for (const c of cases) {
      process.stderr.write(`webgpu bench: ${c.task} batch ${c.batch} ${c.size}×${c.size} on ${c.backend} … `);
      const one = await chromium.evaluate<BenchReport>(
        "open",
        `import("./webgpu-bench.js").then((m) => m.run(${JSON.stringify([c])}))`,
        CASE_TIMEOUT_MS,
      );
      const row = one.rows[0];
      report.rows.push(row);
      process.stderr.write(`${row.error ?? `${row.ms.toFixed(1)} ms/step`}\n`);
    }
    console.log(`## webgpu backend (Chromium), adapter: ${report.adapter}\n`);
    if (report.software) {
      console.log(
        "> Software adapter: these figures only show that every case runs on webgpu; they say nothing about GPU speed. " +
          "ResNet-18 runs on 32×32 inputs here (224×224 on hardware). Run `STRIATE_WEBGPU=hardware npm run bench -- --only webgpu` on a machine with a GPU.\n",
      );
    }
    console.log("| case | batch | input | webgpu | wasm (1 thread, same page) | webgpu / wasm speed |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const c of plan(report.software, quick)) {
      const find = (backend: string) =>
        report.rows.find((r) => r.task === c.task && r.batch === c.batch && r.backend === backend);
      const [gpu, wasm] = [find("webgpu"), find("wasm")];
      const ratio = gpu && wasm && !gpu.error && !wasm.error ? `${(wasm.ms / gpu.ms).toFixed(2)}×` : "–";
      console.log(
        `| ${LABELS[c.task]} | ${c.batch} | ${c.size}×${c.size} | ${cell(gpu)} | ${cell(wasm)} | ${ratio} |`,
      );
    }
    console.log(
      "\nNot measured in this section: TF.js's webgpu backend (@tensorflow/tfjs-backend-webgpu is not a dependency) and " +
        "PyTorch CPU (its figures for the same models are in `npm run bench -- --only lenet,cifar,resnet18`).\n",
    );
  } finally {
    await chromium.close();
  }
}

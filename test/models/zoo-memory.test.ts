// Models that are no longer referenced give their memory back: torchvision-shaped zoo models built, run on a
// small input and dropped one after another in one process fit in a wasm memory capped below what they
// need together, because freed blocks of one model's sizes are merged and carved for the next model's
// (a size-class allocator alone ran out at mobilenet_v2 with this cap). All the torchvision-shaped models at the
// default 2 GiB cap: `npm run soak:memory -- --zoo` (docs/performance.md has its figures).
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

it("six zoo models built and dropped in turn fit in a 160 MiB wasm memory", () => {
  const dir = mkdtempSync(join(tmpdir(), "striate-zoo-"));
  const file = join(dir, "zoo.mts");
  writeFileSync(
    file,
    `
    import { initWasm } from ${JSON.stringify(resolve("src/backend/wasm/index.ts"))};
    import { getModel } from ${JSON.stringify(resolve("src/models/index.ts"))};
    import { memory, noGrad, randn } from ${JSON.stringify(resolve("src/index.ts"))};
    await initWasm({ threads: 1, maximumBytes: 160 * 2 ** 20 });
    const names = ["densenet121", "googlenet", "mobilenet_v2", "shufflenet_v2_x1_0", "squeezenet1_1", "resnet18"];
    const shapes = [];
    for (const name of names) {
      const model = getModel(name, { numClasses: 10 }).eval();
      shapes.push(noGrad(() => model.forward(randn([1, 3, 64, 64]))).shape);
    }
    console.log(JSON.stringify({ shapes, memoryBytes: memory().memoryBytes }));
  `,
  );
  const run = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split("\n").pop()!) as { shapes: number[][]; memoryBytes: number };
  assert.deepEqual(out.shapes, Array(6).fill([1, 10]));
  assert.ok(out.memoryBytes <= 160 * 2 ** 20);
});

// `npm run test:webgpu [folder] [--no-parity] [--no-fit] [--no-zoo]`: runs every PyTorch fixture family of a folder
// (default test/fixtures/torch) on the webgpu backend in headless Chromium (SwiftShader when there is no
// GPU; a real adapter where Chromium has one) and prints per-family results, then the LeNet-5 end-to-end
// fixture, the kernel parity cases against js, fit() beside js and the training of the zoo's small models
// beside js (ZOO_CASES and the slower ZOO_EXTRA, test/helpers/webgpu-zoo.ts). Exits 1 on any failure.
import { readdirSync } from "node:fs";
import { basename, resolve } from "node:path";
import { openChromium, WEBGPU_FLAGS } from "../test/browser/chromium.js";
import type { WebGpuReport } from "../test/browser/webgpu-page.js";
import { HANDLED_ELSEWHERE } from "../test/helpers/fixture-runners.js";
import { ROOT } from "../test/browser/server.js";
import { ZOO_CASES, ZOO_EXTRA, zooProblems, zooSummary } from "../test/helpers/webgpu-zoo.js";

const args = process.argv.slice(2);
const folder = resolve(args.find((a) => !a.startsWith("--")) ?? "test/fixtures/torch");
if (folder !== resolve(ROOT, "test/fixtures/torch")) {
  console.error(`test:webgpu: the page is served test/fixtures/torch only; got ${folder}`);
  process.exit(2);
}
const families = readdirSync(folder)
  .filter((f) => f.endsWith(".json"))
  .map((f) => basename(f, ".json"))
  .filter((f) => !HANDLED_ELSEWHERE.has(f));
const options = {
  families,
  lenet: true,
  parity: !args.includes("--no-parity"),
  fit: !args.includes("--no-fit"),
  zoo: args.includes("--no-zoo") ? [] : [...ZOO_CASES, ...ZOO_EXTRA].map((c) => c.name),
};

const chromium = await openChromium(WEBGPU_FLAGS);
let failed = 0;
try {
  const r = await chromium.evaluate<WebGpuReport>(
    "open",
    `import("./webgpu-page.js").then((m) => m.run(${JSON.stringify(options)}))`,
    30 * 60_000,
  );
  console.log(
    `adapter: ${r.adapter}${r.software ? " (software: correctness only, timings say nothing about GPUs)" : ""}`,
  );
  console.log("family                  cases  fail  worst |a-b|   ms");
  for (const f of r.families) {
    failed += f.failures.length;
    const row = [f.family.padEnd(22), String(f.cases).padStart(6)];
    row.push(
      String(f.failures.length).padStart(5),
      f.worst.toExponential(2).padStart(12),
      String(Math.round(f.ms)).padStart(6),
    );
    console.log(row.join(" "));
    for (const failure of f.failures) console.log(`    FAIL ${failure}`);
  }
  if (r.lenet) {
    if (r.lenet.error) failed++;
    console.log(
      `LeNet-5 end to end: ${r.lenet.error ?? `ok, worst |a-b| ${r.lenet.worst.toExponential(2)}`}`,
    );
  }
  const bad = r.parity.filter((p) => p.error !== null);
  failed += bad.length;
  if (options.parity)
    console.log(`kernel parity with js: ${r.parity.length - bad.length}/${r.parity.length} ok`);
  for (const p of bad) console.log(`    FAIL ${p.name}: ${p.error}`);
  if (r.fit) {
    if (r.fit.error) failed++;
    const gpu = r.fit.webgpu;
    console.log(
      `fit(): js losses ${r.fit.js.losses.map((v) => v.toFixed(5))}, webgpu ${gpu ? gpu.losses.map((v) => v.toFixed(5)) : r.fit.error}`,
    );
  }
  if (r.zoo.length > 0) console.log("zoo models trained with fit() on webgpu beside js (two steps):");
  for (const z of r.zoo) {
    const problems = zooProblems(z);
    failed += problems.length;
    console.log(`  ${problems.length === 0 ? "ok  " : "FAIL"} ${zooSummary(z)}`);
    for (const p of problems) console.log(`    FAIL ${p}`);
  }
  console.log(`${failed === 0 ? "all passed" : `${failed} failures`} in ${Math.round(r.ms / 1000)} s`);
} finally {
  await chromium.close();
}
process.exit(failed === 0 ? 0 : 1);

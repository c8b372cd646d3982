// The webgpu backend in Chromium (SwiftShader's adapter, no GPU needed): the PyTorch fixture suite, the
// LeNet-5 end-to-end fixture, kernel parity with js, fit() beside js and the training of LeNet-5 and a
// mobile zoo model beside js (PAGE_ZOO, test/helpers/webgpu-zoo.ts), all on a page (webgpu-page.ts) over
// the package's browser build. Node runs the same on Dawn (test/backend/webgpu/). STRIATE_SKIP_BROWSER=1 skips it; without /usr/bin/chromium it fails,
// naming the package to install.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { openChromium, WEBGPU_FLAGS, type OpenChromium } from "./chromium.js";
import type { WebGpuReport } from "./webgpu-page.js";
import { fixtureFamilies } from "../helpers/fixtures.js";
import { HANDLED_ELSEWHERE } from "../helpers/fixture-runners.js";
import { PAGE_ZOO, zooProblems, zooSummary } from "../helpers/webgpu-zoo.js";

const skip =
  process.env.STRIATE_SKIP_BROWSER === "1"
    ? "STRIATE_SKIP_BROWSER=1: the webgpu browser test is skipped"
    : false;

let chromium: OpenChromium | null = null;
let report: WebGpuReport | null = null;

before(async () => {
  if (skip) return;
  chromium = await openChromium(WEBGPU_FLAGS);
  const families = fixtureFamilies().filter((f) => !HANDLED_ELSEWHERE.has(f));
  const options = { families, lenet: true, parity: true, fit: true, zoo: PAGE_ZOO };
  report = await chromium.evaluate<WebGpuReport>(
    "open",
    `import("./webgpu-page.js").then((m) => m.run(${JSON.stringify(options)}))`,
    240_000,
  );
});
after(async () => {
  await chromium?.close();
});

it("finds SwiftShader's WebGPU adapter in headless Chromium", { skip }, (t) => {
  t.diagnostic(`${chromium!.build}; adapter ${report!.adapter}; page ran ${Math.round(report!.ms)} ms`);
  assert.match(report!.adapter, /swiftshader/);
  assert.equal(report!.software, true);
});

it("passes every PyTorch fixture family on webgpu", { skip }, (t) => {
  assert.ok(report!.families.length >= 10, `only ${report!.families.length} families ran`);
  for (const f of report!.families) {
    t.diagnostic(
      `${f.family}: ${f.cases} cases, worst |a-b| ${f.worst.toExponential(2)}, ${Math.round(f.ms)} ms`,
    );
    assert.deepEqual(f.failures, [], `${f.family} failed on webgpu`);
    assert.ok(f.cases > 0, `${f.family}: no case ran`);
  }
  // Every case runs: RoI ops and topk are webgpu kernels, nms reads values made from arrays.
  const run = report!.families.reduce((s, f) => s + f.cases, 0);
  assert.ok(run >= 178, `only ${run} fixture cases ran on webgpu`);
});

it("reproduces the LeNet-5 end-to-end fixture (two SGD-momentum steps) on webgpu", { skip }, (t) => {
  const lenet = report!.lenet!;
  assert.equal(lenet.error, null);
  t.diagnostic(
    `worst |a-b| over loss, logits, grads and params: ${lenet.worst.toExponential(2)}; ${Math.round(lenet.ms)} ms`,
  );
});

it("matches the js backend kernel by kernel", { skip }, (t) => {
  const failed = report!.parity.filter((p) => p.error !== null).map((p) => `${p.name}: ${p.error}`);
  assert.deepEqual(failed, []);
  assert.ok(report!.parity.length >= 90, `only ${report!.parity.length} parity cases`);
  const worst = Math.max(...report!.parity.map((p) => p.worst));
  t.diagnostic(`${report!.parity.length} kernel cases, worst |a-b| ${worst.toExponential(2)}`);
});

it("trains LeNet-5 with fit() on webgpu as on js (losses, accuracies, validation)", { skip }, (t) => {
  const fit = report!.fit!;
  assert.equal(fit.error, null);
  const gpu = fit.webgpu!;
  t.diagnostic(
    `js losses ${fit.js.losses.join(", ")}; webgpu ${gpu.losses.join(", ")}; ${Math.round(gpu.ms)} ms`,
  );
  assert.equal(gpu.losses.length, 2);
  for (const key of ["losses", "valLosses", "accuracies"] as const) {
    gpu[key].forEach((v, i) =>
      assert.ok(Math.abs(v - fit.js[key][i]) <= 1e-4, `${key}[${i}]: ${v} vs js ${fit.js[key][i]}`),
    );
  }
  assert.ok(gpu.losses[1] < gpu.losses[0], "the training loss fell");
});

it("trains LeNet-5 and a mobile zoo model with setBackend('webgpu') and fit() as on js", { skip }, (t) => {
  assert.deepEqual(
    report!.zoo.map((r) => r.name),
    PAGE_ZOO,
  );
  for (const r of report!.zoo) {
    t.diagnostic(zooSummary(r));
    assert.deepEqual(zooProblems(r), []);
  }
});

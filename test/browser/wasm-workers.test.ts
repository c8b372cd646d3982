// The wasm backend's browser path in a real browser (Debian's Chromium, driven by playwright-core): the
// package's browser build (dist/index.js + build/kernels/) served as plain ES modules, once on a
// cross-origin-isolated page (SharedArrayBuffer: shared memory, Blob-URL Web Workers) and once on a page
// without COOP/COEP (single-threaded, one warning). A small CNN trained there must match, to float
// rounding, the same steps at 1 thread and the same steps run here in Node on the wasm backend.
// Skipped (visibly) without /usr/bin/chromium or with STRIATE_SKIP_BROWSER=1; mandatory with
// STRIATE_REQUIRE_CHROMIUM=1, which .ci/run sets (chromium.ts: browserSkip).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import * as Striate from "../../src/index.js";
import { ensureBrowserBuild, startServer, type StaticServer } from "./server.js";
import { browserSkip, CHROMIUM, CHROMIUM_FLAGS, missingChromium, withTimeout } from "./chromium.js";
import { trainCnn, type TrainResult } from "./train-cnn.js";
import type { PageReport } from "./page.js";

const SAB_WARNING = "SharedArrayBuffer is unavailable";
/** Bounds for every browser step: generous (the machine is shared), but a hang must fail. */
const LAUNCH_MS = 60_000;
const PAGE_MS = 90_000;
const TEST_MS = 180_000;
/** Float rounding: the same kernels on the same data; threads only change which thread computes a range. */
const ATOL = 1e-6;
const RTOL = 1e-5;

const skip = browserSkip("the real-browser test of the wasm backend (Chromium)");

/** Largest |a-b| over two training results; throws naming the first value outside the tolerance. */
function assertSameTraining(actual: TrainResult, expected: TrainResult, what: string): number {
  let worst = 0;
  const check = (a: number[], b: number[], name: string) => {
    assert.equal(a.length, b.length, `${what}: ${name} has ${a.length} values, expected ${b.length}`);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      worst = Math.max(worst, d);
      if (!(d <= ATOL + RTOL * Math.abs(b[i]))) {
        assert.fail(`${what}: ${name}[${i}] = ${a[i]}, expected ${b[i]} (|diff| ${d})`);
      }
    }
  };
  check(actual.losses, expected.losses, "loss");
  assert.deepEqual(Object.keys(actual.params).sort(), Object.keys(expected.params).sort(), what);
  for (const name of Object.keys(expected.params)) check(actual.params[name], expected.params[name], name);
  return worst;
}

interface PageRun {
  report: PageReport;
  warnings: string[];
}

describe("wasm backend in Chromium: Web Workers on shared memory", { timeout: TEST_MS * 2 }, () => {
  let server: StaticServer | null = null;
  let browser: Browser | null = null;
  let inNode: TrainResult;
  const t0 = performance.now();

  before(async () => {
    if (skip) return;
    if (!existsSync(CHROMIUM)) throw missingChromium();
    console.log(`# browser test: ${await ensureBrowserBuild()}`);
    await Striate.initWasm({ threads: 1 });
    inNode = trainCnn(Striate);
    server = await startServer();
    browser = await withTimeout(
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: LAUNCH_MS }),
      LAUNCH_MS,
      `launching ${CHROMIUM}`,
    );
  });

  after(async () => {
    // Both always run, whatever failed; a browser that does not close in time is killed by the launcher's
    // process handling when this process exits.
    await withTimeout(browser?.close() ?? Promise.resolve(), 30_000, "closing Chromium").catch((e) =>
      console.error(`# ${e}`),
    );
    await server?.close();
    if (skip) return;
    console.log(`# browser test: ${Math.round(performance.now() - t0)} ms in all`);
  });

  /** Opens the test page under a route, runs page.ts there; page errors and console errors fail. */
  async function runPage(route: "isolated" | "open"): Promise<PageRun> {
    const context = await browser!.newContext();
    try {
      const page: Page = await context.newPage();
      const errors: string[] = [];
      const warnings: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
        if (m.type() === "warning") warnings.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(`page error: ${e.stack ?? e.message}`));
      page.on("crash", () => errors.push("the page crashed"));
      const url = `${server!.origin}/${route}/test/browser/index.html`;
      await page.goto(url, { timeout: PAGE_MS });
      const report = (await withTimeout(
        // A string, not a function: tsx would compile helpers into a function's source.
        page.evaluate(`import("./page.js").then((m) => m.run())`),
        PAGE_MS,
        `the ${route} page`,
      ).catch((e: Error) => {
        throw new Error(`${route} page: ${e.message}\n${errors.join("\n")}`);
      })) as PageReport;
      assert.deepEqual(
        errors,
        [],
        `${route} page reported errors (not served: ${server!.missing.join(", ") || "nothing"})`,
      );
      return { report, warnings };
    } finally {
      await context.close();
    }
  }

  it(
    "isolated page: 2 threads on Web Workers, same training as 1 thread and as Node",
    { skip, timeout: TEST_MS },
    async (t) => {
      const { report, warnings } = await runPage("isolated");
      assert.equal(report.crossOriginIsolated, true, "COOP/COEP did not make the page cross-origin isolated");
      assert.equal(report.sharedMemory, true);
      assert.equal(report.threads, 2);
      const [start, afterTwo, afterOne] = report.stats;
      assert.ok(
        afterTwo.splitCalls > start.splitCalls,
        `no kernel call was split: ${JSON.stringify(report.stats)}`,
      );
      assert.ok(
        afterTwo.workerRanges > start.workerRanges,
        `the Web Worker ran no range: ${JSON.stringify(report.stats)}`,
      );
      assert.deepEqual(afterOne, afterTwo, "at 1 thread no call may reach the workers");
      assert.ok(report.single !== null);
      const threadsDiff = assertSameTraining(report.first, report.single, "2 threads vs 1 thread (browser)");
      const nodeDiff = assertSameTraining(report.first, inNode, "browser (2 threads) vs Node (1 thread)");
      assert.ok(
        report.first.losses.at(-1)! < report.first.losses[0],
        `loss did not fall: ${report.first.losses}`,
      );
      assert.deepEqual(
        warnings.filter((w) => w.includes(SAB_WARNING)),
        [],
      );
      t.diagnostic(
        `relaxed SIMD ${report.relaxedSimd}; split calls ${afterTwo.splitCalls}, worker ranges ${afterTwo.workerRanges}; ` +
          `max |diff| 2 vs 1 thread ${threadsDiff}, browser vs Node ${nodeDiff}; ` +
          `losses ${report.first.losses.map((l) => l.toFixed(5)).join(" ")}; ms init/2 threads/1 thread ${report.ms}`,
      );
    },
  );

  it(
    "page without COOP/COEP: one thread, one warning, same training",
    { skip, timeout: TEST_MS },
    async (t) => {
      const { report, warnings } = await runPage("open");
      assert.equal(report.crossOriginIsolated, false);
      assert.equal(report.sharedMemory, false);
      assert.equal(report.threads, 1);
      assert.equal(report.single, null);
      assert.equal(
        report.threadsAfterRetry,
        1,
        "setNumThreads(2) without shared memory must stay at 1 thread",
      );
      assert.deepEqual(report.stats.at(-1), { splitCalls: 0, workerRanges: 0, rangesTakenBack: 0 });
      assert.equal(
        warnings.filter((w) => w.includes(SAB_WARNING)).length,
        1,
        `expected the SharedArrayBuffer warning once, got: ${JSON.stringify(warnings)}`,
      );
      const nodeDiff = assertSameTraining(report.first, inNode, "browser (no shared memory) vs Node");
      t.diagnostic(
        `relaxed SIMD ${report.relaxedSimd}; max |diff| vs Node ${nodeDiff}; ms init/train ${report.ms}`,
      );
    },
  );
});

// Memory without scopes in a real browser: the README loop (readme-loop.ts), 1,000 steps run synchronously
// on a plain Chromium page (no COOP/COEP, one thread, no way to force a collection), keeps the live
// storages and the wasm memory exactly flat from step 250 to step 1,000: backward frees each step's
// intermediates and moves what nobody owns out of the wasm memory, with no garbage collector involved.
// Skipped (visibly) without /usr/bin/chromium or with STRIATE_SKIP_BROWSER=1; mandatory with
// STRIATE_REQUIRE_CHROMIUM=1, which .ci/run sets (chromium.ts: browserSkip).
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { browserSkip, openChromium, type OpenChromium } from "./chromium.js";
import type { LoopResult } from "./readme-loop.js";

const skip = browserSkip("the real-browser memory test");
const STEPS = 1000;
const MARKS = [250, 500, STEPS];

let chromium: OpenChromium | null = null;
before(async () => {
  if (!skip) chromium = await openChromium();
});
after(async () => {
  await chromium?.close();
});

it(
  `the README loop, ${STEPS} steps on a plain page: wasm memory flat`,
  { skip, timeout: 300_000 },
  async (t) => {
    const result = await chromium!.evaluate<LoopResult>(
      "open",
      `import("./loop-page.js").then((m) => m.run(${STEPS}, ${JSON.stringify(MARKS)}, 8, 0))`,
      240_000,
    );
    t.diagnostic(
      `${chromium!.build}; ` +
        result.marks
          .map((m) => `step ${m.step}: ${m.storages} storages, ${m.memoryBytes / 2 ** 20} MiB`)
          .join("; ") +
        `; ${Math.round(result.ms)} ms`,
    );
    const [first, , last] = result.marks;
    assert.equal(last.storages, first.storages, "live storages grew");
    assert.equal(last.memoryBytes, first.memoryBytes, "the wasm memory grew");
    assert.ok(Number.isFinite(result.loss));
  },
);

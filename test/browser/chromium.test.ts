// The browser tests on a machine without Chromium (chromium.ts: browserSkip): `npm test` passes there and
// says what it skipped and how to install Chromium, unless STRIATE_REQUIRE_CHROMIUM=1 (set by .ci/run),
// which makes a missing Chromium fail the test. A browser test file runs in a child test runner with
// STRIATE_CHROMIUM naming a binary that does not exist.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const FILE = "test/browser/memory-loop.test.ts";

function runWithoutChromium(env: Record<string, string>): { status: number | null; output: string } {
  // NODE_TEST_CONTEXT would make the child report to this runner instead of exiting with its own status.
  const {
    STRIATE_SKIP_BROWSER: _s,
    STRIATE_REQUIRE_CHROMIUM: _r,
    NODE_TEST_CONTEXT: _c,
    ...rest
  } = process.env;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", FILE], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...rest, STRIATE_CHROMIUM: "/nonexistent/chromium", ...env },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("browser tests without Chromium", { concurrency: true }, () => {
  it("skip visibly, naming the package to install", () => {
    const r = runWithoutChromium({});
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /skipped: no Chromium at \/nonexistent\/chromium \(apt-get install chromium\)/);
    assert.match(r.output, /ℹ skipped 1/);
  });

  it("fail with STRIATE_REQUIRE_CHROMIUM=1, as in CI", () => {
    const r = runWithoutChromium({ STRIATE_REQUIRE_CHROMIUM: "1" });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /\/nonexistent\/chromium is missing and STRIATE_REQUIRE_CHROMIUM=1/);
    assert.doesNotMatch(r.output, /ℹ skipped 1/);
  });
});

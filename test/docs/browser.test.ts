// docs/browser.md's minimal page works as written in real Chromium: the page (the guide's first html block)
// is served from a folder laid out as after `npm install striate` (node_modules/striate is this checkout:
// dist/ as built, build/kernels/; node_modules/protobufjs), with the COOP/COEP headers the guide gives, and
// must print a falling loss on more than one thread, with no console error and no missing file.
// STRIATE_SKIP_BROWSER=1 skips it, as the other browser tests.

import { it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureBrowserBuild } from "../browser/server.js";
import { codeBlocks } from "./code-blocks.js";
import { openStaticPage } from "./static-page.js";

const skip = process.env.STRIATE_SKIP_BROWSER === "1" ? "STRIATE_SKIP_BROWSER=1" : false;

it(
  "docs/browser.md's minimal page trains in Chromium, cross-origin isolated",
  { skip, timeout: 120_000 },
  async (t) => {
    t.diagnostic(await ensureBrowserBuild());
    const page = codeBlocks("docs/browser.md").find((b) => b.lang === "html");
    assert.ok(page, "docs/browser.md has an html block");
    const root = mkdtempSync(join(tmpdir(), "striate-browser-guide-"));
    try {
      writeFileSync(join(root, "index.html"), page.code);
      mkdirSync(join(root, "node_modules"));
      symlinkSync(resolve("."), join(root, "node_modules", "striate"), "dir");
      symlinkSync(resolve("node_modules", "protobufjs"), join(root, "node_modules", "protobufjs"), "dir");
      const run = await openStaticPage(root, "#out", /^loss/, 60_000);
      t.diagnostic(run.text);
      assert.deepEqual(run.errors, []);
      assert.deepEqual(run.missing, []);
      const m = /^loss ([\d.]+) -> ([\d.]+) on (\d+) thread\(s\)$/.exec(run.text);
      assert.ok(m, `unexpected output: ${run.text}`);
      assert.ok(Number(m[2]) < Number(m[1]) / 2, `the loss did not fall: ${run.text}`);
      assert.ok(Number(m[3]) >= 2, `one thread although the page is cross-origin isolated: ${run.text}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);

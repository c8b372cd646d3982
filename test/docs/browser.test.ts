// docs/browser.md's minimal page works as written in real Chromium: the page (the guide's first html block)
// is served from a folder laid out as after `npm install striate` (node_modules/striate is this checkout:
// dist/ as built, build/kernels/; node_modules/protobufjs), with the COOP/COEP headers the guide gives, and
// must print a falling loss on more than one thread, with no console error and no missing file.
// STRIATE_SKIP_BROWSER=1 skips it, as the other browser tests.

import { it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, relative, resolve } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS } from "../browser/chromium.js";
import { ensureBrowserBuild } from "../browser/server.js";
import { codeBlocks } from "./code-blocks.js";

const skip = process.env.STRIATE_SKIP_BROWSER === "1" ? "STRIATE_SKIP_BROWSER=1" : false;
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

/** A folder with index.html and node_modules/{striate,protobufjs} linked to this checkout. */
function project(html: string): string {
  const dir = mkdtempSync(join(tmpdir(), "striate-browser-guide-"));
  writeFileSync(join(dir, "index.html"), html);
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(resolve("."), join(dir, "node_modules", "striate"), "dir");
  symlinkSync(resolve("node_modules", "protobufjs"), join(dir, "node_modules", "protobufjs"), "dir");
  return dir;
}

it(
  "docs/browser.md's minimal page trains in Chromium, cross-origin isolated",
  { skip, timeout: 120_000 },
  async (t) => {
    t.diagnostic(await ensureBrowserBuild());
    const page = codeBlocks("docs/browser.md").find((b) => b.lang === "html");
    assert.ok(page, "docs/browser.md has an html block");
    const root = project(page.code);
    const missing: string[] = [];
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      // Browsers ask for it on their own; a real site has one.
      if (path === "/favicon.ico") return void res.writeHead(204).end();
      const file = resolve(root, "." + (path === "/" ? "/index.html" : path));
      if (relative(root, file).startsWith("..") || !existsSync(file) || !statSync(file).isFile()) {
        missing.push(path);
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, {
          "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
          "Cross-Origin-Opener-Policy": "same-origin",
          "Cross-Origin-Embedder-Policy": "require-corp",
        })
        .end(readFileSync(file));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as { port: number };
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      tab.on("pageerror", (e) => errors.push(e.message));
      await tab.goto(`http://127.0.0.1:${port}/`);
      await tab.waitForFunction(() => document.getElementById("out")?.textContent?.startsWith("loss"), null, {
        timeout: 60_000,
      });
      const text = (await tab.textContent("#out")) ?? "";
      t.diagnostic(text);
      assert.deepEqual(errors, []);
      assert.deepEqual(missing, []);
      const m = /^loss ([\d.]+) -> ([\d.]+) on (\d+) thread\(s\)$/.exec(text);
      assert.ok(m, `unexpected output: ${text}`);
      assert.ok(Number(m[2]) < Number(m[1]) / 2, `the loss did not fall: ${text}`);
      assert.ok(Number(m[3]) >= 2, `one thread although the page is cross-origin isolated: ${text}`);
    } finally {
      await browser.close();
      server.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);

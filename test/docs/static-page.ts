// Opens a documentation page in Chromium as a reader would: a folder served by a plain static server (with
// the COOP/COEP headers docs/browser.md asks for), the page loaded, and the text of an element read once the
// page has written it. Console errors, page errors and files the page asked for but the folder lacks are
// returned for the test to assert on.

import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, relative, resolve } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS } from "../browser/chromium.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

export interface PageRun {
  /** The element's text once it matched. */
  text: string;
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Paths the page requested that the folder does not hold. */
  missing: string[];
  /** The size of the page's first canvas, if any. */
  canvas: { width: number; height: number } | null;
}

/** Serves `root`, opens `/index.html` and waits until `#selector`'s text matches `ready`. */
export async function openStaticPage(
  root: string,
  selector: string,
  ready: RegExp,
  timeoutMs: number,
): Promise<PageRun> {
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
    tab.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    tab.on("pageerror", (e) => void errors.push(e.message));
    await tab.goto(`http://127.0.0.1:${port}/`);
    await tab
      .waitForFunction(
        ([sel, source]) => new RegExp(source).test(document.querySelector(sel)?.textContent ?? ""),
        [selector, ready.source] as const,
        { timeout: timeoutMs },
      )
      .catch((e: Error) => {
        throw new Error(`${e.message}\npage errors: ${errors.join("; ")}\nmissing: ${missing.join(", ")}`);
      });
    const text = (await tab.textContent(selector)) ?? "";
    const canvas = await tab.evaluate(() => {
      const c = document.querySelector("canvas");
      return c ? { width: c.width, height: c.height } : null;
    });
    return { text, errors, missing, canvas };
  } finally {
    await browser.close();
    server.close();
  }
}

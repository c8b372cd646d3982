// Debian's Chromium under playwright-core with the test server (server.ts), for tests and benchmarks that
// run a module of test/browser/ on a page: `const c = await openChromium(); await c.evaluate("open", …)`.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { ensureBrowserBuild, startServer, type StaticServer } from "./server.js";

/** Debian's Chromium; STRIATE_CHROMIUM names another binary (test/browser/chromium.test.ts uses a missing one). */
export const CHROMIUM = process.env.STRIATE_CHROMIUM || "/usr/bin/chromium";

/**
 * Whether a browser test runs, as node:test's `skip` option: a reason when STRIATE_SKIP_BROWSER=1, or when
 * Chromium is missing and STRIATE_REQUIRE_CHROMIUM is not 1 (a fresh machine: `npm test` passes and says
 * what it skipped); false otherwise. .ci/run sets STRIATE_REQUIRE_CHROMIUM=1, so in CI a missing Chromium
 * fails the test (openChromium's error) instead of skipping it. The reason is also printed, so it shows
 * beside the test runner's summary.
 */
export function browserSkip(what: string): string | false {
  let reason: string | false = false;
  if (process.env.STRIATE_SKIP_BROWSER === "1") reason = `STRIATE_SKIP_BROWSER=1: ${what} is skipped`;
  else if (!existsSync(CHROMIUM) && process.env.STRIATE_REQUIRE_CHROMIUM !== "1") {
    reason = `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium): ${what}`;
  }
  if (reason) console.log(`# ${reason}`);
  return reason;
}

/** The error for a missing Chromium when the browser tests are mandatory (STRIATE_REQUIRE_CHROMIUM=1). */
export function missingChromium(): Error {
  return new Error(
    `${CHROMIUM} is missing and STRIATE_REQUIRE_CHROMIUM=1 makes the browser tests mandatory: install Debian's chromium package (apt-get install -y --no-install-recommends chromium)`,
  );
}
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** What headless Chromium needs for WebGPU without a GPU: SwiftShader's adapter (measured in docs/webgpu.md). */
export const WEBGPU_FLAGS = [
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--enable-unsafe-swiftshader",
];
const LAUNCH_MS = 60_000;

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface OpenChromium {
  /** What ensureBrowserBuild did. */
  build: string;
  /**
   * Opens the test page under a route (isolated: COOP/COEP, open: a plain page) and evaluates `expression`
   * there (e.g. `import("./loop-page.js").then((m) => m.run())`); page and console errors fail it.
   */
  evaluate<T>(route: "isolated" | "open", expression: string, timeoutMs: number): Promise<T>;
  close(): Promise<void>;
}

/** The test flags plus `extraFlags`; "--enable-gpu" among them drops "--disable-gpu" (a real GPU's WebGPU). */
function launchFlags(extraFlags: readonly string[]): string[] {
  const gpu = extraFlags.includes("--enable-gpu");
  return [
    ...CHROMIUM_FLAGS.filter((f) => !(gpu && f === "--disable-gpu")),
    ...extraFlags.filter((f) => f !== "--enable-gpu"),
  ];
}

/** Launches Chromium with the test flags plus `extraFlags` (e.g. WEBGPU_FLAGS) and starts the server. */
export async function openChromium(extraFlags: readonly string[] = []): Promise<OpenChromium> {
  if (!existsSync(CHROMIUM)) throw missingChromium();
  const build = await ensureBrowserBuild();
  const server: StaticServer = await startServer();
  let browser: Browser;
  try {
    browser = await withTimeout(
      chromium.launch({
        executablePath: CHROMIUM,
        args: launchFlags(extraFlags),
        timeout: LAUNCH_MS,
      }),
      LAUNCH_MS,
      `launching ${CHROMIUM}`,
    );
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    build,
    async evaluate<T>(route: "isolated" | "open", expression: string, timeoutMs: number): Promise<T> {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
        });
        page.on("pageerror", (e) => errors.push(`page error: ${e.stack ?? e.message}`));
        page.on("crash", () => errors.push("the page crashed"));
        await page.goto(`${server.origin}/${route}/test/browser/index.html`, { timeout: timeoutMs });
        const result = await withTimeout(page.evaluate(expression), timeoutMs, `the ${route} page`).catch(
          (e: Error) => {
            throw new Error(`${route} page: ${e.message}\n${errors.join("\n")}`);
          },
        );
        if (errors.length > 0) throw new Error(`${route} page reported errors:\n${errors.join("\n")}`);
        return result as T;
      } finally {
        await context.close();
      }
    },
    async close() {
      await withTimeout(browser.close(), 30_000, "closing Chromium").catch((e) => console.error(`# ${e}`));
      await server.close();
    },
  };
}

// What the playground tests serve: the static site `npm run playground:build` writes to web/dist/ (built
// here once per test run, by the same script), from a plain static server on 127.0.0.1 that sends the
// COOP/COEP headers (isolated: threads) or not (a static host that cannot set headers).
import { createServer, type Server } from "node:http";
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { extname, join, relative, resolve, sep } from "node:path";
import { ROOT } from "./server.js";

export const SITE = join(ROOT, "web", "dist");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/** Runs `npm run playground:build`'s two steps (prepare web/public/, vite build); returns its duration in ms. */
export async function buildSite(): Promise<number> {
  const t0 = performance.now();
  const run = (args: string[]) =>
    new Promise<void>((ok, fail) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, timeout: 240_000 });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      child.on("error", fail);
      child.on("close", (code) =>
        code === 0 ? ok() : fail(new Error(`${args.join(" ")} failed (${code}):\n${output}`)),
      );
    });
  await run([join("scripts", "build-kernels.mjs")]);
  await run([join("web", "scripts", "prepare.mjs")]);
  await run([
    join("node_modules", "vite", "bin", "vite.js"),
    "build",
    "--config",
    "web/vite.config.ts",
    "--logLevel",
    "warn",
  ]);
  return Math.round(performance.now() - t0);
}

export interface SiteServer {
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** Serves web/dist/ on 127.0.0.1 (random port), with or without the cross-origin isolation headers. */
export async function serveSite(isolated: boolean): Promise<SiteServer> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = resolve(SITE, "." + sep + (path.endsWith("/") ? `${path}index.html` : path));
    const headers: Record<string, string> = { "Cache-Control": "no-store" };
    if (isolated) {
      headers["Cross-Origin-Opener-Policy"] = "same-origin";
      headers["Cross-Origin-Embedder-Policy"] = "require-corp";
    }
    if (relative(SITE, file).startsWith("..") || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`not found: ${path}`);
      return;
    }
    readFile(file).then(
      (body) =>
        res
          .writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" })
          .end(body),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("playground server: no TCP address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

// What the browser test serves and builds: a static server on 127.0.0.1 (random port) for the package's
// browser build as it ships (dist/ and build/kernels/, fetched by the runtime next to dist/), plus the test
// page and its modules from test/browser/ (TypeScript, transpiled per request). Every path exists twice:
// under /isolated/ with the COOP/COEP headers that make a page cross-origin isolated (SharedArrayBuffer,
// threads), and under /open/ without them.
import { createServer, type Server } from "node:http";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

const CONTENT_TYPES: Record<string, string> = {
  ".json": "application/json; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".html": "text/html; charset=utf-8",
};

export const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>striate browser test</title>
<script type="importmap">{"imports": {"protobufjs/light.js": "./vendor/protobufjs-light.js"}}</script></head>
<body>striate wasm backend test page</body></html>
`;

export interface StaticServer {
  /** e.g. http://127.0.0.1:40123 */
  origin: string;
  /** Paths that were requested but not found (a missing file names itself here, not just as a 404). */
  missing: string[];
  close(): Promise<void>;
}

/** Maps a URL path below the route prefix to a file of the package; null when it is not served. */
function resolveFile(rest: string): string | null {
  const file = resolve(ROOT, "." + sep + rest);
  const inside = (dir: string) => !relative(join(ROOT, dir), file).startsWith("..");
  if (!inside("dist") && !inside(join("build", "kernels")) && !inside(join("test", "fixtures", "torch")))
    return null;
  return file;
}

async function respond(rest: string): Promise<{ body: string | Buffer; type: string } | null> {
  if (rest === "test/browser/index.html") return { body: PAGE_HTML, type: CONTENT_TYPES[".html"] };
  // The package's one runtime dependency in the browser entry (ONNX): what a bundler would provide, here an
  // ES module over protobufjs's own browser build (which sets globalThis.protobuf), named by the import map.
  if (rest === "test/browser/vendor/protobufjs-light.js")
    return {
      body: 'import "./protobuf-light.js";\nexport default globalThis.protobuf;\n',
      type: CONTENT_TYPES[".js"],
    };
  if (rest === "test/browser/vendor/protobuf-light.js") {
    const umd = join(ROOT, "node_modules", "protobufjs", "dist", "light", "protobuf.js");
    return { body: await readFile(umd), type: CONTENT_TYPES[".js"] };
  }
  // Page modules of test/browser/, and the browser-safe helpers of test/helpers/ they import.
  const testModule = /^test\/(browser|helpers)\/([a-z0-9-]+)\.js$/.exec(rest);
  if (testModule) {
    const source = join(ROOT, "test", testModule[1], `${testModule[2]}.ts`);
    if (!existsSync(source) || source.endsWith(".test.ts")) return null;
    const output = ts.transpileModule(await readFile(source, "utf8"), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      fileName: source,
    });
    return { body: output.outputText, type: CONTENT_TYPES[".js"] };
  }
  const file = resolveFile(rest);
  if (file === null || !existsSync(file) || !statSync(file).isFile()) return null;
  return { body: await readFile(file), type: CONTENT_TYPES[extname(file)] ?? "application/octet-stream" };
}

/** Starts the server; routes /isolated/<path> (COOP + COEP) and /open/<path> (neither). */
export async function startServer(): Promise<StaticServer> {
  const missing: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const route = /^\/(isolated|open)\/(.*)$/.exec(path);
    const headers: Record<string, string> = { "Cache-Control": "no-store" };
    if (route?.[1] === "isolated") Object.assign(headers, ISOLATION_HEADERS);
    const reply = route ? respond(route[2]) : Promise.resolve(null);
    reply.then(
      (found) => {
        if (found === null) {
          missing.push(path);
          res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`not served: ${path}`);
        } else {
          res.writeHead(200, { ...headers, "Content-Type": found.type }).end(found.body);
        }
      },
      (e: unknown) => res.writeHead(500, { "Content-Type": "text/plain" }).end(String(e)),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("static server: no TCP address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    missing,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** Files under dir whose names match (by default TypeScript sources, not declarations). */
function sourceFiles(dir: string, match = /(?<!\.d)\.ts$/): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path, match));
    else if (match.test(name)) found.push(path);
  }
  return found;
}

/** src/ files whose dist/ output is missing or older than the source. */
export function staleBuildOutputs(): string[] {
  const src = join(ROOT, "src");
  return sourceFiles(src).filter((file) => {
    const out = join(ROOT, "dist", relative(src, file).replace(/\.ts$/, ".js"));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(file).mtimeMs;
  });
}

/** Deletes dist/ outputs whose source no longer exists (a moved or deleted file), which tsc leaves behind. */
function removeOrphanOutputs(): void {
  const dist = join(ROOT, "dist");
  if (!existsSync(dist)) return;
  for (const out of sourceFiles(dist, /\.(js|js\.map|d\.ts|d\.ts\.map)$/)) {
    const source = join(ROOT, "src", relative(dist, out).replace(/\.(js|js\.map|d\.ts|d\.ts\.map)$/, ".ts"));
    if (!existsSync(source)) rmSync(out);
  }
}

/**
 * Makes dist/ match src/ (`npm run build`, i.e. tsc -p tsconfig.build.json) when any output is stale; a
 * checkout built with `npm run build` (or packed: `prepack` builds) skips it. Type errors do not stop the
 * emit (the typecheck step of `npm test` reports them); they come back as a note. Returns what it did.
 */
export async function ensureBrowserBuild(): Promise<string> {
  removeOrphanOutputs();
  const kernel = join(ROOT, "build", "kernels", "striate-relaxed-shared.wasm");
  if (!existsSync(kernel)) throw new Error(`${kernel} is missing: run \`npm run build:kernels\` first`);
  const stale = staleBuildOutputs();
  if (stale.length === 0) return "dist/ is up to date";
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const t0 = performance.now();
  const started = Date.now();
  const run = await new Promise<{ code: number | null; output: string }>((ok, fail) => {
    const child = spawn(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
      cwd: ROOT,
      timeout: 180_000,
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", fail);
    child.on("close", (code) => ok({ code, output }));
  });
  // A source saved while tsc ran (someone editing) is newer than its output without the build being wrong.
  const still = staleBuildOutputs().filter((file) => statSync(file).mtimeMs < started);
  if (still.length > 0) {
    throw new Error(`npm run build left ${still.length} stale outputs (first: ${still[0]}):\n${run.output}`);
  }
  const ms = Math.round(performance.now() - t0);
  const note = `rebuilt dist/ (${stale.length} stale outputs, first ${relative(ROOT, stale[0])}) in ${ms} ms`;
  return run.code === 0 ? note : `${note}; tsc reported errors:\n${run.output.slice(0, 2000)}`;
}

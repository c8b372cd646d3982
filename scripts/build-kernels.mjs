// Compiles the AssemblyScript kernels (kernels/index.ts) into four wasm variants under build/kernels/:
//   striate-simd.wasm            128-bit SIMD, imported non-shared memory
//   striate-relaxed.wasm         + relaxed SIMD (f32x4.relaxed_madd = FMA)
//   striate-simd-shared.wasm     SIMD, imported *shared* memory (threads)
//   striate-relaxed-shared.wasm  relaxed SIMD, imported shared memory
// The runtime (src/backend/wasm/runtime.ts) picks one at run time. Runs on `npm ci` (prepare) and `npm test`.
import asc from "assemblyscript/asc";
import { mkdirSync, readdirSync, renameSync, statSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "build", "kernels");
const entry = join(root, "kernels", "index.ts");
// Shared memory must declare a maximum; 65536 pages = 4 GiB, the wasm32 limit. The loader creates the
// memory with its own (smaller) maximum, which a module declaring a larger one accepts.
const MAX_PAGES = 65536;

const variants = [
  { name: "striate-simd", flags: ["--enable", "simd"] },
  { name: "striate-relaxed", flags: ["--enable", "simd", "--enable", "relaxed-simd"] },
  {
    name: "striate-simd-shared",
    flags: ["--enable", "simd", "--enable", "threads", "--sharedMemory", "--maximumMemory", `${MAX_PAGES}`],
  },
  {
    name: "striate-relaxed-shared",
    flags: [
      ...["--enable", "simd", "--enable", "relaxed-simd", "--enable", "threads"],
      ...["--sharedMemory", "--maximumMemory", `${MAX_PAGES}`],
    ],
  },
];

function newestSource() {
  let newest = statSync(import.meta.filename ?? fileURLToPath(import.meta.url)).mtimeMs;
  for (const f of readdirSync(join(root, "kernels"))) {
    newest = Math.max(newest, statSync(join(root, "kernels", f)).mtimeMs);
  }
  return newest;
}

const force = process.argv.includes("--force");
const srcTime = newestSource();
mkdirSync(outDir, { recursive: true });
const started = performance.now();
let built = 0;
for (const v of variants) {
  const out = join(outDir, `${v.name}.wasm`);
  if (!force && existsSync(out) && statSync(out).mtimeMs >= srcTime) continue;
  // Written under a temporary name and renamed: two builds running at once (parallel test runs) never
  // leave a half-written module where the runtime loads it.
  const tmp = `${out}.${process.pid}.tmp`;
  const args = [
    entry,
    "--outFile",
    tmp,
    "-O3",
    "--noAssert",
    "--runtime",
    "stub",
    "--importMemory",
    "--initialMemory",
    "1",
    ...v.flags,
  ];
  const { error, stderr } = await asc.main(args);
  if (error) {
    console.error(stderr.toString());
    console.error(`build-kernels: ${v.name} failed: ${error.message}`);
    process.exit(1);
  }
  renameSync(tmp, out);
  built++;
}
const ms = (performance.now() - started).toFixed(0);
console.log(`build-kernels: ${built} of ${variants.length} variants rebuilt in ${ms} ms (${outDir})`);

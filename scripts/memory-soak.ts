// `npm run soak:memory`: the long memory checks behind issue 10, too slow for `npm test` (which runs the
// same loops for 1,000 steps, test/autograd/engine-memory.test.ts, and six zoo models, test/models/
// zoo-memory.test.ts). Flags: --loops (the README loop and a manual for-await DataLoader loop, 5,000 steps
// each: live storages and wasm memory the same at steps 1,000 and 5,000, RSS growth under 30 MB, no
// collection forced), --zoo (every torchvision-shaped model of the zoo, 20 today, built, run on a 64x64 input and dropped one after
// another at the default 2 GiB maximum); both when neither is given. Exits 1 if a check fails.

import { initWasm } from "../src/backend/wasm/index.js";
import { memory, noGrad, randn, type Tensor } from "../src/index.js";
import { getModel, listModels } from "../src/models/index.js";
import { loaderLoop, readmeLoop, type Mark } from "../test/autograd/loops.js";

const args = process.argv.slice(2);
const all = !args.includes("--loops") && !args.includes("--zoo");
const MiB = 2 ** 20;
const STEPS = 5000;
const MARKS = [1000, STEPS];
let failed = false;

function check(ok: boolean, what: string): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failed = true;
}

function report(name: string, marks: Mark[], forced: number): void {
  for (const m of marks) {
    console.log(
      `${name} step ${m.step}: ${m.storages} storages, ${(m.memoryBytes / MiB).toFixed(0)} MiB wasm, ` +
        `${(m.rss / MiB).toFixed(0)} MiB RSS, loss ${m.loss.toFixed(3)}`,
    );
  }
  const [a, b] = marks;
  check(a.storages === b.storages, `${name}: live storages ${a.storages} -> ${b.storages}`);
  check(a.memoryBytes === b.memoryBytes, `${name}: wasm memory ${a.memoryBytes} -> ${b.memoryBytes} bytes`);
  check(b.rss - a.rss < 30 * MiB, `${name}: RSS growth ${((b.rss - a.rss) / MiB).toFixed(1)} MiB < 30`);
  check(forced === 0, `${name}: ${forced} collections forced`);
}

const wasm = await initWasm({ threads: 1 });
const collect = () => wasm.storages.collect();

if (all || args.includes("--loops")) {
  let forced = memory().forcedCollections!;
  report("README loop", readmeLoop(STEPS, MARKS, collect), memory().forcedCollections! - forced);
  forced = memory().forcedCollections!;
  report("DataLoader loop", await loaderLoop(STEPS, MARKS, collect), memory().forcedCollections! - forced);
}

if (all || args.includes("--zoo")) {
  const names = listModels()
    .filter((m) => m.torchvision)
    .map((m) => m.name);
  let peak = 0;
  for (const name of names) {
    const t0 = performance.now();
    const model = getModel(name, { numClasses: 10 }).eval() as unknown as { forward(x: Tensor): Tensor };
    noGrad(() => model.forward(randn([1, 3, 64, 64])));
    const m = memory();
    peak = Math.max(peak, m.memoryBytes!);
    console.log(
      `${name}: ${(m.bytes / MiB).toFixed(0)} MiB live, wasm memory ${(m.memoryBytes! / MiB).toFixed(0)} MiB ` +
        `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  check(
    names.length >= 18,
    `${names.length} torchvision models built and dropped, peak wasm memory ${(peak / MiB).toFixed(0)} MiB`,
  );
}

process.exit(failed ? 1 : 0);

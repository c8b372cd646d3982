// Step rates of the playground's default setup (LeNet-5 JSON spec, Adam lr 0.002, batch 64, one step per
// scope) in Node and in the built page (Chromium), alternated: `npx tsx scripts/playground-rate.ts [rounds]`
// (about 40 s a round). The figures are in docs/performance.md ("The playground in the browser").
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { chromium } from "playwright-core";
import { F, initWasm, optim, scope, setNumThreads, spec, tensor, type Tensor } from "../src/index-node.js";
import { loadMnist } from "../src/node/data/mnist.js";
import { LENET_SPEC } from "../web/src/config.js";
import { buildSite, serveSite } from "../test/browser/playground-site.js";
import { CHROMIUM, CHROMIUM_FLAGS } from "../test/browser/chromium.js";

const MEASURE_MS = 8000;
const WARMUP_MS = 2000;

/** Node: steps/s at 1 and 2 threads (run in a child process so its worker threads do not outlive it). */
async function nodeRates(): Promise<string> {
  await initWasm();
  const train = await loadMnist({ split: "train" });
  const out: string[] = [];
  for (const threads of [1, 2]) {
    await setNumThreads(threads);
    const { model } = spec.buildFromSpec(LENET_SPEC as spec.ModelSpec);
    const opt = new optim.Adam(model.parameters(), { lr: 0.002 });
    const step = (i: number) => {
      const x = new Float32Array(64 * 784);
      const y = new Int32Array(64);
      for (let k = 0; k < 64; k++) {
        const idx = (i * 64 + k) % 20000;
        x.set(train.images.subarray(idx * 784, (idx + 1) * 784), k * 784);
        y[k] = train.labels[idx];
      }
      scope(() => {
        opt.zeroGrad();
        const logits = (model as unknown as { forward(x: Tensor): Tensor }).forward(
          tensor(x, [64, 1, 28, 28]),
        );
        const loss = F.crossEntropy(logits, tensor(y, [64]));
        loss.backward();
        opt.step();
        return loss.item();
      });
    };
    let n = 0;
    for (let t0 = performance.now(); performance.now() - t0 < WARMUP_MS;) step(n++);
    const t0 = performance.now();
    const n0 = n;
    while (performance.now() - t0 < MEASURE_MS) step(n++);
    out.push(
      `node ${threads} thread(s): ${((n - n0) / ((performance.now() - t0) / 1000)).toFixed(1)} steps/s`,
    );
  }
  return out.join("\n");
}

if (process.argv[2] === "--node") {
  console.log(await nodeRates());
  process.exit(0);
}

const rounds = Number(process.argv[2] ?? 2);
console.log(`site built in ${await buildSite()} ms`);
const isolated = await serveSite(true);
const plain = await serveSite(false);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...CHROMIUM_FLAGS, "--host-resolver-rules=MAP playground.test 127.0.0.1"],
});

async function pageRate(url: string, what: string): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 60_000 });
  const stepOf = () => page.$eval("#step", (e) => Number((e as HTMLElement).dataset.step));
  await page.click("#start");
  await page.waitForTimeout(WARMUP_MS);
  const [s0, t0] = [await stepOf(), Date.now()];
  await page.waitForTimeout(MEASURE_MS);
  const [s1, t1] = [await stepOf(), Date.now()];
  const threads = await page.$eval("#threads", (e) => (e as HTMLElement).dataset.threads);
  await context.close();
  return `page ${threads} thread(s), ${what}: ${((s1 - s0) / ((t1 - t0) / 1000)).toFixed(1)} steps/s`;
}

for (let r = 0; r < rounds; r++) {
  console.log(`round ${r + 1}, load ${loadavg()[0].toFixed(1)}`);
  console.log(
    execFileSync(process.execPath, ["--import", "tsx", "scripts/playground-rate.ts", "--node"])
      .toString()
      .trim(),
  );
  console.log(await pageRate(`${isolated.origin}/?threads=1`, "isolated"));
  console.log(await pageRate(`${isolated.origin}/`, "isolated"));
  console.log(await pageRate(`http://playground.test:${plain.port}/`, "no COOP/COEP"));
}
await browser.close();
await isolated.close();
await plain.close();

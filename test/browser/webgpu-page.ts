// Runs on a test page (served transpiled by server.ts) with WebGPU (SwiftShader in headless Chromium): loads
// the package's browser entry from dist/, starts the webgpu backend and runs, on it, the PyTorch fixture
// cases of the given families (test/helpers/fixture-runners.ts), the LeNet-5 end-to-end fixture
// (test/helpers/lenet-fixture.ts), the kernel parity cases against js (webgpu-parity.ts), fit() and the
// training of zoo models beside js (test/helpers/webgpu-zoo.ts).
// Used by test/browser/webgpu.test.ts and by `npm run test:webgpu` (scripts/test-webgpu.ts).
import type * as Api from "../../src/index.js";
import { fixtureRunners, runFixtureCase, type FixtureCase } from "../helpers/fixture-runners.js";
import { runLenetFixture } from "../helpers/lenet-fixture.js";
import { parityCases } from "./webgpu-parity.js";
import { fitOnBoth, type FitComparison } from "./webgpu-fit.js";
import { trainOnBoth, ZOO_CASES, ZOO_EXTRA, type ZooComparison } from "../helpers/webgpu-zoo.js";

type StriateApi = typeof Api;

const ENTRY = new URL("../../dist/index.js", import.meta.url).href;
const FIXTURES = new URL("../fixtures/torch/", import.meta.url).href;

export interface FamilyResult {
  family: string;
  /** Cases run (every case of the family). */
  cases: number;
  /** "case: message" for every failing case. */
  failures: string[];
  worst: number;
  ms: number;
}

export interface ParityResult {
  name: string;
  error: string | null;
  worst: number;
}

export interface WebGpuReport {
  adapter: string;
  software: boolean;
  families: FamilyResult[];
  lenet: { worst: number; error: string | null; ms: number } | null;
  parity: ParityResult[];
  fit: FitComparison | null;
  zoo: ZooComparison[];
  ms: number;
}

async function start(): Promise<{ S: StriateApi; adapter: string; software: boolean }> {
  const S = (await import(ENTRY)) as StriateApi;
  const backend = await S.initWebGpu({ setDefault: false });
  return { S, adapter: backend.adapterName, software: backend.software };
}

async function fixtureCases(family: string): Promise<FixtureCase[]> {
  const response = await fetch(new URL(`${family}.json`, FIXTURES));
  if (!response.ok) throw new Error(`fixture ${family}: HTTP ${response.status}`);
  return ((await response.json()) as { cases: FixtureCase[] }).cases;
}

async function runFamily(S: StriateApi, family: string): Promise<FamilyResult> {
  const t0 = performance.now();
  const runners = fixtureRunners(S.F);
  const cases = await fixtureCases(family);
  const failures: string[] = [];
  let worst = 0;
  for (const c of cases) {
    try {
      for (const e of (await runFixtureCase(S, runners, c, "webgpu")).values()) worst = Math.max(worst, e);
    } catch (e) {
      failures.push(`${c.name}: ${(e as Error).message}`);
    }
  }
  return { family, cases: cases.length, failures, worst, ms: performance.now() - t0 };
}

export interface RunOptions {
  /** Fixture families to run (file names without .json). */
  families: string[];
  lenet?: boolean;
  parity?: boolean;
  fit?: boolean;
  /** Zoo models to train on webgpu and js (names of ZOO_CASES or ZOO_EXTRA). */
  zoo?: string[];
}

export async function run(options: RunOptions): Promise<WebGpuReport> {
  const t0 = performance.now();
  const { S, adapter, software } = await start();
  const families: FamilyResult[] = [];
  for (const family of options.families) families.push(await runFamily(S, family));
  let lenet: WebGpuReport["lenet"] = null;
  if (options.lenet) {
    const t1 = performance.now();
    const c = (await fixtureCases("end_to_end"))[0];
    try {
      lenet = { worst: await runLenetFixture(S, c, "webgpu"), error: null, ms: 0 };
    } catch (e) {
      lenet = { worst: Number.NaN, error: (e as Error).message, ms: 0 };
    }
    lenet.ms = performance.now() - t1;
  }
  const parity: ParityResult[] = [];
  if (options.parity) {
    for (const c of parityCases(S)) {
      try {
        parity.push({ name: c.name, error: null, worst: await c.run() });
      } catch (e) {
        parity.push({ name: c.name, error: (e as Error).message, worst: Number.NaN });
      }
    }
  }
  const fit = options.fit ? await fitOnBoth(S) : null;
  const zoo: ZooComparison[] = [];
  for (const name of options.zoo ?? []) {
    const c = [...ZOO_CASES, ...ZOO_EXTRA].find((z) => z.name === name);
    if (!c) throw new Error(`webgpu page: no zoo case '${name}'`);
    zoo.push(await trainOnBoth(S, c));
  }
  return { adapter, software, families, lenet, parity, fit, zoo, ms: performance.now() - t0 };
}

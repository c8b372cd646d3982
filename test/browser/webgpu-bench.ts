// The page side of `npm run bench -- --only webgpu` (bench/webgpu.ts): times training steps and inference of
// small and large CNNs on the webgpu backend and, beside it on the same page, on the wasm backend (one
// thread: a plain page has no shared memory). A step ends with an awaited read of its loss (or output), so
// the time includes the GPU's work. Only type imports from src/ (the page loads the browser build).
import type * as Api from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

type StriateApi = typeof Api;

const ENTRY = new URL("../../dist/index.js", import.meta.url).href;

export interface BenchCase {
  /** "lenet", "cifar", "resnet18-train", "resnet18-infer". */
  task: string;
  backend: "webgpu" | "wasm";
  batch: number;
  /** Square input side (ResNet-18: 224 on real hardware; smaller on a software adapter). */
  size: number;
  steps: number;
  warmup: number;
}

export interface BenchRow extends BenchCase {
  /** Median milliseconds per step. */
  ms: number;
  imagesPerSec: number;
  error: string | null;
}

export interface BenchReport {
  adapter: string;
  software: boolean;
  rows: BenchRow[];
}

/** The ConvNetJS CIFAR-10 demo network (as bench/striate.ts builds it). */
function cifarNet(S: StriateApi): Api.nn.Module {
  const { nn } = S;
  // prettier-ignore
  return new nn.Sequential(
    new nn.Conv2d(3, 16, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(16, 20, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(20, 20, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(20 * 4 * 4, 10),
  );
}

function model(S: StriateApi, task: string): Api.nn.Module {
  if (task === "lenet") return new S.models.LeNet5();
  if (task === "cifar") return cifarNet(S);
  return S.models.getModel("resnet18");
}

function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1,
  );
}

async function measure(S: StriateApi, c: BenchCase): Promise<BenchRow> {
  S.setBackend(c.backend);
  try {
    const channels = c.task === "lenet" ? 1 : 3;
    const m = model(S, c.task);
    const forward = (x: Tensor) => S.models.call(m, x);
    const x = S.tensor(randomValues(c.batch * channels * c.size * c.size, 1), [
      c.batch,
      channels,
      c.size,
      c.size,
    ]);
    const y = S.tensor(
      Int32Array.from(randomValues(c.batch, 2), (v) => Math.floor((v + 1) * 5)),
      [c.batch],
      {
        dtype: "int32",
      },
    );
    const training = c.task !== "resnet18-infer";
    if (training) m.train();
    else m.eval();
    const optimizer = new S.optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
    const step = async () => {
      if (!training) return (await S.noGrad(() => forward(x)).data())[0];
      optimizer.zeroGrad();
      const loss = S.F.crossEntropy(forward(x), y);
      loss.backward();
      optimizer.step();
      return loss.itemAsync();
    };
    const times: number[] = [];
    for (let i = 0; i < c.warmup + c.steps; i++) {
      const t0 = performance.now();
      const v = await step();
      if (!Number.isFinite(v)) throw new Error(`${c.task}: non-finite result ${v}`);
      if (i >= c.warmup) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    return { ...c, ms, imagesPerSec: (c.batch * 1000) / ms, error: null };
  } catch (e) {
    return { ...c, ms: Number.NaN, imagesPerSec: Number.NaN, error: (e as Error).message };
  } finally {
    S.setBackend("js");
  }
}

export async function run(cases: BenchCase[]): Promise<BenchReport> {
  const S = (await import(ENTRY)) as StriateApi;
  const gpu = await S.initWebGpu({ setDefault: false });
  await S.initWasm({ threads: 1, setDefault: false });
  const rows: BenchRow[] = [];
  for (const c of cases) rows.push(await measure(S, c));
  return { adapter: gpu.adapterName, software: gpu.software, rows };
}

/** Whether the page finds a WebGPU adapter, and its name (to size the cases before running them). */
export async function adapter(): Promise<{ adapter: string; software: boolean }> {
  const S = (await import(ENTRY)) as StriateApi;
  const gpu = await S.initWebGpu({ setDefault: false });
  return { adapter: gpu.adapterName, software: gpu.software };
}

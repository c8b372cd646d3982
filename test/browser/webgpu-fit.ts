// fit() on webgpu beside js: the README's LeNet-5 (readme-loop.ts), the same seed, the same MNIST-shaped
// batches, two epochs with validation; the per-epoch losses and accuracies of both backends are reported
// for the test to compare. Runs on a page (webgpu-page.ts); only type imports from src/.
import type * as Api from "../../src/index.js";
import { mnistShapedBatches, readmeModel } from "./readme-loop.js";

type StriateApi = typeof Api;

export interface FitRun {
  losses: number[];
  accuracies: number[];
  valLosses: number[];
  ms: number;
}

export interface FitComparison {
  js: FitRun;
  webgpu: FitRun | null;
  error: string | null;
}

async function fitOn(S: StriateApi, backend: string): Promise<FitRun> {
  const t0 = performance.now();
  S.setBackend(backend);
  try {
    const { model, optimizer } = readmeModel(S);
    const batches = mnistShapedBatches(4, 8).map(({ x, y }) => ({
      x: S.tensor(x, [8, 1, 28, 28]),
      y: S.tensor(y, [8], { dtype: "int32" }),
    }));
    const history = await S.train.fit(model, {
      train: batches,
      val: batches.slice(0, 2),
      epochs: 2,
      optimizer,
    });
    return {
      losses: history.epochs.map((e) => e.loss),
      accuracies: history.epochs.map((e) => e.accuracy),
      valLosses: history.epochs.map((e) => e.valLoss ?? Number.NaN),
      ms: performance.now() - t0,
    };
  } finally {
    S.setBackend("js");
  }
}

export async function fitOnBoth(S: StriateApi): Promise<FitComparison> {
  const js = await fitOn(S, "js");
  try {
    return { js, webgpu: await fitOn(S, "webgpu"), error: null };
  } catch (e) {
    return { js, webgpu: null, error: (e as Error).stack ?? (e as Error).message };
  }
}

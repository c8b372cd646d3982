// Runs in a test page (served transpiled by server.ts): loads the package's browser entry from dist/, starts
// the wasm backend on one thread and runs the README loop (readme-loop.ts) synchronously, no collection
// forced (a page has none), reporting memory marks and time.
import { mnistShapedBatches, runReadmeLoop, type LoopResult, type StriateApi } from "./readme-loop.js";

const ENTRY = new URL("../../dist/index.js", import.meta.url).href;

export async function run(
  steps: number,
  marks: number[],
  batch: number,
  warmup: number,
): Promise<LoopResult> {
  const S = (await import(ENTRY)) as StriateApi;
  await S.initWasm({ threads: 1 });
  return runReadmeLoop(S, mnistShapedBatches(16, batch), steps, marks, warmup);
}

// Peer: ONNX Runtime (`onnxruntime-node`, its native CPU execution provider: MLAS kernels, its own thread
// pool). It runs the very ResNet that Striate runs: our model (random weights, eval mode) exported with
// src/io/onnx.ts, traced at 64x64 with symbolic batch, height and width, then fed 224x224 batches.

import * as ort from "onnxruntime-node";
import { models, randn } from "../../src/index.js";
import { exportOnnx } from "../../src/io/onnx.js";
import { type CaseSpec, type CaseResult, imagesPerSecond, randomFloats, timeIt } from "../common.js";

export async function runOrt(spec: CaseSpec): Promise<CaseResult> {
  if (spec.task !== "resnet18" && spec.task !== "resnet50") return { skip: "inference benchmarks only" };
  const model = models.getModel(spec.task).eval();
  const onnx = exportOnnx(model, randn([1, 3, 64, 64]), { dynamicSpatial: true });
  const session = await ort.InferenceSession.create(onnx, {
    intraOpNumThreads: spec.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const input = new ort.Tensor("float32", randomFloats(spec.batch * 3 * 224 * 224), [
    spec.batch,
    3,
    224,
    224,
  ]);
  const run = async () => {
    const out = await session.run({ input });
    return out.output.data;
  };
  const { ms, reps } = await timeIt(run, spec);
  await session.release();
  return spec.batch === 1
    ? { value: ms, unit: "ms", reps, actualThreads: spec.threads }
    : { value: imagesPerSecond(spec.batch, ms), unit: "img/s", reps, actualThreads: spec.threads };
}

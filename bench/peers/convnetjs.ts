// Peer: ConvNetJS (the `convnetjs` npm package, plain single-threaded JavaScript on Float64Arrays). Its
// Trainer runs forward/backward one sample at a time and applies SGD with momentum every `batch_size`
// samples, so one timed run is `batch` calls to trainer.train(), i.e. exactly one update.

import { createRequire } from "node:module";
import {
  type CaseSpec,
  type CaseResult,
  LR,
  MOMENTUM,
  TRAIN_INPUT,
  imagesPerSecond,
  randomFloats,
  randomLabels,
  timeIt,
} from "../common.js";

interface Vol {
  w: Float64Array;
}
interface ConvNetJs {
  Net: new () => { makeLayers(defs: object[]): void };
  Vol: new (sx: number, sy: number, depth: number, c?: number) => Vol;
  Trainer: new (net: unknown, options: object) => { train(x: Vol, label: number): unknown };
}

const convnetjs = createRequire(import.meta.url)("convnetjs") as ConvNetJs;

function layers(task: string): object[] {
  if (task === "lenet") {
    return [
      { type: "input", out_sx: 28, out_sy: 28, out_depth: 1 },
      { type: "conv", sx: 5, filters: 6, stride: 1, pad: 2, activation: "relu" },
      { type: "pool", sx: 2, stride: 2 },
      { type: "conv", sx: 5, filters: 16, stride: 1, pad: 0, activation: "relu" },
      { type: "pool", sx: 2, stride: 2 },
      { type: "fc", num_neurons: 120, activation: "relu" },
      { type: "fc", num_neurons: 84, activation: "relu" },
      { type: "softmax", num_classes: 10 },
    ];
  }
  // The CIFAR-10 demo net of convnetjs's own examples page.
  return [
    { type: "input", out_sx: 32, out_sy: 32, out_depth: 3 },
    { type: "conv", sx: 5, filters: 16, stride: 1, pad: 2, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
    { type: "conv", sx: 5, filters: 20, stride: 1, pad: 2, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
    { type: "conv", sx: 5, filters: 20, stride: 1, pad: 2, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
    { type: "softmax", num_classes: 10 },
  ];
}

export async function runConvnetjs(spec: CaseSpec): Promise<CaseResult> {
  if (spec.task !== "lenet" && spec.task !== "cifar") return { skip: "training benchmarks only" };
  if (spec.threads !== 1) return { skip: "single-threaded" };
  const net = new convnetjs.Net();
  net.makeLayers(layers(spec.task));
  const trainer = new convnetjs.Trainer(net, {
    method: "sgd",
    learning_rate: LR,
    momentum: MOMENTUM,
    batch_size: spec.batch,
    l2_decay: 0,
  });
  const [c, h, w] = TRAIN_INPUT[spec.task];
  const pixels = randomFloats(spec.batch * c * h * w);
  const labels = randomLabels(spec.batch, 10);
  const vols = Array.from({ length: spec.batch }, (_, i) => {
    const v = new convnetjs.Vol(w, h, c, 0);
    v.w.set(pixels.subarray(i * c * h * w, (i + 1) * c * h * w));
    return v;
  });
  const step = () => {
    for (let i = 0; i < spec.batch; i++) trainer.train(vols[i], labels[i]);
  };
  const { ms, reps } = await timeIt(step, spec);
  return { value: imagesPerSecond(spec.batch, ms), unit: "img/s", reps, actualThreads: 1 };
}

// Striate's side of the benchmark: LeNet-5 and the ConvNetJS CIFAR-10 net trained with SGD + momentum on a
// fixed random batch, a ResNet-18 training step and ResNet-18/50 inference, on the wasm backend (1 or 2
// threads), the js backend or (the webgpu section, bench/webgpu.ts) the webgpu backend. Each call measures
// one case in this process; bench/run.ts starts a fresh process per case.

import * as S from "../src/index.js";
import { F, nn, optim, models, tensor, noGrad, scope } from "../src/index.js";
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
} from "./common.js";

/**
 * Makes `name` the current backend with `threads` threads. Returns a reason when that is not possible
 * (threads unavailable without shared memory, or a multi-threaded js backend asked for).
 */
export async function useBackend(name: "wasm" | "js" | "webgpu", threads: number): Promise<string | null> {
  if (name === "webgpu") {
    // Dawn in Node: bench/webgpu.ts sets VK_ICD_FILENAMES when only SwiftShader's driver gives an adapter.
    await S.initWebGpu();
    return null;
  }
  if (name === "js") {
    S.setBackend("js");
    return threads === 1 ? null : "the js backend is single-threaded";
  }
  // The default memory limit (2 GiB): ResNet-50 at batch 16 fits since no-grad forwards free each layer's
  // intermediates when it returns (it needed 4 GiB before).
  await S.initWasm({ threads });
  S.setBackend("wasm");
  const got = S.getNumThreads();
  return got === threads ? null : `asked for ${threads} threads, the wasm backend runs ${got}`;
}

/** The ConvNetJS CIFAR-10 demo network: three conv5x5 (16, 20, 20 filters, pad 2) + relu + pool 2, then fc 10. */
export function cifarNet(): nn.Module {
  return new nn.Sequential(
    new nn.Conv2d(3, 16, 5, { padding: 2 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(16, 20, 5, { padding: 2 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(20, 20, 5, { padding: 2 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(20 * 4 * 4, 10),
  );
}

/** The input shape [C, H, W] of a case: the training tasks' fixed one, or ResNet's at `size` (default 224). */
function inputShape(spec: CaseSpec): [number, number, number] {
  return TRAIN_INPUT[spec.task] ?? [3, spec.size ?? 224, spec.size ?? 224];
}

function trainingModel(task: string): nn.Module {
  if (task === "lenet") return new models.LeNet5();
  if (task === "cifar") return cifarNet();
  return models.getModel("resnet18");
}

/** The value of a one-element result: awaited on webgpu (its reads are asynchronous), direct elsewhere. */
async function read(t: S.Tensor): Promise<number> {
  return S.getBackend().syncReads === false ? t.itemAsync() : t.item();
}

async function training(spec: CaseSpec): Promise<CaseResult> {
  const [c, h, w] = inputShape(spec);
  const model = trainingModel(spec.task);
  model.train();
  const optimizer = new optim.SGD(model.parameters(), { lr: LR, momentum: MOMENTUM });
  const x = tensor(randomFloats(spec.batch * c * h * w), [spec.batch, c, h, w]);
  const y = tensor(randomLabels(spec.batch, 10), [spec.batch], { dtype: "int32" });
  // scope() frees the step's intermediates on wasm at once, as fit() does (a no-op on js); the loss is read
  // after it, so that on webgpu the time includes the GPU's work.
  const step = () =>
    read(
      scope(() => {
        optimizer.zeroGrad();
        const loss = F.crossEntropy(models.call(model, x), y);
        loss.backward();
        optimizer.step();
        return loss;
      }),
    );
  const first = await step();
  if (!Number.isFinite(first)) return { skip: `loss is ${first}` };
  const { ms, reps } = await timeIt(step, spec);
  return { value: imagesPerSecond(spec.batch, ms), unit: "img/s", reps };
}

async function inference(spec: CaseSpec): Promise<CaseResult> {
  const model = models.getModel(spec.task);
  model.eval();
  const [c, h, w] = inputShape(spec);
  const x = tensor(randomFloats(spec.batch * c * h * w), [spec.batch, c, h, w]);
  const run = () => noGrad(() => models.call(model, x)).data();
  const { ms, reps } = await timeIt(run, spec);
  return spec.batch === 1
    ? { value: ms, unit: "ms", reps }
    : { value: imagesPerSecond(spec.batch, ms), unit: "img/s", reps };
}

export async function runStriate(spec: CaseSpec): Promise<CaseResult> {
  const backend = spec.impl === "striate-js" ? "js" : spec.impl === "striate-webgpu" ? "webgpu" : "wasm";
  const reason = await useBackend(backend, spec.threads);
  if (reason !== null) return { skip: reason };
  if (spec.task === "lenet" || spec.task === "cifar" || spec.task === "resnet18-train") return training(spec);
  return inference(spec);
}

// Peer: TensorFlow.js (tfjs-core with the `cpu` backend — plain JavaScript — the `wasm` backend — XNNPACK
// compiled to WebAssembly SIMD — or, in the webgpu section, the `webgpu` backend over Dawn, the `webgpu`
// package Striate's Node webgpu backend uses). The same networks are written with tfjs ops in NHWC layout
// (tfjs's native one): training with tf.train.momentum (ResNet-18 with batch norm in training form),
// ResNet inference with random weights and batch norm in inference form, and matMul for SGEMM.

// The `@tensorflow/tfjs` bundle rather than bare tfjs-core: only the bundle registers the gradient
// functions, and tfjs-core's ES build cannot be imported by Node. It brings the cpu backend along.
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import {
  type CaseSpec,
  type CaseResult,
  LR,
  MOMENTUM,
  TRAIN_INPUT,
  errorMessage,
  imagesPerSecond,
  randomFloats,
  randomLabels,
  timeIt,
} from "../common.js";

/** Dawn's GPU object, held for the whole process: were it collected, Dawn would tear down a live device. */
let dawnGpu: unknown = null;

/**
 * Gives TF.js's webgpu backend what it expects of a browser in Node: `navigator.gpu` from Dawn and the
 * GPUBufferUsage-style constants, then registers the backend (its package registers on import).
 */
async function installWebGpu(): Promise<void> {
  const name = "webgpu"; // a variable specifier: the package is optional for Striate itself
  const dawn = (await import(name)) as { create(flags: string[]): unknown; globals: object };
  Object.assign(globalThis, dawn.globals);
  dawnGpu ??= dawn.create([]);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav === undefined) Object.defineProperty(globalThis, "navigator", { value: { gpu: dawnGpu } });
  else Object.defineProperty(nav, "gpu", { value: dawnGpu, configurable: true });
  await import("@tensorflow/tfjs-backend-webgpu");
}

function backendName(impl: string): "cpu" | "wasm" | "webgpu" {
  return impl === "tfjs-wasm" ? "wasm" : impl === "tfjs-webgpu" ? "webgpu" : "cpu";
}

async function init(spec: CaseSpec): Promise<string | null> {
  const name = backendName(spec.impl);
  if (name === "webgpu") await installWebGpu();
  else if (name === "wasm") tfwasm.setThreadsCount(spec.threads);
  else if (spec.threads !== 1) return "the cpu backend is single-threaded";
  await tf.setBackend(name);
  await tf.ready();
  if (tf.getBackend() !== name) return `backend '${name}' did not initialise`;
  if (name === "wasm" && tfwasm.getThreadsCount() !== spec.threads) {
    return `asked for ${spec.threads} threads, the wasm backend runs ${tfwasm.getThreadsCount()} (no threaded build in Node)`;
  }
  return null;
}

function he(shape: number[], fanIn: number): tf.Tensor {
  return tf.mul(tf.randomNormal(shape), Math.sqrt(2 / fanIn));
}

// ---- training ---------------------------------------------------------------------------------------

interface Conv {
  w: tf.Variable;
  b: tf.Variable;
}

function convVar(k: number, cin: number, cout: number): Conv {
  return { w: tf.variable(he([k, k, cin, cout], k * k * cin)), b: tf.variable(tf.zeros([cout])) };
}

function convReluPool(x: tf.Tensor4D, c: Conv, pad: "same" | "valid"): tf.Tensor4D {
  const h = tf.relu(tf.add(tf.conv2d(x, c.w as tf.Tensor4D, 1, pad), c.b)) as tf.Tensor4D;
  return tf.maxPool(h, 2, 2, "valid");
}

function dense(x: tf.Tensor2D, l: Conv, relu: boolean): tf.Tensor2D {
  const y = tf.add(tf.matMul(x, l.w as tf.Tensor2D), l.b) as tf.Tensor2D;
  return relu ? tf.relu(y) : y;
}

function denseVar(cin: number, cout: number): Conv {
  return { w: tf.variable(he([cin, cout], cin)), b: tf.variable(tf.zeros([cout])) };
}

function trainingNet(task: string): (x: tf.Tensor4D) => tf.Tensor2D {
  if (task === "lenet") {
    const c1 = convVar(5, 1, 6);
    const c2 = convVar(5, 6, 16);
    const f1 = denseVar(400, 120);
    const f2 = denseVar(120, 84);
    const f3 = denseVar(84, 10);
    return (x) => {
      const h = convReluPool(convReluPool(x, c1, "same"), c2, "valid");
      const flat = tf.reshape(h, [x.shape[0], 400]) as tf.Tensor2D;
      return dense(dense(dense(flat, f1, true), f2, true), f3, false);
    };
  }
  const c1 = convVar(5, 3, 16);
  const c2 = convVar(5, 16, 20);
  const c3 = convVar(5, 20, 20);
  const fc = denseVar(320, 10);
  return (x) => {
    const h = convReluPool(convReluPool(convReluPool(x, c1, "same"), c2, "same"), c3, "same");
    return dense(tf.reshape(h, [x.shape[0], 320]) as tf.Tensor2D, fc, false);
  };
}

/** A case's input [C, H, W]: the training tasks' fixed one, or ResNet's at spec.size (default 224). */
function inputShape(spec: CaseSpec): [number, number, number] {
  return TRAIN_INPUT[spec.task] ?? [3, spec.size ?? 224, spec.size ?? 224];
}

/** The first value of a result: awaited on webgpu (its synchronous read stalls or is refused), direct elsewhere. */
async function firstValue(t: tf.Tensor): Promise<number> {
  return tf.getBackend() === "webgpu" ? (await t.data())[0] : t.dataSync()[0];
}

async function training(spec: CaseSpec): Promise<CaseResult> {
  const [c, h, w] = inputShape(spec);
  const net = spec.task === "resnet18-train" ? resnet(18, true) : trainingNet(spec.task);
  const classes = spec.task === "resnet18-train" ? 1000 : 10;
  const x = tf.tensor4d(randomFloats(spec.batch * c * h * w), [spec.batch, h, w, c]);
  const y = tf.oneHot(tf.tensor1d(randomLabels(spec.batch, 10), "int32"), classes);
  const optimizer = tf.train.momentum(LR, MOMENTUM);
  const step = async () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net(x)) as tf.Scalar, true);
    const value = await firstValue(loss!);
    loss!.dispose();
    return value;
  };
  try {
    await step();
  } catch (e) {
    const message = errorMessage(e);
    if (/Conv2DBackpropFilter/.test(message))
      return { skip: `cannot train: no conv filter gradient (${message})` };
    return { skip: `cannot train: ${message}` };
  }
  const { ms, reps } = await timeIt(step, spec);
  return { value: imagesPerSecond(spec.batch, ms), unit: "img/s", reps };
}

// ---- ResNet inference ---------------------------------------------------------------------------------

interface ConvBn {
  w: tf.Tensor4D;
  stride: number;
  pad: number;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  scale: tf.Tensor1D;
  offset: tf.Tensor1D;
  trainable: boolean;
}

/** A convolution and its batch norm; `trainable`: weights, scale and offset are variables, statistics come from the batch. */
function convBn(k: number, cin: number, cout: number, stride: number, trainable: boolean): ConvBn {
  const param = <T extends tf.Tensor>(t: T) => (trainable ? (tf.variable(t) as unknown as T) : t);
  return {
    w: param(he([k, k, cin, cout], k * k * cin) as tf.Tensor4D),
    stride,
    pad: (k - 1) / 2,
    mean: tf.zeros([cout]),
    variance: tf.ones([cout]),
    scale: param(tf.ones([cout]) as tf.Tensor1D),
    offset: param(tf.zeros([cout]) as tf.Tensor1D),
    trainable,
  };
}

function applyConvBn(x: tf.Tensor4D, c: ConvBn): tf.Tensor4D {
  const y = tf.conv2d(x, c.w, c.stride, c.pad === 0 ? "valid" : c.pad);
  // Training form: the batch's statistics (running averages are not kept: they do not change the step's cost much).
  const { mean, variance } = c.trainable ? tf.moments(y, [0, 1, 2]) : c;
  return tf.batchNorm(y, mean, variance, c.offset, c.scale, 1e-5) as tf.Tensor4D;
}

interface Block {
  convs: ConvBn[];
  downsample: ConvBn | null;
}

/** torchvision's ResNet layout in NHWC; `trainable`: for a training step (variables, batch statistics, no tidy). */
function resnet(depth: 18 | 50, trainable = false): (x: tf.Tensor4D) => tf.Tensor2D {
  const bottleneck = depth === 50;
  const layers = depth === 18 ? [2, 2, 2, 2] : [3, 4, 6, 3];
  const expansion = bottleneck ? 4 : 1;
  const stem = convBn(7, 3, 64, 2, trainable);
  const blocks: Block[] = [];
  let inPlanes = 64;
  [64, 128, 256, 512].forEach((planes, stage) => {
    for (let i = 0; i < layers[stage]; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1;
      const out = planes * expansion;
      const convs = bottleneck
        ? [
            convBn(1, inPlanes, planes, 1, trainable),
            convBn(3, planes, planes, stride, trainable),
            convBn(1, planes, out, 1, trainable),
          ]
        : [convBn(3, inPlanes, planes, stride, trainable), convBn(3, planes, planes, 1, trainable)];
      const downsample =
        stride !== 1 || inPlanes !== out ? convBn(1, inPlanes, out, stride, trainable) : null;
      blocks.push({ convs, downsample });
      inPlanes = out;
    }
  });
  const fcW = he([inPlanes, 1000], inPlanes) as tf.Tensor2D;
  const fcB = tf.zeros([1000]);
  const fc = trainable ? [tf.variable(fcW), tf.variable(fcB)] : [fcW, fcB];
  const forward = (x: tf.Tensor4D) => {
    let h = tf.maxPool(tf.relu(applyConvBn(x, stem)), 3, 2, 1);
    for (const b of blocks) {
      let r = h;
      b.convs.forEach((c, i) => {
        r = applyConvBn(r, c);
        if (i < b.convs.length - 1) r = tf.relu(r);
      });
      h = tf.relu(tf.add(r, b.downsample ? applyConvBn(h, b.downsample) : h)) as tf.Tensor4D;
    }
    return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, fc[0]), fc[1]) as tf.Tensor2D;
  };
  // optimizer.minimize keeps what the gradients need; inference frees every intermediate at once.
  return trainable ? forward : (x) => tf.tidy(() => forward(x));
}

async function inference(spec: CaseSpec): Promise<CaseResult> {
  const net = resnet(spec.task === "resnet18" ? 18 : 50);
  const [c, h, w] = inputShape(spec);
  const x = tf.tensor4d(randomFloats(spec.batch * c * h * w), [spec.batch, h, w, c]);
  const run = async () => {
    const y = net(x);
    await firstValue(y);
    y.dispose();
  };
  const { ms, reps } = await timeIt(run, spec);
  return spec.batch === 1
    ? { value: ms, unit: "ms", reps }
    : { value: imagesPerSecond(spec.batch, ms), unit: "img/s", reps };
}

// ---- SGEMM ----------------------------------------------------------------------------------------------

async function sgemm(spec: CaseSpec): Promise<CaseResult> {
  const values: Record<string, number> = {};
  for (const [m, n, k] of spec.shapes ?? []) {
    const a = tf.tensor2d(randomFloats(m * k), [m, k]);
    const b = tf.tensor2d(randomFloats(k * n, 3), [k, n]);
    const run = () => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    };
    const { ms } = await timeIt(run, spec);
    values[`${m}x${n}x${k}`] = (2 * m * n * k) / (ms * 1e6);
    a.dispose();
    b.dispose();
  }
  return { values, unit: "GFLOP/s" };
}

export async function runTfjs(spec: CaseSpec): Promise<CaseResult> {
  const reason = await init(spec);
  if (reason !== null) return { skip: reason };
  tf.randomNormal([1]).dispose();
  const result =
    spec.task === "sgemm"
      ? await sgemm(spec)
      : spec.task === "lenet" || spec.task === "cifar" || spec.task === "resnet18-train"
        ? await training(spec)
        : await inference(spec);
  return { ...result, actualThreads: spec.impl === "tfjs-wasm" ? tfwasm.getThreadsCount() : 1 };
}

// Peer: TensorFlow.js (tfjs-core with the `cpu` backend — plain JavaScript — or the `wasm`
// backend — XNNPACK compiled to WebAssembly SIMD). The same networks are written with tfjs ops in NHWC
// layout (tfjs's native one): training with tf.train.momentum, ResNet inference with random weights and
// batch norm in inference form, and matMul for SGEMM.

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

async function init(spec: CaseSpec): Promise<string | null> {
  const name = spec.impl === "tfjs-wasm" ? "wasm" : "cpu";
  if (name === "wasm") tfwasm.setThreadsCount(spec.threads);
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

async function training(spec: CaseSpec): Promise<CaseResult> {
  const [c, h, w] = TRAIN_INPUT[spec.task];
  const net = trainingNet(spec.task);
  const x = tf.tensor4d(randomFloats(spec.batch * c * h * w), [spec.batch, h, w, c]);
  const y = tf.oneHot(tf.tensor1d(randomLabels(spec.batch, 10), "int32"), 10);
  const optimizer = tf.train.momentum(LR, MOMENTUM);
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net(x)) as tf.Scalar, true);
    const value = loss!.dataSync()[0];
    loss!.dispose();
    return value;
  };
  try {
    step();
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
}

function convBn(k: number, cin: number, cout: number, stride: number): ConvBn {
  return {
    w: he([k, k, cin, cout], k * k * cin) as tf.Tensor4D,
    stride,
    pad: (k - 1) / 2,
    mean: tf.zeros([cout]),
    variance: tf.ones([cout]),
    scale: tf.ones([cout]),
    offset: tf.zeros([cout]),
  };
}

function applyConvBn(x: tf.Tensor4D, c: ConvBn): tf.Tensor4D {
  const y = tf.conv2d(x, c.w, c.stride, c.pad === 0 ? "valid" : c.pad);
  return tf.batchNorm(y, c.mean, c.variance, c.offset, c.scale, 1e-5) as tf.Tensor4D;
}

interface Block {
  convs: ConvBn[];
  downsample: ConvBn | null;
}

function resnet(depth: 18 | 50): (x: tf.Tensor4D) => tf.Tensor {
  const bottleneck = depth === 50;
  const layers = depth === 18 ? [2, 2, 2, 2] : [3, 4, 6, 3];
  const expansion = bottleneck ? 4 : 1;
  const stem = convBn(7, 3, 64, 2);
  const blocks: Block[] = [];
  let inPlanes = 64;
  [64, 128, 256, 512].forEach((planes, stage) => {
    for (let i = 0; i < layers[stage]; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1;
      const out = planes * expansion;
      const convs = bottleneck
        ? [convBn(1, inPlanes, planes, 1), convBn(3, planes, planes, stride), convBn(1, planes, out, 1)]
        : [convBn(3, inPlanes, planes, stride), convBn(3, planes, planes, 1)];
      const downsample = stride !== 1 || inPlanes !== out ? convBn(1, inPlanes, out, stride) : null;
      blocks.push({ convs, downsample });
      inPlanes = out;
    }
  });
  const fcW = he([inPlanes, 1000], inPlanes) as tf.Tensor2D;
  const fcB = tf.zeros([1000]);
  return (x) =>
    tf.tidy(() => {
      let h = tf.maxPool(tf.relu(applyConvBn(x, stem)), 3, 2, 1);
      for (const b of blocks) {
        let r = h;
        b.convs.forEach((c, i) => {
          r = applyConvBn(r, c);
          if (i < b.convs.length - 1) r = tf.relu(r);
        });
        h = tf.relu(tf.add(r, b.downsample ? applyConvBn(h, b.downsample) : h)) as tf.Tensor4D;
      }
      return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, fcW), fcB);
    });
}

async function inference(spec: CaseSpec): Promise<CaseResult> {
  const net = resnet(spec.task === "resnet18" ? 18 : 50);
  const x = tf.tensor4d(randomFloats(spec.batch * 3 * 224 * 224), [spec.batch, 224, 224, 3]);
  const run = () => {
    const y = net(x);
    y.dataSync();
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
      : spec.task === "lenet" || spec.task === "cifar"
        ? await training(spec)
        : await inference(spec);
  return { ...result, actualThreads: spec.impl === "tfjs-wasm" ? tfwasm.getThreadsCount() : 1 };
}

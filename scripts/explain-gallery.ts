// Generates the pictures of docs/explain.md into docs/explain/: every striate/explain method on
//  - the MNIST LeNet-5 of the test fixtures (test/fixtures/explain/lenet5-mnist.safetensors, the demo
//    recipe for 3 epochs, 98.8% test accuracy), and
//  - a CIFAR-shaped ResNet-20 (3×32×32 input, He et al.'s CIFAR ResNet), trained here for a minute on
//    "coloured MNIST": digits in a random colour over a random-colour noise background, resized to 32×32.
//    CIFAR-10 itself cannot be downloaded on the build machines; with --cifar-dir <folder of the binary
//    batches> the ResNet is trained on real CIFAR-10 instead.
// Deterministic (seeded); takes 1–3 minutes on 2 cores.
//   npx tsx scripts/explain-gallery.ts [--out docs/explain] [--cifar-dir <dir>] [--epochs 2]

import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initWasm } from "../src/backend/wasm/index.js";
import { getModel, type LeNet5 } from "../src/models/index.js";
import { loadWeights } from "../src/io/safetensors.js";
import { DataLoader, TensorDataset, subset, type LoaderDataset } from "../src/data/index.js";
import { loadMnist } from "../src/node/data/mnist.js";
import { loadCifar10 } from "../src/node/data/cifar.js";
import { Adam, OneCycleLR } from "../src/optim/index.js";
import { evaluate, fit } from "../src/train/fit.js";
import { manualSeed, Rng } from "../src/tensor/rng.js";
import { tensor, type Tensor } from "../src/tensor/tensor.js";
import { resizeBilinear } from "../src/data/resize.js";
import { sceneToSvg } from "../src/viz/plots.js";
import { svgToPng } from "../src/node/svg-png.js";
import type { Module } from "../src/nn/module.js";
import * as explain from "../src/explain/index.js";
import { writeImagePng } from "../src/node/pictures.js";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "docs/explain" },
    "cifar-dir": { type: "string" },
    epochs: { type: "string", default: "2" },
  },
});
const OUT = values.out!;
await initWasm();
manualSeed(0);
await mkdir(OUT, { recursive: true });

async function save(name: string, canvas: explain.Canvas): Promise<void> {
  await writeImagePng(join(OUT, name), canvas, { overwrite: true });
  console.log(`wrote ${join(OUT, name)} (${canvas.width}×${canvas.height})`);
}

type Net = Module & { forward(x: Tensor): Tensor };

/** The first n images of a dataset as one batch. */
function batchOf(ds: LoaderDataset, indices: readonly number[]): { x: Tensor; y: Tensor } {
  const shape = ds.shape!;
  const size = shape[0] * shape[1] * shape[2];
  const xs = new Float32Array(indices.length * size);
  const ys = new Int32Array(indices.length);
  indices.forEach((idx, i) => {
    const s = ds.get(idx);
    xs.set(s.x, i * size);
    ys[i] = s.y;
  });
  return { x: tensor(xs, [indices.length, ...shape]), y: tensor(ys, [indices.length], { dtype: "int32" }) };
}

/** One row per image: the image, then each method's map (signed maps in the diverging colours, the others over the image). */
function attributionRows(
  x: Tensor,
  maps: { name: string; map: Tensor; signed: boolean }[],
  scale: number,
): explain.Canvas {
  const [n, c, h, w] = x.shape;
  const images = x.toArray();
  const pictures: explain.Canvas[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const image = { data: images.subarray(i * c * h * w, (i + 1) * c * h * w), shape: [c, h, w] };
    pictures.push(explain.imageToCanvas(image, { scale }));
    labels.push(i === 0 ? "input" : "");
    for (const { name, map, signed } of maps) {
      const m = explain.mapOfImage(map, i);
      pictures.push(
        signed
          ? explain.heatmapToCanvas(m, { colormap: "diverging", scale })
          : explain.overlayHeatmap(image, m, { alpha: 0.6, colormap: "turbo", scale }),
      );
      labels.push(i === 0 ? name : "");
    }
  }
  return explain.canvasGrid(pictures, { columns: maps.length + 1, labels });
}

/** Every attribution method on a batch, explaining each image's label. */
function allAttributions(
  model: Module,
  x: Tensor,
  target: Tensor,
  layer: string,
): { name: string; map: Tensor; signed: boolean }[] {
  const occlusionWindow = Math.max(2, Math.round(x.shape[2] / 7));
  return [
    {
      name: "saliency",
      map: new explain.Saliency(model).attribute(x, { target, reduce: "max" }),
      signed: false,
    },
    {
      name: "smoothgrad",
      map: new explain.SmoothGrad(model).attribute(x, {
        target,
        reduce: "max",
        nSamples: 25,
        stdevs: 0.15,
        rng: new Rng(0),
      }),
      signed: false,
    },
    { name: "input x grad", map: new explain.InputXGradient(model).attribute(x, { target }), signed: true },
    {
      name: "integ. grad.",
      map: new explain.IntegratedGradients(model).attribute(x, { target, nSteps: 50, internalBatchSize: 25 }),
      signed: true,
    },
    {
      name: "grad-cam",
      map: new explain.GradCam(model, { layer }).attribute(x, { target, upsample: true }),
      signed: false,
    },
    {
      name: "grad-cam++",
      map: new explain.GradCamPlusPlus(model, { layer }).attribute(x, { target, upsample: true }),
      signed: false,
    },
    { name: "guided bp", map: new explain.GuidedBackprop(model).attribute(x, { target }), signed: true },
    { name: "deconvnet", map: new explain.Deconvolution(model).attribute(x, { target }), signed: true },
    {
      name: "guided gc",
      map: new explain.GuidedGradCam(model, { layer }).attribute(x, { target }),
      signed: true,
    },
    {
      name: "occlusion",
      map: new explain.Occlusion(model).attribute(x, {
        target,
        slidingWindowShapes: [x.shape[1], occlusionWindow, occlusionWindow],
        strides: [x.shape[1], Math.max(1, occlusionWindow >> 1), Math.max(1, occlusionWindow >> 1)],
      }),
      signed: true,
    },
  ];
}

/** Feature visualisations of some channels of a layer, side by side. */
function featureRow(
  model: Module,
  layer: string,
  channels: number[],
  shape: [number, number, number],
  extra: Partial<explain.FeatureVisualizationOptions> = {},
): explain.Canvas {
  const pictures = channels.map((channel) => {
    const options = { layer, channel, shape, steps: 128, seed: channel, ...extra };
    return explain.imageToCanvas(explain.featureVisualization(model, options).image, { scale: 3 });
  });
  return explain.canvasGrid(pictures, { columns: channels.length, labels: channels.map(String) });
}

// ---------------------------------------------------------------- LeNet-5 on MNIST
const lenet = getModel("lenet5") as LeNet5 & Net;
loadWeights(lenet, readFileSync("test/fixtures/explain/lenet5-mnist.safetensors"));
lenet.eval();
const mnistTest = await loadMnist({ split: "test" });
const digits = batchOf(mnistTest, [0, 1, 2, 3, 4, 7]);

await save(
  "lenet-filters-conv1.png",
  explain.filterGrid(lenet.conv1.weight, { scale: 10, columns: 6, title: "conv1 filters" }),
);
const acts = explain.captureActivations(lenet, digits.x.slice(0, 0, 1), ["conv1", "conv2"]);
await save(
  "lenet-activations-conv1.png",
  explain.featureMapGrid(acts.get("conv1")!, { scale: 3, columns: 6, title: "conv1 maps" }),
);
await save(
  "lenet-activations-conv2.png",
  explain.featureMapGrid(acts.get("conv2")!, { scale: 4, columns: 8, title: "conv2 maps" }),
);

const classModels = Array.from({ length: 10 }, (_, k) =>
  explain.imageToCanvas(
    explain.classModelVisualization(lenet, { target: k, shape: [1, 28, 28], steps: 200, lr: 0.5, l2: 0.01 }),
    { normalize: true, scale: 3 },
  ),
);
await save(
  "lenet-class-models.png",
  explain.canvasGrid(classModels, { columns: 10, labels: classModels.map((_, k) => String(k)) }),
);

await save(
  "lenet-feature-vis-conv2.png",
  featureRow(lenet, "conv2", [0, 3, 6, 9, 12, 15], [1, 28, 28], { tv: 0.05 }),
);

const patchData = subset(
  mnistTest,
  Array.from({ length: 2000 }, (_, i) => i),
);
const top = await explain.topActivatingPatches(lenet, new DataLoader(patchData, { batchSize: 500 }), {
  layer: "conv2",
  k: 8,
  units: [0, 1, 2, 3, 4, 5],
});
await save("lenet-top-patches-conv2.png", explain.patchGrid(top, { scale: 4 }));

const advX = digits.x;
const fgsmX = explain.fgsm(lenet, advX, digits.y, { eps: 0.25 });
const pgdX = explain.pgd(lenet, advX, digits.y, { eps: 0.3, alpha: 0.01, steps: 40 });
const predictions = (x: Tensor) => Array.from(lenet.forward(x).argmax(1).toArray(), String);
const rows = [advX, fgsmX, pgdX];
const advPictures = rows.flatMap((x) =>
  Array.from({ length: 6 }, (_, i) => explain.imageToCanvas(x.slice(0, i, i + 1), { scale: 3 })),
);
const advLabels = rows.flatMap((x, r) => predictions(x).map((p) => `${["clean", "fgsm", "pgd"][r]} ${p}`));
await save("lenet-adversarial.png", explain.canvasGrid(advPictures, { columns: 6, labels: advLabels }));

const { features: feats, labels } = await explain.datasetFeatures(
  lenet,
  new DataLoader(
    subset(
      mnistTest,
      Array.from({ length: 1500 }, (_, i) => i),
    ),
    { batchSize: 500 },
  ),
);
const points = await explain.projectUmap(feats, { seed: 0 });
const umapScene = explain.scatterScene(points, labels, {
  title: "LeNet-5 fc2 features (84-d), UMAP",
  width: 520,
  height: 420,
});
await writeFile(join(OUT, "lenet-umap.png"), await svgToPng(sceneToSvg(umapScene)));
console.log(`wrote ${join(OUT, "lenet-umap.png")} (${umapScene.width}×${umapScene.height})`);

const attrDigits = batchOf(mnistTest, [0, 1, 2, 3]);
await save(
  "lenet-attributions.png",
  attributionRows(attrDigits.x, allAttributions(lenet, attrDigits.x, attrDigits.y, "conv2"), 3),
);

// Adebayo et al. (2018)'s sanity check: re-initialise the classifier (fc1, fc2, fc3) and explain again.
const randomized = getModel("lenet5") as LeNet5 & Net;
loadWeights(randomized, readFileSync("test/fixtures/explain/lenet5-mnist.safetensors"));
manualSeed(1);
for (const layer of [randomized.fc1, randomized.fc2, randomized.fc3]) layer.resetParameters();
randomized.eval();
const sanityMaps = (model: Net, tag: string) => {
  const x = attrDigits.x.slice(0, 0, 2);
  const target = attrDigits.y.slice(0, 0, 2);
  return [
    {
      name: `${tag} saliency`,
      map: new explain.Saliency(model).attribute(x, { target, reduce: "max" }),
      signed: false,
    },
    {
      name: `${tag} grad-cam`,
      map: new explain.GradCam(model, { layer: "conv2" }).attribute(x, { target, upsample: true }),
      signed: false,
    },
    { name: `${tag} guided`, map: new explain.GuidedBackprop(model).attribute(x, { target }), signed: true },
  ];
};
await save(
  "lenet-randomization.png",
  attributionRows(
    attrDigits.x.slice(0, 0, 2),
    [...sanityMaps(lenet, "trained"), ...sanityMaps(randomized, "reinit")],
    3,
  ),
);

// ---------------------------------------------------------------- ResNet-20 on 3×32×32
/** Coloured MNIST at 32×32: the digit in a random bright colour over dim random-colour noise. */
function colouredMnist(ds: LoaderDataset, n: number, seed: number): TensorDataset {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 3 * 32 * 32);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = ds.get(i);
    const digit = resizeBilinear(s.x, 1, 28, 28, 32, 32);
    const fg = [0, 1, 2].map(() => 0.5 + 0.5 * rng.uniform());
    const bg = [0, 1, 2].map(() => 0.4 * rng.uniform());
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 32 * 32; p++) {
        const noise = bg[c] + 0.15 * rng.uniform();
        images[(i * 3 + c) * 1024 + p] = Math.min(1, noise * (1 - digit[p]) + fg[c] * digit[p]);
      }
    labels[i] = s.y;
  }
  return new TensorDataset(images, labels, { shape: [3, 32, 32], classes: ds.classes });
}

let train: LoaderDataset;
let test: LoaderDataset;
if (values["cifar-dir"]) {
  train = await loadCifar10(values["cifar-dir"], "train");
  test = await loadCifar10(values["cifar-dir"], "test");
} else {
  train = colouredMnist(await loadMnist({ split: "train" }), 6000, 1);
  test = colouredMnist(mnistTest, 1000, 2);
}
const resnet = getModel("resnet20_cifar", { numClasses: 10 }) as Net;
const epochs = Number(values.epochs);
const trainLoader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 });
const optimizer = new Adam(resnet.parameters(), { lr: 0.003 });
const scheduler = new OneCycleLR(optimizer, { maxLr: 0.003, totalSteps: epochs * trainLoader.length });
await fit(resnet, { train: trainLoader, epochs, optimizer, scheduler, schedulerStep: "batch" });
const { accuracy } = await evaluate(resnet, new DataLoader(test, { batchSize: 250 }));
console.log(`ResNet-20: ${(100 * accuracy).toFixed(1)}% on ${test.length} test images`);
resnet.eval();
const samples = batchOf(test, [0, 1, 2, 3]);
const resnetActs = explain.captureActivations(resnet, samples.x.slice(0, 0, 1), ["conv1", "layer3.2.conv2"]);
await save(
  "resnet-filters-conv1.png",
  explain.filterGrid((resnet as unknown as { conv1: { weight: Tensor } }).conv1.weight, {
    scale: 8,
    columns: 8,
    title: "conv1 filters (RGB)",
  }),
);
await save(
  "resnet-activations-layer3.png",
  explain.featureMapGrid(resnetActs.get("layer3.2.conv2")!, {
    scale: 4,
    columns: 16,
    colormap: "viridis",
    title: "layer3.2.conv2 maps",
  }),
);
await save(
  "resnet-feature-vis-layer3.png",
  featureRow(resnet, "layer3.2.conv2", [0, 1, 2, 3, 4, 5], [3, 32, 32]),
);
await save(
  "resnet-inputs.png",
  explain.canvasGrid(
    Array.from({ length: 4 }, (_, i) => explain.imageToCanvas(samples.x.slice(0, i, i + 1), { scale: 3 })),
    { columns: 4 },
  ),
);
const resnetMaps = allAttributions(resnet, samples.x, samples.y, "layer3.2.conv2");
await save("resnet-attributions.png", attributionRows(samples.x, resnetMaps, 3));
process.exit(0);

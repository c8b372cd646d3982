/**
 * The model zoo: the classic CNN architectures, each readable in its own file, registered by name so that
 * `getModel('resnet50', { numClasses: 10 })` builds one and `listModels()` says what exists (family, paper,
 * year, input size). Names follow torchvision where it has the model, and those models have torchvision's
 * state_dict keys and shapes, so its weights load with `loadWeights`.
 *
 * @module striate/models
 */

import type { Module } from "../nn/index.js";
import type { ModelOptions } from "./common.js";
import { LeNet5, LeNet5Classic } from "./lenet.js";
import { AlexNet, AlexNet2012 } from "./alexnet.js";
import { ZFNet } from "./zfnet.js";
import { VGG } from "./vgg.js";
import { GoogLeNet } from "./googlenet.js";
import { CifarResNet, resnet } from "./resnet.js";
import { resnext50_32x4d } from "./resnext.js";
import { seResnet50 } from "./senet.js";
import { DenseNet } from "./densenet.js";
import { MobileNetV1, MobileNetV2 } from "./mobilenet.js";
import { SqueezeNet } from "./squeezenet.js";
import { ShuffleNetV2 } from "./shufflenet.js";
import { HMAX } from "./hmax.js";
import { UNet } from "./unet.js";

export * from "./common.js";
export * from "./lenet.js";
export * from "./alexnet.js";
export * from "./zfnet.js";
export * from "./vgg.js";
export * from "./googlenet.js";
export * from "./resnet.js";
export * from "./resnext.js";
export * from "./senet.js";
export * from "./densenet.js";
export * from "./mobilenet.js";
export * from "./squeezenet.js";
export * from "./shufflenet.js";
export * from "./perceptron.js";
export * from "./hmax.js";
export * from "./unet.js";
export * from "./summary.js";
export { loadWeights, encodeSafetensors, decodeSafetensors } from "../io/safetensors.js";

/** What listModels() reports about a registered architecture. */
export interface ModelInfo {
  name: string;
  family: string;
  /** Short citation: authors, title. */
  paper: string;
  year: number;
  /** Default input [channels, height, width]. */
  inputSize: [number, number, number];
  /** Default number of classes. */
  numClasses: number;
  /** What the architecture introduced, in one or two sentences. */
  introduced: string;
  /** True when torchvision has the same model (same state_dict keys and shapes). */
  torchvision: boolean;
  /** What the output is: class logits [N, classes], or per-pixel logits [N, classes, H, W]. */
  task: "classification" | "segmentation";
}

interface Entry extends ModelInfo {
  // Family-specific options pass through; each builder takes the options its family documents.
  build: (options: ModelOptions & Record<string, unknown>) => Module;
}

const PAPERS = {
  lenet: "LeCun, Bottou, Bengio, Haffner: Gradient-based learning applied to document recognition",
  alexnet: "Krizhevsky, Sutskever, Hinton: ImageNet classification with deep convolutional neural networks",
  zfnet: "Zeiler, Fergus: Visualizing and understanding convolutional networks",
  vgg: "Simonyan, Zisserman: Very deep convolutional networks for large-scale image recognition",
  googlenet: "Szegedy et al.: Going deeper with convolutions",
  resnet: "He, Zhang, Ren, Sun: Deep residual learning for image recognition",
  resnext: "Xie, Girshick, Dollár, Tu, He: Aggregated residual transformations for deep neural networks",
  senet: "Hu, Shen, Sun: Squeeze-and-excitation networks",
  densenet: "Huang, Liu, van der Maaten, Weinberger: Densely connected convolutional networks",
  mobilenetv1:
    "Howard et al.: MobileNets: efficient convolutional neural networks for mobile vision applications",
  mobilenetv2:
    "Sandler, Howard, Zhu, Zhmoginov, Chen: MobileNetV2: inverted residuals and linear bottlenecks",
  squeezenet:
    "Iandola et al.: SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
  shufflenet:
    "Ma, Zhang, Zheng, Sun: ShuffleNet V2: practical guidelines for efficient CNN architecture design",
  hmax: "Serre, Wolf, Bileschi, Riesenhuber, Poggio: Robust object recognition with cortex-like mechanisms",
  unet: "Ronneberger, Fischer, Brox: U-Net: convolutional networks for biomedical image segmentation",
} as const;

const INTRODUCED = {
  lenet: "Convolution, weight sharing and subsampling trained end to end by backpropagation.",
  alexnet:
    "ReLU, dropout, overlapping max pooling, local response normalisation (LRN) and GPU training on ImageNet.",
  zfnet: "Smaller 7x7 stride-2 first layer, chosen by visualising features with a deconvnet.",
  vgg: "Depth from stacks of 3x3 convolutions: two see 5x5, three see 7x7, with fewer parameters.",
  googlenet:
    "Inception modules: parallel 1x1/3x3/5x5/pool branches with 1x1 bottlenecks; auxiliary classifiers.",
  resnet: "Residual learning: identity shortcuts y = F(x) + x make 100+ layer networks trainable.",
  resnext: "Cardinality: the bottleneck's 3x3 conv split into 32 grouped paths.",
  senet: "Squeeze-and-excitation: per-channel gates computed from globally pooled features.",
  densenet: "Dense connectivity: each layer sees the concatenated maps of all earlier layers.",
  mobilenetv1: "Depthwise separable convolution: depthwise 3x3 plus pointwise 1x1, 8-9x cheaper.",
  mobilenetv2: "Inverted residuals with linear bottlenecks around depthwise convolutions.",
  squeezenet: "Fire modules (1x1 squeeze, 1x1/3x3 expand) and a conv + global pool classifier, no FC layers.",
  shufflenet: "Channel split and channel shuffle; design by measured speed (equal widths, no group 1x1).",
  hmax: "A model of the ventral stream: fixed Gabor S1, max-pooling C1, S2 tuning to sampled prototypes, global-max C2.",
  unet: "Per-pixel classification by an encoder-decoder with transposed convolutions and skip connections.",
} as const;

type Family = keyof typeof PAPERS;

function entry(
  name: string,
  family: Family,
  year: number,
  inputSize: [number, number, number],
  build: Entry["build"],
  extra: { numClasses?: number; torchvision?: boolean; familyName?: string; task?: ModelInfo["task"] } = {},
): Entry {
  return {
    name,
    family: extra.familyName ?? family,
    paper: PAPERS[family],
    year,
    inputSize,
    numClasses: extra.numClasses ?? 1000,
    introduced: INTRODUCED[family],
    torchvision: extra.torchvision ?? false,
    task: extra.task ?? "classification",
    build,
  };
}

const IMAGENET: [number, number, number] = [3, 224, 224];
const tv = { torchvision: true };

const REGISTRY: Entry[] = [
  entry("lenet5", "lenet", 1998, [1, 28, 28], (o) => new LeNet5(o), { numClasses: 10 }),
  entry("lenet5_classic", "lenet", 1998, [1, 32, 32], (o) => new LeNet5Classic(o), { numClasses: 10 }),
  entry("alexnet", "alexnet", 2012, IMAGENET, (o) => new AlexNet(o), tv),
  entry("alexnet_2012", "alexnet", 2012, [3, 227, 227], (o) => new AlexNet2012(o)),
  entry("zfnet", "zfnet", 2014, IMAGENET, (o) => new ZFNet(o)),
  ...([11, 13, 16, 19] as const).flatMap((depth) => [
    entry(`vgg${depth}`, "vgg", 2015, IMAGENET, (o) => new VGG({ ...o, depth }), tv),
    entry(`vgg${depth}_bn`, "vgg", 2015, IMAGENET, (o) => new VGG({ ...o, depth, batchNorm: true }), tv),
  ]),
  entry("googlenet", "googlenet", 2015, IMAGENET, (o) => new GoogLeNet(o), tv),
  ...([18, 34, 50, 101, 152] as const).map((depth) =>
    entry(`resnet${depth}`, "resnet", 2016, IMAGENET, (o) => resnet(depth, o), tv),
  ),
  ...([20, 56, 110] as const).map((depth) =>
    entry(`resnet${depth}_cifar`, "resnet", 2016, [3, 32, 32], (o) => new CifarResNet({ ...o, depth }), {
      numClasses: 10,
    }),
  ),
  entry("resnext50_32x4d", "resnext", 2017, IMAGENET, (o) => resnext50_32x4d(o), tv),
  entry("se_resnet50", "senet", 2018, IMAGENET, (o) => seResnet50(o)),
  entry("densenet121", "densenet", 2017, IMAGENET, (o) => new DenseNet(o), tv),
  entry("mobilenet_v1", "mobilenetv1", 2017, IMAGENET, (o) => new MobileNetV1(o), {
    familyName: "mobilenet",
  }),
  entry("mobilenet_v2", "mobilenetv2", 2018, IMAGENET, (o) => new MobileNetV2(o), {
    ...tv,
    familyName: "mobilenet",
  }),
  entry("squeezenet1_1", "squeezenet", 2016, IMAGENET, (o) => new SqueezeNet(o), tv),
  entry("shufflenet_v2_x1_0", "shufflenet", 2018, IMAGENET, (o) => new ShuffleNetV2(o), tv),
  entry("hmax", "hmax", 2007, [1, 28, 28], (o) => new HMAX(o), { numClasses: 10 }),
  entry("unet", "unet", 2015, [1, 32, 32], (o) => new UNet(o), { numClasses: 4, task: "segmentation" }),
];

/** Every registered model with its metadata, in registry order (roughly chronological by family). */
export function listModels(): ModelInfo[] {
  return REGISTRY.map(({ build: _build, ...info }) => ({ ...info, inputSize: [...info.inputSize] }));
}

/**
 * Builds a registered model. Options every model takes: numClasses, inChannels, dtype, backend
 * (`{ backend: 'meta' }` for a shape-only model); family options (smallInput, batchNorm, auxLogits,
 * shortcut, widthMultiplier, …) pass through to the family's constructor.
 * @example
 * const net = getModel("resnet18", { numClasses: 10, smallInput: true });
 * net.forward(x); // x [N, 3, 32, 32] -> [N, 10]
 */
export function getModel(name: string, options: ModelOptions & Record<string, unknown> = {}): Module {
  const found = REGISTRY.find((e) => e.name === name);
  if (!found) {
    throw new Error(
      `getModel: unknown model '${name}'; available: ${REGISTRY.map((e) => e.name).join(", ")}`,
    );
  }
  return found.build(options);
}

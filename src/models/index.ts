/**
 * The model zoo: the classic CNN architectures, each readable in its own file, registered by name so that
 * `getModel('resnet50', { numClasses: 10 })` builds one and `listModels()` says what exists (family, paper,
 * year, input size). Names follow torchvision where it has the model, and those models have torchvision's
 * state_dict keys and shapes, so its weights load with `loadWeights`.
 *
 * @module striate/models
 */

import type { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/index.js";
import type { ModelOptions } from "./common.js";
import { LeNet5, LeNet5Classic, type LeNet5ClassicOptions } from "./lenet.js";
import { AlexNet, AlexNet2012, type AlexNetOptions } from "./alexnet.js";
import { ZFNet } from "./zfnet.js";
import { VGG, type VGGOptions } from "./vgg.js";
import { GoogLeNet, type GoogLeNetOptions } from "./googlenet.js";
import {
  CifarResNet,
  resnet,
  wideResnet50_2,
  type CifarResNetOptions,
  type ResNetOptions,
} from "./resnet.js";
import { resnext50_32x4d, resnext101_32x8d } from "./resnext.js";
import { seResnet50 } from "./senet.js";
import { densenet, type DenseNetOptions } from "./densenet.js";
import { MobileNetV1, MobileNetV2, type MobileNetOptions } from "./mobilenet.js";
import { mobilenetV3Large, mobilenetV3Small, type MobileNetV3Options } from "./mobilenetv3.js";
import { efficientnetB0, type EfficientNetOptions } from "./efficientnet.js";
import { MNASNet, type MNASNetOptions } from "./mnasnet.js";
import { regnetY400mf, type RegNetOptions } from "./regnet.js";
import { convnextTiny, type ConvNeXtOptions } from "./convnext.js";
import { SqueezeNet } from "./squeezenet.js";
import { ShuffleNetV2, type ShuffleNetV2Options } from "./shufflenet.js";
import { HMAX, type HmaxOptions } from "./hmax.js";
import { UNet, type UNetOptions } from "./unet.js";

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
export * from "./mobilenetv3.js";
export * from "./efficientnet.js";
export * from "./mnasnet.js";
export * from "./regnet.js";
export * from "./convnext.js";
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

const PAPERS = {
  lenet: "LeCun, Bottou, Bengio, Haffner: Gradient-based learning applied to document recognition",
  alexnet: "Krizhevsky, Sutskever, Hinton: ImageNet classification with deep convolutional neural networks",
  zfnet: "Zeiler, Fergus: Visualizing and understanding convolutional networks",
  vgg: "Simonyan, Zisserman: Very deep convolutional networks for large-scale image recognition",
  googlenet: "Szegedy et al.: Going deeper with convolutions",
  resnet: "He, Zhang, Ren, Sun: Deep residual learning for image recognition",
  resnext: "Xie, Girshick, Dollár, Tu, He: Aggregated residual transformations for deep neural networks",
  wideresnet: "Zagoruyko, Komodakis: Wide residual networks",
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
  mobilenetv3: "Howard et al.: Searching for MobileNetV3",
  mnasnet: "Tan et al.: MnasNet: platform-aware neural architecture search for mobile",
  efficientnet: "Tan, Le: EfficientNet: rethinking model scaling for convolutional neural networks",
  regnet: "Radosavovic, Kosaraju, Girshick, He, Dollár: Designing network design spaces",
  convnext: "Liu, Mao, Wu, Feichtenhofer, Darrell, Xie: A ConvNet for the 2020s",
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
  wideresnet: "Width over depth: bottlenecks twice as wide, fewer layers for the same accuracy.",
  senet: "Squeeze-and-excitation: per-channel gates computed from globally pooled features.",
  densenet: "Dense connectivity: each layer sees the concatenated maps of all earlier layers.",
  mobilenetv1: "Depthwise separable convolution: depthwise 3x3 plus pointwise 1x1, 8-9x cheaper.",
  mobilenetv2: "Inverted residuals with linear bottlenecks around depthwise convolutions.",
  squeezenet: "Fire modules (1x1 squeeze, 1x1/3x3 expand) and a conv + global pool classifier, no FC layers.",
  shufflenet: "Channel split and channel shuffle; design by measured speed (equal widths, no group 1x1).",
  mobilenetv3:
    "Blocks found by latency-aware search and NetAdapt; hard-swish activation and hard-sigmoid SE gates.",
  mnasnet: "Architecture search with measured phone latency in the reward; per-stage kernels and expansions.",
  efficientnet:
    "Compound scaling of depth, width and resolution from a searched MBConv baseline with SE and SiLU.",
  regnet: "A design space narrowed to a simple rule: stage widths linear in depth, quantised; SE blocks.",
  convnext:
    "A ResNet modernised towards Transformers: patchify stem, depthwise 7x7, LayerNorm, GELU MLP, layer scale.",
  hmax: "A model of the ventral stream: fixed Gabor S1, max-pooling C1, S2 tuning to sampled prototypes, global-max C2.",
  unet: "Per-pixel classification by an encoder-decoder with transposed convolutions and skip connections.",
} as const;

type Family = keyof typeof PAPERS;

/** Options of the CIFAR ResNets (resnet20_cifar …): the depth is the zoo name's. */
export type CifarOptions = Omit<CifarResNetOptions, "depth">;
/** Options of the VGG zoo entries: depth and batch norm are the zoo name's. */
export type VGGFamilyOptions = Omit<VGGOptions, "depth" | "batchNorm">;
/** Options of the DenseNet zoo entries: the block configuration is the zoo name's. */
export type DenseNetFamilyOptions = Omit<DenseNetOptions, "blockConfig">;

/**
 * The options each registered model takes, by zoo name: `getModel("lenet5", { inChanels: 3 })` does not
 * type-check, and getModel rejects unknown keys at run time too.
 */
export interface ZooModelOptions {
  lenet5: ModelOptions;
  lenet5_classic: LeNet5ClassicOptions;
  alexnet: AlexNetOptions;
  alexnet_2012: AlexNetOptions;
  zfnet: AlexNetOptions;
  vgg11: VGGFamilyOptions;
  vgg11_bn: VGGFamilyOptions;
  vgg13: VGGFamilyOptions;
  vgg13_bn: VGGFamilyOptions;
  vgg16: VGGFamilyOptions;
  vgg16_bn: VGGFamilyOptions;
  vgg19: VGGFamilyOptions;
  vgg19_bn: VGGFamilyOptions;
  googlenet: GoogLeNetOptions;
  resnet18: ResNetOptions;
  resnet34: ResNetOptions;
  resnet50: ResNetOptions;
  resnet101: ResNetOptions;
  resnet152: ResNetOptions;
  resnet20_cifar: CifarOptions;
  resnet56_cifar: CifarOptions;
  resnet110_cifar: CifarOptions;
  resnext50_32x4d: ResNetOptions;
  resnext101_32x8d: ResNetOptions;
  wide_resnet50_2: ResNetOptions;
  se_resnet50: ResNetOptions;
  densenet121: DenseNetFamilyOptions;
  densenet169: DenseNetFamilyOptions;
  densenet201: DenseNetFamilyOptions;
  mobilenet_v1: MobileNetOptions;
  mobilenet_v2: MobileNetOptions;
  mobilenet_v3_small: MobileNetV3Options;
  mobilenet_v3_large: MobileNetV3Options;
  mnasnet1_0: MNASNetOptions;
  efficientnet_b0: EfficientNetOptions;
  regnet_y_400mf: RegNetOptions;
  convnext_tiny: ConvNeXtOptions;
  squeezenet1_1: ModelOptions;
  shufflenet_v2_x1_0: ShuffleNetV2Options;
  hmax: HmaxOptions;
  unet: UNetOptions;
}

/**
 * What getModel returns: a module called with one image batch [N, C, H, W]; the output is class logits
 * [N, classes] (GoogLeNet in training mode: logits and auxiliary logits; U-Net: [N, classes, H, W]).
 */
export type ZooModel = Module<[input: Tensor], unknown>;

/** A registered model's name. */
export type ZooModelName = keyof ZooModelOptions;

/**
 * getModel's options for `name`: the model's own options for a registered name; for a name only known at
 * run time (a string variable), any options, checked when the model is built.
 */
export type GetModelOptions<N extends string> = N extends ZooModelName
  ? ZooModelOptions[N]
  : ModelOptions & Record<string, unknown>;

/**
 * Every key of an options type beyond ModelOptions, listed once so that the run-time check matches the type
 * (a key missing from the list, or listed but not in the type, is a compile error).
 */
type OwnKeys<T> = { [K in Exclude<keyof T, keyof ModelOptions>]-?: true };

const COMMON_KEYS: { [K in keyof ModelOptions]-?: true } = {
  numClasses: true,
  inChannels: true,
  dtype: true,
  backend: true,
};

const ALEXNET_KEYS: OwnKeys<AlexNetOptions> = { dropout: true, hiddenFeatures: true };
const RESNET_KEYS: OwnKeys<ResNetOptions> = { smallInput: true };
const DENSENET_KEYS: OwnKeys<DenseNetFamilyOptions> = {
  growthRate: true,
  numInitFeatures: true,
  bnSize: true,
  dropRate: true,
  smallInput: true,
};
const MOBILENET_KEYS: OwnKeys<MobileNetOptions> = { widthMultiplier: true, dropout: true, smallInput: true };
const NO_KEYS: OwnKeys<ModelOptions> = {};

interface Entry<N extends ZooModelName = ZooModelName> extends ModelInfo {
  name: N;
  /** The option keys the model accepts (those of ZooModelOptions[N]). */
  optionKeys: readonly string[];
  build: (options: ZooModelOptions[N]) => ZooModel;
}

function entry<N extends ZooModelName>(
  name: N,
  family: Family,
  year: number,
  inputSize: [number, number, number],
  build: (options: ZooModelOptions[N]) => ZooModel,
  ownKeys: OwnKeys<ZooModelOptions[N]>,
  extra: { numClasses?: number; torchvision?: boolean; familyName?: string; task?: ModelInfo["task"] } = {},
): Entry<N> {
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
    optionKeys: [...Object.keys(COMMON_KEYS), ...Object.keys(ownKeys)],
    build,
  };
}

const IMAGENET: [number, number, number] = [3, 224, 224];
const tv = { torchvision: true };

const REGISTRY = [
  entry("lenet5", "lenet", 1998, [1, 28, 28], (o) => new LeNet5(o), NO_KEYS, { numClasses: 10 }),
  entry(
    "lenet5_classic",
    "lenet",
    1998,
    [1, 32, 32],
    (o) => new LeNet5Classic(o),
    { connectionTable: true },
    { numClasses: 10 },
  ),
  entry("alexnet", "alexnet", 2012, IMAGENET, (o) => new AlexNet(o), ALEXNET_KEYS, tv),
  entry("alexnet_2012", "alexnet", 2012, [3, 227, 227], (o) => new AlexNet2012(o), ALEXNET_KEYS),
  entry("zfnet", "zfnet", 2014, IMAGENET, (o) => new ZFNet(o), ALEXNET_KEYS),
  ...([11, 13, 16, 19] as const).flatMap((depth) => [
    entry(`vgg${depth}`, "vgg", 2015, IMAGENET, (o) => new VGG({ ...o, depth }), ALEXNET_KEYS, tv),
    entry(
      `vgg${depth}_bn`,
      "vgg",
      2015,
      IMAGENET,
      (o) => new VGG({ ...o, depth, batchNorm: true }),
      ALEXNET_KEYS,
      tv,
    ),
  ]),
  entry(
    "googlenet",
    "googlenet",
    2015,
    IMAGENET,
    (o) => new GoogLeNet(o),
    { auxLogits: true, branch3KernelSize: true, dropout: true, transformInput: true },
    tv,
  ),
  ...([18, 34, 50, 101, 152] as const).map((depth) =>
    entry(`resnet${depth}`, "resnet", 2016, IMAGENET, (o) => resnet(depth, o), RESNET_KEYS, tv),
  ),
  ...([20, 56, 110] as const).map((depth) =>
    entry(
      `resnet${depth}_cifar`,
      "resnet",
      2016,
      [3, 32, 32],
      (o) => new CifarResNet({ ...o, depth }),
      { shortcut: true },
      { numClasses: 10 },
    ),
  ),
  entry("resnext50_32x4d", "resnext", 2017, IMAGENET, (o) => resnext50_32x4d(o), RESNET_KEYS, tv),
  entry("resnext101_32x8d", "resnext", 2017, IMAGENET, (o) => resnext101_32x8d(o), RESNET_KEYS, tv),
  entry("wide_resnet50_2", "wideresnet", 2016, IMAGENET, (o) => wideResnet50_2(o), RESNET_KEYS, {
    ...tv,
    familyName: "resnet",
  }),
  entry("se_resnet50", "senet", 2018, IMAGENET, (o) => seResnet50(o), RESNET_KEYS),
  ...([121, 169, 201] as const).map((depth) =>
    entry(`densenet${depth}`, "densenet", 2017, IMAGENET, (o) => densenet(depth, o), DENSENET_KEYS, tv),
  ),
  entry("mobilenet_v1", "mobilenetv1", 2017, IMAGENET, (o) => new MobileNetV1(o), MOBILENET_KEYS, {
    familyName: "mobilenet",
  }),
  entry("mobilenet_v2", "mobilenetv2", 2018, IMAGENET, (o) => new MobileNetV2(o), MOBILENET_KEYS, {
    ...tv,
    familyName: "mobilenet",
  }),
  ...(["small", "large"] as const).map((size) =>
    entry(
      `mobilenet_v3_${size}`,
      "mobilenetv3",
      2019,
      IMAGENET,
      (o) => (size === "small" ? mobilenetV3Small(o) : mobilenetV3Large(o)),
      MOBILENET_KEYS,
      { ...tv, familyName: "mobilenet" },
    ),
  ),
  entry(
    "mnasnet1_0",
    "mnasnet",
    2019,
    IMAGENET,
    (o) => new MNASNet(o),
    { widthMultiplier: true, dropout: true, smallInput: true },
    tv,
  ),
  entry(
    "efficientnet_b0",
    "efficientnet",
    2019,
    IMAGENET,
    (o) => efficientnetB0(o),
    {
      widthMultiplier: true,
      depthMultiplier: true,
      dropout: true,
      stochasticDepthProb: true,
      smallInput: true,
    },
    tv,
  ),
  entry("regnet_y_400mf", "regnet", 2020, IMAGENET, (o) => regnetY400mf(o), RESNET_KEYS, tv),
  entry(
    "convnext_tiny",
    "convnext",
    2022,
    IMAGENET,
    (o) => convnextTiny(o),
    { stochasticDepthProb: true, layerScale: true },
    tv,
  ),
  entry("squeezenet1_1", "squeezenet", 2016, IMAGENET, (o) => new SqueezeNet(o), NO_KEYS, tv),
  entry(
    "shufflenet_v2_x1_0",
    "shufflenet",
    2018,
    IMAGENET,
    (o) => new ShuffleNetV2(o),
    { stagesRepeats: true, stagesOutChannels: true, smallInput: true },
    tv,
  ),
  entry(
    "hmax",
    "hmax",
    2007,
    [1, 28, 28],
    (o) => new HMAX(o),
    {
      s1Sizes: true,
      orientations: true,
      c1Pool: true,
      prototypeSizes: true,
      prototypesPerSize: true,
      beta: true,
    },
    { numClasses: 10 },
  ),
  entry(
    "unet",
    "unet",
    2015,
    [1, 32, 32],
    // The zoo's default is the synthetic-shapes task's 4 classes (UNet alone defaults to U-Net's 2).
    (o) => new UNet({ numClasses: 4, ...o }),
    { baseWidth: true, depth: true },
    { numClasses: 4, task: "segmentation" },
  ),
];

// Every name of ZooModelOptions is registered (a compile error names the missing ones otherwise).
type Unregistered = Exclude<ZooModelName, (typeof REGISTRY)[number]["name"]>;
const everyNameRegistered: [Unregistered] extends [never] ? true : Unregistered = true;
void everyNameRegistered;

/** Every registered model with its metadata, in registry order (roughly chronological by family). */
export function listModels(): ModelInfo[] {
  return REGISTRY.map(({ build: _build, optionKeys: _keys, ...info }) => ({
    ...info,
    inputSize: [...info.inputSize],
  }));
}

/**
 * Builds a registered model. Options every model takes: numClasses, inChannels, dtype, backend
 * (`{ backend: 'meta' }` for a shape-only model); family options (smallInput, batchNorm, auxLogits,
 * shortcut, widthMultiplier, …) are typed per model (ZooModelOptions). An option the model does not take is
 * an error (naming the key, the model and the valid keys), not silently ignored.
 * @example
 * const net = getModel("resnet18", { numClasses: 10, smallInput: true });
 * net.forward(x); // x [N, 3, 32, 32] -> [N, 10]
 */
export function getModel<N extends string>(name: N, options?: GetModelOptions<N>): ZooModel {
  const found = REGISTRY.find((e) => e.name === name) as Entry | undefined;
  if (!found) {
    throw new Error(
      `getModel: unknown model '${name}'; available: ${REGISTRY.map((e) => e.name).join(", ")}`,
    );
  }
  const given = (options ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !found.optionKeys.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `getModel: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")} ` +
        `for model '${name}'; valid options: ${found.optionKeys.join(", ")}`,
    );
  }
  return (found.build as (o: ModelOptions) => ZooModel)(given);
}

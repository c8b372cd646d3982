// `striate explain`: why a model classified images as it did. Runs one attribution method (saliency,
// SmoothGrad, integrated gradients, Grad-CAM, Grad-CAM++, guided backprop, deconvnet, guided Grad-CAM,
// occlusion) on each image and writes the map as a PNG: laid over the image for the class-activation and
// occlusion maps, in a diverging colour map for the signed gradient maps.

import {
  Deconvolution,
  GradCam,
  GradCamPlusPlus,
  GuidedBackprop,
  GuidedGradCam,
  IntegratedGradients,
  Occlusion,
  Saliency,
  SmoothGrad,
  canvasGrid,
  heatmapToCanvas,
  imageToCanvas,
  mapOfImage,
  overlayHeatmap,
  type Canvas,
} from "../../explain/index.js";
import { noGrad } from "../../autograd/engine.js";
import type { Module } from "../../nn/module.js";
import type { Tensor } from "../../tensor/tensor.js";
import { logitsOf } from "../../explain/model-calls.js";
import { choice, num, optionalInt, parse, str, UsageError } from "./args.js";
import { selectBackend } from "./backend.js";
import {
  asUsage,
  checkLayer,
  convLayerName,
  loadModelArgument,
  readImageBatch,
  writePicture,
} from "./explain-shared.js";

const METHODS = [
  "gradcam",
  "gradcam++",
  "saliency",
  "smoothgrad",
  "ig",
  "guided",
  "deconvnet",
  "guided-gradcam",
  "occlusion",
] as const;
type Method = (typeof METHODS)[number];

export const EXPLAIN_USAGE = `Usage: striate explain <checkpoint-dir|model> <image>... [options]

Explains the model's decision on each PNG or JPEG image with one attribution method and writes
<out>/<image name>-<method>.png (the image, the map, and the map over the image).

Options:
  --method <name>     ${METHODS.join(", ")} (default gradcam)
  --layer <name>      layer for gradcam, gradcam++ and guided-gradcam (default: the last conv layer)
  --target <k>        class to explain (default: the predicted class of each image)
  --steps <n>         integrated-gradients steps (default 50) or smoothgrad samples (default 25)
  --window <n>        occlusion window size in pixels (default a quarter of the image side)
  --stride <n>        occlusion stride (default half the window)
  --alpha <x>         opacity of the map over the image (default 0.5)
  --scale <n>         pixel magnification of the pictures (default: images at least 112 px)
  --out <dir>         output folder (default explain-out)
  --overwrite         replace existing pictures
  --weights <file>    safetensors weights for a built-in or zoo model name
  --backend <name>    compute backend
  -h, --help          show this help
`;

const OPTIONS = {
  method: { type: "string" },
  layer: { type: "string" },
  target: { type: "string" },
  steps: { type: "string" },
  window: { type: "string" },
  stride: { type: "string" },
  alpha: { type: "string" },
  scale: { type: "string" },
  out: { type: "string" },
  overwrite: { type: "boolean" },
  weights: { type: "string" },
  backend: { type: "string" },
} as const;

/** Maps that are signed gradients ([N, C, H, W]); the others are non-negative heat maps. */
const SIGNED: readonly Method[] = ["guided", "deconvnet", "guided-gradcam", "ig", "occlusion"];

interface Settings {
  method: Method;
  layer: string;
  steps: number | undefined;
  window: number;
  stride: number;
}

/** The attribution of `method` for the batch, as maps [N, H, W] (channels summed for signed maps). */
function attribute(model: Module, x: Tensor, targets: number[], s: Settings): Tensor {
  const target = targets;
  switch (s.method) {
    case "gradcam":
      return new GradCam(model, { layer: s.layer }).attribute(x, { target, upsample: true });
    case "gradcam++":
      return new GradCamPlusPlus(model, { layer: s.layer }).attribute(x, { target, upsample: true });
    case "saliency":
      return new Saliency(model).attribute(x, { target, reduce: "max" });
    case "smoothgrad":
      return new SmoothGrad(model).attribute(x, {
        target,
        reduce: "max",
        nSamples: s.steps ?? 25,
        stdevs: 0.15,
      });
    case "ig":
      return new IntegratedGradients(model).attribute(x, {
        target,
        nSteps: s.steps ?? 50,
        internalBatchSize: 64,
      });
    case "guided":
      return new GuidedBackprop(model).attribute(x, { target });
    case "deconvnet":
      return new Deconvolution(model).attribute(x, { target });
    case "guided-gradcam":
      return new GuidedGradCam(model, { layer: s.layer }).attribute(x, { target });
    case "occlusion": {
      const c = x.shape[1];
      return new Occlusion(model).attribute(x, {
        target,
        slidingWindowShapes: [c, s.window, s.window],
        strides: [c, s.stride, s.stride],
        baselines: 0,
        perturbationsPerEval: 64,
      });
    }
  }
}

export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("explain", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(EXPLAIN_USAGE);
    return 0;
  }
  if (positionals.length < 2)
    throw new UsageError("expected <checkpoint-dir|model> and at least one <image>", "explain");
  const method = choice(values, "method", METHODS, "gradcam");
  const alpha = num(values, "alpha", 0.5, { min: 0, max: 1 });
  await selectBackend(str(values, "backend"));
  const [modelArg, ...files] = positionals;
  const { model, inputShape, classes } = await loadModelArgument(modelArg, str(values, "weights"));
  const layerArg = str(values, "layer");
  const needsLayer = method === "gradcam" || method === "gradcam++" || method === "guided-gradcam";
  if (layerArg !== undefined && !needsLayer)
    throw new UsageError(
      `--layer is used by gradcam, gradcam++ and guided-gradcam, not by ${method}`,
      "explain",
    );
  const layer =
    layerArg === undefined
      ? convLayerName(model, "last")
      : (checkLayer(model, layerArg, "explain") as string);
  const x = await readImageBatch(files, inputShape);
  const logits = noGrad(() => logitsOf(model, x, "explain"));
  const k = logits.shape[1];
  const predicted = Array.from(logits.argmax(1).toArray());
  const target = optionalInt(values, "target", 0);
  if (target !== undefined && target >= k)
    throw new UsageError(
      `--target ${target} is out of range for a model with ${k} classes (0–${k - 1})`,
      "explain",
    );
  const targets = files.map((_, i) => target ?? predicted[i]);
  const side = inputShape[1];
  const window = num(values, "window", Math.max(1, Math.round(side / 4)), { min: 1, integer: true });
  const settings: Settings = {
    method,
    layer,
    steps: optionalInt(values, "steps", 1),
    window,
    stride: num(values, "stride", Math.max(1, Math.floor(window / 2)), { min: 1, integer: true }),
  };
  const maps = asUsage("explain", () => attribute(model, x, targets, settings));
  const scale = num(values, "scale", Math.max(1, Math.ceil(112 / side)), { min: 1, integer: true });
  const out = str(values, "out") ?? "explain-out";
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  const images = x.toArray();
  for (const [i, file] of files.entries()) {
    const image = { data: images.subarray(i * size, (i + 1) * size), shape: inputShape };
    const map = mapOfImage(maps, i);
    const signed = SIGNED.includes(method);
    const colormap = signed ? "diverging" : "turbo";
    const pictures: Canvas[] = [
      imageToCanvas(image, { scale }),
      heatmapToCanvas(map, { colormap, scale }),
      overlayHeatmap(image, map, { alpha, colormap, scale }),
    ];
    const name = (c: number) => classes?.[c] ?? String(c);
    const picture = canvasGrid(pictures, {
      columns: 3,
      labels: [`predicted ${name(predicted[i])}`, `${method} of ${name(targets[i])}`, `alpha ${alpha}`],
    });
    const base = file.replace(/^.*[\\/]/, "").replace(/\.[^.]+$/, "");
    await writePicture(out, `${base}-${method}.png`, picture, values.overwrite === true);
  }
  return 0;
}

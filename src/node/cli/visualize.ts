// `striate visualize`: pictures of what a saved model learned — its filters, the feature maps an image
// produces, a class model (Simonyan et al. 2014) or a channel's feature visualisation — written as PNG.

import { noGrad } from "../../autograd/engine.js";
import {
  captureActivations,
  classModelVisualization,
  featureMapGrid,
  featureVisualization,
  filterGrid,
  imageToCanvas,
} from "../../explain/index.js";
import { logitsOf } from "../../explain/model-calls.js";
import { num, parse, str, UsageError } from "./args.js";
import { selectBackend } from "./backend.js";
import { InputError } from "./resources.js";
import {
  asUsage,
  checkLayer,
  convLayerName,
  loadModelArgument,
  readImageBatch,
  writePicture,
} from "./explain-shared.js";

export const VISUALIZE_USAGE = `Usage: striate visualize <checkpoint-dir|model> [options]

Writes PNG pictures of what a model learned. Choose one or more of:
  --filters              a convolution's filters (default layer: the first conv)
  --activations <image>  the feature maps the image produces (default layer: every conv)
  --class-model <k>      the image that maximises class k's score (Simonyan et al. 2014)
  --feature <c>          the image that maximises channel c of --layer (Olah et al. 2017)

Options:
  --layer <name>         layer by dotted name (e.g. conv2, features.3, layer4.1.conv2)
  --steps <n>            optimisation steps for --class-model and --feature (default 200)
  --scale <n>            pixel magnification of the pictures (default 8 for filters, 4 otherwise)
  --out <dir>            output folder (default visualize-out)
  --overwrite            replace existing pictures
  --weights <file>       safetensors weights for a built-in or zoo model name
  --backend <name>       compute backend
  -h, --help             show this help
`;

const OPTIONS = {
  filters: { type: "boolean" },
  activations: { type: "string" },
  "class-model": { type: "string" },
  feature: { type: "string" },
  layer: { type: "string" },
  steps: { type: "string" },
  scale: { type: "string" },
  out: { type: "string" },
  overwrite: { type: "boolean" },
  weights: { type: "string" },
  backend: { type: "string" },
} as const;

export async function visualizeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("visualize", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(VISUALIZE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected one <checkpoint-dir|model>", "visualize");
  const wanted = ["filters", "activations", "class-model", "feature"].filter((k) => values[k] !== undefined);
  if (wanted.length === 0)
    throw new UsageError(
      "choose --filters, --activations <image>, --class-model <k> or --feature <c>",
      "visualize",
    );
  await selectBackend(str(values, "backend"));
  const steps = num(values, "steps", 200, { min: 1, integer: true });
  const out = str(values, "out") ?? "visualize-out";
  const overwrite = values.overwrite === true;
  const { model, inputShape, classes } = await loadModelArgument(positionals[0], str(values, "weights"));
  const layerArg = str(values, "layer");
  const layer = layerArg === undefined ? undefined : checkLayer(model, layerArg, "visualize");

  if (values.filters) {
    const name = (layer as string | undefined) ?? convLayerName(model, "first");
    const weight = model.namedParameters().find(([n]) => n === `${name}.weight`)?.[1];
    if (!weight || weight.ndim !== 4)
      throw new UsageError(
        `--filters: layer '${name}' has no convolution weight [O, I, kh, kw]`,
        "visualize",
      );
    const scale = num(values, "scale", 8, { min: 1, integer: true });
    await writePicture(
      out,
      `filters-${name}.png`,
      filterGrid(weight, { scale, title: `${name} filters` }),
      overwrite,
    );
  }
  const activationsImage = str(values, "activations");
  if (activationsImage !== undefined) {
    const x = await readImageBatch([activationsImage], inputShape);
    const names = layer
      ? [layer as string]
      : model
          .namedModules()
          .filter(([, m]) => m.constructor.name.includes("Conv2d"))
          .map(([n]) => n);
    if (names.length === 0) throw new InputError("the model has no convolution layer; name one with --layer");
    const acts = captureActivations(model, x, names);
    const scale = num(values, "scale", 4, { min: 1, integer: true });
    await writePicture(out, "input.png", imageToCanvas(x, { scale }), overwrite);
    for (const [name, act] of acts) {
      if (act.ndim !== 4) {
        process.stderr.write(
          `striate visualize: skipping ${name}: output ${act.shape.join("x")} has no feature maps\n`,
        );
        continue;
      }
      await writePicture(
        out,
        `activations-${name}.png`,
        featureMapGrid(act, { scale, labels: true, title: name }),
        overwrite,
      );
    }
  }
  const classModel = str(values, "class-model");
  if (classModel !== undefined) {
    const target = num(values, "class-model", 0, { min: 0, integer: true });
    const image = asUsage("visualize", () =>
      classModelVisualization(model, { target, shape: inputShape, steps }),
    );
    const scale = num(values, "scale", 4, { min: 1, integer: true });
    const label = classes?.[target] ?? String(target);
    const score = noGrad(() => logitsOf(model, image, "visualize").toArray()[target]);
    process.stdout.write(`class model of ${label}: score ${score.toFixed(3)}\n`);
    await writePicture(
      out,
      `class-model-${target}.png`,
      imageToCanvas(image, { normalize: true, scale }),
      overwrite,
    );
  }
  const feature = str(values, "feature");
  if (feature !== undefined) {
    const channel = num(values, "feature", 0, { min: 0, integer: true });
    const name = (layer as string | undefined) ?? convLayerName(model, "last");
    const { image, activation } = asUsage("visualize", () =>
      featureVisualization(model, { layer: name, channel, shape: inputShape, steps, seed: 0 }),
    );
    process.stdout.write(`feature ${name}[${channel}]: mean activation ${activation.toFixed(3)}\n`);
    const scale = num(values, "scale", 4, { min: 1, integer: true });
    await writePicture(out, `feature-${name}-${channel}.png`, imageToCanvas(image, { scale }), overwrite);
  }
  return 0;
}

// `striate summary`: prints a model's layers with output shapes, parameters and multiply-accumulates, using
// the model zoo's summary() on a shape-only forward pass.

import { formatSummary, listModels, summary } from "../../models/index.js";
import { optionalInt, parse, str, UsageError } from "./args.js";
import { build, loadCheckpointModel, resolveArchitecture } from "./resources.js";
import { existsSync, statSync } from "node:fs";
import { convnetJsToSpec } from "../../spec/convnetjs.js";

export const SUMMARY_USAGE = `Usage: striate summary <model> [options]

Prints each layer's output shape, parameters and multiply-accumulates.

<model>  a built-in, a zoo name, a JSON spec / layer_defs file, or a checkpoint directory

Options:
  --input <C,H,W>     input shape (default: the model's usual input)
  --classes <n>       classifier size (default 10, or 1000 for ImageNet zoo models)
  --depth <n>         show modules down to this nesting depth (0: totals only)
  -h, --help          show this help
`;

const OPTIONS = {
  input: { type: "string" },
  classes: { type: "string" },
  depth: { type: "string" },
} as const;

function parseShape(raw: string): [number, number, number] {
  const dims = raw.split(/[,x×]/).map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new UsageError(`--input must be C,H,W with positive integers, got '${raw}'`, "summary");
  }
  return dims as [number, number, number];
}

export async function summaryCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("summary", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(SUMMARY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected one <model>", "summary");
  const arg = positionals[0];
  const zoo = listModels().find((m) => m.name === arg);
  const raw = str(values, "input");
  const depth = optionalInt(values, "depth", 0);
  let model;
  let input: [number, number, number];
  if (existsSync(arg) && statSync(arg).isDirectory()) {
    const loaded = await loadCheckpointModel(arg);
    model = loaded.model;
    input = raw
      ? parseShape(raw)
      : ((loaded.config.inputShape as [number, number, number] | undefined) ?? [1, 28, 28]);
  } else {
    input = raw
      ? parseShape(raw)
      : (zoo?.inputSize ?? (arg === "convnetjs-cifar10" ? [3, 32, 32] : [1, 28, 28]));
    const numClasses = optionalInt(values, "classes", 1) ?? zoo?.numClasses ?? 10;
    const architecture = await resolveArchitecture(arg, { numClasses, inputShape: input });
    // A spec or ConvNetJS file declares its own input shape (a CIFAR layer_defs file is 3x32x32).
    if (!raw && architecture.kind === "spec") input = architecture.spec.input;
    if (!raw && architecture.kind === "convnetjs") input = convnetJsToSpec(architecture.layerDefs).input;
    // Zoo models are built on the shape-only meta backend: a 224x224 VGG summary computes nothing.
    if (architecture.kind === "zoo") architecture.options = { ...architecture.options, backend: "meta" };
    model = build(architecture);
  }
  process.stdout.write(
    `${formatSummary(summary(model, [1, ...input]), depth === undefined ? {} : { maxDepth: depth })}\n`,
  );
  return 0;
}

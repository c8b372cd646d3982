// `striate eval`: loads a checkpoint, evaluates it on a dataset's test split (loss, accuracy, top-5,
// confusion matrix) and optionally writes the confusion-matrix plots.

import { DataLoader } from "../../data/index.js";
import { evaluate } from "../../train/fit.js";
import { writePlots } from "../plots.js";
import { optionalInt, num, parse, str, UsageError } from "./args.js";
import { InputError, loadCheckpointModel, loadData } from "./resources.js";
import { selectBackend } from "./backend.js";

export const EVAL_USAGE = `Usage: striate eval <checkpoint-dir> [options]

Evaluates a saved model on the test split: loss, accuracy, top-5 accuracy and the confusion matrix.

Options:
  --dataset <name>    dataset (default: the one the model was trained on)
  --data-dir <dir>    folder with the dataset files (fashion-mnist, cifar10)
  --batch-size <n>    images per batch (default 256)
  --limit <n>         evaluate only the first n test images
  --out <dir>         write confusion-matrix.{svg,png} here
  --backend <name>    compute backend
  -h, --help          show this help
`;

const OPTIONS = {
  dataset: { type: "string" },
  "data-dir": { type: "string" },
  "batch-size": { type: "string" },
  limit: { type: "string" },
  out: { type: "string" },
  backend: { type: "string" },
} as const;

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("eval", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(EVAL_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected one <checkpoint-dir>", "eval");
  await selectBackend(str(values, "backend"));
  const batchSize = num(values, "batch-size", 256, { min: 1, integer: true });
  const limit = optionalInt(values, "limit", 1);
  const { model, config } = await loadCheckpointModel(positionals[0]);
  const saved = config.hyperParameters as { dataset?: string; dataDir?: string };
  const dataset = str(values, "dataset") ?? saved.dataset ?? "mnist";
  const data = await loadData(dataset, { dataDir: str(values, "data-dir") ?? saved.dataDir, limit });
  if (config.inputShape && config.inputShape.some((d, i) => d !== data.shape[i])) {
    throw new InputError(
      `the model was trained on images [${config.inputShape.join(",")}] but ${dataset} has [${data.shape.join(",")}]`,
    );
  }
  const result = await evaluate(model, new DataLoader(data.test, { batchSize }), { confusionMatrix: true });
  process.stdout.write(
    `${dataset} test: loss ${result.loss.toFixed(4)}  accuracy ${(100 * result.accuracy).toFixed(2)}%` +
      `${result.top5 !== undefined ? `  top-5 ${(100 * result.top5).toFixed(2)}%` : ""}  (${result.count} images)\n`,
  );
  const out = str(values, "out");
  if (out && result.confusionMatrix) {
    const written = await writePlots(out, {
      confusionMatrix: result.confusionMatrix.matrix,
      classes: data.classes,
    });
    process.stdout.write(`wrote ${written.join(", ")}\n`);
  }
  return 0;
}

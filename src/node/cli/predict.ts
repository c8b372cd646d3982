// `striate predict`: classifies image files with a saved model and prints the top-k classes with their
// probabilities, one block per image.

import { tensor } from "../../tensor/tensor.js";
import { predict } from "../../train/fit.js";
import { num, parse, str, UsageError } from "./args.js";
import { InputError, loadCheckpointModel, readImage } from "./resources.js";
import { selectBackend } from "./backend.js";

export const PREDICT_USAGE = `Usage: striate predict <checkpoint-dir> <image>... [options]

Prints the most likely classes of each PNG or JPEG image (converted to the model's channels and resized to
its input size).

Options:
  --top-k <n>         classes to show per image (default 3)
  --json              print JSON instead of text
  --backend <name>    compute backend
  -h, --help          show this help
`;

const OPTIONS = {
  "top-k": { type: "string" },
  json: { type: "boolean" },
  backend: { type: "string" },
} as const;

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("predict", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(PREDICT_USAGE);
    return 0;
  }
  if (positionals.length < 2)
    throw new UsageError("expected <checkpoint-dir> and at least one <image>", "predict");
  await selectBackend(str(values, "backend"));
  const topK = num(values, "top-k", 3, { min: 1, integer: true });
  const [dir, ...files] = positionals;
  const { model, config } = await loadCheckpointModel(dir);
  const shape = config.inputShape;
  if (!shape || shape.length !== 3)
    throw new InputError(`${dir}/config.json does not record the input shape [C, H, W]`);
  const [c, h, w] = shape as [number, number, number];
  const images = await Promise.all(files.map((f) => readImage(f, [c, h, w])));
  const batch = new Float32Array(images.length * c * h * w);
  images.forEach((im, i) => batch.set(im, i * im.length));
  const probs = predict(model, tensor(batch, [images.length, c, h, w])).toArray();
  const k = probs.length / images.length;
  const results = files.map((file, i) => {
    const row = Array.from(probs.subarray(i * k, (i + 1) * k));
    const top = row
      .map((p, cls) => ({ class: config.classes?.[cls] ?? String(cls), index: cls, probability: p }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, Math.min(topK, k));
    return { file, top };
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return 0;
  }
  for (const { file, top } of results) {
    process.stdout.write(`${file}\n`);
    for (const t of top)
      process.stdout.write(`  ${t.class.padEnd(12)} ${(100 * t.probability).toFixed(2).padStart(6)}%\n`);
  }
  return 0;
}

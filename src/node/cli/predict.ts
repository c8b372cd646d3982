// `striate predict`: classifies image files with a saved model and prints the top-k classes with their
// probabilities, one block per image. Pictures are prepared like the training images (data/prepare-image.ts:
// dark-on-light drawings inverted, MNIST's fit-and-centre for single-channel models, letterboxing for colour
// ones), and each adjustment is said on stderr (in the JSON as `notes`).

import { tensor } from "../../tensor/tensor.js";
import { predict } from "../../train/fit.js";
import { prepareImage, type InvertMode } from "../../data/prepare-image.js";
import { choice, num, parse, str, UsageError } from "./args.js";
import { InputError, loadCheckpointModel, readPicture } from "./resources.js";
import { selectBackend } from "./backend.js";

export const PREDICT_USAGE = `Usage: striate predict <checkpoint-dir> <image>... [options]

Prints the most likely classes of each PNG or JPEG image, converted to the model's channels and prepared
as its training images were: an image already at the input size is used as is; for single-channel models
(MNIST) the ink is cropped, fitted into a 20x20 box keeping its aspect ratio and centred by mass in 28x28;
colour images of another aspect ratio are letterboxed, not stretched. Each adjustment is reported.

Options:
  --invert <mode>     auto (default): invert single-channel images with a light border (dark ink on
                      white paper; MNIST digits are white on black); yes; no
  --top-k <n>         classes to show per image (default 3)
  --json              print JSON instead of text
  --backend <name>    compute backend
  -h, --help          show this help
`;

const OPTIONS = {
  invert: { type: "string" },
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
  const invert = choice<InvertMode>(values, "invert", ["auto", "yes", "no"], "auto");
  const prepared = await Promise.all(
    files.map(async (file) => {
      const picture = await readPicture(file, c);
      return prepareImage(picture.image, c, picture.height, picture.width, [c, h, w], { invert });
    }),
  );
  for (const [i, { notes }] of prepared.entries())
    for (const note of notes) process.stderr.write(`note: ${files[i]}: ${note}\n`);
  const batch = new Float32Array(prepared.length * c * h * w);
  prepared.forEach(({ image }, i) => batch.set(image, i * image.length));
  const images = prepared;
  const probs = predict(model, tensor(batch, [images.length, c, h, w])).toArray();
  const k = probs.length / images.length;
  const results = files.map((file, i) => {
    const row = Array.from(probs.subarray(i * k, (i + 1) * k));
    const top = row
      .map((p, cls) => ({ class: config.classes?.[cls] ?? String(cls), index: cls, probability: p }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, Math.min(topK, k));
    return { file, top, notes: prepared[i].notes };
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

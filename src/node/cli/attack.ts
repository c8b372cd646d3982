// `striate attack`: attacks a saved model with FGSM or PGD on a test set, prints the clean and adversarial
// accuracy, and writes a picture of example images: clean, adversarial and the perturbation, each with the
// predicted class.

import { DataLoader } from "../../data/index.js";
import { noGrad } from "../../autograd/engine.js";
import {
  adversarialAccuracy,
  canvasGrid,
  fgsm,
  heatmapToCanvas,
  imageToCanvas,
  pgd,
  type Attack,
} from "../../explain/index.js";
import type { Canvas } from "../../viz/raster.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Module } from "../../nn/module.js";
import { logitsOf } from "../../explain/model-calls.js";
import { choice, num, parse, str, UsageError } from "./args.js";
import { selectBackend } from "./backend.js";
import { InputError, loadData } from "./resources.js";
import { loadModelArgument, writePicture } from "./explain-shared.js";

export const ATTACK_USAGE = `Usage: striate attack <checkpoint-dir> [options]

Measures a model's accuracy on clean and on adversarial test images (FGSM: Goodfellow et al. 2015; PGD:
Madry et al. 2018) and writes examples to <out>/adversarial-examples.png.

Options:
  --method fgsm|pgd   attack (default fgsm)
  --eps <x>           size of the perturbation in pixel units (default 0.25 for fgsm, 0.3 for pgd)
  --alpha <x>         pgd step size (default 2.5 · eps / steps)
  --steps <n>         pgd iterations (default 40)
  --norm inf|2        pgd ball (default inf)
  --random-start      pgd starts from a random point of the ball
  --data <name>       dataset (default: the one the model was trained on, else mnist)
  --data-dir <dir>    folder with the dataset files (fashion-mnist, cifar10)
  --limit <n>         test images to attack (default 1000)
  --batch-size <n>    images per batch (default 250)
  --examples <n>      example images in the picture (default 8, 0 for none)
  --out <dir>         output folder (default attack-out)
  --overwrite         replace an existing picture
  --backend <name>    compute backend
  -h, --help          show this help
`;

const OPTIONS = {
  method: { type: "string" },
  eps: { type: "string" },
  alpha: { type: "string" },
  steps: { type: "string" },
  norm: { type: "string" },
  "random-start": { type: "boolean" },
  data: { type: "string" },
  "data-dir": { type: "string" },
  limit: { type: "string" },
  "batch-size": { type: "string" },
  examples: { type: "string" },
  out: { type: "string" },
  overwrite: { type: "boolean" },
  backend: { type: "string" },
} as const;

function predicted(model: Module<[x: Tensor], unknown>, x: Tensor): Int32Array {
  return Int32Array.from(noGrad(() => logitsOf(model, x, "attack").argmax(1).toArray()));
}

/** Three rows: clean images, adversarial images, perturbations (diverging colours), labelled by prediction. */
function examplesPicture(
  model: Module<[x: Tensor], unknown>,
  x: Tensor,
  adv: Tensor,
  classes: readonly string[] | undefined,
): Canvas {
  const n = x.shape[0];
  const [clean, attacked] = [predicted(model, x), predicted(model, adv)];
  const name = (k: number) => classes?.[k] ?? String(k);
  const size = x.shape.slice(1).reduce((a, b) => a * b);
  const [xs, as] = [x.toArray(), adv.toArray()];
  const [c, h, w] = x.shape.slice(1);
  const scale = Math.max(1, Math.round(56 / h));
  const pictures: Canvas[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    pictures.push(
      imageToCanvas({ data: xs.subarray(i * size, (i + 1) * size), shape: [c, h, w] }, { scale }),
    );
    labels.push(name(clean[i]));
  }
  for (let i = 0; i < n; i++) {
    pictures.push(
      imageToCanvas({ data: as.subarray(i * size, (i + 1) * size), shape: [c, h, w] }, { scale }),
    );
    labels.push(name(attacked[i]));
  }
  for (let i = 0; i < n; i++) {
    const delta = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++)
      for (let ch = 0; ch < c; ch++)
        delta[p] += (as[i * size + ch * h * w + p] - xs[i * size + ch * h * w + p]) / c;
    pictures.push(heatmapToCanvas({ data: delta, shape: [h, w] }, { colormap: "diverging", scale }));
    labels.push("delta");
  }
  return canvasGrid(pictures, { columns: n, labels, title: "clean / adversarial / perturbation" });
}

export async function attackCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse("attack", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(ATTACK_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected one <checkpoint-dir>", "attack");
  const method = choice(values, "method", ["fgsm", "pgd"] as const, "fgsm");
  const eps = num(values, "eps", method === "fgsm" ? 0.25 : 0.3, { min: 0 });
  const steps = num(values, "steps", 40, { min: 1, integer: true });
  const alpha = num(values, "alpha", (2.5 * eps) / steps, { min: 0, exclusiveMin: true });
  const norm = choice(values, "norm", ["inf", "2"] as const, "inf");
  const limit = num(values, "limit", 1000, { min: 1, integer: true });
  const batchSize = num(values, "batch-size", 250, { min: 1, integer: true });
  const examples = num(values, "examples", 8, { min: 0, integer: true });
  await selectBackend(str(values, "backend"));
  const loaded = await loadModelArgument(positionals[0], undefined);
  const dataset = str(values, "data") ?? loaded.dataset ?? "mnist";
  const data = await loadData(dataset, { dataDir: str(values, "data-dir") ?? loaded.dataDir, limit });
  if (data.shape.some((d, i) => d !== loaded.inputShape[i]))
    throw new InputError(
      `the model takes images [${loaded.inputShape.join(",")}] but ${dataset} has [${data.shape.join(",")}]`,
    );
  const attack: Attack =
    method === "fgsm"
      ? (m, x, y) => fgsm(m, x, y, { eps })
      : (m, x, y) =>
          pgd(m, x, y, { eps, alpha, steps, norm, randomStart: values["random-start"] === true, seed: 0 });
  const loader = new DataLoader(data.test, { batchSize });
  const result = await adversarialAccuracy(loaded.model, loader, attack);
  const what =
    method === "fgsm"
      ? `FGSM eps ${eps}`
      : `PGD eps ${eps} (L${norm === "inf" ? "∞" : "2"}, ${steps} steps of ${alpha})`;
  process.stdout.write(
    `${dataset} test, ${result.count} images: clean accuracy ${(100 * result.clean).toFixed(2)}%, ` +
      `under ${what} ${(100 * result.adversarial).toFixed(2)}%\n`,
  );
  if (examples > 0) {
    const exampleLoader = new DataLoader(data.test, { batchSize: Math.min(examples, data.test.length) });
    const first = await exampleLoader[Symbol.asyncIterator]().next();
    const { x, y } = first.value as { x: Tensor; y: Tensor };
    const picture = examplesPicture(loaded.model, x, attack(loaded.model, x, y), data.classes);
    await writePicture(
      str(values, "out") ?? "attack-out",
      "adversarial-examples.png",
      picture,
      values.overwrite === true,
    );
  }
  return 0;
}

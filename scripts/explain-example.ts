// A runnable tour of striate/explain on a trained LeNet-5 (the test fixtures' checkpoint): look inside the
// network, ask what it looks for, attack it. Writes its pictures to explain-example/ (or the folder given).
//   npx tsx scripts/explain-example.ts [out-dir]

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initWasm } from "../src/backend/wasm/index.js";
import { getModel, type LeNet5 } from "../src/models/index.js";
import { loadWeights } from "../src/io/safetensors.js";
import { DataLoader, subset } from "../src/data/index.js";
import { loadMnist } from "../src/node/data/mnist.js";
import { tensor } from "../src/tensor/tensor.js";
import {
  activationStatistics,
  adversarialAccuracy,
  canvasGrid,
  captureActivations,
  classModelVisualization,
  featureMapGrid,
  fgsm,
  filterGrid,
  imageToCanvas,
  pgd,
} from "../src/explain/index.js";
import { writeImagePng } from "../src/node/pictures.js";

const out = process.argv[2] ?? "explain-example";
await initWasm();

// 1. A trained model and a few test digits.
const model = getModel("lenet5") as LeNet5;
loadWeights(model, readFileSync("test/fixtures/explain/lenet5-mnist.safetensors"));
model.eval();
const testSet = await loadMnist({ split: "test" });
const first = testSet.get(0); // a 7
const x = tensor(first.x, [1, 1, 28, 28]);
const y = tensor(new Int32Array([first.y]), [1], { dtype: "int32" });

// 2. Inside the network: first-layer filters, the feature maps of the digit, per-layer statistics.
await writeImagePng(join(out, "filters.png"), filterGrid(model.conv1.weight, { scale: 10 }), {
  overwrite: true,
});
const maps = captureActivations(model, x, ["conv1", "conv2"]);
await writeImagePng(
  join(out, "conv2-maps.png"),
  featureMapGrid(maps.get("conv2")!, { scale: 4, labels: true }),
  {
    overwrite: true,
  },
);
console.table(
  activationStatistics(model, x).map(({ name, shape, mean, zeroFraction }) => ({
    name,
    shape: shape.join("x"),
    mean,
    zeroFraction,
  })),
);

// 3. What the network looks for: the class model of each digit (Simonyan et al. 2014).
const classModels = Array.from({ length: 10 }, (_, k) =>
  imageToCanvas(classModelVisualization(model, { target: k, shape: [1, 28, 28], steps: 100 }), {
    normalize: true,
    scale: 3,
  }),
);
await writeImagePng(
  join(out, "class-models.png"),
  canvasGrid(classModels, { columns: 10, labels: classModels.map((_, k) => String(k)) }),
  {
    overwrite: true,
  },
);

// 4. Adversarial examples: one FGSM step, then accuracy under attack on 500 test images.
const adversarial = fgsm(model, x, y, { eps: 0.25 });
const predicted = model.forward(adversarial).argmax(1).item();
console.log(`the 7 under FGSM eps 0.25 is read as ${predicted}`);
await writeImagePng(
  join(out, "fgsm.png"),
  canvasGrid([imageToCanvas(x, { scale: 4 }), imageToCanvas(adversarial, { scale: 4 })], {
    labels: ["clean 7", `fgsm ${predicted}`],
  }),
  {
    overwrite: true,
  },
);
const loader = new DataLoader(
  subset(
    testSet,
    Array.from({ length: 500 }, (_, i) => i),
  ),
  { batchSize: 250 },
);
const underPgd = await adversarialAccuracy(model, loader, (m, xb, yb) =>
  pgd(m, xb, yb, { eps: 0.3, alpha: 0.01, steps: 40 }),
);
console.log(
  `500 test digits: clean ${(100 * underPgd.clean).toFixed(1)}%, PGD eps 0.3 ${(100 * underPgd.adversarial).toFixed(1)}%`,
);
console.log(`pictures in ${out}/`);
process.exit(0);

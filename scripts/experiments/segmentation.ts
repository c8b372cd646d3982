// Segmentation on the synthetic shapes (docs/segmentation.md): trains the zoo's U-Net with per-pixel
// cross-entropy, reports pixel accuracy and mean IoU on held-out images, and draws input | truth |
// prediction for a few of them into docs/images/segmentation.png.
// Run: node --import tsx scripts/experiments/segmentation.ts [--train 2048] [--epochs 8] [--out docs/images/segmentation.png]

import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { F, manualSeed, noGrad, optim, scope, tensor } from "../../src/index-node.js";
import { UNet } from "../../src/models/unet.js";
import { IGNORE_LABEL, SHAPE_CLASSES, syntheticShapes } from "../../src/data/shapes.js";
import { segmentationScores } from "../../src/train/segmentation.js";
import { Canvas, type Rgba } from "../../src/viz/raster.js";
import { encodePng } from "../../src/node/plots.js";

const { values } = parseArgs({
  options: {
    train: { type: "string", default: "2048" },
    epochs: { type: "string", default: "8" },
    out: { type: "string", default: "docs/images/segmentation.png" },
  },
});
const [n, epochs] = [Number(values.train), Number(values.epochs)];
const side = 32;
const plane = side * side;
manualSeed(0);
const train = syntheticShapes(n, { seed: 1 });
const held = syntheticShapes(256, { seed: 2 });
const model = new UNet({ numClasses: SHAPE_CLASSES.length, baseWidth: 16 });
const optimizer = new optim.Adam(model.parameters(), { lr: 3e-3 });
const scheduler = new optim.CosineAnnealingLR(optimizer, { tMax: epochs });
const t0 = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  for (let i = 0; i < n; i += 32)
    scope(() => {
      const x = tensor(train.images.subarray(i * plane, (i + 32) * plane), [32, 1, side, side]);
      const y = tensor(train.masks.subarray(i * plane, (i + 32) * plane), [32, side, side], {
        dtype: "int32",
      });
      const loss = F.crossEntropy(model.forward(x), y, { ignoreIndex: IGNORE_LABEL });
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    });
  scheduler.step();
  model.eval();
  const scores = noGrad(() =>
    segmentationScores(
      model.forward(tensor(held.images, [256, 1, side, side])),
      tensor(held.masks, [256, side, side], { dtype: "int32" }),
      {
        numClasses: SHAPE_CLASSES.length,
        ignoreIndex: IGNORE_LABEL,
      },
    ),
  );
  const iou = scores.iou.map((v, c) => `${SHAPE_CLASSES[c]} ${v.toFixed(3)}`).join(", ");
  console.log(
    `epoch ${epoch}: pixel accuracy ${(100 * scores.pixelAccuracy).toFixed(2)}%, mean IoU ${scores.meanIoU.toFixed(3)} (${iou}) ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}

// input | truth | prediction for the first 6 held-out images, 4x enlarged; ignored pixels white.
const COLORS: Rgba[] = [
  [30, 30, 40, 255],
  [228, 26, 28, 255],
  [55, 126, 184, 255],
  [77, 175, 74, 255],
];
const rows = 6;
const scale = 4;
const cell = side * scale + 8;
const canvas = new Canvas(3 * cell, rows * cell, "#ffffff");
const predicted = noGrad(() =>
  F.argmax(model.forward(tensor(held.images.subarray(0, rows * plane), [rows, 1, side, side])), 1).toArray(),
);
for (let r = 0; r < rows; r++)
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const i = r * plane + y * side + x;
      const grey = Math.round(255 * held.images[i]);
      const truth = held.masks[i];
      const colors: Rgba[] = [
        [grey, grey, grey, 255],
        truth === IGNORE_LABEL ? [255, 255, 255, 255] : COLORS[truth],
        COLORS[predicted[i]],
      ];
      colors.forEach((color, column) =>
        canvas.fillRect(column * cell + 4 + x * scale, r * cell + 4 + y * scale, scale, scale, color),
      );
    }
await writeFile(values.out!, encodePng(canvas));
console.log(`wrote ${values.out}`);

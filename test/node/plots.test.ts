// Plots: the SVGs are well-formed with the expected elements and values; the PNGs (the SVG rendered by
// resvg, svg-png.ts) decode with pngjs to the stated size, show the series colours where the scene puts
// them, and have their text set in the shipped font (ink inside the labels' boxes, none around them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { writePlots } from "../../src/node/plots.js";
import { svgToPng } from "../../src/node/svg-png.js";
import {
  confusionMatrixScene,
  niceTicks,
  sceneToSvg,
  trainingCurvesScene,
  type Scene,
} from "../../src/viz/plots.js";
import { parseColor } from "../../src/viz/raster.js";

/** The scene's PNG as svgToPng renders it, decoded. */
async function rendered(scene: Scene): Promise<PNG> {
  return PNG.sync.read(Buffer.from(await svgToPng(sceneToSvg(scene))));
}

function pixel(png: PNG, x: number, y: number): number[] {
  const i = 4 * (Math.round(y) * png.width + Math.round(x));
  return [...png.data.subarray(i, i + 4)];
}

/** Pixels darker than mid-grey inside a box. */
function ink(png: PNG, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(png.height, Math.ceil(y1)); y++)
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(png.width, Math.ceil(x1)); x++)
      if (pixel(png, x, y)[0] < 128) n++;
  return n;
}

const history = [1, 2, 3].map((epoch) => ({
  epoch,
  loss: 1 / epoch,
  accuracy: 0.5 + 0.1 * epoch,
  valLoss: 1.2 / epoch,
  valAccuracy: 0.45 + 0.1 * epoch,
  lr: 0.1,
  imagesPerSec: 10,
  timeSec: 1,
}));
const matrix = [
  [5, 1, 0],
  [0, 7, 2],
  [1, 0, 9],
];

/** Checks every tag is closed in order (a small XML well-formedness check) and returns the tag names. */
function tags(svg: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else if (!selfClosing) stack.push(name);
    if (!closing) seen.push(name);
  }
  assert.deepEqual(stack, []);
  return seen;
}

test("training curves and confusion matrix are written as SVG and PNG", async () => {
  const dir = mkdtempSync(join(tmpdir(), "striate-plots-"));
  const written = await writePlots(dir, { history, confusionMatrix: matrix, classes: ["cat", "dog", "emu"] });
  assert.deepEqual(
    written.map((p) => p.slice(dir.length + 1)),
    ["training-curves.svg", "training-curves.png", "confusion-matrix.svg", "confusion-matrix.png"],
  );
  const curves = readFileSync(join(dir, "training-curves.svg"), "utf8");
  const curveTags = tags(curves);
  assert.equal(curveTags[0], "svg");
  // Lines for train and val loss and accuracy, plus legend swatches: 2 panels × 2 series × 2.
  const coloured = [...curves.matchAll(/<polyline [^>]*stroke="(#1f77b4|#ff7f0e)"/g)].length;
  assert.equal(coloured, 8);
  assert.equal([...curves.matchAll(/<circle /g)].length, 12);
  for (const label of ["Loss", "Accuracy", "epoch", "train", "val"])
    assert.ok(curves.includes(`>${label}<`), label);

  const cm = readFileSync(join(dir, "confusion-matrix.svg"), "utf8");
  tags(cm);
  for (const v of ["5", "7", "9", "2", "cat", "emu"]) assert.ok(cm.includes(`>${v}<`), v);
  assert.equal([...cm.matchAll(/<rect [^>]*stroke="#e5e5e5"/g)].length, 9);

  for (const [name, scene] of [
    ["training-curves.png", trainingCurvesScene(history)],
    ["confusion-matrix.png", confusionMatrixScene(matrix, ["cat", "dog", "emu"])],
  ] as const) {
    const png = PNG.sync.read(readFileSync(join(dir, name)));
    assert.equal(png.width, scene.width);
    assert.equal(png.height, scene.height);
    assert.deepEqual(png.data, (await rendered(scene)).data, `${name} is the SVG as resvg renders it`);
  }
});

test("the PNG puts each series' points where the scene says, and renders its text", async () => {
  const scene = trainingCurvesScene(history);
  const png = await rendered(scene);
  const circles = scene.shapes.filter((s) => s.kind === "circle");
  for (const c of circles) {
    const [r, g, b, a] = parseColor(c.fill);
    const [pr, pg, pb, pa] = pixel(png, c.cx, c.cy);
    assert.ok(
      Math.abs(pr - r) + Math.abs(pg - g) + Math.abs(pb - b) < 12 && pa === a,
      `point at ${c.cx},${c.cy}`,
    );
  }
  // Titles: ink inside the box where the scene sets "Loss" (20 px font), white in the same box above it.
  const title = scene.shapes.find((s) => s.kind === "text" && s.text === "Loss");
  assert.ok(title && title.kind === "text");
  const w = 4 * 6.02 * title.scale;
  const x0 = title.anchor === "middle" ? title.x - w / 2 : title.x;
  const inside = ink(png, x0, title.y, x0 + w, title.y + 10 * title.scale);
  assert.ok(inside > 40, `${inside} dark pixels in the title's box`);
  assert.equal(ink(png, x0, title.y - 10 * title.scale - 4, x0 + w, title.y - 4), 0);
  // The diagonal cell with the largest share is the darkest.
  const cmScene = confusionMatrixScene(matrix);
  const cm = await rendered(cmScene);
  const cells = cmScene.shapes.filter((s) => s.kind === "rect" && s.stroke === "#e5e5e5");
  const corner = cells[8] as { x: number; y: number };
  const [r] = pixel(cm, corner.x + 2, corner.y + 2);
  assert.ok(r < 60, `dark cell red channel ${r}`);
});

test("nice ticks are round and cover the range", () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 2.3), [0, 0.5, 1, 1.5, 2]);
  assert.throws(() => confusionMatrixScene([[1, 2]]), /square K×K matrix/);
});

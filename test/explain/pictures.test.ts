// Colour maps, image/heat-map canvases, overlays, grids, toImageData and the PNG writer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { tensor } from "../../src/index.js";
import {
  canvasGrid,
  colormap,
  heatmapToCanvas,
  imageToCanvas,
  mapOfImage,
  overlayHeatmap,
  toImageData,
  valueRange,
} from "../../src/explain/index.js";
import { writeImagePng } from "../../src/node/pictures.js";

test("colour maps: viridis and turbo ends, diverging white at 0, grey ramp", () => {
  assert.deepEqual(colormap("viridis", 0), [68, 1, 84]);
  assert.deepEqual(colormap("viridis", 1), [253, 231, 37]);
  assert.deepEqual(colormap("diverging", 0.5), [247, 247, 247]);
  assert.deepEqual(colormap("grey", 0.5), [128, 128, 128]);
  assert.deepEqual(colormap("jet", 0), [0, 0, 128]);
  const [r0, , b0] = colormap("turbo", 0.05);
  const [r1, , b1] = colormap("turbo", 0.95);
  assert.ok(b0 > r0 && r1 > b1, "turbo runs from blue to red");
  assert.throws(() => colormap("hot" as "jet", 0), /unknown colour map 'hot'/);
  assert.deepEqual(valueRange([-1, 3], { colormap: "diverging" }), [-3, 3]);
  assert.deepEqual(valueRange([2, 2]), [1.5, 2.5]);
});

test("imageToCanvas draws grey and RGB images, scaled; heat maps colour each value", () => {
  const grey = imageToCanvas(tensor([0, 1, 0.5, 0], [1, 1, 2, 2]), { scale: 3 });
  assert.equal(grey.width, 6);
  assert.deepEqual(grey.getPixel(3, 0), [255, 255, 255, 255]);
  assert.deepEqual(grey.getPixel(0, 5), [128, 128, 128, 255]);
  const rgb = imageToCanvas(tensor([1, 0, 0, 1, 0, 0], [3, 1, 2]));
  assert.deepEqual(rgb.getPixel(0, 0), [255, 0, 0, 255]);
  assert.deepEqual(rgb.getPixel(1, 0), [0, 255, 0, 255]);
  const heat = heatmapToCanvas(tensor([0, 1], [1, 2]), { colormap: "viridis" });
  assert.deepEqual(heat.getPixel(1, 0), [253, 231, 37, 255]);
  assert.throws(
    () => imageToCanvas(tensor(new Float32Array(8), [2, 2, 2])),
    /expected an image \[C, H, W\] with 1 or 3 channels, got \[2,2,2\]/,
  );
  assert.throws(
    () => heatmapToCanvas(tensor(new Float32Array(8), [2, 2, 2])),
    /heatmapToCanvas: expected a map \[H, W\], got \[2,2,2\]/,
  );
});

test("overlayHeatmap upsamples the map and blends with alpha", () => {
  const image = tensor(new Float32Array(16), [1, 4, 4]); // black
  const map = tensor([0, 1, 1, 0], [2, 2]);
  const out = overlayHeatmap(image, map, { alpha: 0.5, colormap: "grey" });
  assert.equal(out.width, 4);
  // Bilinear (align_corners = false) puts the corners at the map's own values: 0 → black, 1 → white · 0.5.
  assert.deepEqual(out.getPixel(0, 0), [0, 0, 0, 255]);
  assert.deepEqual(out.getPixel(3, 0), [128, 128, 128, 255]);
  assert.throws(() => overlayHeatmap(image, map, { alpha: 2 }), /alpha must be in \[0, 1\], got 2/);
});

test("canvasGrid tiles pictures with captions; toImageData and writeImagePng give the same pixels", async () => {
  const pics = [0, 0.5, 1].map((v) => imageToCanvas(tensor([v], [1, 1, 1]), { scale: 10 }));
  const grid = canvasGrid(pics, { columns: 3, labels: ["a", "b", "c"], padding: 2 });
  assert.equal(grid.width, 3 * 12 + 2);
  assert.deepEqual(grid.getPixel(2 + 12 + 5, 2 + 5), [128, 128, 128, 255]);
  assert.throws(() => canvasGrid(pics, { labels: ["a"] }), /1 labels for 3 pictures/);
  const data = toImageData(grid);
  assert.equal(data.data.length, grid.width * grid.height * 4);
  const dir = mkdtempSync(join(tmpdir(), "striate-pictures-"));
  const path = await writeImagePng(join(dir, "grid.png"), grid);
  const png = PNG.sync.read(readFileSync(path));
  assert.deepEqual([png.width, png.height], [grid.width, grid.height]);
  assert.deepEqual([...png.data], [...data.data]);
  await assert.rejects(writeImagePng(path, grid), /exists; pass \{ overwrite: true \}/);
});

test("mapOfImage takes one image's map out of a batch, summing attribution channels", () => {
  const maps = tensor([1, 2, 3, 4, -1, -2, -3, -4, 10, 20, 30, 40, 0, 0, 0, 1], [2, 2, 2, 2]);
  assert.deepEqual(mapOfImage(maps, 0), { data: Float32Array.from([0, 0, 0, 0]), shape: [2, 2] });
  assert.deepEqual(mapOfImage(maps, 1), { data: Float32Array.from([10, 20, 30, 41]), shape: [2, 2] });
  assert.deepEqual(mapOfImage(tensor([5, 6], [2, 1, 1]), 1).data, Float32Array.from([6]));
  assert.throws(() => mapOfImage(maps, 2), /index 2 is out of range for a batch of 2/);
  assert.throws(
    () => mapOfImage(tensor([1, 2]), 0),
    /expected maps \[N, H, W\] or \[N, C, H, W\], got \[2\]/,
  );
});

// Plots of a training run (browser-safe): loss and accuracy curves per epoch (train vs validation) and the
// confusion matrix. Each plot is first laid out as a small scene of rectangles, polylines, circles and
// text, then written as hand-made SVG; PNGs are that SVG rendered by resvg (src/node/svg-png.ts, Node) —
// in a browser, show the SVG or draw it on a canvas — so both formats always show the same picture.

import type { EpochLogs } from "../train/history.js";
/**
 * Width of `text` in the plots' monospaced font at a 10-pixel size (DejaVu Sans Mono, which svgToPng uses,
 * advances 0.602 em per character; browsers' monospace fonts are close), for laying out label columns.
 */
function textWidth(text: string): number {
  return Math.ceil(text.length * 6.02);
}

/** One drawing primitive of a `Scene`: a rectangle, a polyline, a circle or a text, in pixels. */
export type SceneShape =
  | { kind: "rect"; x: number; y: number; w: number; h: number; fill?: string; stroke?: string }
  | { kind: "polyline"; points: [number, number][]; stroke: string; width: number }
  | { kind: "circle"; cx: number; cy: number; r: number; fill: string }
  | {
      kind: "text";
      x: number;
      y: number;
      text: string;
      scale: number;
      anchor: "start" | "middle" | "end";
      fill: string;
    };

/** A plot laid out in pixel coordinates (origin top-left). */
export interface Scene {
  width: number;
  height: number;
  title: string;
  shapes: SceneShape[];
}

const TRAIN_COLOR = "#1f77b4";
const VAL_COLOR = "#ff7f0e";
const AXIS_COLOR = "#333333";
const GRID_COLOR = "#e5e5e5";

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

interface Series {
  label: string;
  color: string;
  values: number[];
}

interface PanelSpec {
  title: string;
  yLabel: string;
  series: Series[];
  epochs: number[];
  yMin?: number;
  yMax?: number;
}

function panel(
  shapes: SceneShape[],
  box: { x: number; y: number; w: number; h: number },
  spec: PanelSpec,
): void {
  const left = box.x + 56;
  const right = box.x + box.w - 14;
  const top = box.y + 34;
  const bottom = box.y + box.h - 36;
  const finite = spec.series.flatMap((s) => s.values.filter(Number.isFinite));
  let lo = spec.yMin ?? Math.min(...finite);
  let hi = spec.yMax ?? Math.max(...finite);
  if (finite.length === 0) [lo, hi] = [0, 1];
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const xMax = Math.max(2, spec.epochs.length);
  const px = (epoch: number) => left + ((epoch - 1) / (xMax - 1)) * (right - left);
  const py = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);

  shapes.push({
    kind: "text",
    x: (left + right) / 2,
    y: box.y + 10,
    text: spec.title,
    scale: 2,
    anchor: "middle",
    fill: AXIS_COLOR,
  });
  for (const t of niceTicks(lo, hi)) {
    shapes.push({
      kind: "polyline",
      points: [
        [left, py(t)],
        [right, py(t)],
      ],
      stroke: GRID_COLOR,
      width: 1,
    });
    shapes.push({
      kind: "text",
      x: left - 6,
      y: py(t) - 3,
      text: formatTick(t),
      scale: 1,
      anchor: "end",
      fill: AXIS_COLOR,
    });
  }
  const xTicks = niceTicks(1, xMax, Math.min(xMax - 1, 8)).filter((t) => Number.isInteger(t));
  for (const t of xTicks) {
    shapes.push({
      kind: "polyline",
      points: [
        [px(t), bottom],
        [px(t), bottom + 4],
      ],
      stroke: AXIS_COLOR,
      width: 1,
    });
    shapes.push({
      kind: "text",
      x: px(t),
      y: bottom + 8,
      text: String(t),
      scale: 1,
      anchor: "middle",
      fill: AXIS_COLOR,
    });
  }
  shapes.push({ kind: "rect", x: left, y: top, w: right - left, h: bottom - top, stroke: AXIS_COLOR });
  shapes.push({
    kind: "text",
    x: (left + right) / 2,
    y: bottom + 22,
    text: "epoch",
    scale: 1,
    anchor: "middle",
    fill: AXIS_COLOR,
  });
  shapes.push({
    kind: "text",
    x: box.x + 4,
    y: top - 14,
    text: spec.yLabel,
    scale: 1,
    anchor: "start",
    fill: AXIS_COLOR,
  });

  spec.series.forEach((series, k) => {
    // NaN values (e.g. no validation that epoch) break the line instead of drawing to zero.
    let run: [number, number][] = [];
    const flush = () => {
      if (run.length > 1) shapes.push({ kind: "polyline", points: run, stroke: series.color, width: 2 });
      run = [];
    };
    series.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return flush();
      const point: [number, number] = [px(spec.epochs[i]), py(v)];
      run.push(point);
      shapes.push({ kind: "circle", cx: point[0], cy: point[1], r: 3, fill: series.color });
    });
    flush();
    const ly = top + 8 + k * 14;
    shapes.push({
      kind: "polyline",
      points: [
        [right - 70, ly + 3],
        [right - 52, ly + 3],
      ],
      stroke: series.color,
      width: 2,
    });
    shapes.push({
      kind: "text",
      x: right - 46,
      y: ly,
      text: series.label,
      scale: 1,
      anchor: "start",
      fill: AXIS_COLOR,
    });
  });
}

/** Size of a plot in pixels; each plot has its own default. */
export interface PlotSize {
  width?: number;
  height?: number;
}

/**
 * Loss and accuracy per epoch, train vs validation, side by side.
 * @example sceneToSvg(trainingCurvesScene(history.epochs))
 */
export function trainingCurvesScene(epochs: readonly EpochLogs[], size: PlotSize = {}): Scene {
  const width = size.width ?? 800;
  const height = size.height ?? 340;
  const shapes: SceneShape[] = [];
  const epochNumbers = epochs.map((e) => e.epoch);
  const hasVal = epochs.some((e) => e.valLoss !== undefined);
  const pick = (key: keyof EpochLogs) => epochs.map((e) => (e[key] as number | undefined) ?? Number.NaN);
  const lossSeries: Series[] = [{ label: "train", color: TRAIN_COLOR, values: pick("loss") }];
  const accSeries: Series[] = [
    { label: "train", color: TRAIN_COLOR, values: pick("accuracy").map((a) => 100 * a) },
  ];
  if (hasVal) {
    lossSeries.push({ label: "val", color: VAL_COLOR, values: pick("valLoss") });
    accSeries.push({ label: "val", color: VAL_COLOR, values: pick("valAccuracy").map((a) => 100 * a) });
  }
  const half = Math.floor(width / 2);
  panel(
    shapes,
    { x: 0, y: 0, w: half, h: height },
    { title: "Loss", yLabel: "loss", series: lossSeries, epochs: epochNumbers, yMin: 0 },
  );
  const accValues = accSeries.flatMap((s) => s.values.filter(Number.isFinite));
  const accLo = accValues.length ? Math.max(0, Math.floor(Math.min(...accValues) - 1)) : 0;
  panel(
    shapes,
    { x: half, y: 0, w: width - half, h: height },
    {
      title: "Accuracy",
      yLabel: "accuracy (%)",
      series: accSeries,
      epochs: epochNumbers,
      yMin: accLo,
      yMax: 100,
    },
  );
  return { width, height, title: "Training curves", shapes };
}

/** White to dark blue for a value in [0, 1]. */
function heat(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const [r0, g0, b0] = [255, 255, 255];
  const [r1, g1, b1] = [8, 48, 107];
  const mix = (a: number, b: number) =>
    Math.round(a + (b - a) * t)
      .toString(16)
      .padStart(2, "0");
  return `#${mix(r0, r1)}${mix(g0, g1)}${mix(b0, b1)}`;
}

/**
 * The confusion matrix as a heat map (rows: true class, columns: predicted; shade = share of the row),
 * with counts in the cells when there are at most 20 classes.
 * @example sceneToSvg(confusionMatrixScene(result.confusionMatrix.matrix, dataset.classes))
 */
export function confusionMatrixScene(
  matrix: readonly (readonly number[])[],
  classes?: readonly string[],
): Scene {
  const k = matrix.length;
  if (k === 0 || matrix.some((row) => row.length !== k)) {
    throw new Error(
      `confusionMatrixScene: expected a square K×K matrix, got ${k} rows of lengths ${matrix.map((r) => r.length).join(",")}`,
    );
  }
  const cell = Math.max(14, Math.min(44, Math.floor(520 / k)));
  const labels = Array.from({ length: k }, (_, i) => (classes?.[i] ?? String(i)).slice(0, 8));
  const labelWidth = Math.max(...labels.map((l) => textWidth(l))) + 10;
  const left = 24 + labelWidth;
  const top = 64;
  const width = left + k * cell + 20;
  const height = top + k * cell + 40;
  const shapes: SceneShape[] = [];
  shapes.push({
    kind: "text",
    x: width / 2,
    y: 10,
    text: "Confusion matrix",
    scale: 2,
    anchor: "middle",
    fill: AXIS_COLOR,
  });
  shapes.push({
    kind: "text",
    x: left + (k * cell) / 2,
    y: 34,
    text: "predicted",
    scale: 1,
    anchor: "middle",
    fill: AXIS_COLOR,
  });
  shapes.push({ kind: "text", x: 4, y: top - 14, text: "true", scale: 1, anchor: "start", fill: AXIS_COLOR });
  const showCounts = k <= 20;
  matrix.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const share = total > 0 ? count / total : 0;
      const x = left + p * cell;
      const y = top + t * cell;
      shapes.push({ kind: "rect", x, y, w: cell, h: cell, fill: heat(share), stroke: GRID_COLOR });
      if (showCounts && count > 0) {
        const fill = share > 0.5 ? "#ffffff" : AXIS_COLOR;
        shapes.push({
          kind: "text",
          x: x + cell / 2,
          y: y + cell / 2 - 3,
          text: String(count),
          scale: 1,
          anchor: "middle",
          fill,
        });
      }
    });
    shapes.push({
      kind: "text",
      x: left - 6,
      y: top + t * cell + cell / 2 - 3,
      text: labels[t],
      scale: 1,
      anchor: "end",
      fill: AXIS_COLOR,
    });
  });
  labels.forEach((label, p) => {
    shapes.push({
      kind: "text",
      x: left + p * cell + cell / 2,
      y: top - 12,
      text: label,
      scale: 1,
      anchor: "middle",
      fill: AXIS_COLOR,
    });
  });
  shapes.push({ kind: "rect", x: left, y: top, w: k * cell, h: k * cell, stroke: AXIS_COLOR });
  return { width, height, title: "Confusion matrix", shapes };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const r1 = (v: number) => String(Math.round(v * 10) / 10);

/** The scene as a standalone SVG document. */
export function sceneToSvg(scene: Scene): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}">`,
    `<title>${escapeXml(scene.title)}</title>`,
    `<rect x="0" y="0" width="${scene.width}" height="${scene.height}" fill="#ffffff"/>`,
  ];
  for (const s of scene.shapes) {
    switch (s.kind) {
      case "rect":
        out.push(
          `<rect x="${r1(s.x)}" y="${r1(s.y)}" width="${r1(s.w)}" height="${r1(s.h)}" fill="${s.fill ?? "none"}"${s.stroke ? ` stroke="${s.stroke}"` : ""}/>`,
        );
        break;
      case "polyline":
        out.push(
          `<polyline points="${s.points.map(([x, y]) => `${r1(x)},${r1(y)}`).join(" ")}" fill="none" stroke="${s.stroke}" stroke-width="${s.width}"/>`,
        );
        break;
      case "circle":
        out.push(`<circle cx="${r1(s.cx)}" cy="${r1(s.cy)}" r="${s.r}" fill="${s.fill}"/>`);
        break;
      case "text":
        out.push(
          `<text x="${r1(s.x)}" y="${r1(s.y)}" font-family="monospace" font-size="${10 * s.scale}" dominant-baseline="hanging" text-anchor="${s.anchor}" fill="${s.fill}">${escapeXml(s.text)}</text>`,
        );
        break;
    }
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

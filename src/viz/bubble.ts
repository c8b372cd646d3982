// A bubble chart as a Scene (written as SVG by sceneToSvg, like the training plots): points at (x, y) with
// an area proportional to a third value and a colour per group, optionally on a log x axis — the
// accuracy-against-operations picture of Canziani et al. and Bianco et al. ("Benchmark analysis of
// representative deep neural network architectures", 2018) that docs/models.md draws for the model zoo.

import { type Scene, type SceneShape, niceTicks } from "./plots.js";

/** One bubble: its position, the value its area shows, its group (colour) and its label. */
export interface Bubble {
  label: string;
  x: number;
  y: number;
  /** Shown by the bubble's area (must be > 0). */
  size: number;
  group: string;
}

export interface BubbleChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log-scale x axis (default false); every x must then be > 0. */
  logX?: boolean;
  /** Tick label of an x value (default: the number). */
  formatX?: (x: number) => string;
  /** Legend text of a size value, e.g. (v) => `${v / 1e6}M params`. */
  formatSize?: (size: number) => string;
  /** Sizes drawn as the size legend (default: none). */
  sizeLegend?: readonly number[];
  /** Radius in pixels of the largest bubble (default 26). */
  maxRadius?: number;
  width?: number;
  height?: number;
}

const AXIS = "#333333";
const GRID = "#e5e5e5";
/** Tableau's 10 colours, then 10 more: groups beyond 20 reuse them. */
const PALETTE = [
  ...["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"],
  ...["#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d"],
  ...["#31a354", "#756bb1"],
];
/** Width in pixels of monospace text at font size 10 × scale (the SVG writer's font). */
const charWidth = (scale: number) => 6 * scale;

/** Tick values of a log axis over [lo, hi]: 1, 2, 5 × powers of ten (only powers of ten when wide). */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0 && hi >= lo)) throw new Error(`logTicks: the range must be positive, got [${lo}, ${hi}]`);
  const decades = Math.log10(hi / lo);
  const mantissas = decades > 4 ? [1] : [1, 2, 5];
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function checkBubbles(bubbles: readonly Bubble[], logX: boolean): void {
  if (bubbles.length === 0) throw new Error("bubbleChartScene: no bubbles to draw");
  for (const b of bubbles) {
    if (!Number.isFinite(b.x) || !Number.isFinite(b.y) || !(b.size > 0) || (logX && !(b.x > 0))) {
      throw new Error(
        `bubbleChartScene: bubble '${b.label}' needs finite x and y, size > 0${logX ? " and x > 0 (log axis)" : ""}; ` +
          `got x ${b.x}, y ${b.y}, size ${b.size}`,
      );
    }
  }
}

/**
 * Bubbles at (x, y), area ∝ size, one colour per group (legend on the right), each labelled beside its
 * bubble where the label does not cover an earlier one. Big bubbles are drawn first so small ones stay
 * visible on top.
 * @example sceneToSvg(bubbleChartScene(points, { title: "Top-1 vs MACs", xLabel: "MACs", yLabel: "top-1 (%)", logX: true }))
 */
export function bubbleChartScene(bubbles: readonly Bubble[], options: BubbleChartOptions): Scene {
  const logX = options.logX ?? false;
  checkBubbles(bubbles, logX);
  const width = options.width ?? 900;
  const height = options.height ?? 560;
  const groups = [...new Set(bubbles.map((b) => b.group))];
  const maxSize = Math.max(...bubbles.map((b) => b.size), ...(options.sizeLegend ?? []));
  const maxRadius = options.maxRadius ?? 24;
  const radius = (size: number) => Math.max(2.5, maxRadius * Math.sqrt(size / maxSize));
  const sizeLabels = (options.sizeLegend ?? []).map((s) => options.formatSize?.(s) ?? String(s));
  const legendWidth = Math.max(
    ...groups.map((g) => 16 + g.length * charWidth(1)),
    ...sizeLabels.map((l) => 2 * maxRadius + 8 + l.length * charWidth(1)),
  );
  const box = { left: 60, right: width - legendWidth - 24, top: 40, bottom: height - 48 };

  const tx = (x: number) => (logX ? Math.log10(x) : x);
  const xs = bubbles.map((b) => b.x);
  const ys = bubbles.map((b) => b.y);
  // Margins so that the bubbles at the ends stay inside the frame.
  const [xLo, xHi] = logX
    ? [Math.min(...xs) / 1.6, Math.max(...xs) * 1.6]
    : padded(Math.min(...xs), Math.max(...xs));
  const [yLo, yHi] = padded(Math.min(...ys), Math.max(...ys));
  const px = (x: number) => box.left + ((tx(x) - tx(xLo)) / (tx(xHi) - tx(xLo))) * (box.right - box.left);
  const py = (y: number) => box.bottom - ((y - yLo) / (yHi - yLo)) * (box.bottom - box.top);
  const color = (group: string) => PALETTE[groups.indexOf(group) % PALETTE.length];

  const shapes: SceneShape[] = [];
  const text = (x: number, y: number, t: string, anchor: "start" | "middle" | "end", scale = 1) =>
    shapes.push({ kind: "text", x, y, text: t, scale, anchor, fill: AXIS });
  const line = (points: [number, number][], stroke = AXIS) =>
    shapes.push({ kind: "polyline", points, stroke, width: 1 });

  text((box.left + box.right) / 2, 4, options.title, "middle", 1.4);
  for (const t of niceTicks(yLo, yHi)) {
    line(
      [
        [box.left, py(t)],
        [box.right, py(t)],
      ],
      GRID,
    );
    text(box.left - 6, py(t) - 5, String(t), "end");
  }
  const format = options.formatX ?? ((x: number) => String(x));
  for (const t of logX ? logTicks(xLo, xHi) : niceTicks(xLo, xHi)) {
    line(
      [
        [px(t), box.top],
        [px(t), box.bottom],
      ],
      GRID,
    );
    text(px(t), box.bottom + 6, format(t), "middle");
  }
  const frame = { x: box.left, y: box.top, w: box.right - box.left, h: box.bottom - box.top };
  shapes.push({ kind: "rect", ...frame, stroke: AXIS });
  text((box.left + box.right) / 2, box.bottom + 26, options.xLabel, "middle");
  text(box.left - 50, box.top - 14, options.yLabel, "start");

  // Bubbles, largest first; an outline (a slightly larger dark circle underneath) keeps overlaps readable.
  const order = [...bubbles].sort((a, b) => b.size - a.size);
  for (const b of order) {
    const [cx, cy, r] = [px(b.x), py(b.y), radius(b.size)];
    shapes.push({ kind: "circle", cx, cy, r: r + 1, fill: AXIS });
    shapes.push({ kind: "circle", cx, cy, r, fill: color(b.group) });
  }
  placeLabels(bubbles, { px, py, radius }, box, shapes);
  const sizeLegend = (options.sizeLegend ?? []).map((size, i) => ({ size, label: sizeLabels[i] }));
  legend(groups, color, sizeLegend, { radius, maxRadius }, { x: box.right + 16, y: box.top }, shapes);
  return { width, height, title: options.title, shapes };
}

function padded(lo: number, hi: number): [number, number] {
  const span = hi > lo ? hi - lo : 1;
  return [lo - 0.08 * span, hi + 0.08 * span];
}

/** Labels right of, left of, above or below their bubble: the first place that covers no earlier label. */
function placeLabels(
  bubbles: readonly Bubble[],
  at: { px: (x: number) => number; py: (y: number) => number; radius: (s: number) => number },
  frame: { left: number; right: number; top: number; bottom: number },
  shapes: SceneShape[],
): void {
  // Labels keep off the bubbles (their bounding squares) and off each other.
  const taken: Box[] = bubbles.map((b) => {
    const r = at.radius(b.size);
    return { x: at.px(b.x) - r, y: at.py(b.y) - r, w: 2 * r, h: 2 * r };
  });
  // Small bubbles first: they have the least room.
  for (const b of [...bubbles].sort((p, q) => p.size - q.size)) {
    const [cx, cy, r] = [at.px(b.x), at.py(b.y), at.radius(b.size)];
    const w = b.label.length * charWidth(1);
    const h = 10;
    const candidates: [Box, "start" | "end" | "middle"][] = [
      [{ x: cx + r + 3, y: cy - h / 2, w, h }, "start"],
      [{ x: cx - r - 3 - w, y: cy - h / 2, w, h }, "end"],
      [{ x: cx - w / 2, y: cy - r - 2 - h, w, h }, "middle"],
      [{ x: cx - w / 2, y: cy + r + 2, w, h }, "middle"],
      [{ x: cx + r + 3, y: cy - h / 2 - h, w, h }, "start"],
      [{ x: cx + r + 3, y: cy + h / 2, w, h }, "start"],
    ];
    const inside = (c: Box) =>
      c.x >= frame.left && c.x + c.w <= frame.right && c.y >= frame.top && c.y + c.h <= frame.bottom;
    const free = candidates.find(([c]) => inside(c) && !taken.some((t) => overlaps(t, c)));
    const [spot, anchor] = free ?? candidates.find(([c]) => inside(c)) ?? candidates[0];
    taken.push(spot);
    const x = anchor === "start" ? spot.x : anchor === "end" ? spot.x + spot.w : spot.x + spot.w / 2;
    shapes.push({ kind: "text", x, y: spot.y, text: b.label, scale: 1, anchor, fill: AXIS });
  }
}

function legend(
  groups: readonly string[],
  color: (g: string) => string,
  sizes: readonly { size: number; label: string }[],
  scale: { radius: (size: number) => number; maxRadius: number },
  origin: { x: number; y: number },
  shapes: SceneShape[],
): void {
  let y = origin.y;
  for (const g of groups) {
    shapes.push({ kind: "circle", cx: origin.x + 6, cy: y + 5, r: 5, fill: color(g) });
    shapes.push({ kind: "text", x: origin.x + 16, y, text: g, scale: 1, anchor: "start", fill: AXIS });
    y += 15;
  }
  if (sizes.length === 0) return;
  y += 12;
  shapes.push({ kind: "text", x: origin.x, y, text: "area:", scale: 1, anchor: "start", fill: AXIS });
  y += 16;
  const cx = origin.x + scale.maxRadius;
  for (const { size, label } of sizes) {
    const r = scale.radius(size);
    shapes.push({ kind: "circle", cx, cy: y + r, r: r + 1, fill: AXIS });
    shapes.push({ kind: "circle", cx, cy: y + r, r, fill: "#dddddd" });
    const x = cx + scale.maxRadius + 8;
    shapes.push({ kind: "text", x, y: y + r - 5, text: label, scale: 1, anchor: "start", fill: AXIS });
    y += 2 * r + 8;
  }
}

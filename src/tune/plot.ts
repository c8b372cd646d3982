// The picture of a search: one panel per numeric hyperparameter, score against value (log axis for log
// scales), one colour per round or rung, so a narrowing coarse-to-fine search or the promoted trials of
// successive halving are visible. A Scene, written as SVG or PNG by the same code as the training plots.

import { type Scene, type SceneShape, niceTicks } from "../viz/plots.js";
import type { Space } from "./space.js";
import type { TuneResult } from "./search.js";

const AXIS = "#333333";
const ROUND_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

function label(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0)
    ? v.toExponential(0)
    : String(Number(v.toPrecision(3)));
}

/**
 * Score against each numeric hyperparameter of a search, a panel per dimension side by side.
 * @example sceneToSvg(searchScene(result, space))
 */
export function searchScene<S extends Space>(
  result: TuneResult<S>,
  space: S,
  panelWidth = 320,
  height = 260,
): Scene {
  const numeric = Object.entries(space).filter(([, d]) => d.kind !== "choice");
  const done = result.trials.filter((t) => t.status === "done");
  const scores = done.map((t) => t.score);
  const [lo, hi] = scores.length > 0 ? [Math.min(...scores), Math.max(...scores)] : [0, 1];
  const [yLo, yHi] = hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
  const shapes: SceneShape[] = [];
  numeric.forEach(([name, d], k) => {
    const log = d.kind === "logUniform" || (d.kind === "int" && d.log);
    const scale = (v: number) => (log ? Math.log10(v) : v);
    const { low, high } = d as { low: number; high: number };
    const [x0, x1] = high > low ? [scale(low), scale(high)] : [scale(low) - 0.5, scale(high) + 0.5];
    const box = { left: k * panelWidth + 56, right: (k + 1) * panelWidth - 12, top: 30, bottom: height - 40 };
    const px = (v: number) => box.left + ((scale(v) - x0) / (x1 - x0)) * (box.right - box.left);
    const py = (v: number) => box.bottom - ((v - yLo) / (yHi - yLo)) * (box.bottom - box.top);
    shapes.push({
      kind: "rect",
      x: box.left,
      y: box.top,
      w: box.right - box.left,
      h: box.bottom - box.top,
      stroke: AXIS,
    });
    const text = (x: number, y: number, t: string, anchor: "start" | "middle" | "end") =>
      shapes.push({ kind: "text", x, y, text: t, scale: 1, anchor, fill: AXIS });
    text((box.left + box.right) / 2, height - 18, log ? `${name} (log scale)` : name, "middle");
    for (const t of niceTicks(yLo, yHi)) text(box.left - 6, py(t) - 3, label(t), "end");
    const xTicks = log
      ? niceTicks(x0, x1)
          .filter(Number.isInteger)
          .map((e) => 10 ** e)
      : niceTicks(x0, x1);
    for (const t of xTicks) text(px(t), box.bottom + 6, label(t), "middle");
    for (const t of done) {
      const v = (t.config as Record<string, unknown>)[name] as number;
      shapes.push({
        kind: "circle",
        cx: px(v),
        cy: py(t.score),
        r: 3,
        fill: ROUND_COLORS[t.round % ROUND_COLORS.length],
      });
    }
  });
  return {
    width: Math.max(1, numeric.length) * panelWidth,
    height,
    title: `${result.mode === "max" ? "higher" : "lower"} is better; colours: rounds`,
    shapes,
  };
}

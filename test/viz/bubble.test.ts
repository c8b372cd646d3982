// The bubble chart scene: area proportional to size, log and linear x positions, higher y drawn higher,
// every bubble labelled, log ticks, and clear errors for what cannot be drawn.

import { test } from "node:test";
import assert from "node:assert/strict";
import { bubbleChartScene, logTicks, type Bubble } from "../../src/viz/bubble.js";
import type { SceneShape } from "../../src/viz/plots.js";

const bubbles: Bubble[] = [
  { label: "a", x: 10, y: 50, size: 1, group: "g1" },
  { label: "b", x: 100, y: 60, size: 4, group: "g1" },
  { label: "c", x: 1000, y: 70, size: 16, group: "g2" },
];
const options = { title: "t", xLabel: "x", yLabel: "y", logX: true };

type Circle = Extract<SceneShape, { kind: "circle" }>;
/** The filled bubbles (not the outlines underneath, not the legend's): the circle drawn right after each outline. */
function bubbleCircles(shapes: SceneShape[], count: number): Circle[] {
  const circles = shapes.filter((s): s is Circle => s.kind === "circle");
  return [0, 1, 2].slice(0, count).map((i) => circles[2 * i + 1]);
}

test("bubble areas are proportional to size, largest drawn first, log x evenly spaced per decade", () => {
  const scene = bubbleChartScene(bubbles, options);
  const [c, b, a] = bubbleCircles(scene.shapes, 3); // drawn largest first
  assert.ok(Math.abs(c.r ** 2 / b.r ** 2 - 4) < 1e-9 && Math.abs(b.r ** 2 / a.r ** 2 - 4) < 1e-9);
  assert.ok(Math.abs(b.cx - a.cx - (c.cx - b.cx)) < 1e-9, "one decade is one distance");
  assert.ok(a.cy > b.cy && b.cy > c.cy, "higher y is higher up");
  const texts = scene.shapes.filter((s) => s.kind === "text").map((s) => (s as { text: string }).text);
  for (const label of ["a", "b", "c", "g1", "g2", "t"]) assert.ok(texts.includes(label), label);
});

test("a linear x axis spaces bubbles by their difference", () => {
  const scene = bubbleChartScene(
    bubbles.map((b, i) => ({ ...b, x: i })),
    { ...options, logX: false },
  );
  const [c, b, a] = bubbleCircles(scene.shapes, 3);
  assert.ok(Math.abs(b.cx - a.cx - (c.cx - b.cx)) < 1e-9);
});

test("logTicks gives 1-2-5 steps inside the range", () => {
  assert.deepEqual(logTicks(0.15, 30), [0.2, 0.5, 1, 2, 5, 10, 20]);
  assert.deepEqual(logTicks(1, 1e6), [1, 10, 100, 1000, 10000, 100000, 1000000]);
  assert.throws(() => logTicks(0, 10), /logTicks: the range must be positive, got \[0, 10\]/);
});

test("what cannot be drawn is refused with the bubble's name", () => {
  assert.throws(() => bubbleChartScene([], options), /bubbleChartScene: no bubbles to draw/);
  assert.throws(
    () => bubbleChartScene([{ ...bubbles[0], x: 0 }], options),
    /bubble 'a' needs finite x and y, size > 0 and x > 0 \(log axis\); got x 0, y 50, size 1/,
  );
  assert.throws(() => bubbleChartScene([{ ...bubbles[1], size: 0 }], options), /bubble 'b'/);
  assert.throws(() => bubbleChartScene([{ ...bubbles[2], y: Number.NaN }], options), /bubble 'c'/);
});

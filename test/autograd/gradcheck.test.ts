// The gradient checker itself: it must accept correct gradients and reject wrong ones, naming the worst
// element. Without this, a checker that always passes would make every gradcheck test meaningless.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as F from "../../src/ops/index.js";
import { tensor, type Tensor } from "../../src/tensor/tensor.js";
import { registerRules, type Rule } from "../../src/autograd/primitive.js";
import { gradcheck, distinctInput, randomInput } from "../helpers/gradcheck.js";

// A primitive cube whose backward multiplies the true derivative 3x² by `scale` at flat index `bad` only.
const rules = {
  testCube: {
    forward: ([x]) =>
      tensor(
        x.toArray().map((v) => v * v * v),
        [...x.shape],
        { dtype: x.dtype },
      ),
    backward: (g, [x], _y, { bad, scale }) => {
      const d = x.toArray().map((v) => 3 * v * v);
      d[bad] *= scale;
      return [F.mul(g, tensor(d, [...x.shape], { dtype: x.dtype }))];
    },
  } satisfies Rule<{ bad: number; scale: number }>,
};
const apply = registerRules(rules);

const cube = (x: Tensor, bad: number, scale: number): Tensor => apply("testCube", [x], { bad, scale });

test("gradcheck accepts a correct gradient and reports the elements it compared", () => {
  const report = gradcheck((x) => cube(x, 0, 1), [randomInput([2, 3])]);
  assert.equal(report.checked, 6);
  assert.ok(report.maxAbsError < 1e-7, `max error ${report.maxAbsError}`);
});

test("gradcheck rejects a gradient wrong in one element and names that element's index", () => {
  assert.throws(
    () => gradcheck((x) => cube(x, 4, 1.01), [randomInput([2, 3])]),
    /input 0 \[2,3\]: worst element at \[1,1\] has analytic .* vs numerical/,
  );
});

test("gradcheck rejects a gradient that never reaches an input", () => {
  assert.throws(
    () => gradcheck((x, y) => F.add(x, y.detach()), [randomInput([3]), randomInput([3], { seed: 2 })]),
    /input 1 \[3\].*no gradient reached this input/,
  );
});

test("gradcheck insists on float64 inputs", () => {
  assert.throws(() => gradcheck(F.neg, [randomInput([2]).to("float32")]), /input 0 must be float64/);
});

test("distinctInput values are pairwise at least the gap apart", () => {
  const v = Array.from(distinctInput([4, 5], { gap: 0.01 }).toArray()).sort((a, b) => a - b);
  for (let i = 1; i < v.length; i++) assert.ok(v[i] - v[i - 1] >= 0.0075 - 1e-12);
});

test("randomInput keeps values at least the margin away from kinks", () => {
  const v = randomInput([200], { avoid: [0, 0.5], margin: 0.05 }).toArray();
  for (const x of v) assert.ok(Math.abs(x) >= 0.05 - 1e-12 && Math.abs(x - 0.5) >= 0.05 - 1e-12, `${x}`);
});

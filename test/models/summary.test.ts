// summary()/formatSummary() totals agree with the rows they show: GoogLeNet in eval mode does not call its
// auxiliary classifiers, which still hold parameters, so they are listed as "not run" and the total says
// how much of it they are; `maxDepth: 0` (the CLI's --depth 0) prints the totals alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { formatSummary, GoogLeNet, LeNet5, summary } from "../../src/models/index.js";

const sumTopLevel = (rows: { name: string; params: number }[]) =>
  rows.filter((r) => !r.name.includes(".")).reduce((sum, r) => sum + r.params, 0);

test("GoogLeNet in eval mode: the rows add up to the total, aux heads listed as not run", () => {
  const model = new GoogLeNet({ backend: "meta" });
  const s = summary(model, [1, 3, 224, 224]);
  assert.equal(sumTopLevel(s.rows), s.totalParams);
  const notRun = s.rows.filter((r) => r.notRun && !r.name.includes("."));
  assert.deepEqual(
    notRun.map((r) => [r.name, r.type, r.params]),
    [
      ["aux1", "InceptionAux", model.aux1!.numParameters()],
      ["aux2", "InceptionAux", model.aux2!.numParameters()],
    ],
  );
  assert.ok(notRun.every((r) => r.macs === 0 && r.outputShape.length === 0));
  const text = formatSummary(s, { maxDepth: 1 });
  assert.match(text, /^aux1 \(InceptionAux\)\s+not run\s+3,\d{3},\d{3}\s+0$/m);
  const auxParams = model.aux1!.numParameters() + model.aux2!.numParameters();
  assert.match(
    text,
    new RegExp(
      `of which ${auxParams.toLocaleString("en-US")} in modules this pass did not run \\(aux1, aux2;`,
    ),
  );
});

test("GoogLeNet in training mode runs the aux heads: no 'not run' rows", () => {
  const s = summary(new GoogLeNet({ backend: "meta" }), [1, 3, 224, 224], { training: true });
  assert.equal(sumTopLevel(s.rows), s.totalParams);
  assert.equal(s.rows.filter((r) => r.notRun).length, 0);
  assert.doesNotMatch(formatSummary(s), /not run/);
});

test("maxDepth 0 prints the totals only, and the CLI accepts --depth 0", () => {
  const text = formatSummary(summary(new LeNet5(), [1, 1, 28, 28]), { maxDepth: 0 });
  assert.doesNotMatch(text, /Layer \(type\)/);
  assert.match(text, /^Total params: 61,706/m);
  const cli = spawnSync(
    process.execPath,
    ["--import", "tsx", "src/node/cli/main.ts", "summary", "lenet5", "--depth", "0"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(cli.status, 0, cli.stderr);
  assert.doesNotMatch(cli.stdout, /Layer \(type\)/);
  assert.match(cli.stdout, /Total params: /);
});

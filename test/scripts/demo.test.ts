// `npm run demo` leaves the plots `striate train` leaves (training curves and confusion matrix, SVG and
// PNG) and says where; a short run (512 images, 1 epoch) into a temporary --out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";

test("the demo writes training curves and a confusion matrix, and prints their paths", () => {
  const out = join(mkdtempSync(join(tmpdir(), "striate-demo-")), "plots");
  try {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "scripts/demo.ts", "--limit", "512", "--epochs", "1", "--out", out],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const names = [
      "training-curves.svg",
      "training-curves.png",
      "confusion-matrix.svg",
      "confusion-matrix.png",
    ];
    const printed = /^plots \(as striate train writes them\): (.*)$/m.exec(r.stdout);
    assert.ok(printed, r.stdout);
    assert.deepEqual(
      printed[1].split(", "),
      names.map((n) => join(out, n)),
    );
    assert.match(readFileSync(join(out, "training-curves.svg"), "utf8"), /<svg[\s\S]*<polyline/);
    // The confusion matrix of the ten digits, labelled, and its PNG rendering.
    const svg = readFileSync(join(out, "confusion-matrix.svg"), "utf8");
    for (let digit = 0; digit < 10; digit++) assert.match(svg, new RegExp(`>${digit}</text>`));
    const png = PNG.sync.read(readFileSync(join(out, "confusion-matrix.png")));
    assert.ok(png.width > 100 && png.height > 100);
  } finally {
    rmSync(join(out, ".."), { recursive: true, force: true });
  }
});

// `striate predict` on drawings as a user makes them: dark ink on white paper, not square, larger than
// 28×28 (PNG files drawn here). With the default --invert auto they are inverted and laid out as MNIST's
// digits were (data/prepare-image.ts), each adjustment said on stderr, and a LeNet-5 trained for a few
// seconds on real MNIST reads them right; with --invert no the same model misreads them (the issue's
// "1" read as another digit), so the inversion is what makes the difference.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PNG } from "pngjs";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "src/node/cli/main.ts");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a grey PNG: `ink(x, y)` pixels dark (20) on a light (245) background. */
function drawPng(
  path: string,
  width: number,
  height: number,
  ink: (x: number, y: number) => boolean,
): string {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink(x, y) ? 20 : 245;
      png.data.set([v, v, v, 255], 4 * (y * width + x));
    }
  }
  writeFileSync(path, PNG.sync.write(png));
  return path;
}

interface Prediction {
  file: string;
  top: { class: string; probability: number }[];
  notes: string[];
}

let work = "";
let checkpoint = "";
let digits: { file: string; label: string }[] = [];

before(() => {
  work = mkdtempSync(join(tmpdir(), "striate-predict-"));
  const train = run(
    "train",
    "lenet5",
    "--limit",
    "3000",
    "--epochs",
    "3",
    "--lr",
    "0.003",
    "--out",
    join(work, "run"),
  );
  assert.equal(train.code, 0, train.stderr);
  checkpoint = join(work, "run", "best");
  digits = [
    // A slightly slanted "1", taller than wide.
    {
      file: drawPng(
        join(work, "one.png"),
        60,
        90,
        (x, y) => Math.abs(x - 30 + (y - 45) * 0.1) < 4 && y > 12 && y < 78,
      ),
      label: "1",
    },
    // A "0" as an elliptic ring on a wide sheet.
    {
      file: drawPng(join(work, "zero.png"), 120, 90, (x, y) => {
        const r = Math.hypot((x - 60) / 28, (y - 45) / 36);
        return r > 0.75 && r < 1;
      }),
      label: "0",
    },
    // A "7": a bar and a slanted stroke.
    {
      file: drawPng(
        join(work, "seven.png"),
        90,
        120,
        (x, y) =>
          (y > 20 && y < 30 && x > 20 && x < 70) ||
          (Math.abs(x - 68 + (y - 25) * 0.35) < 5 && y >= 25 && y < 100),
      ),
      label: "7",
    },
  ];
});
after(() => rmSync(work, { recursive: true, force: true }));

function predictJson(...extra: string[]): { results: Prediction[]; stderr: string } {
  const r = run("predict", checkpoint, ...digits.map((d) => d.file), "--json", ...extra);
  assert.equal(r.code, 0, r.stderr);
  return { results: JSON.parse(r.stdout) as Prediction[], stderr: r.stderr };
}

test("black-on-white, non-square drawings are inverted and centred like MNIST, and read right", () => {
  const { results, stderr } = predictJson();
  for (const [i, { file, label }] of digits.entries()) {
    assert.equal(results[i].top[0].class, label, `${file}: ${JSON.stringify(results[i].top)}`);
    assert.match(results[i].notes.join("\n"), /dark on light .*inverted to light ink on black/);
    assert.match(results[i].notes.join("\n"), /\(not square\): ink cropped, fitted into a 20-pixel box/);
    assert.ok(stderr.includes(`note: ${file}: dark on light`), stderr);
  }
});

test("--invert no keeps the polarity (and says nothing about it); the model then misreads the digits", () => {
  const { results, stderr } = predictJson("--invert", "no");
  assert.doesNotMatch(stderr, /inverted/);
  const right = digits.filter((d, i) => results[i].top[0].class === d.label).length;
  assert.ok(right < digits.length, `all ${digits.length} read right without inversion`);
});

test("--invert takes auto, yes or no", () => {
  const r = run("predict", checkpoint, digits[0].file, "--invert", "maybe");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--invert must be one of auto, yes, no; got 'maybe'/);
});

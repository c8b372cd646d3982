// Trials in worker threads: a search spread over two workers, errors from a worker's objective, a missing
// export; and the files a search writes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { logUniform, randomSearch } from "../../src/tune/index.js";
import { workerObjective, writeTuneResults } from "../../src/node/tune.js";

const fixture = fileURLToPath(new URL("../tune/objective-fixture.mjs", import.meta.url));
const space = { lr: logUniform(1e-4, 1) };

test("workerObjective runs trials on two worker threads and the search writes its files", async () => {
  const pool = workerObjective<typeof space>(fixture, "objective", { workers: 2 });
  const dir = await mkdtemp(join(tmpdir(), "striate-tune-"));
  try {
    const result = await randomSearch(pool.objective, space, {
      trials: 8,
      mode: "max",
      concurrency: pool.workers,
    });
    assert.ok(Math.abs(Math.log10(result.best.config.lr) + 2) < 0.6);
    const files = await writeTuneResults(dir, result, space);
    assert.deepEqual((await readdir(dir)).sort(), [
      "results.csv",
      "results.jsonl",
      "search.png",
      "search.svg",
    ]);
    assert.equal((await readFile(files[0], "utf8")).trim().split("\n").length, 8);
    assert.deepEqual([...(await readFile(join(dir, "search.png"))).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("two workers run trials at the same time", async () => {
  const pool = workerObjective<typeof space>(fixture, "whichThread", { workers: 2 });
  try {
    const result = await randomSearch(pool.objective, space, { trials: 6, mode: "max", concurrency: 2 });
    assert.equal(new Set(result.trials.map((t) => t.score)).size, 2);
    assert.ok(
      result.trials.every((t) => t.score !== 0),
      "a trial ran on the main thread",
    );
  } finally {
    await pool.close();
  }
});

test("a worker's errors become failed trials; a missing export is a clear error", async () => {
  const failing = workerObjective<typeof space>(fixture, "broken", { workers: 1 });
  try {
    const result = await randomSearch(failing.objective, space, { trials: 2, mode: "max" });
    assert.deepEqual(
      result.trials.map((t) => t.error),
      ["this objective always fails", "this objective always fails"],
    );
  } finally {
    await failing.close();
  }
  const missing = workerObjective<typeof space>(fixture, "nothing", { workers: 1 });
  try {
    const result = await randomSearch(missing.objective, space, { trials: 1, mode: "max" });
    assert.match(result.trials[0].error!, /has no exported function 'nothing'/);
  } finally {
    await missing.close();
  }
  assert.throws(
    () => workerObjective(fixture, "objective", { workers: 0 }),
    /workers must be a positive integer/,
  );
});

const MAIN = fileURLToPath(new URL("../../src/node/cli/main.ts", import.meta.url));

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8" });
}

test("striate tune runs successive halving on MNIST, writes its files and prints the train command", async () => {
  const dir = await mkdtemp(join(tmpdir(), "striate-tune-cli-"));
  try {
    const r = cli(
      "tune",
      "lenet5",
      "--search",
      "halving",
      "--trials",
      "3",
      "--budget",
      "2",
      "--limit",
      "256",
      "--lr",
      "1e-3:1e-2",
      "--out",
      dir,
    );
    assert.equal(r.status, 0, r.stderr);
    // 3 trials at 1 epoch, then the best one at 2.
    assert.equal((r.stdout.match(/^trial \d+ \(round 0, 1 epoch\)/gm) ?? []).length, 3);
    assert.equal((r.stdout.match(/^trial 3 \(round 1, 2 epochs\)/gm) ?? []).length, 1);
    assert.match(r.stdout, /train it: striate train lenet5 --optimizer adam --lr [\d.e-]+ --batch-size 64/);
    assert.deepEqual((await readdir(dir)).sort(), [
      "results.csv",
      "results.jsonl",
      "search.png",
      "search.svg",
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const bad = cli("tune", "lenet5", "--lr", "0:1");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--lr must be low:high with 0 < low <= high, got '0:1'/);
});

// The checkpoint layout's guarantees (issue 9, defects 1-3): a save never writes into a directory that is not
// a Striate checkpoint, loading never writes, moves or deletes anything, a reader and a writer in two
// processes never disturb each other, a writer SIGKILLed at random instants always leaves the last
// acknowledged (or the next) checkpoint whole, and damaged files are detected by their digests.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBuiltin } from "../../src/spec/index.js";
import { manualSeed } from "../../src/tensor/rng.js";
import { loadCheckpoint, loadModel, saveCheckpoint } from "../../src/node/checkpoint.js";
import { killWriterAfter, runConcurrently, seeded } from "./checkpoint-harness.js";

const tmp = () => mkdtempSync(join(tmpdir(), "striate-store-"));
const architecture = { kind: "builtin", name: "convnetjs-mnist" } as const;

/** Every path under `dir` with its size and mtime, to prove nothing changed. */
function snapshot(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort().map((p) => {
    const s = statSync(join(dir, p));
    return `${p} ${s.size} ${s.mtimeMs}`;
  });
}

test("a save refuses a directory that is not a checkpoint and touches nothing (defect 1)", async () => {
  const work = tmp();
  const model = buildBuiltin("convnetjs-mnist");
  const papers = join(work, "best");
  mkdirSync(papers);
  writeFileSync(join(papers, "paper.pdf"), "x");
  const before = snapshot(work);
  await assert.rejects(
    saveCheckpoint(papers, { model }),
    /saveCheckpoint: '.*best' exists and is not a Striate checkpoint \(it holds paper\.pdf\); nothing was written/,
  );
  // A foreign config.json is not ours either, nor is a file where the directory should be.
  const other = join(work, "other");
  mkdirSync(other);
  writeFileSync(join(other, "config.json"), '{"format":"keras"}');
  await assert.rejects(
    saveCheckpoint(other, { model }),
    /is not a Striate checkpoint \(its config\.json is not a checkpoint's\)/,
  );
  writeFileSync(join(work, "file"), "data");
  await assert.rejects(
    saveCheckpoint(join(work, "file"), { model }),
    /'.*file' exists and is not a directory/,
  );
  assert.deepEqual(
    snapshot(work).filter((p) => !p.startsWith("other") && !p.startsWith("file")),
    before,
  );
  assert.equal(readFileSync(join(papers, "paper.pdf"), "utf8"), "x");
  // An empty directory and a checkpoint are fine; saving again replaces the checkpoint.
  const empty = join(work, "empty");
  mkdirSync(empty);
  await saveCheckpoint(empty, { model, architecture, epoch: 1 });
  await saveCheckpoint(empty, { model, architecture, epoch: 2 });
  assert.equal((await loadCheckpoint(empty)).config.epoch, 2);
});

test("loading only reads: siblings and leftovers are never moved or deleted (defect 2)", async () => {
  const work = tmp();
  const dir = join(work, "exp");
  manualSeed(3);
  const model = buildBuiltin("convnetjs-mnist");
  await saveCheckpoint(dir, { model, architecture, epoch: 1 });
  // What the old loader removed or moved: sibling .tmp-/.old- directories, an unpublished generation.
  mkdirSync(join(work, "exp.tmp-1234"));
  writeFileSync(join(work, "exp.tmp-1234", "notes.txt"), "mine");
  mkdirSync(join(work, "exp.old-backup"));
  writeFileSync(join(work, "exp.old-backup", "config.json"), "{}");
  mkdirSync(join(dir, "gen-000009-0badc0de"));
  const before = snapshot(work);
  await loadCheckpoint(dir);
  await loadModel(dir);
  assert.deepEqual(snapshot(work), before);
  // A directory without a checkpoint stays as it is too (the old loader moved a backup into it).
  const bare = join(work, "bare");
  mkdirSync(bare);
  mkdirSync(join(work, "bare.old-1"));
  writeFileSync(join(work, "bare.old-1", "config.json"), "{}");
  const beforeBare = snapshot(work);
  await assert.rejects(loadCheckpoint(bare), /'.*bare' is not a checkpoint directory/);
  assert.deepEqual(snapshot(work), beforeBare);
});

test("a damaged file is detected by its digest, naming the file (no silent wrong weights)", async () => {
  const dir = join(tmp(), "ckpt");
  const model = buildBuiltin("convnetjs-mnist");
  await saveCheckpoint(dir, { model, architecture });
  const generation = readdirSync(dir).find((n) => n.startsWith("gen-"))!;
  const weights = join(dir, generation, "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[bytes.length - 3] ^= 0x40; // a flipped exponent bit in the last weight
  writeFileSync(weights, bytes);
  await assert.rejects(
    loadModel(dir),
    /model\.safetensors: the file is damaged or was modified after saving \(its SHA-256 is [0-9a-f]{12}…, .*config\.json records/,
  );
  // Unless asked not to check (a deliberate edit).
  assert.ok((await loadCheckpoint(dir, { verifyChecksums: false })).weights.size > 0);
});

test("a symlinked generation file is read, but a save never writes through a symlink it did not create", async () => {
  const work = tmp();
  const dir = join(work, "ckpt");
  const model = buildBuiltin("convnetjs-mnist");
  await saveCheckpoint(dir, { model, architecture, epoch: 1 });
  // A pointer temporary name planted as a symlink to a user file must not be written through.
  const victim = join(work, "victim.txt");
  writeFileSync(victim, "precious");
  symlinkSync(victim, join(dir, "checkpoint.json.tmp-deadbeef"));
  await saveCheckpoint(dir, { model, architecture, epoch: 2 });
  assert.equal(readFileSync(victim, "utf8"), "precious");
  assert.equal((await loadCheckpoint(dir)).config.epoch, 2);
});

test("a reader and a writer in two processes for 5 s: zero failed or mixed loads (defect 3)", async () => {
  const dir = join(tmp(), "shared");
  const result = await runConcurrently(dir, 5000);
  assert.deepEqual(result.errors, []);
  assert.equal(result.failures, 0);
  assert.equal(result.mixed, 0);
  // The reader really raced the writer: many loads, many saves, many different checkpoints seen.
  assert.ok(result.loads > 50 && result.saves > 50 && result.distinct > 10, JSON.stringify(result));
  // Writers collect old generations: only the current one and the one before it remain.
  assert.ok(readdirSync(dir).filter((n) => n.startsWith("gen-")).length <= 2);
});

test("a writer SIGKILLed at random instants leaves the acknowledged or the next checkpoint, whole", async () => {
  const random = seeded(9);
  for (let trial = 0; trial < 3; trial++) {
    const delay = Math.floor(20 + random() * 300);
    const r = await killWriterAfter(delay);
    assert.equal(r.error, undefined, `kill after ${delay} ms: ${r.error}`);
    assert.ok(r.acknowledged >= 1);
    assert.ok(r.loaded === r.acknowledged || r.loaded === r.acknowledged + 1, JSON.stringify(r));
    assert.ok(r.whole, `kill after ${delay} ms: the loaded checkpoint mixes generations`);
  }
});

test("a version-1 checkpoint (files directly in the directory) still loads, and the next save converts it", async () => {
  const dir = join(tmp(), "v1");
  manualSeed(6);
  const model = buildBuiltin("convnetjs-mnist");
  await saveCheckpoint(dir, { model, architecture, epoch: 4 });
  // Rebuild the old layout: the generation's files moved up, no pointer.
  const generation = readdirSync(dir).find((n) => n.startsWith("gen-"))!;
  for (const name of readdirSync(join(dir, generation)))
    renameSync(join(dir, generation, name), join(dir, name));
  rmSync(join(dir, generation), { recursive: true });
  rmSync(join(dir, "checkpoint.json"));
  assert.equal((await loadCheckpoint(dir)).config.epoch, 4);
  await saveCheckpoint(dir, { model, architecture, epoch: 5 });
  assert.equal((await loadCheckpoint(dir)).config.epoch, 5);
  assert.deepEqual(
    readdirSync(dir).filter((n) => !n.startsWith("gen-")),
    ["checkpoint.json"],
  );
});

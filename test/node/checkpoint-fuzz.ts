// The checkpoint-directory fuzzer (issue 9): mutates one file of a saved checkpoint per case — truncation,
// byte flips, deletion, appended garbage, huge or negative numbers, values of the wrong type, deep
// nesting, broken pointers — and loads it. Each case must end in a clean error that names the file (never
// an internal TypeError/RangeError text, a stack overflow or a hang) or, when the mutation was re-sealed
// (digests recomputed so that it reaches field validation) and is valid, in a successful load. A raw
// mutation that loads must give back exactly the saved checkpoint. Used by checkpoint-fuzz.test.ts (a
// few hundred cases) and scripts/fuzz-checkpoint.ts (the full count, with a table for docs/reliability.md).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Adam, StepLR } from "../../src/optim/index.js";
import { buildBuiltin } from "../../src/spec/index.js";
import { randn, type Tensor } from "../../src/tensor/tensor.js";
import { manualSeed } from "../../src/tensor/rng.js";
import { loadCheckpoint, loadModel, restoreCheckpoint, saveCheckpoint } from "../../src/node/checkpoint.js";
import { generationFile, reseal } from "./checkpoint-files.js";
import { seeded } from "./checkpoint-harness.js";

const FILES = ["config.json", "optimizer.json", "model.safetensors", "checkpoint.json"] as const;
type FileName = (typeof FILES)[number];

/** Error texts that betray an internal failure instead of a checked one. */
const INTERNAL =
  /TypeError|RangeError|SyntaxError|ReferenceError|is not a function|is not iterable|Cannot read propert|Cannot convert|Maximum call stack|Invalid typed array length|Invalid array length|byte length of|out of memory/;

export type Outcome = "clean-error" | "loaded-unchanged" | "accepted-valid-edit" | "bad";

export interface FuzzCase {
  index: number;
  file: FileName;
  mutation: string;
  sealed: boolean;
  outcome: Outcome;
  detail: string;
  ms: number;
}

const architecture = { kind: "builtin", name: "convnetjs-mnist" } as const;

function build() {
  const model = buildBuiltin("convnetjs-mnist");
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const scheduler = new StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
  return { model, optimizer, scheduler };
}

/** Saves the checkpoint every case starts from: a trained step, optimizer and scheduler state, history. */
export async function makeTemplate(): Promise<{ dir: string; fingerprint: string }> {
  manualSeed(17);
  const dir = join(mkdtempSync(join(tmpdir(), "striate-fuzz-")), "template");
  const { model, optimizer, scheduler } = build();
  (model as unknown as { forward(x: Tensor): Tensor })
    .forward(randn([2, 1, 28, 28]))
    .sum()
    .backward();
  optimizer.step();
  scheduler.step();
  const epoch = {
    epoch: 1,
    loss: 0.5,
    accuracy: 0.8,
    valLoss: Number.NaN,
    lr: 1e-3,
    imagesPerSec: 1,
    timeSec: 2,
  };
  await saveCheckpoint(dir, {
    model,
    optimizer,
    scheduler,
    architecture,
    epoch: 1,
    globalStep: 7,
    history: [epoch],
    classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    inputShape: [1, 28, 28],
    metrics: { val_loss: 0.25 },
  });
  return { dir, fingerprint: await fingerprint(dir) };
}

/** Everything a load gives back, as one string, to compare a loaded checkpoint with the template. */
async function fingerprint(dir: string): Promise<string> {
  const { config, weights, optimizerState, schedulerState } = await loadCheckpoint(dir);
  const tensors = [...weights].map(
    ([k, t]) => `${k}:${t.shape.join("x")}:${Array.from(t.toArray()).join(",")}`,
  );
  const { savedAt: _savedAt, ...rest } = config;
  return JSON.stringify([rest, tensors, optimizerState, schedulerState], (_k, v: unknown) =>
    typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
  );
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

/** Every path to a value inside a JSON document (capped), for choosing where to mutate. */
function jsonPaths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (out.length > 2000) return out;
  out.push(prefix);
  if (Array.isArray(value)) value.slice(0, 20).forEach((v, i) => jsonPaths(v, [...prefix, i], out));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) jsonPaths(v, [...prefix, k], out);
  return out;
}

const WRONG_VALUES: unknown[] = [
  {},
  [],
  "x",
  null,
  true,
  -1,
  0.5,
  1e308,
  "raw:1e999",
  "raw:-1e999",
  2 ** 53,
  4294967296,
  "",
];

/** Sets `path` in a parsed JSON document to `replacement` (the whole document for the empty path). */
function setPath(doc: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  let node = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = replacement;
  return doc;
}

function getPath(doc: unknown, path: (string | number)[]): unknown {
  let node = doc;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

const toText = (doc: unknown) => JSON.stringify(doc).replace(/"raw:([^"]*)"/g, "$1");

/** A structural edit of a JSON document: wrong type, huge number, deep nesting or a removed key. */
function mutateJson(random: Random, text: string): { text: string; mutation: string } {
  const doc = JSON.parse(text) as unknown;
  const paths = jsonPaths(doc);
  const path = pick(random, paths);
  const where = path.join(".") || "(root)";
  const kind = pick(random, ["wrong-type", "wrong-type", "deep-nesting", "remove-key", "number"]);
  if (kind === "deep-nesting") {
    const depth = pick(random, [70, 1000, 20000]);
    const nested = `${"[".repeat(depth)}0${"]".repeat(depth)}`;
    return { text: toText(setPath(doc, path, `raw:${nested}`)), mutation: `nest ${where} ${depth} deep` };
  }
  if (kind === "remove-key" && path.length > 0) {
    const parent = getPath(doc, path.slice(0, -1)) as Record<string | number, unknown>;
    if (Array.isArray(parent)) parent.splice(Number(path[path.length - 1]), 1);
    else delete parent[path[path.length - 1]];
    return { text: toText(doc), mutation: `remove ${where}` };
  }
  if (kind === "number") {
    const numbers = paths.filter((p) => typeof getPath(doc, p) === "number");
    if (numbers.length > 0) {
      const p = pick(random, numbers);
      const value = pick(random, [-1, 1e308, "raw:1e999", 2 ** 53 + 2, 0.5, -0, 4294967296, 1e-320]);
      return { text: toText(setPath(doc, p, value)), mutation: `number ${p.join(".")} = ${String(value)}` };
    }
  }
  const value = pick(random, WRONG_VALUES);
  return { text: toText(setPath(doc, path, value)), mutation: `set ${where} = ${JSON.stringify(value)}` };
}

/** A structural edit of a safetensors header (re-encoded with its new length). */
function mutateSafetensors(random: Random, bytes: Buffer): { bytes: Buffer; mutation: string } {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, 8 + length).toString("utf8");
  const { text, mutation } = mutateJson(random, header);
  const head = Buffer.from(text, "utf8");
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(head.length));
  return { bytes: Buffer.concat([size, head, bytes.subarray(8 + length)]), mutation: `header ${mutation}` };
}

/** A raw edit of a file's bytes: truncation, byte flips, garbage appended, a huge length prefix. */
function mutateBytes(random: Random, bytes: Buffer, file: FileName): { bytes: Buffer; mutation: string } {
  const kind = pick(random, ["truncate", "flip", "flip", "append", "huge-length"]);
  if (kind === "truncate" || bytes.length === 0) {
    const at = Math.floor(random() * bytes.length);
    return { bytes: bytes.subarray(0, at), mutation: `truncate to ${at}/${bytes.length}` };
  }
  if (kind === "append")
    return { bytes: Buffer.concat([bytes, Buffer.from("\0garbage{[")]), mutation: "append garbage" };
  if (kind === "huge-length" && file === "model.safetensors") {
    const copy = Buffer.from(bytes);
    copy.writeBigUInt64LE(BigInt(pick(random, [2 ** 40, 2 ** 62, 7, bytes.length])), 0);
    return { bytes: copy, mutation: "safetensors header length" };
  }
  const copy = Buffer.from(bytes);
  const flips = 1 + Math.floor(random() * 4);
  for (let i = 0; i < flips; i++) copy[Math.floor(random() * copy.length)] ^= 1 + Math.floor(random() * 255);
  return { bytes: copy, mutation: `flip ${flips} byte(s)` };
}

function pathOf(dir: string, file: FileName): string {
  return file === "checkpoint.json" ? join(dir, file) : generationFile(dir, file);
}

export interface FuzzOptions {
  /**
   * Re-seal structural edits of model.safetensors headers (default true), so they reach the safetensors
   * parser itself (src/io/safetensors.ts, fuzzed on its own by test/fuzz/); unsealed, the digest stops them.
   */
  sealSafetensors?: boolean;
}

/** Applies one random mutation to a copy of the template in `dir`. */
function mutate(
  random: Random,
  dir: string,
  options: FuzzOptions,
): { file: FileName; mutation: string; sealed: boolean } {
  const file = pick(random, FILES);
  const path = pathOf(dir, file);
  const bytes = readFileSync(path);
  const roll = random();
  if (roll < 0.07 && file !== "checkpoint.json") {
    rmSync(path);
    return { file, mutation: "delete", sealed: false };
  }
  // Half the structural edits are re-sealed, so they reach the field checks instead of the digests.
  if (roll < 0.55 && file !== "checkpoint.json") {
    const sealed = random() < 0.7 && (file !== "model.safetensors" || (options.sealSafetensors ?? true));
    if (file === "model.safetensors") {
      const edit = mutateSafetensors(random, bytes);
      writeFileSync(path, edit.bytes);
      if (sealed) reseal(dir);
      return { file, mutation: edit.mutation, sealed };
    }
    const edit = mutateJson(random, bytes.toString("utf8"));
    writeFileSync(path, edit.text);
    if (sealed) reseal(dir);
    return { file, mutation: edit.mutation, sealed };
  }
  if (file === "checkpoint.json" && roll < 0.4) {
    const edit = mutateJson(random, bytes.toString("utf8"));
    writeFileSync(path, edit.text);
    return { file, mutation: edit.mutation, sealed: false };
  }
  const edit = mutateBytes(random, bytes, file);
  writeFileSync(path, edit.bytes);
  return { file, mutation: edit.mutation, sealed: false };
}

/** Loads the mutated checkpoint every way a user can; returns how it went. */
async function exercise(
  dir: string,
  expected: string,
  sealed: boolean,
): Promise<{ outcome: Outcome; detail: string }> {
  try {
    const loaded = await fingerprint(dir);
    const fresh = build();
    await restoreCheckpoint(dir, fresh);
    await loadModel(dir);
    // What was restored must also train: a poisoned optimizer state would fail here, later than the load.
    const logits = (fresh.model as unknown as { forward(x: Tensor): Tensor }).forward(randn([2, 1, 28, 28]));
    logits.sum().backward();
    fresh.optimizer.step();
    fresh.scheduler.step();
    if (loaded === expected) return { outcome: "loaded-unchanged", detail: "" };
    return sealed
      ? { outcome: "accepted-valid-edit", detail: "" }
      : { outcome: "bad", detail: "a raw mutation loaded with different contents" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const builtin = error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError;
    if (builtin || INTERNAL.test(message)) return { outcome: "bad", detail: `internal: ${message}` };
    if (!message.includes(dir)) return { outcome: "bad", detail: `does not name the file: ${message}` };
    return { outcome: "clean-error", detail: message };
  }
}

/**
 * Runs `count` seeded cases; returns each case. The template is saved once; each case works on a copy.
 * @example const cases = await fuzzCheckpoints(1200, 1)
 */
export async function fuzzCheckpoints(
  count: number,
  seed: number,
  options: FuzzOptions = {},
): Promise<FuzzCase[]> {
  const template = await makeTemplate();
  const random = seeded(seed);
  const work = mkdtempSync(join(tmpdir(), "striate-fuzz-cases-"));
  const cases: FuzzCase[] = [];
  for (let index = 0; index < count; index++) {
    const dir = join(work, `case-${index}`);
    cpSync(template.dir, dir, { recursive: true });
    const { file, mutation, sealed } = mutate(random, dir, options);
    const started = performance.now();
    const { outcome, detail } = await exercise(dir, template.fingerprint, sealed);
    cases.push({ index, file, mutation, sealed, outcome, detail, ms: performance.now() - started });
    rmSync(dir, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
  return cases;
}

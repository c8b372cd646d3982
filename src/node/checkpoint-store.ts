// The on-disk layout that makes checkpoints safe to write while other processes read them and while the
// writer may be killed at any instant (docs/reliability.md, "Checkpoints"). A checkpoint directory holds
// immutable generation directories and one pointer file naming the current one:
//
//   <dir>/checkpoint.json      {"format":"striate-checkpoint","version":2,"generation":"gen-000007-3fa0c2d1",
//                               "config":"sha256:…"}
//   <dir>/gen-000006-…/        the previous generation, kept so a reader that started on it can finish
//   <dir>/gen-000007-…/        config.json, model.safetensors, optimizer.json
//
// A writer fills a new generation directory (every file fsynced), then replaces the pointer atomically
// (temporary file + fsync + rename + directory fsync) and only then deletes generations older than the one
// it replaced. A reader reads the pointer, then the generation's files; a file that vanished because a
// writer collected its generation makes the reader re-read the pointer and start again. The pointer holds
// the SHA-256 of config.json, which holds those of the other files, so damage anywhere is detected. Nothing
// here ever writes outside `<dir>`, nor into a directory holding anything that is not a checkpoint's.

import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { lstat, mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";

/** The pointer file naming a checkpoint directory's current generation. */
export const POINTER_FILE = "checkpoint.json";
export const CHECKPOINT_FORMAT = "striate-checkpoint";
/** Files a generation (or a version-1 checkpoint directory) may hold. */
export const GENERATION_FILES = ["config.json", "model.safetensors", "optimizer.json"] as const;

const GENERATION_NAME = /^gen-(\d{6,})-[0-9a-f]{8}$/;
const POINTER_TEMP = /^checkpoint\.json\.tmp-[0-9a-f]{8}$/;
/** Pointer temporaries older than this are a crashed writer's and may be removed. */
const STALE_TEMP_MS = 60_000;
/** How often a reader starts again when writers keep collecting the generation it is reading. */
const MAX_READ_ATTEMPTS = 50;

/** Writes `bytes` to a new file `path` and flushes it to disk before returning. */
export function writeDurable(path: string, bytes: Uint8Array | string): void {
  // "wx": never follow or overwrite an existing file or symlink; every path we write is fresh.
  const fd = openSync(path, "wx");
  try {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory entry (so a rename survives a crash); not possible on every platform. */
export function fsyncDir(path: string): void {
  try {
    const fd = openSync(path, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open directories for fsync; renames there are already durable enough.
  }
}

// A test hook: STRIATE_CHECKPOINT_TEST_PAUSE=<stage> freezes the process at that stage of a save so a test
// can kill it there. The thread blocks (Atomics.wait) so nothing else runs meanwhile.
export function testPause(stage: string): void {
  if (process.env.STRIATE_CHECKPOINT_TEST_PAUSE !== stage) return;
  process.stderr.write(`checkpoint-paused:${stage}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 1000);
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** "sha256:<hex>" of `bytes`: how checkpoint.json and config.json record the files they vouch for. */
export function digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function hex(): string {
  return randomBytes(4).toString("hex");
}

/** The sequence number of a generation directory name (gen-000007-… → 7), or -1 for other names. */
function sequenceOf(name: string): number {
  const match = GENERATION_NAME.exec(name);
  return match ? Number(match[1]) : -1;
}

/** What `dir` is, as far as writing a checkpoint into it goes. */
export type DirectoryKind =
  | { kind: "absent" }
  /** A version-2 directory (pointer file), or one whose first save was interrupted before publishing. */
  | { kind: "generations"; entries: string[] }
  /** A version-1 checkpoint: config.json, model.safetensors, optimizer.json directly in `dir`. */
  | { kind: "legacy"; entries: string[] };

async function readPointerText(dir: string): Promise<string | null> {
  try {
    return await readFile(join(dir, POINTER_FILE), "utf8");
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** What a pointer file says: the current generation and the digest of its config.json. */
export interface Pointer {
  generation: string;
  config: string;
}

/** The pointer a text holds, or null when the text is not a Striate pointer. */
export function parsePointer(text: string): Pointer | null {
  if (text.length > 4096) return null;
  try {
    const p = JSON.parse(text) as {
      format?: unknown;
      version?: unknown;
      generation?: unknown;
      config?: unknown;
    };
    const ok =
      typeof p === "object" &&
      p !== null &&
      p.format === CHECKPOINT_FORMAT &&
      p.version === 2 &&
      typeof p.generation === "string" &&
      GENERATION_NAME.test(p.generation) &&
      typeof p.config === "string" &&
      /^sha256:[0-9a-f]{64}$/.test(p.config);
    if (!ok) return null;
    return { generation: p.generation as string, config: p.config as string };
  } catch {
    return null;
  }
}

async function isLegacyConfig(path: string): Promise<boolean> {
  try {
    if ((await stat(path)).size > 64 * 1024 * 1024) return false;
    const parsed = JSON.parse(await readFile(path, "utf8")) as { format?: unknown };
    return typeof parsed === "object" && parsed !== null && parsed.format === CHECKPOINT_FORMAT;
  } catch {
    return false;
  }
}

/**
 * Classifies `dir` for a save, and throws (touching nothing) when it exists but is not a Striate checkpoint:
 * a file, a directory with files of its own, or a directory whose checkpoint files are not ours.
 */
export async function inspectForWrite(dir: string, where: string): Promise<DirectoryKind> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    if (isNotFound(error)) return { kind: "absent" };
    throw error;
  }
  if (!info.isDirectory())
    throw new Error(`${where}: '${dir}' exists and is not a directory; refusing to replace it`);
  const entries = await readdir(dir);
  const foreign = entries.filter(
    (n) =>
      n !== POINTER_FILE &&
      !GENERATION_NAME.test(n) &&
      !POINTER_TEMP.test(n) &&
      !(GENERATION_FILES as readonly string[]).includes(n),
  );
  const refuse = (why: string) =>
    new Error(
      `${where}: '${dir}' exists and is not a Striate checkpoint (${why}); nothing was written. ` +
        `Save into a new directory, or move the directory away yourself.`,
    );
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(", ") + (foreign.length > 3 ? ", …" : "");
    throw refuse(`it holds ${shown}`);
  }
  const pointerText = entries.includes(POINTER_FILE) ? await readPointerText(dir) : null;
  if (pointerText !== null && parsePointer(pointerText) === null)
    throw refuse(`its ${POINTER_FILE} is not a Striate checkpoint pointer`);
  const legacyFiles = entries.filter((n) => (GENERATION_FILES as readonly string[]).includes(n));
  if (legacyFiles.length > 0) {
    if (!(await isLegacyConfig(join(dir, "config.json"))))
      throw refuse(
        `its ${legacyFiles.join(", ")} ${legacyFiles.length === 1 ? "is" : "are"} not a checkpoint's`,
      );
    if (pointerText === null) return { kind: "legacy", entries };
  }
  return { kind: "generations", entries };
}

/** A generation being written: files go into `path`, then publish() makes it the checkpoint. */
export interface PendingGeneration {
  name: string;
  path: string;
}

/** Creates `dir` if needed and a new, empty generation directory inside it. */
export async function beginGeneration(dir: string, found: DirectoryKind): Promise<PendingGeneration> {
  await mkdir(dir, { recursive: true });
  const entries = found.kind === "absent" ? [] : found.entries;
  const next = entries.reduce((max, n) => Math.max(max, sequenceOf(n)), 0) + 1;
  const name = `gen-${String(next).padStart(6, "0")}-${hex()}`;
  const path = join(dir, name);
  await mkdir(path);
  return { name, path };
}

/**
 * Makes `generation` the current checkpoint of `dir` (one atomic rename of the pointer), then removes what
 * no reader can need any more: generations older than the one just replaced, a version-1 layout's files,
 * and pointer temporaries a crashed writer left more than a minute ago.
 */
export async function publishGeneration(
  dir: string,
  generation: PendingGeneration,
  configDigest: string,
): Promise<void> {
  fsyncDir(generation.path);
  const temp = join(dir, `${POINTER_FILE}.tmp-${hex()}`);
  const pointer = {
    format: CHECKPOINT_FORMAT,
    version: 2,
    generation: generation.name,
    config: configDigest,
  };
  writeDurable(temp, `${JSON.stringify(pointer)}\n`);
  const replaced = parsePointer((await readPointerText(dir)) ?? "")?.generation ?? null;
  testPause("swap");
  await rename(temp, join(dir, POINTER_FILE));
  fsyncDir(dir);
  await collectGarbage(dir, generation.name, replaced);
}

async function collectGarbage(dir: string, current: string, replaced: string | null): Promise<void> {
  // Keep the replaced generation: a reader may have read the old pointer a moment ago.
  const keepFrom = replaced ? sequenceOf(replaced) : sequenceOf(current);
  for (const name of await readdir(dir)) {
    const seq = sequenceOf(name);
    if (seq >= 0 && seq < keepFrom && name !== current && name !== replaced) {
      await rm(join(dir, name), { recursive: true, force: true });
    } else if ((GENERATION_FILES as readonly string[]).includes(name)) {
      // A version-1 layout superseded by this save.
      await rm(join(dir, name), { force: true });
    } else if (POINTER_TEMP.test(name)) {
      const info = await lstat(join(dir, name)).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(join(dir, name), { force: true });
    }
  }
}

/** Removes a generation whose save failed before it was published. */
export async function abandonGeneration(generation: PendingGeneration): Promise<void> {
  await rm(generation.path, { recursive: true, force: true });
}

/** The raw files of one checkpoint, all from the same generation. */
export interface CheckpointFiles {
  /** Directory the files were read from (a generation directory, or `dir` for a version-1 checkpoint). */
  location: string;
  files: Map<string, Buffer>;
  /** The pointer file's digest of config.json (version-2 checkpoints). */
  configDigest?: string;
}

/** Reads `names` from `location`; a missing file is absent from the map. */
async function readFiles(
  location: string,
  names: readonly string[],
  sizeLimits: Record<string, number>,
): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of names) {
    const path = join(location, name);
    try {
      const size = (await stat(path)).size;
      const limit = sizeLimits[name];
      if (limit !== undefined && size > limit) {
        throw new Error(
          `${path}: file of ${size} bytes exceeds the limit of ${limit} bytes (raise it with the maxBytes option)`,
        );
      }
      files.set(name, await readFile(path));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return files;
}

/**
 * Reads the current checkpoint of `dir` without writing anything: the files in `names` of the generation
 * the pointer names (or of `dir` itself for a version-1 checkpoint). `required` files must exist.
 * Concurrent saves are tolerated: when a file disappears because a writer collected its generation, the
 * pointer is read again and the read starts over. Returns null when `dir` is not a checkpoint.
 */
export async function readCheckpointFiles(
  dir: string,
  names: readonly string[],
  required: readonly string[],
  sizeLimits: Record<string, number> = {},
): Promise<CheckpointFiles | null> {
  for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
    const pointerText = await readPointerText(dir);
    let location: string;
    let configDigest: string | undefined;
    if (pointerText === null) {
      // No pointer: a version-1 checkpoint (files in dir), or not a checkpoint at all.
      location = dir;
    } else {
      const pointer = parsePointer(pointerText);
      if (pointer === null) {
        throw new Error(
          `${join(dir, POINTER_FILE)}: expected {"format":"${CHECKPOINT_FORMAT}","version":2,"generation":"gen-…"}, found ${JSON.stringify(pointerText.slice(0, 120))}`,
        );
      }
      location = join(dir, pointer.generation);
      configDigest = pointer.config;
    }
    const files = await readFiles(location, names, sizeLimits);
    // A file that vanished because a writer published a newer generation and collected this one (or
    // converted a version-1 directory) meanwhile: start again from the new pointer.
    if (files.size < names.length && (await readPointerText(dir)) !== pointerText) continue;
    const missing = required.filter((n) => !files.has(n));
    if (missing.length === 0) return { location, files, configDigest };
    if (pointerText === null && !files.has(required[0])) return null;
    throw new Error(`${join(location, missing[0])}: missing (every checkpoint has ${required.join(", ")})`);
  }
  throw new Error(`${dir}: the checkpoint kept changing while being read (${MAX_READ_ATTEMPTS} attempts)`);
}

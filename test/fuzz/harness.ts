// The fuzz harness shared by the parser suites: a seeded generator, byte- and JSON-level mutations, and a runner
// that classifies each case. A case passes when the parser either throws a plain Error whose message names the
// file, or succeeds with exactly the values an independent reading of the bytes gives (`check`). Anything else
// — a TypeError/RangeError/SyntaxError, an error without the file name, a wrong value, or memory growing past
// the bound — is a bad outcome, reported with the seed and mutation so it can be replayed.

import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";

/** Cases per parser: FUZZ_CASES in the environment (scripts/fuzz.mjs sets 1000), else a quick count for npm test. */
export const FUZZ_CASES = Number(process.env.FUZZ_CASES ?? 120);

/** A hang fails the suite instead of stalling the run: generous against the ~10 s a full suite takes. */
export const FUZZ_TIMEOUT = { timeout: 300_000 };

/** Resident memory a case may add before it counts as unbounded (the parsers should stay far below). */
export const MEMORY_BOUND_BYTES = 512 * 2 ** 20;

/** mulberry32: small, seeded, good enough to pick mutations reproducibly. */
export class FuzzRng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** Values that break parsers: wrong types, non-finite and huge numbers, deep nesting. */
export function oddValue(rng: FuzzRng): unknown {
  const choices: (() => unknown)[] = [
    () => 0,
    () => -1,
    () => 1.5,
    () => NaN,
    () => Infinity,
    () => -Infinity,
    () => 1e308,
    () => 2 ** 31,
    () => 2 ** 53 + 2,
    () => "3",
    () => "",
    () => [3],
    () => [1, 2, 3],
    () => ({}),
    () => null,
    () => true,
    () => deepNest(rng.pick([10, 1000])), // deeper nesting: see deepText (JSON.stringify would overflow)
  ];
  return rng.pick(choices)();
}

/** [[[…1…]]] nested `depth` deep, built without recursion. */
export function deepNest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** JSON text of an array nested `depth` deep, for depths that JSON.stringify and structuredClone cannot build. */
export function deepText(depth: number): string {
  return "[".repeat(depth) + "1" + "]".repeat(depth);
}

/** One byte-level mutation of `bytes` (a copy), described for the report. */
export function mutateBytes(
  rng: FuzzRng,
  bytes: Uint8Array,
  hotRegion = 64,
): { bytes: Uint8Array; what: string } {
  const out = bytes.slice();
  const kind = rng.int(7);
  // Half of the positions fall in the header region, where a flip changes the meaning of everything after it.
  const position = (): number =>
    rng.next() < 0.5 ? rng.int(Math.min(hotRegion, out.length || 1)) : rng.int(out.length || 1);
  switch (kind) {
    case 0: {
      const n = rng.int(out.length);
      return { bytes: out.subarray(0, n), what: `truncate to ${n}` };
    }
    case 1: {
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips && out.length > 0; i++) out[position()] ^= 1 << rng.int(8);
      return { bytes: out, what: `flip ${flips} bits` };
    }
    case 2: {
      const at = position();
      for (let i = 0; i < 4 && at + i < out.length; i++) out[at + i] = 0xff;
      return { bytes: out, what: `0xffffffff at ${at}` };
    }
    case 3: {
      const at = position();
      const value = rng.pick([0, 1, 2 ** 31, 0x7fffffff, 65536]);
      if (at + 4 <= out.length) new DataView(out.buffer).setUint32(at, value >>> 0, rng.next() < 0.5);
      return { bytes: out, what: `uint32 ${value} at ${at}` };
    }
    case 4: {
      const extra = new Uint8Array(1 + rng.int(64)).map(() => rng.int(256));
      const joined = new Uint8Array(out.length + extra.length);
      joined.set(out);
      joined.set(extra, out.length);
      return { bytes: joined, what: `append ${extra.length} bytes` };
    }
    case 5: {
      const at = position();
      const n = Math.min(1 + rng.int(16), out.length - at);
      const cut = new Uint8Array(out.length - Math.max(0, n));
      cut.set(out.subarray(0, at));
      cut.set(out.subarray(at + Math.max(0, n)), at);
      return { bytes: cut, what: `delete ${n} bytes at ${at}` };
    }
    default: {
      const at = position();
      out[at] = rng.int(256);
      return { bytes: out, what: `random byte at ${at}` };
    }
  }
}

/** Replaces a random field somewhere in a JSON-like value with an odd value, renames or deletes it. */
export function mutateJson(rng: FuzzRng, value: unknown): { value: unknown; what: string } {
  const copy = structuredClone(value);
  const containers: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const stack: unknown[] = [copy];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        containers.push({ parent: node, key: i });
        stack.push(child);
      });
    } else if (typeof node === "object" && node !== null) {
      for (const [k, child] of Object.entries(node)) {
        containers.push({ parent: node as Record<string, unknown>, key: k });
        stack.push(child);
      }
    }
  }
  if (containers.length === 0) return { value: oddValue(rng), what: "replace the root" };
  const { parent, key } = rng.pick(containers);
  const action = rng.int(4);
  if (action === 0 && !Array.isArray(parent)) {
    const renamed = `${String(key).slice(0, -1)}${rng.pick(["", "s", "_", "X"])}`;
    (parent as Record<string, unknown>)[renamed] = (parent as Record<string, unknown>)[key as string];
    delete (parent as Record<string, unknown>)[key as string];
    return { value: copy, what: `rename '${key}' to '${renamed}'` };
  }
  if (action === 1 && !Array.isArray(parent)) {
    delete (parent as Record<string, unknown>)[key as string];
    return { value: copy, what: `delete '${key}'` };
  }
  const odd = oddValue(rng);
  (parent as Record<string | number, unknown>)[key] = odd;
  return { value: copy, what: `set '${key}' to ${describe(odd)}` };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object" && v !== null) return "an object";
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** Errors that come from the runtime rather than from a parser's own checks. */
const INTERNAL_ERRORS = [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];

/** Counts of one fuzz run, as recorded in docs/reliability.md. */
export interface FuzzResult {
  parser: string;
  cases: number;
  cleanErrors: number;
  parsed: number;
  bad: string[];
}

/**
 * Runs `cases` generated cases. `run` parses one case and returns nothing (it throws, or checks the values it
 * got). A thrown error must be a plain Error whose message matches `names` (the file name of that case).
 */
export async function fuzz(
  parser: string,
  cases: number,
  seed: number,
  makeCase: (rng: FuzzRng, i: number) => { name: string | RegExp; what: string; run: () => unknown },
): Promise<FuzzResult> {
  const rng = new FuzzRng(seed);
  const result: FuzzResult = { parser, cases, cleanErrors: 0, parsed: 0, bad: [] };
  const baseline = process.memoryUsage.rss();
  for (let i = 0; i < cases; i++) {
    const { name, what, run } = makeCase(rng, i);
    const label = `${parser} case ${i} (seed ${seed}, ${what})`;
    try {
      await run();
      result.parsed++;
    } catch (error) {
      const e = error as Error;
      const names = typeof name === "string" ? e.message?.includes(name) : name.test(e.message ?? "");
      if (e instanceof assert.AssertionError)
        result.bad.push(`${label}: wrong value: ${e.message.split("\n")[0]}`);
      else if (!(e instanceof Error) || INTERNAL_ERRORS.some((kind) => e instanceof kind))
        result.bad.push(`${label}: ${e?.constructor?.name}: ${e?.message}`);
      else if (!names) result.bad.push(`${label}: message does not name the file: ${e.message}`);
      else result.cleanErrors++;
    }
    const grown = process.memoryUsage.rss() - baseline;
    if (grown > MEMORY_BOUND_BYTES)
      result.bad.push(`${label}: resident memory grew by ${(grown / 2 ** 20).toFixed(0)} MB`);
  }
  if (process.env.FUZZ_REPORT) appendFileSync(process.env.FUZZ_REPORT, JSON.stringify(result) + "\n");
  return result;
}

/** Asserts a fuzz run had no bad outcome, listing the first few. */
export function assertClean(result: FuzzResult): void {
  assert.deepEqual(result.bad.slice(0, 10), [], `${result.bad.length} bad outcomes`);
  assert.equal(result.cleanErrors + result.parsed, result.cases);
}

// Mutation fuzzing of importOnnx over the fixture files (byte-level and field-level mutations) (used by test/io/onnx-fuzz.test.ts with a few
// hundred cases and by scripts/onnx-fuzz.ts with a thousand or more).

import { readFileSync } from "node:fs";
import { Rng, noGrad, tensor } from "../../src/index.js";
import { importOnnx } from "../../src/io/onnx.js";
import { decodeModel, encodeModel, type ModelProto } from "../../src/io/onnx/proto.js";

const DIR = new URL("../fixtures/onnx/", import.meta.url);

interface FuzzCase {
  file: string;
  input: { shape: number[]; data: string };
}

export interface FuzzReport {
  cases: number;
  imported: number;
  ran: number;
  rejected: number;
  slowestMs: number;
  heapGrowthBytes: number;
  /** Error messages with numbers and names blanked, by count (what kinds of problems were named). */
  messages: Map<string, number>;
  /** Cases that threw something other than an Error with a message, or took too long. */
  failures: string[];
}

/** A single case may take this long (import plus a forward pass of a small fixture). */
const CASE_LIMIT_MS = 5000;

function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = [...bytes];
  const edits = 1 + Math.floor(rng.uniform() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rng.uniform() * out.length);
    const kind = Math.floor(rng.uniform() * 5);
    const byte = Math.floor(rng.uniform() * 256);
    if (kind === 0) out[at] ^= 1 << Math.floor(rng.uniform() * 8);
    else if (kind === 1) out[at] = byte;
    else if (kind === 2) out.splice(at, 0, byte);
    else if (kind === 3) out.splice(at, 1);
    else out.length = at;
  }
  return Uint8Array.from(out);
}

/** Values that break assumptions: zero, negative, huge, off by one. */
const NASTY = [0, -1, 1, 2, 3, -7, 1 << 20, 2 ** 40, -(2 ** 40)];

/**
 * A field-level mutation of the decoded model (so that it survives the protobuf decoder and reaches the
 * op mapping): an attribute's integer(s) or float, an initializer's dims, a node's input name or op type.
 */
function mutateFields(model: ModelProto, rng: Rng): void {
  const graph = model.graph!;
  const pick = <T>(items: readonly T[]): T | undefined =>
    items.length === 0 ? undefined : items[Math.floor(rng.uniform() * items.length)];
  const nasty = () => pick(NASTY)!;
  const kind = Math.floor(rng.uniform() * 5);
  const node = pick(graph.node);
  if (kind === 0 && node) {
    const a = pick(node.attribute);
    if (!a) return;
    if (a.ints.length > 0) a.ints[Math.floor(rng.uniform() * a.ints.length)] = nasty();
    else if (a.i !== undefined) a.i = nasty();
    else if (a.f !== undefined) a.f = nasty() * rng.uniform();
  } else if (kind === 1) {
    const t = pick(graph.initializer);
    if (t && t.dims.length > 0) t.dims[Math.floor(rng.uniform() * t.dims.length)] = nasty();
  } else if (kind === 2 && node && node.input.length > 0) {
    node.input[Math.floor(rng.uniform() * node.input.length)] = pick(graph.node)?.output[0] ?? "";
  } else if (kind === 3 && node) {
    node.op_type = pick(graph.node)?.op_type;
  } else {
    const t = pick(graph.initializer);
    if (t && t.raw_data && t.raw_data.length >= 8) {
      // An int64 initializer (shapes, pads, axes) gets a nasty value in its first element.
      new DataView(t.raw_data.buffer, t.raw_data.byteOffset).setBigInt64(0, BigInt(nasty()), true);
    }
  }
}

export function fuzzOnnx(count: number, seed: number): FuzzReport {
  const cases: FuzzCase[] = JSON.parse(readFileSync(new URL("cases.json", DIR), "utf8")).cases;
  const files = cases.map((c) => ({
    bytes: new Uint8Array(readFileSync(new URL(c.file, DIR))),
    input: tensor(
      new Float32Array(new Uint8Array(Buffer.from(c.input.data, "base64")).buffer),
      c.input.shape,
    ),
  }));
  const rng = new Rng(seed);
  const report: FuzzReport = {
    cases: 0,
    imported: 0,
    ran: 0,
    rejected: 0,
    slowestMs: 0,
    heapGrowthBytes: 0,
    messages: new Map(),
    failures: [],
  };
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    const source = files[i % files.length];
    // Alternate byte mutations (the decoder's checks) and field mutations (the importer's and ops' checks).
    let bytes: Uint8Array;
    if (i % 2 === 0) bytes = mutate(source.bytes, rng);
    else {
      const model = decodeModel(source.bytes);
      mutateFields(model, rng);
      bytes = encodeModel(model);
    }
    const started = performance.now();
    try {
      const model = importOnnx(bytes).eval();
      report.imported++;
      noGrad(() => model.forward(source.input));
      report.ran++;
    } catch (e) {
      if (!(e instanceof Error) || !e.message) {
        report.failures.push(`case ${i}: threw ${String(e)}`);
      } else {
        report.rejected++;
        const kind = e.message
          .replace(/'[^']*'/g, "'…'")
          .replace(/-?\d+(\.\d+)?(e-?\d+)?/g, "#")
          .slice(0, 120);
        report.messages.set(kind, (report.messages.get(kind) ?? 0) + 1);
      }
    }
    const ms = performance.now() - started;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (ms > CASE_LIMIT_MS) report.failures.push(`case ${i}: took ${ms.toFixed(0)} ms`);
    report.cases++;
  }
  report.heapGrowthBytes = process.memoryUsage().heapUsed - heapBefore;
  return report;
}

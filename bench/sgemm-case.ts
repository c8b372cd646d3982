// Striate's SGEMM figures for the main run: imports bench/sgemm.ts (which measures the wasm kernels, both
// builds, 1 and 2 threads, and prints a Markdown table) and reads that table back into numbers, so the
// kernel benchmark has one source. BENCH_MS (read by sgemm.ts) sets its time per shape.

import { type CaseSpec, type CaseResult } from "./common.js";

/** "256³" -> "256x256x256", "64×4096×576" -> "64x4096x576" (the keys the peers use). */
function shapeKey(name: string): string {
  const cube = /^(\d+)³$/.exec(name);
  return cube ? `${cube[1]}x${cube[1]}x${cube[1]}` : name.replaceAll("×", "x");
}

/** Parses sgemm.ts's rows "| build | threads | 256³ | … |" into { "<build>/<threads>": { shape: GFLOP/s } }. */
export function parseSgemmTable(lines: readonly string[]): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  let header: string[] | null = null;
  for (const line of lines.flatMap((l) => l.split("\n"))) {
    if (!line.startsWith("|")) continue;
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells[0] === "build") {
      header = cells;
      continue;
    }
    if (header === null || cells.every((c) => /^-*$/.test(c)) || cells[1] === "") continue;
    const row: Record<string, number> = {};
    header.slice(2).forEach((name, i) => {
      const value = Number(cells[i + 2]);
      if (Number.isFinite(value)) row[shapeKey(name)] = value;
    });
    table[`${cells[0]}/${cells[1]}`] = row;
  }
  return table;
}

export async function runSgemm(spec: CaseSpec): Promise<CaseResult> {
  process.env.BENCH_MS = String(Math.max(100, Math.round(spec.budgetMs)));
  const captured: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => captured.push(args.map(String).join(" "));
  // sgemm.ts parses its own command line strictly; this process's argument is the case spec, not for it.
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  try {
    await import("./sgemm.js");
  } finally {
    console.log = log;
    process.argv = argv;
  }
  const table = parseSgemmTable(captured);
  // sgemm.ts measures every thread count at once; keys here are "<threads>:<shape>". The runtime picks the
  // relaxed-SIMD build where the engine has it, so that one is "Striate wasm"; the plain build is a note.
  const values: Record<string, number> = {};
  const notes: string[] = [];
  for (const threads of [1, 2]) {
    const relaxed = table[`relaxed-simd (FMA)/${threads}`];
    const plain = table[`simd/${threads}`];
    for (const [shape, v] of Object.entries(relaxed ?? plain ?? {})) values[`${threads}:${shape}`] = v;
    if (relaxed && plain) {
      notes.push(
        `plain-SIMD build, ${threads} thread(s): ${Object.values(plain)
          .map((v) => v.toFixed(1))
          .join(" / ")}`,
      );
    }
  }
  if (Object.keys(values).length === 0) return { skip: "bench/sgemm.ts printed no table" };
  return { values, unit: "GFLOP/s", note: notes.join("; ") || undefined };
}

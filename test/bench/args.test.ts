// The benchmark scripts' command lines: unknown options, stray arguments and missing values are refused
// with one line naming the script, the option and what is expected; --help lists every option.

import { test } from "node:test";
import assert from "node:assert/strict";
import { oneOfList, parseOptions, positiveInts, UsageError } from "../../bench/args.js";

const cmd = {
  command: "bench/x.ts",
  summary: "Measures x.",
  options: {
    quick: { type: "boolean", help: "short run" },
    threads: { type: "string", value: "LIST", help: "thread counts", default: "1,2" },
    json: { type: "string", value: "FILE", help: "write results" },
  },
} as const;

test("options parse with their defaults", () => {
  assert.deepEqual(parseOptions(cmd, []), { values: { quick: false, threads: "1,2" } });
  assert.deepEqual(parseOptions(cmd, ["--quick", "--threads", "4", "--json=out.json"]), {
    values: { quick: true, threads: "4", json: "out.json" },
  });
});

test("--help returns the usage with every option and its default", () => {
  const parsed = parseOptions(cmd, ["--quick", "--help"]);
  assert.ok("help" in parsed);
  assert.match(parsed.help, /^Usage: bench\/x\.ts \[options\]\n\nMeasures x\./);
  assert.match(parsed.help, /--threads LIST +thread counts \(default: 1,2\)/);
  assert.match(parsed.help, /--json FILE +write results\n/);
  assert.match(parsed.help, /--help +print this help and exit/);
});

test("bad command lines are refused with the option and what is expected", () => {
  const refuse = (argv: string[], message: RegExp) =>
    assert.throws(
      () => parseOptions(cmd, argv),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
    );
  refuse(
    ["--quik"],
    /^bench\/x\.ts: unknown option '--quik'; known options: --quick, --threads LIST, --json FILE, --help \(see --help\)$/,
  );
  refuse(["--json"], /^bench\/x\.ts: option --json needs a value \(FILE\) \(see --help\)$/);
  refuse(["--quick=yes"], /option --quick takes no value/);
  refuse(["lenet"], /unexpected argument 'lenet' \(options start with --\)/);
});

test("list values are checked item by item", () => {
  assert.deepEqual(positiveInts("b", "threads", "1,2"), [1, 2]);
  for (const bad of ["", "0", "1,x", "1.5", "-1"])
    assert.throws(
      () => positiveInts("b", "threads", bad),
      /b: --threads expects comma-separated positive integers/,
    );
  assert.deepEqual(oneOfList("b", "only", "lenet, sgemm", ["lenet", "sgemm", "loop"]), ["lenet", "sgemm"]);
  assert.throws(() => oneOfList("b", "only", "lenet,sgem", ["lenet", "sgemm"]), {
    name: "UsageError",
    message: "b: --only got unknown 'sgem'; expected a comma-separated list of: lenet, sgemm",
  });
  assert.throws(() => oneOfList("b", "only", ",", ["lenet"]), /--only got nothing/);
});

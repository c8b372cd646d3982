// Bounded JSON parsing (src/io/json.ts): the size and nesting-depth limits fail cleanly, naming the file,
// before JSON.parse can exhaust memory or the stack; limits can be raised per call; valid JSON parses as
// JSON.parse does (brackets inside strings do not count as nesting).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_JSON_LIMITS, JsonFileError, parseJsonBounded } from "../../src/io/json.js";

test("valid JSON parses exactly as JSON.parse; brackets and escaped quotes inside strings are not nesting", () => {
  const text = JSON.stringify({ a: [1, { b: '[[[{{{\\"]]]' }], c: null, d: -1.5e3 });
  assert.deepEqual(parseJsonBounded(text, "x.json"), JSON.parse(text));
  const deepString = JSON.stringify({ s: "[".repeat(10000) });
  assert.deepEqual(parseJsonBounded(deepString, "s.json"), JSON.parse(deepString));
});

test("nesting deeper than the limit is a JsonFileError naming the file, also at 100,000 levels", () => {
  for (const depth of [65, 10_000, 100_000]) {
    const text = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    assert.throws(
      () => parseJsonBounded(text, "runs/x/optimizer.json"),
      (e: Error) =>
        e instanceof JsonFileError &&
        /^runs\/x\/optimizer\.json: JSON nested more than 64 levels deep \(at character 64; raise the limit with the maxDepth option\)$/.test(
          e.message,
        ),
    );
  }
  assert.equal(DEFAULT_JSON_LIMITS.maxDepth, 64);
  const sixtyFour = `${"[".repeat(64)}${"]".repeat(64)}`;
  assert.doesNotThrow(() => parseJsonBounded(sixtyFour, "ok.json"));
  assert.doesNotThrow(() =>
    parseJsonBounded(`${"[".repeat(100)}${"]".repeat(100)}`, "ok.json", { maxDepth: 100 }),
  );
});

test("text over maxBytes and invalid JSON are JsonFileErrors naming the file", () => {
  assert.throws(
    () => parseJsonBounded(`"${"x".repeat(100)}"`, "big.json", { maxBytes: 50 }),
    (e: Error) =>
      e instanceof JsonFileError &&
      e.message ===
        "big.json: JSON text of 102 bytes exceeds the limit of 50 (raise it with the maxBytes option)",
  );
  for (const bad of ["", "{", '{"a": 1,}', "[1, 2", '"unterminated', "NaN", "{'a': 1}"]) {
    assert.throws(
      () => parseJsonBounded(bad, "spec.json"),
      (e: Error) => e instanceof JsonFileError && e.message.startsWith("spec.json: not valid JSON: "),
      bad,
    );
  }
});

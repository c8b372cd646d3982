// Bounded JSON parsing for files Striate reads (checkpoint config.json / optimizer.json, model spec files):
// the text is checked against a size limit and scanned once for its nesting depth before JSON.parse runs,
// so a huge or 10,000-deep file fails with an error naming the file instead of exhausting memory or the
// stack (JSON.parse and revivers recurse per level). Browser-safe: no Node imports.

/** Limits of parseJsonBounded; each can be raised per call. */
export interface JsonLimits {
  /** Largest accepted text, in UTF-16 code units (≈ bytes for JSON). */
  maxBytes: number;
  /** Deepest accepted nesting of arrays and objects (the top-level value is depth 1). */
  maxDepth: number;
}

/**
 * Default limits: 64 MiB and 64 levels. A checkpoint's config.json or a model spec is a few kilobytes and
 * at most ~8 levels deep; optimizer.json of a large model is bigger, and checkpoint.ts passes a larger
 * `maxBytes` for it (OPTIMIZER_JSON_LIMITS there).
 */
export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxDepth: 64,
});

/** A file that is not acceptable JSON: names the file and says what was wrong. */
export class JsonFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = "JsonFileError";
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Maximum nesting depth of the arrays and objects in `text` (strings skipped), stopping past `limit`. */
function nestingDepth(text: string, limit: number): { depth: number; at: number } {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return { depth: deepest, at: i };
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return { depth: deepest, at: -1 };
}

/**
 * Parses JSON `text` read from `file` after checking it against `limits` (defaults DEFAULT_JSON_LIMITS).
 * Every failure is a JsonFileError naming the file: too large, nested too deep (with the limit and how to
 * raise it) or not JSON (with the parser's position).
 * @example parseJsonBounded(await readFile(path, "utf8"), path, { maxDepth: 16 })
 */
export function parseJsonBounded(text: string, file: string, limits: Partial<JsonLimits> = {}): unknown {
  const { maxBytes, maxDepth } = { ...DEFAULT_JSON_LIMITS, ...limits };
  if (text.length > maxBytes) {
    throw new JsonFileError(
      file,
      `JSON text of ${text.length} bytes exceeds the limit of ${maxBytes} (raise it with the maxBytes option)`,
    );
  }
  const { depth, at } = nestingDepth(text, maxDepth);
  if (depth > maxDepth) {
    throw new JsonFileError(
      file,
      `JSON nested more than ${maxDepth} levels deep (at character ${at}; raise the limit with the maxDepth option)`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new JsonFileError(file, `not valid JSON: ${(error as Error).message}`);
  }
}

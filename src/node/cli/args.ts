// Command-line parsing helpers for the striate CLI, over node:util's parseArgs (strict: unknown flags and
// missing values are errors). Every problem becomes a UsageError whose message names the flag and what
// was expected; main.ts prints it with the command's usage line and exits with status 2.

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in the command line (exit status 2). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | undefined>;

/**
 * Joins `--flag -1` into `--flag=-1` for string flags: parseArgs would otherwise take the negative number
 * for an option and fail with "argument is ambiguous", instead of the range check naming the flag.
 */
function joinNegativeNumbers(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : "";
    const next = argv[i + 1];
    if (options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** Parses argv for `command`; `--help` is always accepted. */
export function parse(
  command: string,
  argv: string[],
  options: Options,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeNumbers(argv, options),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    // parseArgs' messages are good ("Unknown option '--lrr'"); drop its hint about '--' for positionals.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message, command);
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A number flag, checked against bounds; `integer` rejects fractions. */
export function num(
  values: Values,
  name: string,
  fallback: number,
  check: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {},
): number {
  const raw = str(values, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  const kind = check.integer ? "an integer" : "a number";
  if (raw.trim() === "" || !Number.isFinite(v) || (check.integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${kind}, got '${raw}'`);
  }
  if (check.min !== undefined && (check.exclusiveMin ? v <= check.min : v < check.min)) {
    throw new UsageError(`--${name} must be ${check.exclusiveMin ? ">" : "≥"} ${check.min}, got ${raw}`);
  }
  if (check.max !== undefined && v > check.max)
    throw new UsageError(`--${name} must be ≤ ${check.max}, got ${raw}`);
  return v;
}

/** An optional integer flag (undefined when absent). */
export function optionalInt(values: Values, name: string, min = 1): number | undefined {
  return str(values, name) === undefined ? undefined : num(values, name, 0, { min, integer: true });
}

export function choice<T extends string>(
  values: Values,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = str(values, name) ?? fallback;
  if (!allowed.includes(raw as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}; got '${raw}'`);
  return raw as T;
}

/** A comma-separated list flag, each item checked against `allowed`. */
export function list<T extends string>(values: Values, name: string, allowed: readonly T[]): T[] {
  const raw = str(values, name);
  if (raw === undefined || raw.trim() === "" || raw === "none") return [];
  const items = raw.split(",").map((s) => s.trim());
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new UsageError(
        `--${name}: unknown value '${item}'; use a comma-separated list of ${allowed.join(", ")}`,
      );
    }
  }
  return items as T[];
}

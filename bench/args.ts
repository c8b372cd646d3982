// Command-line options of the benchmark scripts: node:util's parseArgs (strict: unknown options and
// stray arguments are errors) plus a usage text for `--help` and one-line errors that name the script, the
// offending option and what is expected, instead of parseArgs's stack trace.

import { parseArgs } from "node:util";

/** One option: its type, what it does (for --help), and for string options the value's name and default. */
export type OptionSpec =
  { type: "boolean"; help: string } | { type: "string"; help: string; value: string; default?: string };

/** The parsed values: booleans are always set; strings are set when given or defaulted. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K] extends { type: "boolean" }
    ? boolean
    : O[K] extends { default: string }
      ? string
      : string | undefined;
};

/** A command line the script cannot run with; the message is meant for the user as it is. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What a script says about itself in --help. */
export interface CommandSpec<O extends Record<string, OptionSpec>> {
  /** How it is started, e.g. "npm run bench --". */
  command: string;
  /** One or two sentences: what it measures. */
  summary: string;
  options: O;
}

function optionLabel(name: string, spec: OptionSpec): string {
  return spec.type === "string" ? `--${name} ${spec.value}` : `--${name}`;
}

/** The --help text: the summary, then one line per option with its default. */
export function usage<O extends Record<string, OptionSpec>>(cmd: CommandSpec<O>): string {
  const entries: [string, OptionSpec][] = [
    ...Object.entries(cmd.options),
    ["help", { type: "boolean", help: "print this help and exit" }],
  ];
  const labels = entries.map(([name, spec]) => optionLabel(name, spec));
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  const lines = entries.map(([, spec], i) => {
    const dflt = spec.type === "string" && spec.default !== undefined ? ` (default: ${spec.default})` : "";
    return `  ${labels[i].padEnd(width)}${spec.help}${dflt}`;
  });
  return `Usage: ${cmd.command} [options]\n\n${cmd.summary}\n\nOptions:\n${lines.join("\n")}\n`;
}

/** parseArgs's error codes turned into one sentence naming the option and what is expected. */
function explain<O extends Record<string, OptionSpec>>(cmd: CommandSpec<O>, error: Error): string {
  const code = (error as { code?: string }).code;
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? "";
  const known = [...Object.entries(cmd.options).map(([n, s]) => optionLabel(n, s)), "--help"].join(", ");
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option '${quoted}'; known options: ${known}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
    return `unexpected argument '${quoted}' (options start with --); known options: ${known}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--([\w-]+)/.exec(error.message)?.[1] ?? quoted;
    const spec = cmd.options[name];
    return spec?.type === "string"
      ? `option --${name} needs a value (${spec.value})`
      : `option --${name} takes no value`;
  }
  return error.message;
}

/**
 * Parses `argv` against the command's options. Returns `{ help }` (the usage text) when --help was given;
 * throws a UsageError naming the script, the option and what is expected for anything else it cannot use.
 */
export function parseOptions<O extends Record<string, OptionSpec>>(
  cmd: CommandSpec<O>,
  argv: readonly string[],
): { help: string } | { values: OptionValues<O> } {
  const options: Record<string, { type: "string" | "boolean"; default?: string | boolean }> = {
    help: { type: "boolean", default: false },
  };
  for (const [name, spec] of Object.entries(cmd.options)) {
    options[name] =
      spec.type === "boolean"
        ? { type: "boolean", default: false }
        : { type: "string", default: spec.default };
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError(`${cmd.command}: ${explain(cmd, e as Error)} (see --help)`);
  }
  const { help, ...rest } = values;
  return help === true ? { help: usage(cmd) } : { values: rest as OptionValues<O> };
}

/** Runs `fn` at a script's top level: a UsageError it throws is printed (no stack) and exits with 2. */
export function orExit<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
}

/**
 * parseOptions for a script's top level: prints the usage and exits 0 on --help, prints the error and
 * exits 2 on a bad command line.
 */
export function parseCommandLine<O extends Record<string, OptionSpec>>(
  cmd: CommandSpec<O>,
  argv: readonly string[] = process.argv.slice(2),
): OptionValues<O> {
  const parsed = orExit(() => parseOptions(cmd, argv));
  if ("help" in parsed) {
    process.stdout.write(parsed.help);
    process.exit(0);
  }
  return parsed.values;
}

/**
 * A comma-separated list of positive integers (`--threads 1,2`); a UsageError naming the option otherwise.
 */
export function positiveInts(command: string, option: string, text: string): number[] {
  const parts = text.split(",");
  const numbers = parts.map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : Number.NaN));
  if (text.trim() === "" || numbers.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError(
      `${command}: --${option} expects comma-separated positive integers (e.g. 1,2), got '${text}'`,
    );
  }
  return numbers;
}

/** A comma-separated list whose every item is one of `allowed`; a UsageError listing them otherwise. */
export function oneOfList(
  command: string,
  option: string,
  text: string,
  allowed: readonly string[],
): string[] {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const unknown = items.filter((s) => !allowed.includes(s));
  if (items.length === 0 || unknown.length > 0) {
    const what = items.length === 0 ? "nothing" : `unknown ${unknown.map((u) => `'${u}'`).join(", ")}`;
    throw new UsageError(
      `${command}: --${option} got ${what}; expected a comma-separated list of: ${allowed.join(", ")}`,
    );
  }
  return items;
}

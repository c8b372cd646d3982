#!/usr/bin/env node
// The `striate` command line: train, eval, predict, summary, tune, finetune, explain, visualize and
// attack. Usage mistakes print the command's help hint and exit with status 2; any other error prints
// `striate: <message>` and exits with status 1 (the stack trace only with --debug or STRIATE_DEBUG=1); an
// interrupted training run exits with 130 after saving its checkpoint.

import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError } from "./args.js";
import { TRAIN_USAGE, trainCommand } from "./train.js";
import { EVAL_USAGE, evalCommand } from "./evaluate.js";
import { PREDICT_USAGE, predictCommand } from "./predict.js";
import { SUMMARY_USAGE, summaryCommand } from "./summary.js";
import { TUNE_USAGE, tuneCommand } from "./tune.js";
import { FINETUNE_USAGE, finetuneCommand } from "./finetune.js";
import { EXPLAIN_USAGE, explainCommand } from "./explain.js";
import { VISUALIZE_USAGE, visualizeCommand } from "./visualize.js";
import { ATTACK_USAGE, attackCommand } from "./attack.js";

const USAGE = `Usage: striate <command> [options]

Commands:
  train     train a model on MNIST, Fashion-MNIST, CIFAR-10 or an image folder
  eval      evaluate a saved model on a test set
  predict   classify image files with a saved model
  summary   print a model's layers, output shapes and parameter counts
  tune      search hyperparameters (random, grid, coarse-to-fine, successive halving)
  finetune  transfer a trained model to new classes (linear probe, top-k blocks, or everything)
  explain   attribution maps (Grad-CAM, saliency, integrated gradients, occlusion, …) for images
  visualize draw a model's filters, feature maps, class models and feature visualisations
  attack    accuracy under FGSM/PGD adversarial attacks, with example images

Run 'striate <command> --help' for a command's options. Global flags: --version, --debug (print stack
traces of errors; also STRIATE_DEBUG=1).
`;

/** The package version, from the package.json two levels above src/node/cli or dist/node/cli. */
function version(): string {
  const path = new URL("../../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

/** Prints an error that is not a usage mistake: its message, and its stack only when debugging. */
function reportError(error: unknown, debug: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`striate: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
}

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  train: { run: trainCommand, usage: TRAIN_USAGE },
  eval: { run: evalCommand, usage: EVAL_USAGE },
  predict: { run: predictCommand, usage: PREDICT_USAGE },
  summary: { run: summaryCommand, usage: SUMMARY_USAGE },
  tune: { run: tuneCommand, usage: TUNE_USAGE },
  finetune: { run: finetuneCommand, usage: FINETUNE_USAGE },
  explain: { run: explainCommand, usage: EXPLAIN_USAGE },
  visualize: { run: visualizeCommand, usage: VISUALIZE_USAGE },
  attack: { run: attackCommand, usage: ATTACK_USAGE },
};

/** Runs the CLI with `argv` (without node and script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug") || process.env.STRIATE_DEBUG === "1";
  const [name, ...rest] = argv.filter((a) => a !== "--debug");
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`striate ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`striate: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`striate ${name}: ${error.message}\nRun 'striate ${name} --help' for usage.\n`);
      return 2;
    }
    reportError(error, debug);
    return 1;
  }
}

// Run when this file is the script being executed (node dist/node/cli/main.js, tsx src/node/cli/main.ts);
// bin/striate.js imports main() and calls it itself.
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

/** Runs the CLI and exits the process with its status (worker threads must not keep it alive). */
export function runAndExit(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      reportError(error, argv.includes("--debug") || process.env.STRIATE_DEBUG === "1");
      process.exit(1);
    },
  );
}

if (isEntryPoint()) runAndExit(process.argv.slice(2));

// Runs one benchmark case in this process and prints its result line: bench/run.ts starts one process per
// case, so thread pools, wasm memories and JIT state never carry over from one implementation to another.
// Usage: node --import tsx bench/case.ts '<CaseSpec as JSON>'

import { type CaseSpec, type CaseResult, TooSlow, errorMessage, printResult } from "./common.js";

async function dispatch(spec: CaseSpec): Promise<CaseResult> {
  // Imported on demand: loading tfjs or onnxruntime costs time and memory the other cases should not pay.
  if (spec.task === "loop") {
    const loop = await import("./loop.js");
    return spec.impl === "striate-chromium" ? loop.runChromiumLoopCase(spec) : loop.runLoopCase(spec);
  }
  if (spec.task === "zoo-infer" || spec.task === "zoo-train")
    return (await import("./zoo-case.js")).runZooCase(spec);
  if (spec.impl.startsWith("striate")) {
    if (spec.task === "sgemm") return (await import("./sgemm-case.js")).runSgemm(spec);
    return (await import("./striate.js")).runStriate(spec);
  }
  if (spec.impl === "convnetjs") return (await import("./peers/convnetjs.js")).runConvnetjs(spec);
  if (spec.impl.startsWith("tfjs")) return (await import("./peers/tfjs.js")).runTfjs(spec);
  if (spec.impl === "ort") return (await import("./peers/ort.js")).runOrt(spec);
  return { skip: `unknown implementation '${spec.impl}'` };
}

/** The spec from the command line; bench/run.ts and bench/zoo.ts pass it, a person rarely does. */
function specFromArgv(): CaseSpec {
  const text = process.argv[2];
  try {
    if (text === undefined) throw new Error("no argument");
    return JSON.parse(text) as CaseSpec;
  } catch (e) {
    console.error(
      `bench/case.ts: expected one argument, a case spec as JSON (see CaseSpec in bench/common.ts), ` +
        `got ${text === undefined ? "none" : `'${text.slice(0, 80)}'`} (${errorMessage(e)})`,
    );
    process.exit(2);
  }
}

const spec = specFromArgv();
try {
  printResult(await dispatch(spec));
} catch (e) {
  printResult({ skip: e instanceof TooSlow ? `too slow: ${e.message}` : `failed: ${errorMessage(e)}` });
  if (!(e instanceof TooSlow)) console.error(e);
}
// Worker threads (wasm pools) would keep the process alive.
process.exit(0);

#!/usr/bin/env node
// The `striate` command (npm bin): runs the built CLI in dist/ (npm run build first when working from a
// checkout; `node --import tsx src/node/cli/main.ts` runs it from source).
import { runAndExit } from "../dist/node/cli/main.js";

runAndExit(process.argv.slice(2));

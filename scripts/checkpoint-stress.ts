// The long versions of the checkpoint concurrency and crash tests (docs/reliability.md, "Checkpoints"):
// a reader and a writer process racing on one checkpoint for N seconds, then K SIGKILLs of a writer at
// seeded random instants, each followed by a load. Prints the counts; exits 1 on any failed, mixed or lost
// checkpoint.
//   node --import tsx scripts/checkpoint-stress.ts [seconds=30] [kills=40] [seed=1]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killWriterAfter, runConcurrently, seeded } from "../test/node/checkpoint-harness.js";

const seconds = Number(process.argv[2] ?? 30);
const kills = Number(process.argv[3] ?? 40);
const random = seeded(Number(process.argv[4] ?? 1));
let failed = false;

const race = await runConcurrently(
  join(mkdtempSync(join(tmpdir(), "striate-stress-")), "ckpt"),
  seconds * 1000,
);
console.log(
  `reader/writer race, ${seconds} s: ${race.saves} saves, ${race.loads} loads, ${race.distinct} distinct checkpoints seen, ` +
    `${race.failures} failed loads, ${race.mixed} mixed loads`,
);
for (const e of race.errors) console.log(`  load error: ${e}`);
failed ||= race.failures > 0 || race.mixed > 0;

const outcome = { acknowledged: 0, next: 0, lost: 0, mixed: 0, errors: 0 };
for (let i = 0; i < kills; i++) {
  const delay = Math.floor(20 + random() * 600);
  const r = await killWriterAfter(delay);
  if (r.error) {
    outcome.errors++;
    console.log(`  kill after ${delay} ms: ${r.error}`);
  } else if (!r.whole) outcome.mixed++;
  else if (r.loaded === r.acknowledged) outcome.acknowledged++;
  else if (r.loaded === r.acknowledged + 1) outcome.next++;
  else outcome.lost++;
}
console.log(
  `SIGKILL during saves, ${kills} kills: ${outcome.acknowledged} loaded the last acknowledged checkpoint, ` +
    `${outcome.next} the one being saved (complete), ${outcome.lost} lost, ${outcome.mixed} mixed, ${outcome.errors} load errors`,
);
failed ||= outcome.lost + outcome.mixed + outcome.errors > 0;
process.exit(failed ? 1 : 0);

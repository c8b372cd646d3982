// `npm run check:cycles`: the circular imports of src/ (madge, with .madgerc: type-only and dynamic imports
// do not count, as they load nothing at module evaluation). One knot is by design (docs/design.md, "Layers
// of the code"): tensor/tensor.ts's methods (x.add(y), x.sum()) call the op families, which take and return
// Tensors, and the core op families call each other for their gradients (elementwise ↔ reduce ↔ movement).
// Any cycle that leaves tensor/tensor.ts and src/ops/ fails the check and is printed.
import madge from "madge";
import { readFileSync } from "node:fs";

const config = JSON.parse(readFileSync(new URL("../.madgerc", import.meta.url), "utf8"));
const result = await madge(new URL("../src", import.meta.url).pathname, config);
const cycles = result.circular();
const documented = (file) => file === "tensor/tensor.ts" || file.startsWith("ops/");
const unexpected = cycles.filter((cycle) => !cycle.every(documented));
for (const cycle of unexpected) console.error(`check:cycles: ${cycle.join(" > ")} (back to ${cycle[0]})`);
console.log(
  `check:cycles: ${cycles.length - unexpected.length} cycle(s) inside the tensor <-> ops knot, ` +
    `${unexpected.length} other(s)`,
);
process.exit(unexpected.length === 0 ? 0 : 1);

// Writes docs/onnx.md's generated parts from the code: the import coverage table from the importer's op
// table (src/io/onnx/ops.ts) and the export mapping from the exporter's tables. The zoo export table comes
// from scripts/onnx-zoo.ts: pass its output file to replace it, otherwise the table in the doc is kept.
//   node --import tsx scripts/onnx-zoo.ts > /tmp/zoo.md; node --import tsx scripts/gen-onnx-doc.ts /tmp/zoo.md

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ONNX_OPS } from "../src/io/onnx/ops.js";
import { EXPORTED_LAYERS, EXPORTED_PRIMITIVES, EXPORT_OPSET } from "../src/io/onnx/export.js";
import { SUPPORTED_OPSETS } from "../src/io/onnx/import.js";

const docPath = new URL("../docs/onnx.md", import.meta.url);
const zooFile = process.argv[2];

function section(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`docs/onnx.md: markers for '${name}' are missing`);
  return `${text.slice(0, i + start.length)}\n${body.trim()}\n${text.slice(j)}`;
}

const importTable = [
  "| ONNX op | attributes understood | what is covered |",
  "|---|---|---|",
  ...Object.entries(ONNX_OPS)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, spec]) => `| ${op} | ${spec.attrs.join(", ") || "—"} | ${spec.notes || "—"} |`),
].join("\n");

const exportTable = [
  `Primitives written from the autograd graph (opset ${EXPORT_OPSET}): ${EXPORTED_PRIMITIVES.map((p) => `\`${p}\``).join(", ")}.`,
  "",
  `Layers written from their forward hook: ${EXPORTED_LAYERS.map((l) => `\`${l}\``).join(", ")}.`,
].join("\n");

let doc = readFileSync(docPath, "utf8");
doc = section(
  doc,
  "import-ops",
  `Opsets ${SUPPORTED_OPSETS[0]}–${SUPPORTED_OPSETS[1]}, ${Object.keys(ONNX_OPS).length} ops:\n\n${importTable}`,
);
doc = section(doc, "export-ops", exportTable);
if (zooFile && existsSync(zooFile)) doc = section(doc, "zoo-table", readFileSync(zooFile, "utf8"));
writeFileSync(docPath, doc);
console.log("wrote docs/onnx.md");

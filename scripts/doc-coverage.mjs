// Lists the public exports that have no doc comment: every declaration reachable from the package's entry
// points (typedoc.json "entryPoints", which test/docs/api-reference.test.ts checks against package.json
// "exports"), following `export *` and `export * as ns` re-exports, is looked up in the TypeScript compiler's
// symbol table and must carry a /** … */ comment with some text. This is the same rule as the API
// reference build (`npm run docs`, TypeDoc's `notDocumented` validation for the kinds in
// typedoc.json's "requiredToBeDocumented") but takes seconds instead of a full TypeDoc run, so the test
// suite uses it. `node scripts/doc-coverage.mjs` prints the undocumented exports and the counts.
import ts from "typescript";
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** The entry points of the API reference, as absolute paths. */
export function entryPoints() {
  const config = JSON.parse(readFileSync(resolve(root, "typedoc.json"), "utf8"));
  return config.entryPoints.map((file) => resolve(root, file));
}

function hasDocText(node) {
  for (const doc of ts.getJSDocCommentsAndTags(node)) {
    if (!ts.isJSDoc(doc)) continue;
    const text =
      typeof doc.comment === "string" ? doc.comment : (doc.comment ?? []).map((c) => c.text).join("");
    if (text.trim().length > 0) return true;
  }
  return false;
}

function isMethodLike(node) {
  return (
    ts.isMethodDeclaration(node) ||
    ts.isMethodSignature(node) ||
    ts.isGetAccessor(node) ||
    ts.isSetAccessor(node)
  );
}

function isPublic(node) {
  const flags = ts.getCombinedModifierFlags(node);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  return !(node.name && ts.isPrivateIdentifier(node.name));
}

/** `@internal` declarations are left out of the reference (typedoc.json "excludeInternal"). */
function isInternal(node) {
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === "internal");
}

function isDocumented(declaration) {
  // `export const x = …`: the comment sits on the variable statement.
  if (ts.isVariableDeclaration(declaration)) return hasDocText(declaration.parent.parent);
  return hasDocText(declaration);
}

/**
 * Walks the exports of every entry point. Returns `{ declarations, undocumented }`: the number of distinct
 * exported declarations and, for each one without a doc comment, `{ name, file, line }` (name as the
 * package exports it, e.g. `striate/nn: Conv2d`, `striate: F.conv2d`).
 */
export function docCoverage(files = entryPoints()) {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: ["node"],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const seen = new Set();
  const undocumented = [];
  let declarations = 0;

  function visitModule(moduleSymbol, prefix) {
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = `${prefix}${exported.name}`;
      const decl = symbol.declarations?.[0];
      if (!decl) continue;
      if (ts.isSourceFile(decl)) {
        // `export * as F from "./ops/index.js"`: a namespace; its members are exports too.
        if (!seen.has(symbol)) {
          seen.add(symbol);
          visitModule(symbol, `${name}.`);
        }
        continue;
      }
      if (seen.has(symbol)) continue;
      seen.add(symbol);
      declarations++;
      if (!symbol.declarations.some(isDocumented)) report(name, decl);
      if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) visitMembers(symbol, name);
    }
  }

  // Public methods and accessors declared by an exported class or interface (TypeDoc's "Function" kind
  // covers both functions and methods). An override without a comment inherits the overridden member's,
  // as in TypeDoc, so only members that introduce a name need one.
  function visitMembers(symbol, owner) {
    const ownDeclarations = new Set(symbol.declarations);
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    for (const member of checker.getPropertiesOfType(type)) {
      const decl = member.declarations?.[0];
      if (!decl || !ownDeclarations.has(decl.parent) || !isMethodLike(decl) || !isPublic(decl)) continue;
      if (isInternal(decl)) continue;
      const name = member.name.startsWith("__@")
        ? `[${member.name.slice(3).replace(/@\d+$/, "")}]`
        : member.name;
      declarations++;
      // A getter and its setter are documented separately (TypeDoc shows both).
      const accessor = ts.isGetAccessor(decl) || ts.isSetAccessor(decl);
      const documented = accessor
        ? member.declarations.every(isDocumented)
        : member.declarations.some(isDocumented);
      if (documented || inheritsDocumented(symbol, type, member.name)) continue;
      report(`${owner}.${name}`, decl);
    }
  }

  // The classes it extends and the interfaces it extends or implements.
  function inheritsDocumented(symbol, type, memberName) {
    const supertypes = [...(checker.getBaseTypes(type) ?? [])];
    for (const decl of symbol.declarations) {
      for (const clause of decl.heritageClauses ?? []) {
        if (clause.token !== ts.SyntaxKind.ImplementsKeyword) continue;
        for (const node of clause.types) supertypes.push(checker.getTypeAtLocation(node));
      }
    }
    return supertypes.some((base) =>
      checker.getPropertyOfType(base, memberName)?.declarations?.some(isDocumented),
    );
  }

  function report(name, decl) {
    const source = decl.getSourceFile();
    const { line } = source.getLineAndCharacterOfPosition(decl.getStart());
    undocumented.push({ name, file: relative(root, source.fileName), line: line + 1 });
  }

  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`doc-coverage: entry point ${file} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    const subpath = relative(resolve(root, "src"), file).replace(/(^|\/)index\.ts$/, "");
    visitModule(moduleSymbol, subpath === "" ? "striate: " : `striate/${subpath}: `);
  }
  return { declarations, undocumented };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { declarations, undocumented } = docCoverage();
  for (const { name, file, line } of undocumented) console.log(`${file}:${line}  ${name}`);
  console.log(
    `doc-coverage: ${undocumented.length} of ${declarations} exported declarations have no doc comment`,
  );
  process.exit(undocumented.length === 0 ? 0 : 1);
}

// Reads the fenced code blocks of the Markdown documentation and turns them into programs, for
// test/docs/code-blocks.test.ts and the packed-package test. The info-string convention (documented in
// docs/contributing-docs.md) is:
//
//   ```ts, ```js      a complete program: run as written (the programs of a page share a working directory)
//   ```ts continued   continues the previous runnable block of the same page (runs appended to it)
//   ```ts fragment    not run: a snippet whose context is the prose around it
//   ```sh, ```json, ```text, ```html …   not run: shell commands, data, program output, markup
//
// A fence without an info string is an error, so that every block says what it is.

import { readFileSync } from "node:fs";

/** One fenced block: its language, the words after it, its text and its 1-based line in the page. */
export interface CodeBlock {
  page: string;
  line: number;
  lang: string;
  flags: string[];
  code: string;
}

/** A program made of one runnable block and the `continued` blocks after it. */
export interface Program {
  page: string;
  line: number;
  lang: string;
  code: string;
}

const RUNNABLE = new Set(["ts", "typescript", "js", "javascript"]);

/** The fenced blocks of a Markdown page (``` fences at the start of a line). */
export function codeBlocks(page: string, text = readFileSync(page, "utf8")): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [lang = "", ...flags] = open[1].trim().split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i === lines.length) throw new Error(`${page}:${start + 1}: code block is never closed`);
    blocks.push({ page, line: start + 1, lang, flags, code: body.join("\n") + "\n" });
  }
  return blocks;
}

/** The programs a page's blocks make; throws on a block that breaks the convention. */
export function programs(blocks: readonly CodeBlock[]): Program[] {
  const result: Program[] = [];
  let last: Program | undefined;
  for (const block of blocks) {
    const where = `${block.page}:${block.line}`;
    if (block.lang === "") throw new Error(`${where}: a code block needs an info string (ts, sh, text, …)`);
    if (!RUNNABLE.has(block.lang)) continue;
    const [flag, ...rest] = block.flags;
    if (rest.length > 0 || (flag !== undefined && flag !== "continued" && flag !== "fragment"))
      throw new Error(`${where}: unknown info string '${block.lang} ${block.flags.join(" ")}'`);
    if (flag === "fragment") continue;
    if (flag === "continued") {
      if (!last || last.page !== block.page)
        throw new Error(`${where}: 'continued' block with nothing before it`);
      last.code += block.code;
      continue;
    }
    last = { page: block.page, line: block.line, lang: block.lang, code: block.code };
    result.push(last);
  }
  return result;
}

// docs/getting-started.md runs as written against the packed package: `npm pack` → a new project → the
// guide's install commands → its Node programs with plain `node`, in order, in that project.
//
// Without network, `npm install <tarball>` cannot fetch the package's dependencies (npm's cache holds no
// registry metadata here), so the guide's `npm install striate …` is done the way npm lays it out: the
// tarball is extracted to node_modules/striate, and what npm would install with it (dependencies, optional
// dependencies, peers not marked optional) and the other packages the command names are linked from this
// checkout's node_modules (where `npm ci` put the versions package-lock.json pins); its bin is linked into
// node_modules/.bin. What is checked is therefore the tarball's contents, exports and declared
// dependencies (an import of an undeclared package fails), not npm's resolver. dist/ is rebuilt first when
// stale (the browser tests' ensureBrowserBuild) and the tarball is packed with --ignore-scripts, since
// building dist/ is what the pack scripts would do. Last, the guide's web page is opened in Chromium from
// the same project folder (STRIATE_SKIP_BROWSER=1 skips that part).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ensureBrowserBuild } from "../browser/server.js";
import { codeBlocks, programs } from "./code-blocks.js";
import { openStaticPage } from "./static-page.js";

const GUIDE = "docs/getting-started.md";
const npm = (args: string[], cwd: string) =>
  execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_offline: "true" } });

/** `npm install striate` without the registry: extract the tarball, link its dependencies and bin. */
function installTarball(tarball: string, project: string, requested: readonly string[]): void {
  const target = join(project, "node_modules", "striate");
  mkdirSync(target, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  const manifest = JSON.parse(readFileSync(join(target, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    bin?: Record<string, string>;
  };
  // What npm installs with the package: its dependencies, optional ones, and peers not marked optional.
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter(
    (name) => !manifest.peerDependenciesMeta?.[name]?.optional,
  );
  const names = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...peers,
    ...requested.filter((n) => n !== "striate"),
  ];
  for (const name of names) {
    const from = resolve("node_modules", name);
    assert.ok(existsSync(from), `${name} (a dependency of the guide) is not in this checkout's node_modules`);
    const link = join(project, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync(from, link, "dir");
  }
  mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
  for (const [name, file] of Object.entries(manifest.bin ?? {}))
    symlinkSync(join(target, file), join(project, "node_modules", ".bin", name));
}

test("getting-started.md: npm pack, a new project, the guide's Node programs as written", async (t) => {
  t.diagnostic(await ensureBrowserBuild());
  const work = mkdtempSync(join(tmpdir(), "striate-guide-"));
  try {
    const packed = JSON.parse(
      npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], "."),
    ) as {
      filename: string;
    }[];
    const tarball = join(work, packed[0].filename);
    const project = join(work, "project");
    mkdirSync(project);

    const blocks = codeBlocks(GUIDE);
    const install = blocks.find((b) => b.lang === "sh" && b.code.includes("npm install striate"));
    assert.ok(install, `${GUIDE} has no sh block with \`npm install striate\``);
    for (const line of install.code.trim().split("\n")) {
      const words = line.trim().split(/\s+/);
      assert.equal(words[0], "npm", `${GUIDE}: an install step that is not npm: ${line}`);
      if (words[1] === "install") installTarball(tarball, project, words.slice(2));
      else npm(words.slice(1), project);
    }

    const list = programs(blocks).filter((p) => p.lang === "js");
    assert.ok(list.length >= 2, `${GUIDE}: expected the train and explain programs`);
    const outputs: string[] = [];
    for (const [i, program] of list.entries()) {
      const file = join(project, `program-${i}.mjs`);
      writeFileSync(file, program.code);
      const run = spawnSync(process.execPath, [file], { cwd: project, encoding: "utf8", timeout: 120_000 });
      assert.equal(run.status, 0, `${GUIDE}:${program.line} failed:\n${run.stderr}\n${run.stdout}`);
      outputs.push(run.stdout);
      t.diagnostic(`${GUIDE}:${program.line}: ${run.stdout.trim().split("\n").join(" | ")}`);
    }
    const accuracy = /test accuracy ([\d.]+)%/.exec(outputs[0]);
    assert.ok(accuracy && Number(accuracy[1]) > 90, `train program: ${outputs[0]}`);
    const labels = /labels\s+([\d ]+)\n/.exec(outputs[1]);
    const predicted = /predicted\s+([\d ]+)\n/.exec(outputs[1]);
    assert.ok(labels && predicted, `explain program: ${outputs[1]}`);
    assert.ok(existsSync(join(project, "why.png")) && existsSync(join(project, "lenet5.safetensors")));

    // Step 4: the guide's page, saved as index.html in the project, in Chromium.
    if (process.env.STRIATE_SKIP_BROWSER === "1")
      return t.diagnostic("STRIATE_SKIP_BROWSER=1: the page is not opened");
    const page = blocks.find((b) => b.lang === "html");
    assert.ok(page, `${GUIDE} has no html block`);
    writeFileSync(join(project, "index.html"), page.code);
    const run = await openStaticPage(project, "#out", /\d/, 60_000);
    t.diagnostic(`${GUIDE}:${page.line} (index.html): ${run.text}`);
    assert.deepEqual(run.errors, []);
    assert.deepEqual(run.missing, []);
    assert.match(run.text, /^\d \(\d+%\)$/);
    assert.deepEqual(run.canvas, { width: 28 * 8, height: 28 * 8 }, "the Grad-CAM picture is not drawn");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

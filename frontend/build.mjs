// Builds the studio's editor bundle and the licence file of everything bundled into it.
//
//   node frontend/build.mjs [OUT_DIR]      (default: remindkit/studio/static)
//
// Writes OUT_DIR/editor.js and OUT_DIR/editor.LICENSES.txt. The versions come from
// package-lock.json (`npm ci`), so the same lock file gives the same bytes; a test
// rebuilds into a temporary directory and compares with the committed files.

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = resolve(process.argv[2] || join(ROOT, "remindkit/studio/static"));
const LICENCE_FILES = /^(licen[cs]e|copying)(\.(md|txt))?$/i;

function packageOf(input) {
  const parts = input.split("/");
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return null;
  const name = parts[at + 1].startsWith("@") ? parts.slice(at + 1, at + 3) : [parts[at + 1]];
  return { name: name.join("/"), dir: parts.slice(0, at + 1 + name.length).join("/") };
}

function licenceOf(pkg) {
  const dir = join(ROOT, pkg.dir);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).sort().find((name) => LICENCE_FILES.test(name));
  if (!file) throw new Error(`${pkg.name}: no licence file to ship with the bundle`);
  const text = readFileSync(join(dir, file), "utf8").trim();
  return `${meta.name} ${meta.version} (${meta.license})\n\n${text}\n`;
}

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ["frontend/editor.mjs"],
  outfile: join(OUT_DIR, "editor.js"),
  bundle: true,
  format: "iife",
  globalName: "RemindkitEditor",
  minify: true,
  target: "es2020",
  charset: "utf8",
  legalComments: "none",
  metafile: true,
  banner: {
    js: "/* remindkit studio editor: CodeMirror 6 and Lezer, MIT licence; see editor.LICENSES.txt */",
  },
  logLevel: "warning",
});

const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const pkg = packageOf(input);
  if (pkg) packages.set(pkg.name, pkg);
}
const names = [...packages.keys()].sort();
const header =
  "Third-party software bundled in editor.js, built by frontend/build.mjs from " +
  "package-lock.json.\n";
const sections = names.map((name) => licenceOf(packages.get(name)));
writeFileSync(
  join(OUT_DIR, "editor.LICENSES.txt"),
  [header, ...sections].join(`\n${"=".repeat(78)}\n\n`),
);
console.log(`${relative(ROOT, join(OUT_DIR, "editor.js"))}: ${names.length} packages`);

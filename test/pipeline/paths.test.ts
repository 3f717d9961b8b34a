/**
 * Output-dir confinement (`resolveOutputDir`): a table of hand-checked cases on a real temp directory
 * with real symlinks (relative, nested, `..` escapes, absolute inside/outside, the root itself, empty,
 * NUL, sibling-prefix `root-evil`, symlink escape, dangling symlink, a root that does not exist yet and a
 * root reached through a symlink). The same table run against two deliberately broken implementations
 * (prefix string match; lexical-only check) must report mismatches, so the table can fail.
 */
import assert from "node:assert/strict";
import { mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../src/core/errors.js";
import { resolveOutputDir } from "../../src/pipeline/paths.js";
import { tempDir } from "../helpers/data.js";

type Impl = (outputDir: string, root: string) => string;

interface Case {
  readonly name: string;
  readonly outputDir: () => string;
  readonly root?: () => string;
  /** Expected absolute result, or "reject". */
  readonly expect: () => string | "reject";
}

let base = "";
let cleanup = () => {};
let root = "";

const cases: Case[] = [
  { name: "relative", outputDir: () => "run1", expect: () => join(root, "run1") },
  { name: "nested", outputDir: () => "a/b/c", expect: () => join(root, "a", "b", "c") },
  { name: "inner .. stays inside", outputDir: () => "a/../b", expect: () => join(root, "b") },
  { name: "../x", outputDir: () => "../x", expect: () => "reject" },
  { name: "a/../../x", outputDir: () => "a/../../x", expect: () => "reject" },
  { name: "/etc", outputDir: () => "/etc", expect: () => "reject" },
  { name: "absolute inside root", outputDir: () => join(root, "abs"), expect: () => join(root, "abs") },
  { name: "root itself (.)", outputDir: () => ".", expect: () => "reject" },
  { name: "root itself (a/..)", outputDir: () => "a/..", expect: () => "reject" },
  { name: "root itself (absolute)", outputDir: () => root, expect: () => "reject" },
  { name: "empty", outputDir: () => "", expect: () => "reject" },
  { name: "blank", outputDir: () => "  ", expect: () => "reject" },
  { name: "NUL byte", outputDir: () => "a\0b", expect: () => "reject" },
  { name: "sibling prefix relative", outputDir: () => "../root-evil", expect: () => "reject" },
  {
    name: "sibling prefix absolute",
    outputDir: () => join(base, "x", "root-evil", "run"),
    expect: () => "reject",
  },
  { name: "symlink escape", outputDir: () => "out-link/run", expect: () => "reject" },
  { name: "symlink escape (link itself)", outputDir: () => "out-link", expect: () => "reject" },
  { name: "symlink inside root", outputDir: () => "in-link/run", expect: () => join(root, "in-link", "run") },
  {
    name: "escape through a symlink leading back inside",
    outputDir: () => "../back-link/run",
    expect: () => "reject",
  },
  { name: "dangling symlink", outputDir: () => "dangling/run", expect: () => "reject" },
  {
    name: "root not existing yet",
    root: () => join(base, "fresh", "root"),
    outputDir: () => "run",
    expect: () => join(base, "fresh", "root", "run"),
  },
  {
    name: "root not existing yet, escape",
    root: () => join(base, "fresh", "root"),
    outputDir: () => "../run",
    expect: () => "reject",
  },
  {
    name: "root via symlink, absolute real path inside",
    root: () => join(base, "root-link"),
    outputDir: () => join(root, "run"),
    expect: () => join(root, "run"),
  },
  {
    name: "relative root",
    root: () => relative(process.cwd(), root),
    outputDir: () => "run",
    expect: () => join(root, "run"),
  },
];

/** Runs the table against `impl`; returns the names of the cases whose outcome differs. */
function mismatches(impl: Impl): string[] {
  const bad: string[] = [];
  for (const c of cases) {
    const r = c.root ? c.root() : root;
    const want = c.expect();
    let got: string;
    try {
      got = impl(c.outputDir(), r);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      got = "reject";
      // the message names both output_dir and the (absolute) root
      if (!e.message.includes("artifacts.output_dir") || !e.message.includes(resolve(r))) {
        bad.push(`${c.name}: message ${e.message}`);
        continue;
      }
    }
    if (got !== want) bad.push(`${c.name}: got ${got}, want ${want}`);
  }
  return bad;
}

describe("resolveOutputDir", () => {
  before(() => {
    ({ dir: base, cleanup } = tempDir("pointline-paths-"));
    base = realpathSync(base);
    root = join(base, "x", "root");
    mkdirSync(join(root, "real"), { recursive: true });
    mkdirSync(join(base, "x", "root-evil"), { recursive: true });
    mkdirSync(join(base, "outside"), { recursive: true });
    symlinkSync(join(base, "outside"), join(root, "out-link"));
    symlinkSync(join(root, "real"), join(root, "in-link"));
    symlinkSync(join(base, "nowhere", "x"), join(root, "dangling"));
    symlinkSync(root, join(base, "root-link"));
    symlinkSync(join(root, "real"), join(base, "x", "back-link"));
  });
  after(() => cleanup());

  it("accepts exactly the directories strictly inside the root (case table)", () => {
    assert.deepEqual(mismatches(resolveOutputDir), []);
  });

  it("the table catches a prefix-match implementation (root-evil) and a lexical-only one (symlinks)", () => {
    const prefixMatch: Impl = (o, r) => {
      const t = resolve(r, o);
      if (o.trim() === "" || o.includes("\0") || t === resolve(r) || !t.startsWith(resolve(r))) {
        throw new ConfigError(`artifacts.output_dir ${o} outside ${resolve(r)}`);
      }
      return t;
    };
    const lexicalOnly: Impl = (o, r) => {
      const t = resolve(r, o);
      const rel = relative(resolve(r), t);
      if (
        o.trim() === "" ||
        o.includes("\0") ||
        rel === "" ||
        rel.startsWith(`..${sep}`) ||
        isAbsolute(rel)
      ) {
        throw new ConfigError(`artifacts.output_dir ${o} outside ${resolve(r)}`);
      }
      return t;
    };
    const p = mismatches(prefixMatch);
    assert.ok(
      p.some((m) => m.startsWith("sibling prefix")),
      p.join("\n"),
    );
    const l = mismatches(lexicalOnly);
    assert.ok(
      l.some((m) => m.startsWith("symlink escape")),
      l.join("\n"),
    );
    assert.ok(
      l.some((m) => m.startsWith("dangling")),
      l.join("\n"),
    );
  });

  it("rejects an empty or NUL root", () => {
    assert.throws(() => resolveOutputDir("run", ""), ConfigError);
    assert.throws(() => resolveOutputDir("run", "/tmp/a\0b"), ConfigError);
  });
});

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function (file:line function),
 * as a share of all samples, plus the share of native/GC/idle time. Used by run.ts --profile.
 *
 * Run alone: node --import tsx bench/features/profile.ts <file.cpuprofile> [top N]
 */
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileEntry {
  /** "src/engine/replay.ts:212 batches" or "(garbage collector)". */
  readonly where: string;
  readonly selfMs: number;
  readonly pct: number;
}

const sources = new Map<string, string[] | null>();

/**
 * Line of the definition of `fn` in a TypeScript file (tsx runs transpiled code, so the profile's own
 * line numbers are not the source's): a function, method, getter or arrow-function constant named `fn`.
 */
function locate(file: string, fn: string): number {
  if (!/^[A-Za-z_$][\w$]*$/.test(fn)) return 0;
  let lines = sources.get(file);
  if (lines === undefined) {
    try {
      lines = readFileSync(file, "utf8").split("\n");
    } catch {
      lines = null;
    }
    sources.set(file, lines);
  }
  if (lines === null) return 0;
  const defs = [
    new RegExp(`^\\s*(?:export\\s+)?(?:async\\s+)?function\\*?\\s+${fn}\\b`),
    new RegExp(
      `^\\s*(?:(?:public|private|protected|static|readonly|override|async|get|set)\\s+)*\\*?${fn}\\s*(?:<[^>]*>)?\\(`,
    ),
    new RegExp(`\\b(?:const|let)\\s+${fn}\\s*(?::[^=]+)?=\\s*(?:async\\s*)?(?:\\(|function)`),
  ];
  for (const re of defs) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return i + 1;
  }
  return 0;
}

/** Self time per function, largest first. Idle and program time are excluded from the total. */
export function summarizeProfile(
  path: string,
  root = process.cwd(),
): { total: number; entries: ProfileEntry[] } {
  const prof = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]!);
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    const cf = node.callFrame;
    if (cf.functionName === "(idle)" || cf.functionName === "(program)") continue;
    const file = cf.url ? relative(root, cf.url.replace(/^file:\/\//, "")) : "";
    const fn = cf.functionName || "(anonymous)";
    let line = cf.lineNumber + 1;
    if (line <= 1 && file.endsWith(".ts")) line = locate(resolve(root, file), fn) || line;
    const key = file ? `${file}:${line} ${fn}` : fn;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const entries = [...self.entries()]
    .map(([where, selfMs]) => ({ where, selfMs, pct: (100 * selfMs) / total }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { total, entries };
}

/** Aggregates self time by file (native frames under "(native)"). */
export function byFile(entries: readonly ProfileEntry[]): ProfileEntry[] {
  const m = new Map<string, number>();
  let total = 0;
  for (const e of entries) {
    const file = e.where.includes(":") ? e.where.slice(0, e.where.indexOf(":")) : "(native)";
    m.set(file, (m.get(file) ?? 0) + e.selfMs);
    total += e.selfMs;
  }
  return [...m.entries()]
    .map(([where, selfMs]) => ({ where, selfMs, pct: (100 * selfMs) / total }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

export function formatProfile(path: string, top = 25): string {
  const { total, entries } = summarizeProfile(path);
  const lines = [
    `profile ${path}: ${(total / 1000).toFixed(1)} s on CPU (idle excluded)`,
    "",
    "self time by function:",
  ];
  for (const e of entries.slice(0, top)) lines.push(`  ${e.pct.toFixed(1).padStart(5)}%  ${e.where}`);
  lines.push("", "self time by file:");
  for (const e of byFile(entries).slice(0, 12)) lines.push(`  ${e.pct.toFixed(1).padStart(5)}%  ${e.where}`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    console.error("usage: profile.ts <file.cpuprofile> [top N]");
    process.exit(2);
  }
  console.log(formatProfile(file, Number(n ?? 25)));
}

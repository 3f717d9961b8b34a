/**
 * Quality report (report.ts) on real columns of the usdm2024 capture (feature frame, clock 1 s spine):
 * - `columnStats`: quantiles (p01/p50/p99) against nodejs-polars `Series.quantile(q, "linear")` on the
 *   finite values, min/max/mean/std against Polars, counts against a naive loop; also on vectors with
 *   NaN/±inf (fast-check, fixed seed) and edge cases. A deliberately broken quantile fails the check.
 * - `highCorrelationPairs` against jStat.corrcoeff (independent library) on the pairwise-finite rows of
 *   every pair; a broken implementation (NaN as 0, no pairwise deletion) fails the check.
 * - `qualityReportMarkdown`: every gate and column appears, every table parses as a GFM table with the
 *   same number of cells per row (cells with `|` escaped), counts match naive counts, p50 matches Polars
 *   to 6 significant digits, correlated pairs listed or the "none" line, metrics as parseable JSON blocks.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import jStat from "jstat";
import pl from "nodejs-polars";
import { ConfigError } from "../../src/core/errors.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import type { GateResult, PipelineColumn } from "../../src/pipeline/gate-types.js";
import {
  type ColumnStats,
  columnStats,
  highCorrelationPairs,
  qualityReportMarkdown,
} from "../../src/pipeline/report.js";
import { columnValues } from "../helpers/engine.js";
import { captureLake, W2024 } from "../helpers/lake.js";

const EX = "binance-futures";
const SYM = "BTCUSDT";

let cleanup = () => {};
let frame: pl.DataFrame;
/** Float64 feature columns of the real frame (NaN = null). */
const real = new Map<string, Float64Array>();
let featureNames: string[] = [];

/** Naive counts: one branch per value kind. */
function naiveCounts(v: Float64Array) {
  const c = { count: 0, nulls: 0, posInf: 0, negInf: 0, finite: 0 };
  for (const x of v) {
    c.count++;
    if (Number.isNaN(x)) c.nulls++;
    else if (x === Infinity) c.posInf++;
    else if (x === -Infinity) c.negInf++;
    else c.finite++;
  }
  return c;
}

function close(a: number | null, b: number | null, rel: number): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Compares `stats` of `v` with Polars and a naive count; returns the mismatching fields. */
function statsMismatches(stats: (v: Float64Array) => ColumnStats, v: Float64Array): string[] {
  const got = stats(v);
  const bad: string[] = [];
  const counts = naiveCounts(v);
  for (const k of ["count", "nulls", "posInf", "negInf", "finite"] as const) {
    if (got[k] !== counts[k]) bad.push(`${k}: ${got[k]} vs ${counts[k]}`);
  }
  const fin = Array.from(v).filter(Number.isFinite);
  const s = pl.Series("x", fin, pl.Float64);
  const df = pl.DataFrame([s]);
  const one = (e: pl.Expr): number | null =>
    fin.length === 0 ? null : (df.select(e).getColumn("x").get(0) as number | null);
  const want = {
    min: one(pl.col("x").min()),
    max: one(pl.col("x").max()),
    mean: one(pl.col("x").mean()),
    std: one(pl.col("x").std()),
    p01: fin.length === 0 ? null : (s.quantile(0.01, "linear") as number),
    p50: fin.length === 0 ? null : (s.quantile(0.5, "linear") as number),
    p99: fin.length === 0 ? null : (s.quantile(0.99, "linear") as number),
  };
  for (const k of ["min", "max"] as const) if (got[k] !== want[k]) bad.push(`${k}: ${got[k]} vs ${want[k]}`);
  for (const k of ["mean", "p01", "p50", "p99"] as const) {
    if (!close(got[k], want[k], 1e-12)) bad.push(`${k}: ${got[k]} vs ${want[k]}`);
  }
  if (!close(got.std, want.std, 1e-9)) bad.push(`std: ${got.std} vs ${want.std}`);
  return bad;
}

/** Naive GFM table parser: returns each table's rows as cells (unescaped); throws on a malformed table. */
function parseTables(md: string): string[][][] {
  const lines = md.split("\n");
  const tables: string[][][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("|")) continue;
    const rows: string[][] = [];
    while (i < lines.length && lines[i]!.startsWith("|")) rows.push(splitRow(lines[i++]!));
    const [header, sep, ...body] = rows;
    assert.ok(header && sep, `table at line ${i} has no separator`);
    assert.ok(
      sep.every((c) => /^:?-{3,}:?$/.test(c)),
      `bad separator row ${JSON.stringify(sep)}`,
    );
    for (const r of [sep, ...body]) {
      assert.equal(r.length, header.length, `row ${JSON.stringify(r)} vs header ${JSON.stringify(header)}`);
    }
    tables.push([header, ...body]);
  }
  return tables;
}

function splitRow(line: string): string[] {
  assert.ok(line.startsWith("|") && line.endsWith("|"), `row not closed: ${line}`);
  const cells: string[] = [];
  let cur = "";
  for (let i = 1; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "\\" && i + 1 < line.length) {
      cur += line[++i]!;
    } else if (ch === "|") {
      cells.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  return cells;
}

describe("quality report on binance-futures BTCUSDT 2024-08-08 (clock 1 s)", () => {
  before(async () => {
    let lake: string;
    ({ lake, cleanup } = await captureLake(["usdm2024"]));
    frame = await buildFeatureFrame({
      lake,
      exchange: EX,
      symbol: SYM,
      ...W2024,
      config: { spine: { type: "clock", stepMs: 1000 } },
    });
    const spine = new Set(["ts_event_us", "ts_end_us", "available_at_us", "bar_index", "bar_duration_us"]);
    featureNames = frame.columns.filter((c) => !spine.has(c));
    for (const n of featureNames) real.set(n, columnValues(frame, n));
  });
  after(() => cleanup());

  it("columnStats matches Polars and a naive count on real columns", () => {
    assert.ok(frame.height > 300, `frame has ${frame.height} rows`);
    const mid = real.get("ms_mid_px");
    assert.ok(mid, `no ms_mid_px in ${featureNames.join(",")}`);
    assert.ok(columnStats(mid).finite > 300);
    let withNulls = 0;
    for (const [name, v] of real) {
      assert.deepEqual(statsMismatches(columnStats, v), [], name);
      if (columnStats(v).nulls > 0) withNulls++;
    }
    assert.ok(withNulls > 0, "some real column has nulls (warm-up)");
    // the real mid price with injected NaN and ±inf
    const dirty = Float64Array.from(mid);
    for (let i = 0; i < dirty.length; i += 7)
      dirty[i] = i % 3 === 0 ? Infinity : i % 3 === 1 ? -Infinity : NaN;
    assert.deepEqual(statsMismatches(columnStats, dirty), []);
  });

  it("columnStats matches Polars on random vectors with NaN/±inf (fast-check) and edge cases", () => {
    const value = fc.oneof(
      { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }) },
      { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0) },
      { weight: 1, arbitrary: fc.integer({ min: -5, max: 5 }) },
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), (xs) => {
        assert.deepEqual(statsMismatches(columnStats, Float64Array.from(xs)), []);
      }),
      { seed: 42, numRuns: 200 },
    );
    const none = columnStats(Float64Array.from([NaN, Infinity, -Infinity]));
    assert.deepEqual(
      [none.min, none.max, none.mean, none.std, none.p01, none.p50, none.p99],
      [null, null, null, null, null, null, null],
    );
    // hand-checked: [1, 2, 3, 4, 10]: p01 = 1 + 0.04·1 = 1.04, p50 = 3, p99 = 4 + 0.96·6 = 9.76
    const h = columnStats(Float64Array.from([10, 3, NaN, 1, 4, 2]));
    assert.ok(close(h.p01, 1.04, 1e-15) && h.p50 === 3 && close(h.p99, 9.76, 1e-15), JSON.stringify(h));
    assert.equal(columnStats(Float64Array.from([5])).std, null);
  });

  it("the columnStats check fails for a broken quantile (lower instead of linear)", () => {
    const broken = (v: Float64Array): ColumnStats => {
      const s = columnStats(v);
      const fin = Array.from(v)
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      return { ...s, p99: fin.length ? fin[Math.floor((fin.length - 1) * 0.99)]! : null };
    };
    assert.notDeepEqual(statsMismatches(broken, real.get("ms_mid_px")!), []);
  });

  /** Reference pairs: jStat.corrcoeff over the pairwise-finite rows, |r| > th. */
  function referencePairs(cols: ReadonlyMap<string, Float64Array>, names: string[], th: number) {
    const out = new Map<string, number>();
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const a = cols.get(names[i]!)!;
        const b = cols.get(names[j]!)!;
        const xa: number[] = [];
        const xb: number[] = [];
        for (let r = 0; r < a.length; r++) {
          if (Number.isFinite(a[r]!) && Number.isFinite(b[r]!)) {
            xa.push(a[r]!);
            xb.push(b[r]!);
          }
        }
        if (xa.length < 2) continue;
        const r = jStat.corrcoeff(xa, xb);
        if (Number.isFinite(r) && Math.abs(r) > th) out.set(`${names[i]}|${names[j]}`, r);
      }
    }
    return out;
  }

  function pairMismatches(impl: typeof highCorrelationPairs, cols: Map<string, Float64Array>, th: number) {
    const names = [...cols.keys()];
    const got = impl(cols, names, th);
    const want = referencePairs(cols, names, th);
    const bad: string[] = [];
    for (let k = 1; k < got.length; k++) {
      if (Math.abs(got[k]!.corr) > Math.abs(got[k - 1]!.corr)) bad.push(`not sorted at ${k}`);
    }
    const seen = new Set<string>();
    for (const p of got) {
      const key = `${p.a}|${p.b}`;
      seen.add(key);
      const r = want.get(key);
      // pairs within rounding of the threshold may fall on either side
      if (r === undefined) {
        if (Math.abs(Math.abs(p.corr) - th) > 1e-9) bad.push(`extra ${key} ${p.corr}`);
      } else if (Math.abs(r - p.corr) > 1e-9) bad.push(`${key}: ${p.corr} vs ${r}`);
    }
    for (const [key, r] of want) {
      if (!seen.has(key) && Math.abs(Math.abs(r) - th) > 1e-9) bad.push(`missing ${key} ${r}`);
    }
    return { bad, got };
  }

  it("highCorrelationPairs matches jStat.corrcoeff on the pairwise-finite rows of real features", () => {
    const { bad, got } = pairMismatches(highCorrelationPairs, real, 0.9);
    assert.deepEqual(bad, []);
    assert.ok(got.length > 0, "real features have some |r| > 0.9 pairs");
    assert.ok(
      got.some((p) => p.n < frame.height),
      "some pair uses fewer rows (nulls dropped pairwise)",
    );
    // with NaN/±inf injected
    const dirty = new Map<string, Float64Array>();
    for (const [n, v] of [...real].slice(0, 30)) {
      const d = Float64Array.from(v);
      for (let i = n.length % 5; i < d.length; i += 11) d[i] = i % 2 ? Infinity : NaN;
      dirty.set(n, d);
    }
    assert.deepEqual(pairMismatches(highCorrelationPairs, dirty, 0.5).bad, []);
  });

  it("the correlation check fails for a broken implementation (NaN as 0, no pairwise deletion)", () => {
    const broken: typeof highCorrelationPairs = (cols, names, th) => {
      const zeroed = new Map([...cols].map(([n, v]) => [n, v.map((x) => (Number.isFinite(x) ? x : 0))]));
      return highCorrelationPairs(zeroed, names, th);
    };
    assert.notDeepEqual(pairMismatches(broken, real, 0.9).bad, []);
  });

  it("highCorrelationPairs edge cases: constant column, < 2 rows, missing column", () => {
    const cols = new Map([
      ["a", Float64Array.from([1, 2, 3, 4])],
      ["b", Float64Array.from([2, 4, 6, 8.5])],
      ["c", Float64Array.from([7, 7, 7, 7])],
      ["d", Float64Array.from([NaN, NaN, NaN, 1])],
    ]);
    const pairs = highCorrelationPairs(cols, ["a", "b", "c", "d"], 0.5);
    assert.deepEqual(
      pairs.map((p) => [p.a, p.b, p.n]),
      [["a", "b", 4]],
    );
    assert.throws(() => highCorrelationPairs(cols, ["a", "zz"], 0.5), ConfigError);
  });

  function reportInput(threshold: number) {
    const mid = real.get("ms_mid_px")!;
    // label: 10 s forward log return of the mid, computed here
    const label = new Float64Array(mid.length).fill(NaN);
    for (let i = 0; i + 10 < mid.length; i++) label[i] = Math.log(mid[i + 10]! / mid[i]!);
    const twice = mid.map((x) => 2 * x + 1);
    const features = featureNames.slice(0, 12);
    if (!features.includes("ms_mid_px")) features.push("ms_mid_px");
    const values = new Map<string, Float64Array>(features.map((n) => [n, real.get(n)!]));
    values.set("mid_twice", twice);
    values.set("fwd_ret_10s", label);
    const columns: PipelineColumn[] = [
      { name: "ts_event_us", role: "spine", dtype: "Int64", unit: "µs" },
      ...features.map((n) => ({ name: n, role: "feature" as const, dtype: "Float64" as const, unit: "x|y" })),
      { name: "mid_twice", role: "feature", dtype: "Float64", unit: "USDT" },
      { name: "fwd_ret_10s", role: "label", dtype: "Float64", unit: "log return" },
    ];
    const gates: GateResult[] = [
      { name: "row_count", passed: true, critical: true, skipped: false, reason: "rows ≥ 100", details: {} },
      {
        name: "null|rate",
        passed: false,
        critical: false,
        skipped: false,
        reason: "a|b too\nmany \\ nulls",
        details: {},
      },
      { name: "ic_gate", passed: true, critical: true, skipped: true, reason: "no label", details: {} },
    ];
    const metrics = [{ name: "ic", label: "fwd_ret_10s", value: 0.0123, note: "has ``` inside" }, [1, 2, 3]];
    return {
      requestId: "req-42_a",
      decision: { status: "reject" as const, reasons: ["gate null|rate failed"] },
      rowCount: mid.length,
      columns,
      values,
      gates,
      correlationThreshold: threshold,
      timeline: W2024,
      spine: "clock 1000 ms",
      metrics,
    };
  }

  it("qualityReportMarkdown: gates, columns, well-formed tables, counts, pairs and metrics", () => {
    const input = reportInput(0.95);
    const md = qualityReportMarkdown(input);
    assert.match(md.split("\n")[0]!, /^# .*req-42\\_a.*REJECT/);
    assert.ok(md.includes("gate null\\|rate failed"), "reason listed (escaped)");
    assert.ok(
      md.includes(String(input.rowCount)) && md.includes(W2024.start) && md.includes("clock 1000 ms"),
    );
    const tables = parseTables(md);
    const gateTable = tables.find((t) => t[0]![0] === "Gate")!;
    assert.deepEqual(
      gateTable.slice(1).map((r) => [r[0], r[1], r[2], r[3]]),
      [
        ["row_count", "passed", "yes", "rows ≥ 100"],
        ["null|rate", "failed", "no", "a|b too many \\ nulls"],
        ["ic_gate", "skipped", "yes", "no label"],
      ],
    );
    const statRows = new Map<string, string[]>();
    for (const t of tables.filter((t) => t[0]![0] === "Column")) {
      for (const r of t.slice(1)) statRows.set(r[0]!, r);
    }
    const header = tables.find((t) => t[0]![0] === "Column")![0]!;
    const col = (h: string) => header.indexOf(h);
    for (const c of input.columns.filter((c) => c.role !== "spine")) {
      const row = statRows.get(c.name);
      assert.ok(row, `no row for ${c.name}`);
      const v = input.values.get(c.name)!;
      const n = naiveCounts(v);
      assert.deepEqual(
        [row[col("NaN")], row[col("+inf")], row[col("−inf")], row[col("Finite")]],
        [n.nulls, n.posInf, n.negInf, n.finite].map(String),
        c.name,
      );
      const fin = Array.from(v).filter(Number.isFinite);
      if (fin.length > 0) {
        const med = pl.Series("x", fin).quantile(0.5, "linear") as number;
        assert.ok(close(Number(row[col("p50")]), med, 5e-6), `${c.name} p50 ${row[col("p50")]} vs ${med}`);
      } else assert.equal(row[col("p50")], "—");
    }
    assert.ok(!statRows.has("ts_event_us"), "spine columns are not in the stats tables");
    const pairTable = tables.find((t) => t[0]![0] === "Feature A");
    assert.ok(pairTable, "a pair table (mid_twice is a linear function of ms_mid_px)");
    assert.ok(pairTable.some((r) => r.includes("ms_mid_px") && r.includes("mid_twice") && r[2] === "1"));
    const blocks = [...md.matchAll(/^(`{3,})json\n([\s\S]*?)\n\1$/gm)].map((m) => JSON.parse(m[2]!));
    assert.deepEqual(blocks, input.metrics);

    const none = qualityReportMarkdown({ ...reportInput(1.01), metrics: [] });
    assert.ok(none.includes("No pair of features has |r| > 1.01."));
    assert.ok(!parseTables(none).some((t) => t[0]![0] === "Feature A"));
  });

  it("the table check fails on an unescaped pipe, and the report rejects a short column", () => {
    assert.throws(() => parseTables("| a | b |\n|---|---|\n| x|y | z |\n"));
    const input = reportInput(0.95);
    const values = new Map(input.values);
    values.set("fwd_ret_10s", new Float64Array(3));
    assert.throws(() => qualityReportMarkdown({ ...input, values }), ConfigError);
  });
});

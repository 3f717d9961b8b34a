/**
 * A user-provided replay (`pointline trader features --replay FILE`): Parquet or CSV with the columns of
 * `buildReplay1m` (features/trader/preset.ts `REPLAY_VALUE_COLUMNS`). Required: `symbol`, `event_time`,
 * `open`, `high`, `low`, `close`, `volume`; every other value column may be absent (then null: the
 * features reading it are null, or 0 by their fill rule). `event_time` and `next_funding_time` are
 * ISO-8601 strings (UTC unless an offset is given), Parquet timestamps, or integers of epoch µs.
 * `liquidation_available`, when absent, is 1 where both liquidation notionals are present, else 0.
 */
import { extname } from "node:path";
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { toUs } from "../core/time.js";
import {
  checkReplayRows,
  REPLAY_REQUIRED_COLUMNS,
  REPLAY_VALUE_COLUMNS,
  type ReplayRows,
} from "../features/trader/preset.js";

/** Reads a replay file. @throws ConfigError naming the file and a missing column or a bad value. */
export function readReplayFile(path: string): pl.DataFrame {
  const ext = extname(path).toLowerCase();
  let df: pl.DataFrame;
  try {
    df = ext === ".parquet" ? pl.readParquet(path) : pl.readCSV(path, { inferSchemaLength: 10_000 });
  } catch (e) {
    throw new ConfigError(`replay ${path}: cannot read (${(e as Error).message})`);
  }
  return df;
}

/** A column as float64 (null → NaN). */
function asFloat(df: pl.DataFrame, e: pl.Expr, name: string): Float64Array {
  const col = df.select(e.cast(pl.Float64).fillNull(pl.lit(Number.NaN)).alias(name)).getColumn(name);
  // cast: nodejs-polars types toTypedArray() as any typed array; the column was just cast to Float64
  return Float64Array.from(col.toTypedArray() as Float64Array);
}

/** Epoch µs of a time column (Datetime, integer µs, or ISO-8601 strings). @throws ConfigError naming row and value. */
function timeColumn(df: pl.DataFrame, name: string, where: string): Float64Array {
  const s = df.getColumn(name);
  const out = new Float64Array(df.height);
  const dt = String(s.dtype).replace(/^DataType\(/, "");
  if (dt.startsWith("Datetime")) {
    out.set(asFloat(df, pl.col(name).cast(pl.Datetime("us")).cast(pl.Int64), name));
    return out;
  }
  const vals = s.toArray() as unknown[];
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    if (v === null || v === undefined) {
      out[i] = Number.NaN;
      continue;
    }
    try {
      out[i] =
        typeof v === "string" && /^-?\d+$/.test(v.trim())
          ? Number(v.trim())
          : toUs(v as string | number | bigint);
    } catch (e) {
      throw new ConfigError(
        `${where}: row ${i + 1}: column ${name}: '${String(v)}' is neither ISO-8601 nor epoch µs (${(e as Error).message})`,
      );
    }
    if (!Number.isFinite(out[i]!))
      throw new ConfigError(`${where}: row ${i + 1}: column ${name}: '${String(v)}' is not a time`);
  }
  return out;
}

/**
 * The rows of every symbol of a replay frame, sorted by event_time.
 * @throws ConfigError naming `where` and the missing column, a null symbol / event_time, an unaligned or
 *   duplicate minute, or a non-numeric value column.
 */
export function replayFrameRows(df: pl.DataFrame, where: string): Map<string, ReplayRows> {
  for (const c of REPLAY_REQUIRED_COLUMNS)
    if (!df.columns.includes(c))
      throw new ConfigError(`${where}: required column ${c} is missing (columns: ${df.columns.join(", ")})`);
  const symbols = df.getColumn("symbol").cast(pl.Utf8).toArray() as (string | null)[];
  const t = timeColumn(df, "event_time", where);
  const cols: Float64Array[] = REPLAY_VALUE_COLUMNS.map((c) => {
    if (!df.columns.includes(c)) return new Float64Array(df.height).fill(Number.NaN);
    if (c === "next_funding_time") return timeColumn(df, c, where);
    const s = df.getColumn(c);
    if (
      !s.dtype.equals(pl.Float64) &&
      !s.isNumeric() &&
      !s.dtype.equals(pl.Bool) &&
      s.nullCount() !== s.len()
    )
      throw new ConfigError(`${where}: column ${c} is ${String(s.dtype)}, not numeric`);
    return asFloat(df, pl.col(c), c);
  });
  if (!df.columns.includes("liquidation_available")) {
    const b = cols[REPLAY_VALUE_COLUMNS.indexOf("liquidation_buy_notional_1m")]!;
    const s = cols[REPLAY_VALUE_COLUMNS.indexOf("liquidation_sell_notional_1m")]!;
    const a = cols[REPLAY_VALUE_COLUMNS.indexOf("liquidation_available")]!;
    for (let i = 0; i < a.length; i++) a[i] = Number.isNaN(b[i]!) || Number.isNaN(s[i]!) ? 0 : 1;
  }
  const idx = new Map<string, number[]>();
  for (let i = 0; i < df.height; i++) {
    const sym = symbols[i];
    if (sym === null || sym === undefined || sym === "")
      throw new ConfigError(`${where}: row ${i + 1}: symbol is null`);
    if (Number.isNaN(t[i]!)) throw new ConfigError(`${where}: row ${i + 1}: event_time is null`);
    let l = idx.get(sym);
    if (!l) {
      l = [];
      idx.set(sym, l);
    }
    l.push(i);
  }
  const out = new Map<string, ReplayRows>();
  for (const sym of [...idx.keys()].sort()) {
    const rows = idx.get(sym)!.sort((a, b) => t[a]! - t[b]!);
    const r: ReplayRows = {
      eventUs: Float64Array.from(rows, (i) => t[i]!),
      columns: cols.map((c) => Float64Array.from(rows, (i) => c[i]!)),
    };
    checkReplayRows(`${where} symbol ${sym}`, r);
    out.set(sym, r);
  }
  return out;
}

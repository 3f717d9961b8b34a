/**
 * Helpers shared by the vendor file formats of the `binance-vision` adapter (binance-vision/klines.ts,
 * freqtrade/funding.ts, lean/margin-interest.ts): decimal syntax, byte-order marks, bar/funding interval
 * names, and the `funding_events` row writer.
 */
import { US_PER_DAY, US_PER_HOUR, US_PER_MINUTE } from "../../core/time.js";
import type { NumColumn } from "../../lake/buffer.js";
import type { FileIngest, SymbolSink } from "../session.js";

/** A plain decimal (optionally signed, optional exponent), as Binance and Lean write them. */
export const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Drops a UTF-8 byte-order mark (only ever at the start of line 1). */
export function stripBom(line: string): string {
  return line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
}

/** A bar length: a fixed number of µs, or a UTC calendar month (`1mo`). */
export type BarInterval = { readonly kind: "fixed"; readonly us: number } | { readonly kind: "month" };

/** µs per unit of a `<n><unit>` interval (`mo` handled separately). */
function unitUs(unit: string): number {
  switch (unit) {
    case "s":
      return 1_000_000;
    case "m":
      return US_PER_MINUTE;
    case "h":
      return US_PER_HOUR;
    case "d":
      return US_PER_DAY;
    case "w":
      return 7 * US_PER_DAY;
    default:
      return Number.NaN;
  }
}

/**
 * Parses a Binance/freqtrade interval ("1s", "1m", "8h", "1d", "1w", "1mo").
 * @returns the interval, or null if the text is not one.
 */
export function parseBarInterval(text: string): BarInterval | null {
  const m = /^(\d+)(mo|[smhdw])$/.exec(text);
  if (m === null) return null;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n <= 0) return null;
  if (m[2] === "mo") return n === 1 ? { kind: "month" } : null;
  const us = n * unitUs(m[2]!);
  return Number.isSafeInteger(us) ? { kind: "fixed", us } : null;
}

/** Where the funding rows of one file go: (exchange, symbol) and the funding interval (µs) of every row. */
export interface FundingTarget {
  readonly exchange: string;
  readonly symbol: string;
  readonly fundingIntervalUs: number;
}

/**
 * Writes `funding_events` rows of one (exchange, symbol): `funding_rate` (float64, as given) and
 * `funding_interval_us`, stamped `ts_local_us = ts_exch_us` = the funding time (µs), after the
 * backwards-time check (`fi.checkTime`, which quarantines the row instead).
 */
export class FundingWriter {
  private sink: SymbolSink | null = null;
  private rate: NumColumn | null = null;
  private interval: NumColumn | null = null;
  constructor(
    private readonly fi: FileIngest,
    private readonly target: FundingTarget,
  ) {}
  /** One row at `tsUs` (µs) with `rate`, from source line `line` (`raw` is its text, for quarantine). */
  row(tsUs: number, rate: number, line: number, raw: string): void {
    const table = "funding_events";
    if (!this.fi.checkTime(table, tsUs, line, raw)) return;
    if (this.sink === null) {
      this.sink = this.fi.sink(this.target.exchange, this.target.symbol);
      const b = this.sink.buffer(table);
      this.rate = b.num("funding_rate");
      this.interval = b.num("funding_interval_us");
    }
    const i = this.sink.row(table, tsUs, tsUs, line);
    this.rate!.data[i] = rate;
    this.interval!.data[i] = this.target.fundingIntervalUs;
    this.fi.flush();
  }
}

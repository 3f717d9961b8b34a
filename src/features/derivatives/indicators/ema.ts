/**
 * Exponential moving average, streaming, with three seeding conventions (the catalogue states which one
 * each feature uses):
 *
 * - `"window"` (the preset's default): the EMA of the last K values, E = Σ_{j<K} α(1−α)^j x_{t−j} /
 *   (1 − (1−α)^K), with K = ⌈ln ε / ln(1−α)⌉ (ε = 1e-12: the weight of everything older than K rows is
 *   below ε). Updated by the recursion E ← (1−α)E + αx and **re-anchored exactly** from a ring of the last
 *   K values at rows whose key (the spine row's `barIndex`) is a multiple of K — the same rows whatever the
 *   replay start — so two runs that both hold K values at such a row agree bitwise from there on
 *   (partition safety, as engine/rolling.ts does for sums). Null until K consecutive non-null values
 *   (warm-up K − 1 rows). Within ~ε·|x| of TA-Lib's seeded EMA once TA-Lib's seed has decayed.
 * - `"sma"` (TA-Lib, StockCharts RSI/ATR/ADX): null for the first n − 1 values, the n-th is the mean of
 *   the first n, then E ← E + α(x − E). Depends on where the series starts.
 * - `"first"` (pandas `ewm(span, adjust=False)`, StockCharts MACD and Keltner sheets): E₀ = x₀, then the
 *   recursion; depends on where the series starts.
 *
 * α = 2/(n+1) for an EMA of span n, α = 1/n for Wilder's smoothing (`wilder: true`: RSI, ATR, ADX). A
 * null input resets the average (it restarts on the next non-null value). O(1) per push (the window
 * re-anchoring is O(K) every K pushes), K + O(1) float64 of memory.
 */
import { type JsonValue, Ring, stateNumber, stateObject, sub } from "./state.js";

/** How an `Ema` starts (see the module doc). */
export type EmaSeed = "window" | "sma" | "first";

/** Truncation weight of the `"window"` EMA. */
export const EMA_EPSILON = 1e-12;

/** Options of an `Ema`. */
export interface EmaOptions {
  /** Wilder's smoothing α = 1/n instead of α = 2/(n+1). */
  readonly wilder?: boolean;
  /** Seeding convention (default `"window"`). */
  readonly seed?: EmaSeed;
}

/** Rows K of a `"window"` EMA with smoothing α: the smallest K with (1−α)^K ≤ ε. */
export function emaWindowRows(alpha: number): number {
  return alpha >= 1 ? 1 : Math.ceil(Math.log(EMA_EPSILON) / Math.log(1 - alpha));
}

/** Streaming EMA (see the module doc). */
export class Ema {
  readonly alpha: number;
  readonly seed: EmaSeed;
  /** Window K (`"window"`), else the period n. */
  readonly windowRows: number;
  private readonly ring: Ring | null;
  private s = Number.NaN;
  /** Consecutive non-null values pushed since the last null (capped at K). */
  private clean = 0;
  private since = 0;
  /** (1−α)^K, for the window normalisation. */
  private readonly tail: number;

  /** @throws RangeError if period < 1. */
  constructor(
    readonly period: number,
    opts: EmaOptions = {},
  ) {
    if (!(period >= 1)) throw new RangeError(`EMA period must be ≥ 1, got ${period}`);
    this.alpha = opts.wilder ? 1 / period : 2 / (period + 1);
    this.seed = opts.seed ?? "window";
    this.windowRows = this.seed === "window" ? emaWindowRows(this.alpha) : period;
    this.ring = this.seed === "window" ? new Ring(this.windowRows) : null;
    this.tail = (1 - this.alpha) ** this.windowRows;
  }

  /** Warm-up rows: null for this many rows after the first value. */
  get warmupRows(): number {
    return this.seed === "first" ? 0 : this.windowRows - 1;
  }

  /** Pushes the next row's value; `rowKey` = the spine row's barIndex (re-anchoring schedule). */
  push(x: number, rowKey = Number.NaN): void {
    const a = this.alpha;
    if (Number.isNaN(x)) {
      this.s = Number.NaN;
      this.clean = 0;
      this.ring?.push(x);
      this.since++;
      return;
    }
    if (this.seed === "window") {
      this.ring!.push(x);
      this.s = this.clean === 0 ? a * x : (1 - a) * this.s + a * x;
      if (this.clean < this.windowRows) this.clean++;
      this.since++;
      const k = this.windowRows;
      if ((Number.isNaN(rowKey) ? this.since >= k : rowKey % k === 0) && this.clean >= k) this.reanchor();
      else if (Number.isNaN(rowKey) && this.since >= k) this.since = 0;
      return;
    }
    if (this.seed === "first") {
      this.s = this.clean === 0 ? x : this.s + a * (x - this.s);
      this.clean++;
      return;
    }
    // sma seed: accumulate the mean of the first n, then the recursion
    this.clean++;
    if (this.clean < this.period) this.s = this.clean === 1 ? x : this.s + x;
    else if (this.clean === this.period) this.s = (this.period === 1 ? x : this.s + x) / this.period;
    else this.s = this.s + a * (x - this.s);
  }

  /** The average after the last push (null during warm-up). */
  value(): number {
    if (this.seed === "window") return this.clean >= this.windowRows ? this.s / (1 - this.tail) : Number.NaN;
    if (this.seed === "sma") return this.clean >= this.period ? this.s : Number.NaN;
    return this.clean > 0 ? this.s : Number.NaN;
  }

  private reanchor(): void {
    this.since = 0;
    const ring = this.ring!;
    const a = this.alpha;
    // Σ α(1−α)^j x_{t−j}, oldest first (Horner): exact re-anchoring on the window
    let s = 0;
    for (let j = ring.size - 1; j >= 0; j--) s = (1 - a) * s + a * ring.lag(j);
    this.s = s;
  }

  snapshot(): JsonValue {
    return {
      s: Number.isNaN(this.s) ? null : this.s,
      clean: this.clean,
      since: this.since,
      ring: this.ring ? this.ring.snapshot() : null,
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, "Ema");
    this.s = stateNumber(s, "s");
    this.clean = stateNumber(s, "clean");
    this.since = stateNumber(s, "since");
    if (this.ring) this.ring.restore(sub(s, "ring", "Ema"));
  }
}

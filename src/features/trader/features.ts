/**
 * The trader 1-minute feature set (issue #12): 33 features over the rows of a `replay_1m` frame (one row
 * per symbol per UTC minute: open, high, low, close, volume, taker buy/sell volume, funding, mark, index,
 * next funding time, open interest, spread, liquidation notionals; see features/trader/replay.ts). The
 * reference is the pandas `build_feature_frame` of a `trader_training` package; names and fill rules
 * are kept so that users migrating from it get the same numbers.
 *
 * **Operators.** Eight registered operators (`trader_returns`, `trader_range`, `trader_compression`,
 * `trader_volume`, `trader_spread`, `trader_derivatives`, `trader_liquidations`, `trader_time`) read the
 * replay columns as row values (`Operator.rowInputs`) and run in a `GroupOperator` after the operator
 * that writes those columns (the lake replay's `replay_1m` operator, or `replay_rows` for a user-provided
 * replay: features/trader/family.ts). They read no events.
 *
 * **Rows.** Windows count replay rows ("rows" below), not minutes: a spine minute without a replay row
 * (close null: no trade, no vendor bar, or a gap in a user's replay) is skipped — every output is null
 * there and no state advances — exactly as pandas' `rolling(w)` over the replay's rows. Rolling
 * statistics include the current row unless a formula says "previous".
 *
 * **Null and fill rules** (the reference's). `safe(a / b)` maps a zero denominator, ±inf and NaN to 0.
 * `vol_ratio_15m_60m`, `volume_zscore_60m`, `taker_imbalance_*`, `liquidation_imbalance_15m` and
 * `liquidation_notional_zscore_15m` are 0 wherever a division is undefined or an input window is not yet
 * full; `*_failed_break_reclaim_15m_bps` are 0 unless their break condition holds (a comparison with a
 * missing value is false); every other feature is null until its window is full (and null when an input
 * it reads is null — e.g. spread, open interest, mark/index, next funding time for a replay without them).
 *
 * **Complexity.** O(1) amortised per row (running sums, monotonic deques) except the 240-row rank and
 * median of `range_15m_bps` and the 1,440-row rank of `spread_bps` (order-statistic treap, O(log w):
 * engine/order-stats.ts). No allocation per row.
 *
 * **Units.** bps = 1e-4 of the reference price; `_pct` features are fractions in [0, 1] (the reference's
 * naming); imbalances are in [−1, 1]; minutes for `minutes_to_next_funding`.
 */
import { z } from "zod";
import { US_PER_DAY, US_PER_MINUTE } from "../../core/time.js";
import type { JsonValue, Operator, OutputSpec, SpineRow } from "../../engine/operator.js";
import { numberToJson, stateField, stateNumber, stateObject } from "../../engine/operator.js";
import { RollingExtreme, RollingOrderStats } from "../../engine/order-stats.js";
import type { OperatorDef, OutputMeta } from "../../engine/registry.js";
import { RollingStats } from "../../engine/rolling.js";
import { familyOperator, outputBuilder } from "../family.js";

/** The reference implementation the names and fill rules follow. */
export const TRADER_SOURCE = "trader_training build_feature_frame (pandas reference, issue #12)";
/** Version of the trader feature set (written as `feature_version`; bump when a formula changes). */
export const TRADER_FEATURE_VERSION = "trader_1m_v1";

const BPS = 1e4;

/** Maps a zero denominator, ±inf and NaN to 0 (the reference's safe division). */
export function safeDiv(a: number, b: number): number {
  const q = a / b;
  return Number.isFinite(q) ? q : 0;
}

/** Replay column names the features read (row inputs). */
export const R = {
  open: "open",
  high: "high",
  low: "low",
  close: "close",
  volume: "volume",
  takerBuy: "taker_buy_volume",
  takerSell: "taker_sell_volume",
  mark: "mark_price",
  index: "index_price",
  nextFunding: "next_funding_time",
  oi: "open_interest",
  spread: "spread_bps",
  liqBuy: "liquidation_buy_notional_1m",
  liqSell: "liquidation_sell_notional_1m",
} as const;

const inp = (...cols: string[]): string[] => cols.map((c) => `replay_1m.${c}`);

const PIT = "replay rows up to and including the current one (each knowable at its minute's close)";
const col = outputBuilder({ source: TRADER_SOURCE, pitPolicy: PIT });

/** Catalogue entry of a feature that is null until its window of `rows` rows is full. */
function windowed(
  name: string,
  formula: string,
  unit: string,
  inputs: readonly string[],
  windowRows: number,
  warmupRows: number,
  extra = "",
): OutputMeta {
  return col(name, "f64", formula, {
    unit,
    warmupRows,
    inputs,
    window: `${windowRows} rows`,
    warmup: `${warmupRows} rows (null until ${warmupRows + 1} replay rows${extra})`,
  });
}

/** Catalogue entry of a 0-filled feature. */
function zeroFilled(
  name: string,
  formula: string,
  unit: string,
  inputs: readonly string[],
  window: string,
  rule: string,
): OutputMeta {
  return col(name, "f64", formula, { unit, warmupRows: 0, inputs, window, warmup: `none: ${rule}` });
}

/**
 * Base of the trader operators: reads `close` first (row presence) and the given row inputs; on a row
 * without close every output is null and no state advances.
 */
abstract class TraderRowOperator implements Operator {
  readonly inputs = [] as const;
  readonly reads = {};
  readonly rowInputs: readonly string[];

  constructor(
    readonly id: string,
    readonly outputs: readonly OutputSpec[],
    inputs: readonly string[],
  ) {
    this.rowInputs = [R.close, ...inputs];
  }

  onEvent(): void {}

  emit(row: SpineRow, out: readonly Float64Array[], r: number, rowInputs?: readonly Float64Array[]): void {
    const ins = rowInputs!;
    const close = ins[0]![r]!;
    if (Number.isNaN(close)) {
      for (let k = 0; k < out.length; k++) out[k]![r] = Number.NaN;
      return;
    }
    this.row(row, close, ins, out, r);
  }

  /** One present row: `ins[0]` is close, `ins[1 + j]` the j-th declared input. */
  protected abstract row(
    row: SpineRow,
    close: number,
    ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void;

  abstract snapshot(): JsonValue;
  abstract restore(state: JsonValue): void;
}

/** `{ v: 1, …fields }` state helpers. */
function obj(state: JsonValue, id: string): { readonly [k: string]: JsonValue } {
  const s = stateObject(state, id);
  if (s.v !== 1) throw new TypeError(`${id}: unsupported state version ${String(s.v)}`);
  return s;
}
const sub = stateField;

// ---------------------------------------------------------------- returns
export const RETURN_HORIZONS = [1, 5, 15, 60, 240] as const;

const RETURNS_OUTPUTS: readonly OutputMeta[] = [
  ...RETURN_HORIZONS.map((k) =>
    windowed(
      `ret_${k}m_bps`,
      `(close − close[−${k}]) / close[−${k}] · 1e4 (close ${k} rows back)`,
      "bps",
      inp(R.close),
      k + 1,
      k,
    ),
  ),
  ...[15, 60].map((w) =>
    windowed(
      `realized_vol_${w}m_bps`,
      `sample std (ddof 1) of the last ${w} 1-row log returns ln(close / close[−1]) · 1e4`,
      "bps",
      inp(R.close),
      w + 1,
      w,
    ),
  ),
  zeroFilled(
    "vol_ratio_15m_60m",
    "safe(realized_vol_15m_bps / max(realized_vol_60m_bps, 1)) (denominator clipped below at 1 bps)",
    "ratio",
    inp(R.close),
    "61 rows",
    "0 while either volatility is null (first 60 rows) or the division is undefined",
  ),
  windowed(
    "trend_consistency_15m",
    "mean of sign(close − close[−1]) over the last 15 rows (sign 0 → 0)",
    "ratio [-1,1]",
    inp(R.close),
    16,
    15,
  ),
];

/** ret_*m_bps, realized_vol_{15,60}m_bps, vol_ratio_15m_60m, trend_consistency_15m. Reads close. */
export class TraderReturnsOperator extends TraderRowOperator {
  /** The last 240 closes (lag 0 = previous row). */
  private readonly closes = new RollingStats(240);
  private readonly lr15 = new RollingStats(15);
  private readonly lr60 = new RollingStats(60);
  private readonly sign15 = new RollingStats(15);
  private n = 0;

  constructor() {
    super("trader_returns", RETURNS_OUTPUTS, []);
  }

  protected row(
    _row: SpineRow,
    close: number,
    _ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    for (let j = 0; j < RETURN_HORIZONS.length; j++) {
      const prev = this.closes.lag(RETURN_HORIZONS[j]! - 1);
      out[j]![r] = ((close - prev) / prev) * BPS;
    }
    const prev1 = this.closes.lag(0);
    const lr = Math.log1p((close - prev1) / prev1);
    // rowKey: the count of present rows, so rebuilds do not depend on where the replay started
    if (this.n > 0) {
      this.lr15.push(lr, this.n);
      this.lr60.push(lr, this.n);
      const d = close - prev1;
      this.sign15.push(d > 0 ? 1 : d < 0 ? -1 : 0, this.n);
    }
    const rv15 = this.lr15.std() * BPS;
    const rv60 = this.lr60.std() * BPS;
    out[5]![r] = rv15;
    out[6]![r] = rv60;
    out[7]![r] = safeDiv(rv15, Math.max(rv60, 1));
    out[8]![r] = this.sign15.mean();
    this.closes.push(close, this.n);
    this.n++;
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      n: this.n,
      closes: this.closes.snapshot(),
      lr15: this.lr15.snapshot(),
      lr60: this.lr60.snapshot(),
      sign15: this.sign15.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = obj(state, this.id);
    this.n = stateNumber(s, "n");
    this.closes.restore(sub(s, "closes", this.id));
    this.lr15.restore(sub(s, "lr15", this.id));
    this.lr60.restore(sub(s, "lr60", this.id));
    this.sign15.restore(sub(s, "sign15", this.id));
  }
}

// ---------------------------------------------------------------- range, channel, breakouts, sweeps
const HLC = inp(R.high, R.low, R.close);
const RANGE_OUTPUTS: readonly OutputMeta[] = [
  ...[15, 60].map((w) =>
    windowed(
      `range_${w}m_bps`,
      `(max(high, last ${w} rows) − min(low, last ${w} rows)) / close · 1e4`,
      "bps",
      HLC,
      w,
      w - 1,
    ),
  ),
  windowed(
    "channel_position_60m_pct",
    "(close − min(low, last 60 rows)) / (max(high, last 60 rows) − min(low, last 60 rows)); null when the channel is flat",
    "fraction [0,1]",
    HLC,
    60,
    59,
  ),
  windowed(
    "upper_breakout_60m_bps",
    "max(close − H, 0) / H · 1e4, H = max(high) over the previous 60 rows (excluding the current one)",
    "bps",
    HLC,
    61,
    60,
  ),
  windowed(
    "lower_breakout_60m_bps",
    "max(L − close, 0) / L · 1e4, L = min(low) over the previous 60 rows (excluding the current one)",
    "bps",
    HLC,
    61,
    60,
  ),
  zeroFilled(
    "upper_failed_break_reclaim_15m_bps",
    "(U − close) / U · 1e4 if max(high, last 15 rows) > U and close < U, else 0; U = max(high) over the 60 rows before the last 15 (rows −74 … −15)",
    "bps",
    HLC,
    "75 rows",
    "0 unless the break condition holds (a comparison with a missing U is false: 0 in the first 75 rows)",
  ),
  zeroFilled(
    "lower_failed_break_reclaim_15m_bps",
    "(close − D) / D · 1e4 if min(low, last 15 rows) < D and close > D, else 0; D = min(low) over the 60 rows before the last 15 (rows −74 … −15)",
    "bps",
    HLC,
    "75 rows",
    "0 unless the break condition holds (a comparison with a missing D is false: 0 in the first 75 rows)",
  ),
  windowed(
    "sweep_up_15m_bps",
    "max(high − H15, 0) / H15 · 1e4, H15 = max(high) over the previous 15 rows (excluding the current one)",
    "bps",
    HLC,
    16,
    15,
  ),
  windowed(
    "sweep_down_15m_bps",
    "max(L15 − low, 0) / L15 · 1e4, L15 = min(low) over the previous 15 rows (excluding the current one)",
    "bps",
    HLC,
    16,
    15,
  ),
];

/** Rolling extreme over the window of `windowRows` rows that ends `lagRows` rows before the latest push. */
class DelayedExtreme {
  private readonly ext: RollingExtreme;
  /** The last `lagRows` pushed values (delay line). */
  private readonly delay: RollingStats;
  private count = 0;
  constructor(
    windowRows: number,
    kind: "max" | "min",
    private readonly lagRows: number,
  ) {
    this.ext = new RollingExtreme(windowRows, kind);
    this.delay = new RollingStats(lagRows);
  }
  push(x: number): void {
    if (this.count >= this.lagRows) this.ext.push(this.delay.lag(this.lagRows - 1));
    this.delay.push(x);
    this.count++;
  }
  value(): number {
    return this.ext.value();
  }
  snapshot(): JsonValue {
    return { ext: this.ext.snapshot(), delay: this.delay.snapshot(), count: this.count };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "DelayedExtreme");
    this.ext.restore(s.ext ?? null);
    this.delay.restore(s.delay ?? null);
    this.count = stateNumber(s, "count");
  }
}

/** range_*, channel_position_60m_pct, breakouts, failed-break reclaims, sweeps. Reads high, low, close. */
export class TraderRangeOperator extends TraderRowOperator {
  private readonly hi15 = new RollingExtreme(15, "max");
  private readonly lo15 = new RollingExtreme(15, "min");
  private readonly hi60 = new RollingExtreme(60, "max");
  private readonly lo60 = new RollingExtreme(60, "min");
  /** The 60 rows before the last 15 (rows −74 … −15). */
  private readonly upLevel = new DelayedExtreme(60, "max", 15);
  private readonly dnLevel = new DelayedExtreme(60, "min", 15);

  constructor() {
    super("trader_range", RANGE_OUTPUTS, [R.high, R.low]);
  }

  protected row(
    _row: SpineRow,
    close: number,
    ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    const high = ins[1]![r]!;
    const low = ins[2]![r]!;
    // "previous" windows: the same deques read before this row enters them
    const pH60 = this.hi60.value();
    const pL60 = this.lo60.value();
    const pH15 = this.hi15.value();
    const pL15 = this.lo15.value();
    this.hi15.push(high);
    this.lo15.push(low);
    this.hi60.push(high);
    this.lo60.push(low);
    this.upLevel.push(high);
    this.dnLevel.push(low);
    const h15 = this.hi15.value();
    const l15 = this.lo15.value();
    const h60 = this.hi60.value();
    const l60 = this.lo60.value();
    out[0]![r] = ((h15 - l15) / close) * BPS;
    out[1]![r] = ((h60 - l60) / close) * BPS;
    const chan = h60 - l60;
    out[2]![r] = chan > 0 ? (close - l60) / chan : Number.NaN;
    out[3]![r] = (Math.max(close - pH60, 0) / pH60) * BPS;
    out[4]![r] = (Math.max(pL60 - close, 0) / pL60) * BPS;
    const u = this.upLevel.value();
    const d = this.dnLevel.value();
    // NaN comparisons are false: 0 unless the condition holds
    out[5]![r] = h15 > u && close < u ? ((u - close) / u) * BPS : 0;
    out[6]![r] = l15 < d && close > d ? ((close - d) / d) * BPS : 0;
    out[7]![r] = (Math.max(high - pH15, 0) / pH15) * BPS;
    out[8]![r] = (Math.max(pL15 - low, 0) / pL15) * BPS;
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      hi15: this.hi15.snapshot(),
      lo15: this.lo15.snapshot(),
      hi60: this.hi60.snapshot(),
      lo60: this.lo60.snapshot(),
      upLevel: this.upLevel.snapshot(),
      dnLevel: this.dnLevel.snapshot(),
    };
  }

  restore(state: JsonValue): void {
    const s = obj(state, this.id);
    this.hi15.restore(sub(s, "hi15", this.id));
    this.lo15.restore(sub(s, "lo15", this.id));
    this.hi60.restore(sub(s, "hi60", this.id));
    this.lo60.restore(sub(s, "lo60", this.id));
    this.upLevel.restore(sub(s, "upLevel", this.id));
    this.dnLevel.restore(sub(s, "dnLevel", this.id));
  }
}

// ---------------------------------------------------------------- compression
/** Rows of the compression rank / median window (4 hours of minutes). */
export const COMPRESSION_ROWS = 240;
const COMPRESSION_OUTPUTS: readonly OutputMeta[] = [
  windowed(
    "compression_score_4h_pct",
    `1 − rank(range_15m_bps) over the last ${COMPRESSION_ROWS} rows, rank = share of the window ≤ the current value`,
    "fraction [0,1)",
    HLC,
    COMPRESSION_ROWS + 14,
    COMPRESSION_ROWS + 13,
    `: ${COMPRESSION_ROWS} non-null range_15m_bps values`,
  ),
  windowed(
    "compression_release_15m_bps",
    `max(range_15m_bps − median(range_15m_bps, last ${COMPRESSION_ROWS} rows), 0)`,
    "bps",
    HLC,
    COMPRESSION_ROWS + 14,
    COMPRESSION_ROWS + 13,
    `: ${COMPRESSION_ROWS} non-null range_15m_bps values`,
  ),
];

/** compression_score_4h_pct, compression_release_15m_bps. Reads `range_15m_bps` (row input of trader_range). */
export class TraderCompressionOperator extends TraderRowOperator {
  private readonly stats = new RollingOrderStats(COMPRESSION_ROWS);

  constructor() {
    super("trader_compression", COMPRESSION_OUTPUTS, ["range_15m_bps"]);
  }

  protected row(
    _row: SpineRow,
    _close: number,
    ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    const range = ins[1]![r]!;
    this.stats.push(range);
    out[0]![r] = 1 - this.stats.rankOfLatest();
    out[1]![r] = Math.max(range - this.stats.median(), 0);
  }

  snapshot(): JsonValue {
    return { v: 1, stats: this.stats.snapshot() };
  }

  restore(state: JsonValue): void {
    this.stats.restore(sub(obj(state, this.id), "stats", this.id));
  }
}

/**
 * Sum over the last `windowRows` pushes, recomputed left to right (oldest first) from the ring at each
 * query: O(w) for the short windows (≤ 15 rows) it serves, and exact in the sense that a window of
 * zeros sums to exactly 0 (running sums would keep the rounding residue of values that left the window,
 * and a residue over a residue is an arbitrary ratio). `skipNaN`: NaN values are skipped and the sum is
 * NaN only when none is left (pandas `min_periods=1`); otherwise any NaN makes it NaN; NaN until full.
 */
export class WindowSum {
  private readonly ring: Float64Array;
  private pos = 0;
  private pushed = 0;
  constructor(
    readonly windowRows: number,
    readonly skipNaN: boolean,
  ) {
    this.ring = new Float64Array(windowRows);
  }
  push(x: number): void {
    this.ring[this.pos] = x;
    this.pos = this.pos + 1 === this.windowRows ? 0 : this.pos + 1;
    this.pushed++;
  }
  sum(): number {
    const w = this.windowRows;
    const n = Math.min(this.pushed, w);
    if (!this.skipNaN && n < w) return Number.NaN;
    let s = 0;
    let count = 0;
    const start = this.pushed >= w ? this.pos : 0;
    for (let k = 0; k < n; k++) {
      const x = this.ring[(start + k) % w]!;
      if (Number.isNaN(x)) {
        if (!this.skipNaN) return Number.NaN;
        continue;
      }
      s += x;
      count++;
    }
    return count > 0 ? s : Number.NaN;
  }
  snapshot(): JsonValue {
    const n = Math.min(this.pushed, this.windowRows);
    const start = this.pushed >= this.windowRows ? this.pos : 0;
    const vals: (number | null)[] = [];
    for (let k = 0; k < n; k++) vals.push(numberToJson(this.ring[(start + k) % this.windowRows]!));
    return { w: this.windowRows, pushed: this.pushed, vals };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, "WindowSum");
    if (stateNumber(s, "w") !== this.windowRows)
      throw new RangeError("WindowSum: window size differs from snapshot");
    const vals = s.vals;
    if (!Array.isArray(vals)) throw new TypeError("WindowSum: vals must be an array");
    this.pos = 0;
    this.pushed = 0;
    for (const v of vals) this.push(v === null ? Number.NaN : (v as number));
    this.pushed = stateNumber(s, "pushed");
  }
}

// ---------------------------------------------------------------- volume and taker flow
export const TAKER_HORIZONS = [1, 5, 15] as const;
const VOLUME_OUTPUTS: readonly OutputMeta[] = [
  zeroFilled(
    "volume_zscore_60m",
    "safe((volume − mean(volume, last 60 rows)) / std(volume, last 60 rows)) (ddof 1)",
    "z-score",
    inp(R.volume),
    "60 rows",
    "0 while the 60-row window is not full or the std is 0",
  ),
  ...TAKER_HORIZONS.map((k) =>
    zeroFilled(
      `taker_imbalance_${k}m`,
      `safe(Σ(taker_buy_volume − taker_sell_volume) / Σ(taker_buy_volume + taker_sell_volume)) over the last ${k} rows`,
      "ratio [-1,1]",
      inp(R.takerBuy, R.takerSell),
      `${k} rows`,
      `0 while the ${k}-row window is not full, a taker volume in it is null, or the total is 0`,
    ),
  ),
];

/** volume_zscore_60m, taker_imbalance_{1,5,15}m. Reads volume, taker buy/sell volume. */
export class TraderVolumeOperator extends TraderRowOperator {
  private readonly vol = new RollingStats(60);
  private readonly diff = TAKER_HORIZONS.map((k) => new WindowSum(k, false));
  private readonly tot = TAKER_HORIZONS.map((k) => new WindowSum(k, false));
  private n = 0;

  constructor() {
    super("trader_volume", VOLUME_OUTPUTS, [R.volume, R.takerBuy, R.takerSell]);
  }

  protected row(
    _row: SpineRow,
    _close: number,
    ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    const v = ins[1]![r]!;
    const b = ins[2]![r]!;
    const s = ins[3]![r]!;
    this.vol.push(v, this.n);
    out[0]![r] = safeDiv(v - this.vol.mean(), this.vol.std());
    for (let j = 0; j < TAKER_HORIZONS.length; j++) {
      this.diff[j]!.push(b - s);
      this.tot[j]!.push(b + s);
      out[1 + j]![r] = safeDiv(this.diff[j]!.sum(), this.tot[j]!.sum());
    }
    this.n++;
  }

  snapshot(): JsonValue {
    return {
      v: 1,
      n: this.n,
      vol: this.vol.snapshot(),
      diff: this.diff.map((x) => x.snapshot()),
      tot: this.tot.map((x) => x.snapshot()),
    };
  }

  restore(state: JsonValue): void {
    const s = obj(state, this.id);
    this.n = stateNumber(s, "n");
    this.vol.restore(sub(s, "vol", this.id));
    const diff = sub(s, "diff", this.id);
    const tot = sub(s, "tot", this.id);
    if (!Array.isArray(diff) || !Array.isArray(tot) || diff.length !== 3 || tot.length !== 3)
      throw new TypeError(`${this.id}: state arrays malformed`);
    for (let j = 0; j < 3; j++) this.diff[j]!.restore(diff[j] ?? null);
    for (let j = 0; j < 3; j++) this.tot[j]!.restore(tot[j] ?? null);
  }
}

// ---------------------------------------------------------------- spread rank
/** Rows of the spread rank window (24 hours of minutes). */
export const SPREAD_RANK_ROWS = 1440;
const SPREAD_OUTPUTS: readonly OutputMeta[] = [
  windowed(
    "spread_rank_24h_pct",
    `rank(spread_bps) over the last ${SPREAD_RANK_ROWS} rows, rank = share of the window ≤ the current value`,
    "fraction (0,1]",
    inp(R.spread),
    SPREAD_RANK_ROWS,
    SPREAD_RANK_ROWS - 1,
    " with non-null spread_bps; null while any spread in the window is null",
  ),
];

/** spread_rank_24h_pct. Reads spread_bps. */
export class TraderSpreadOperator extends TraderRowOperator {
  private readonly stats = new RollingOrderStats(SPREAD_RANK_ROWS);

  constructor() {
    super("trader_spread", SPREAD_OUTPUTS, [R.spread]);
  }

  protected row(
    _row: SpineRow,
    _close: number,
    ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    this.stats.push(ins[1]![r]!);
    out[0]![r] = this.stats.rankOfLatest();
  }

  snapshot(): JsonValue {
    return { v: 1, stats: this.stats.snapshot() };
  }

  restore(state: JsonValue): void {
    this.stats.restore(sub(obj(state, this.id), "stats", this.id));
  }
}

// ---------------------------------------------------------------- derivatives
/** Cap of `minutes_to_next_funding` (8 hours). */
export const FUNDING_CLIP_MINUTES = 480;
const DERIV_OUTPUTS: readonly OutputMeta[] = [
  ...[15, 60].map((k) =>
    windowed(
      `oi_delta_${k}m_bps`,
      `(open_interest − open_interest[−${k}]) / open_interest[−${k}] · 1e4`,
      "bps",
      inp(R.oi),
      k + 1,
      k,
      "; null where either open interest is null",
    ),
  ),
  col("mark_index_basis_bps", "f64", "(mark_price − index_price) / index_price · 1e4", {
    unit: "bps",
    warmupRows: 0,
    inputs: inp(R.mark, R.index),
    window: "current row",
    warmup: "none (null where mark or index price is null)",
  }),
  col(
    "minutes_to_next_funding",
    "f64",
    `clip((next_funding_time − (event_time + 1 min)) / 1 min, 0, ${FUNDING_CLIP_MINUTES}) (from the minute's close)`,
    {
      unit: "minutes",
      warmupRows: 0,
      inputs: inp(R.nextFunding, "event_time"),
      window: "current row",
      warmup: "none (null where next_funding_time is null)",
    },
  ),
];

/** oi_delta_{15,60}m_bps, mark_index_basis_bps, minutes_to_next_funding. */
export class TraderDerivativesOperator extends TraderRowOperator {
  private readonly ois = new RollingStats(60);

  constructor() {
    super("trader_derivatives", DERIV_OUTPUTS, [R.oi, R.mark, R.index, R.nextFunding]);
  }

  protected row(
    row: SpineRow,
    _close: number,
    ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    const oi = ins[1]![r]!;
    const mark = ins[2]![r]!;
    const index = ins[3]![r]!;
    const nft = ins[4]![r]!;
    const o15 = this.ois.lag(14);
    const o60 = this.ois.lag(59);
    out[0]![r] = ((oi - o15) / o15) * BPS;
    out[1]![r] = ((oi - o60) / o60) * BPS;
    this.ois.push(oi);
    out[2]![r] = ((mark - index) / index) * BPS;
    const m = (nft - (row.tsEventUs + US_PER_MINUTE)) / US_PER_MINUTE;
    out[3]![r] = Number.isNaN(m) ? Number.NaN : Math.min(Math.max(m, 0), FUNDING_CLIP_MINUTES);
  }

  snapshot(): JsonValue {
    return { v: 1, ois: this.ois.snapshot() };
  }

  restore(state: JsonValue): void {
    this.ois.restore(sub(obj(state, this.id), "ois", this.id));
  }
}

// ---------------------------------------------------------------- liquidations
/** Rows of the liquidation sums (min 1 non-null row). */
export const LIQ_SUM_ROWS = 15;
/** Rows of the liquidation z-score's mean/std window and its minimum count of non-null totals. */
export const LIQ_Z_ROWS = 1440;
export const LIQ_Z_MIN_ROWS = 60;
const LIQ = inp(R.liqBuy, R.liqSell);
const LIQ_OUTPUTS: readonly OutputMeta[] = [
  zeroFilled(
    "liquidation_imbalance_15m",
    "safe(Σ(liq_buy − liq_sell) / Σ(liq_buy + liq_sell)) over the non-null rows among the last 15 (min 1 row)",
    "ratio [-1,1]",
    LIQ,
    "15 rows",
    "0 when the 15 rows hold no liquidation data or the total is 0",
  ),
  zeroFilled(
    "liquidation_notional_zscore_15m",
    "safe((T − mean(T)) / std(T)) with T = Σ(liq_buy + liq_sell) over the last 15 rows (min 1 non-null row) and mean/std (ddof 1) over the non-null T of the last 1,440 rows (min 60)",
    "z-score",
    LIQ,
    "1,454 rows",
    "0 while fewer than 60 non-null 15-row totals are in the 1,440-row window or the std is 0",
  ),
];

/**
 * Rolling sum / mean / sample std over the non-NaN values of the last `windowRows` pushes (pandas
 * `rolling(w, min_periods=m)`: NaN values are skipped; a statistic is NaN below `minCount` values). Sums
 * are shifted by a pivot and rebuilt from the ring every w pushes (amortised O(1)).
 */
export class NanSkippingStats {
  private readonly ring: Float64Array;
  private pos = 0;
  private pushed = 0;
  private count = 0;
  private pivot = 0;
  private s1 = 0;
  private s2 = 0;
  private since = 0;
  /** Non-NaN, non-zero values in the window (a window of zeros has mean and std exactly 0). */
  private nonZero = 0;

  constructor(
    readonly windowRows: number,
    readonly minCount: number,
  ) {
    this.ring = new Float64Array(windowRows);
  }

  push(x: number): void {
    const w = this.windowRows;
    if (this.pushed >= w) {
      const old = this.ring[this.pos]!;
      if (!Number.isNaN(old)) {
        const d = old - this.pivot;
        this.s1 -= d;
        this.s2 -= d * d;
        this.count--;
        if (old !== 0) this.nonZero--;
      }
    }
    this.ring[this.pos] = x;
    if (!Number.isNaN(x)) {
      const d = x - this.pivot;
      this.s1 += d;
      this.s2 += d * d;
      this.count++;
      if (x !== 0) this.nonZero++;
    }
    this.pos = this.pos + 1 === w ? 0 : this.pos + 1;
    this.pushed++;
    if (++this.since >= w) this.rebuild();
  }

  private rebuild(): void {
    this.since = 0;
    const w = this.windowRows;
    const n = Math.min(this.pushed, w);
    let pivot = Number.NaN;
    for (let k = 0; k < n && Number.isNaN(pivot); k++) pivot = this.ring[k]!;
    this.pivot = Number.isNaN(pivot) ? 0 : pivot;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0; k < n; k++) {
      const x = this.ring[k]!;
      if (Number.isNaN(x)) continue;
      const d = x - this.pivot;
      s1 += d;
      s2 += d * d;
    }
    this.s1 = s1;
    this.s2 = s2;
  }

  sum(): number {
    return this.count >= this.minCount && this.count > 0 ? this.s1 + this.pivot * this.count : Number.NaN;
  }

  mean(): number {
    if (!(this.count >= this.minCount && this.count > 0)) return Number.NaN;
    return this.nonZero === 0 ? 0 : this.pivot + this.s1 / this.count;
  }

  std(): number {
    const n = this.count;
    if (n < this.minCount || n < 2) return Number.NaN;
    if (this.nonZero === 0) return 0;
    const v = (n * this.s2 - this.s1 * this.s1) / (n * (n - 1));
    return v > 0 ? Math.sqrt(v) : 0;
  }

  snapshot(): JsonValue {
    return {
      ring: Array.from(this.ring, numberToJson),
      pos: this.pos,
      pushed: this.pushed,
      count: this.count,
      pivot: this.pivot,
      s1: this.s1,
      s2: this.s2,
      since: this.since,
      nonZero: this.nonZero,
    };
  }

  restore(state: JsonValue): void {
    const s = stateObject(state, "NanSkippingStats");
    const ring = s.ring;
    if (!Array.isArray(ring) || ring.length !== this.windowRows)
      throw new TypeError("NanSkippingStats: ring size differs from snapshot");
    for (let k = 0; k < ring.length; k++) this.ring[k] = ring[k] === null ? Number.NaN : (ring[k] as number);
    this.pos = stateNumber(s, "pos");
    this.pushed = stateNumber(s, "pushed");
    this.count = stateNumber(s, "count");
    this.pivot = stateNumber(s, "pivot");
    this.s1 = stateNumber(s, "s1");
    this.s2 = stateNumber(s, "s2");
    this.since = stateNumber(s, "since");
    this.nonZero = stateNumber(s, "nonZero");
  }
}

/** liquidation_imbalance_15m, liquidation_notional_zscore_15m. Reads the liquidation notionals. */
export class TraderLiquidationsOperator extends TraderRowOperator {
  private readonly diff = new WindowSum(LIQ_SUM_ROWS, true);
  private readonly tot = new WindowSum(LIQ_SUM_ROWS, true);
  private readonly z = new NanSkippingStats(LIQ_Z_ROWS, LIQ_Z_MIN_ROWS);

  constructor() {
    super("trader_liquidations", LIQ_OUTPUTS, [R.liqBuy, R.liqSell]);
  }

  protected row(
    _row: SpineRow,
    _close: number,
    ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    const b = ins[1]![r]!;
    const s = ins[2]![r]!;
    this.diff.push(b - s);
    this.tot.push(b + s);
    const total = this.tot.sum();
    out[0]![r] = safeDiv(this.diff.sum(), total);
    this.z.push(total);
    out[1]![r] = safeDiv(total - this.z.mean(), this.z.std());
  }

  snapshot(): JsonValue {
    return { v: 1, diff: this.diff.snapshot(), tot: this.tot.snapshot(), z: this.z.snapshot() };
  }

  restore(state: JsonValue): void {
    const s = obj(state, this.id);
    this.diff.restore(sub(s, "diff", this.id));
    this.tot.restore(sub(s, "tot", this.id));
    this.z.restore(sub(s, "z", this.id));
  }
}

// ---------------------------------------------------------------- time of day
const TIME_OUTPUTS: readonly OutputMeta[] = (["sin", "cos"] as const).map((f) =>
  col(`minute_of_day_${f}`, "f64", `${f}(2π · minute_of_day / 1440), minute_of_day of event_time (UTC)`, {
    unit: "[-1,1]",
    warmupRows: 0,
    inputs: inp("event_time"),
    window: "current row",
    warmup: "none",
  }),
);

/** minute_of_day_{sin,cos}. */
export class TraderTimeOperator extends TraderRowOperator {
  constructor() {
    super("trader_time", TIME_OUTPUTS, []);
  }

  protected row(
    row: SpineRow,
    _close: number,
    _ins: readonly Float64Array[],
    out: readonly Float64Array[],
    r: number,
  ): void {
    const tod = ((row.tsEventUs % US_PER_DAY) + US_PER_DAY) % US_PER_DAY;
    const a = (2 * Math.PI * Math.floor(tod / US_PER_MINUTE)) / 1440;
    out[0]![r] = Math.sin(a);
    out[1]![r] = Math.cos(a);
  }

  snapshot(): JsonValue {
    return { v: 1 };
  }

  restore(state: JsonValue): void {
    obj(state, this.id);
  }
}

// ---------------------------------------------------------------- registry
const NO_CONFIG = z.object({}).strict();

function def(
  name: string,
  description: string,
  outputs: readonly OutputMeta[],
  create: () => Operator,
): OperatorDef {
  return familyOperator({
    name,
    description,
    source: TRADER_SOURCE,
    params: NO_CONFIG,
    outputs: () => outputs,
    create,
  });
}

/** The registered trader feature operators, in group order (`trader_compression` reads `trader_range`). */
export const TRADER_FEATURE_OPERATORS: readonly OperatorDef[] = [
  def(
    "trader_returns",
    "trader 1m returns, realized volatility, volatility ratio and trend consistency",
    RETURNS_OUTPUTS,
    () => new TraderReturnsOperator(),
  ),
  def(
    "trader_range",
    "trader 1m ranges, channel position, breakouts, failed-break reclaims and sweeps",
    RANGE_OUTPUTS,
    () => new TraderRangeOperator(),
  ),
  def(
    "trader_compression",
    "trader 1m compression score (240-row rank) and release (240-row median) of range_15m_bps",
    COMPRESSION_OUTPUTS,
    () => new TraderCompressionOperator(),
  ),
  def(
    "trader_volume",
    "trader 1m volume z-score and taker imbalances",
    VOLUME_OUTPUTS,
    () => new TraderVolumeOperator(),
  ),
  def(
    "trader_spread",
    "trader 1m spread rank over 1,440 rows",
    SPREAD_OUTPUTS,
    () => new TraderSpreadOperator(),
  ),
  def(
    "trader_derivatives",
    "trader 1m open-interest changes, mark/index basis and minutes to the next funding",
    DERIV_OUTPUTS,
    () => new TraderDerivativesOperator(),
  ),
  def(
    "trader_liquidations",
    "trader 1m liquidation imbalance and notional z-score",
    LIQ_OUTPUTS,
    () => new TraderLiquidationsOperator(),
  ),
  def("trader_time", "trader 1m minute-of-day encoding", TIME_OUTPUTS, () => new TraderTimeOperator()),
];

/** The 33 features in the reference's column order (`feature_order.json`). */
export const TRADER_FEATURES: readonly string[] = [
  ...RETURN_HORIZONS.map((k) => `ret_${k}m_bps`),
  "realized_vol_15m_bps",
  "realized_vol_60m_bps",
  "vol_ratio_15m_60m",
  "range_15m_bps",
  "range_60m_bps",
  "volume_zscore_60m",
  "trend_consistency_15m",
  "channel_position_60m_pct",
  "upper_breakout_60m_bps",
  "lower_breakout_60m_bps",
  "upper_failed_break_reclaim_15m_bps",
  "lower_failed_break_reclaim_15m_bps",
  "sweep_up_15m_bps",
  "sweep_down_15m_bps",
  "compression_score_4h_pct",
  "compression_release_15m_bps",
  ...TAKER_HORIZONS.map((k) => `taker_imbalance_${k}m`),
  "spread_rank_24h_pct",
  "oi_delta_15m_bps",
  "oi_delta_60m_bps",
  "mark_index_basis_bps",
  "liquidation_imbalance_15m",
  "liquidation_notional_zscore_15m",
  "minute_of_day_sin",
  "minute_of_day_cos",
  "minutes_to_next_funding",
];

/** Catalogue entries of the 33 features, in `TRADER_FEATURES` order. */
export function traderFeatureMeta(): OutputMeta[] {
  const all = [
    ...RETURNS_OUTPUTS,
    ...RANGE_OUTPUTS,
    ...COMPRESSION_OUTPUTS,
    ...VOLUME_OUTPUTS,
    ...SPREAD_OUTPUTS,
    ...DERIV_OUTPUTS,
    ...LIQ_OUTPUTS,
    ...TIME_OUTPUTS,
  ];
  const by = new Map(all.map((m) => [m.name, m]));
  return TRADER_FEATURES.map((n) => by.get(n)!);
}

/** Features that read the liquidation columns (the PARTIAL_OPTIONAL flag considers them). */
export const LIQUIDATION_FEATURES: readonly string[] = [
  "liquidation_imbalance_15m",
  "liquidation_notional_zscore_15m",
];

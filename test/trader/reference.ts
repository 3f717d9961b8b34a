/**
 * Naive O(n·w) per-row recomputation of the 33 trader features, written from the definitions of issue
 * #12 (and the catalogue's formulas), independently of src/features/trader: every value is recomputed
 * from the raw rows of its window with plain loops, two-pass statistics and a full sort for ranks and
 * medians. Rows are the replay's rows (windows count rows, not minutes).
 */

/** One replay row (NaN = null). */
export interface RefRow {
  t: number; // minute open, µs
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  takerBuy: number;
  takerSell: number;
  mark: number;
  index: number;
  nextFunding: number; // µs
  oi: number;
  spread: number;
  liqBuy: number;
  liqSell: number;
}

const NaN_ = Number.NaN;

function safe(a: number, b: number): number {
  const q = a / b;
  return Number.isFinite(q) ? q : 0;
}

function slice(xs: readonly number[], from: number, to: number): number[] {
  // inclusive bounds
  return xs.slice(from, to + 1);
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function sampleStd(xs: readonly number[]): number {
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(b, a), Number.NEGATIVE_INFINITY);
const min = (xs: readonly number[]) => xs.reduce((a, b) => Math.min(b, a), Number.POSITIVE_INFINITY);
const anyNaN = (xs: readonly number[]) => xs.some((x) => Number.isNaN(x));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Reference values per feature name, one per row. */
export function referenceFeatures(rows: readonly RefRow[]): Record<string, number[]> {
  const n = rows.length;
  const c = rows.map((r) => r.close);
  const h = rows.map((r) => r.high);
  const l = rows.map((r) => r.low);
  const v = rows.map((r) => r.volume);
  const lr = c.map((x, i) => (i === 0 ? NaN_ : Math.log(x / c[i - 1]!)));
  const out: Record<string, number[]> = {};
  const put = (name: string, i: number, x: number) => {
    if (out[name] === undefined) out[name] = new Array<number>(n).fill(NaN_);
    out[name]![i] = x;
  };
  const range15: number[] = new Array<number>(n).fill(NaN_);
  const tot15: number[] = new Array<number>(n).fill(NaN_);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    for (const k of [1, 5, 15, 60, 240])
      put(`ret_${k}m_bps`, i, i >= k ? ((c[i]! - c[i - k]!) / c[i - k]!) * 1e4 : NaN_);
    const rv: Record<number, number> = {};
    for (const w of [15, 60]) {
      rv[w] = i >= w ? sampleStd(slice(lr, i - w + 1, i)) * 1e4 : NaN_;
      put(`realized_vol_${w}m_bps`, i, rv[w]!);
    }
    put("vol_ratio_15m_60m", i, safe(rv[15]!, Math.max(rv[60]!, 1)));
    for (const w of [15, 60]) {
      const x =
        i >= w - 1 ? ((max(slice(h, i - w + 1, i)) - min(slice(l, i - w + 1, i))) / c[i]!) * 1e4 : NaN_;
      put(`range_${w}m_bps`, i, x);
      if (w === 15) range15[i] = x;
    }
    if (i >= 59) {
      const win = slice(v, i - 59, i);
      put("volume_zscore_60m", i, safe(v[i]! - mean(win), sampleStd(win)));
    } else put("volume_zscore_60m", i, 0);
    put(
      "trend_consistency_15m",
      i,
      i >= 15 ? mean(slice(c, i - 14, i).map((x, j) => Math.sign(x - c[i - 14 + j - 1]!))) : NaN_,
    );
    if (i >= 59) {
      const hi = max(slice(h, i - 59, i));
      const lo = min(slice(l, i - 59, i));
      put("channel_position_60m_pct", i, hi > lo ? (c[i]! - lo) / (hi - lo) : NaN_);
    } else put("channel_position_60m_pct", i, NaN_);
    if (i >= 60) {
      const H = max(slice(h, i - 60, i - 1));
      const L = min(slice(l, i - 60, i - 1));
      put("upper_breakout_60m_bps", i, (Math.max(c[i]! - H, 0) / H) * 1e4);
      put("lower_breakout_60m_bps", i, (Math.max(L - c[i]!, 0) / L) * 1e4);
    } else {
      put("upper_breakout_60m_bps", i, NaN_);
      put("lower_breakout_60m_bps", i, NaN_);
    }
    let up = 0;
    let dn = 0;
    if (i >= 74) {
      const U = max(slice(h, i - 74, i - 15));
      const D = min(slice(l, i - 74, i - 15));
      const h15 = max(slice(h, i - 14, i));
      const l15 = min(slice(l, i - 14, i));
      if (h15 > U && c[i]! < U) up = ((U - c[i]!) / U) * 1e4;
      if (l15 < D && c[i]! > D) dn = ((c[i]! - D) / D) * 1e4;
    }
    put("upper_failed_break_reclaim_15m_bps", i, up);
    put("lower_failed_break_reclaim_15m_bps", i, dn);
    if (i >= 15) {
      const H = max(slice(h, i - 15, i - 1));
      const L = min(slice(l, i - 15, i - 1));
      put("sweep_up_15m_bps", i, (Math.max(h[i]! - H, 0) / H) * 1e4);
      put("sweep_down_15m_bps", i, (Math.max(L - l[i]!, 0) / L) * 1e4);
    } else {
      put("sweep_up_15m_bps", i, NaN_);
      put("sweep_down_15m_bps", i, NaN_);
    }
    if (i >= 239 && !anyNaN(slice(range15, i - 239, i))) {
      const win = slice(range15, i - 239, i);
      const rank = win.filter((x) => x <= range15[i]!).length / 240;
      put("compression_score_4h_pct", i, 1 - rank);
      put("compression_release_15m_bps", i, Math.max(range15[i]! - median(win), 0));
    } else {
      put("compression_score_4h_pct", i, NaN_);
      put("compression_release_15m_bps", i, NaN_);
    }
    for (const k of [1, 5, 15]) {
      if (i >= k - 1) {
        let d = 0;
        let t = 0;
        for (let j = i - k + 1; j <= i; j++) {
          d += rows[j]!.takerBuy - rows[j]!.takerSell;
          t += rows[j]!.takerBuy + rows[j]!.takerSell;
        }
        put(`taker_imbalance_${k}m`, i, safe(d, t));
      } else put(`taker_imbalance_${k}m`, i, 0);
    }
    if (i >= 1439) {
      const win = rows.slice(i - 1439, i + 1).map((x) => x.spread);
      put("spread_rank_24h_pct", i, anyNaN(win) ? NaN_ : win.filter((x) => x <= r.spread).length / 1440);
    } else put("spread_rank_24h_pct", i, NaN_);
    for (const k of [15, 60]) {
      put(`oi_delta_${k}m_bps`, i, i >= k ? ((r.oi - rows[i - k]!.oi) / rows[i - k]!.oi) * 1e4 : NaN_);
    }
    put("mark_index_basis_bps", i, ((r.mark - r.index) / r.index) * 1e4);
    // liquidations: NaN-skipping sums over the last 15 rows (min 1 non-null)
    let ld = 0;
    let lt = 0;
    let cnt = 0;
    for (let j = Math.max(0, i - 14); j <= i; j++) {
      const b = rows[j]!.liqBuy;
      const s = rows[j]!.liqSell;
      if (Number.isNaN(b + s)) continue;
      ld += b - s;
      lt += b + s;
      cnt++;
    }
    put("liquidation_imbalance_15m", i, cnt > 0 ? safe(ld, lt) : 0);
    tot15[i] = cnt > 0 ? lt : NaN_;
    const zwin = slice(tot15, Math.max(0, i - 1439), i).filter((x) => !Number.isNaN(x));
    put(
      "liquidation_notional_zscore_15m",
      i,
      zwin.length >= 60 ? safe(tot15[i]! - mean(zwin), sampleStd(zwin)) : 0,
    );
    const minute = Math.floor((((r.t % 86_400_000_000) + 86_400_000_000) % 86_400_000_000) / 60_000_000);
    put("minute_of_day_sin", i, Math.sin((2 * Math.PI * minute) / 1440));
    put("minute_of_day_cos", i, Math.cos((2 * Math.PI * minute) / 1440));
    const m = (r.nextFunding - (r.t + 60_000_000)) / 60_000_000;
    put("minutes_to_next_funding", i, Number.isNaN(m) ? NaN_ : Math.min(Math.max(m, 0), 480));
  }
  return out;
}

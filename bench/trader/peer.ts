/**
 * The nodejs-polars peer of the trader features (issue #12 benchmark): the same definitions as
 * src/features/trader/features.ts, written as whole-column Polars expressions over the replay frame
 * (rows sorted by symbol, event_time; windows `over("symbol")`, `rolling_*(window = N rows)` with
 * min_periods = N unless stated, ddof = 1), independently of the engine's operators.
 *
 * Not expressible in nodejs-polars: the rolling rank of the last value (`compression_score_4h_pct`,
 * `spread_rank_24h_pct`) — Polars has no rolling rank, and nodejs-polars no `rolling_map`; the peer leaves
 * them out (31 of 33 features).
 */
import pl from "nodejs-polars";

const c = pl.col;
const lit = pl.lit;
/** The reference's safe division: 0 where the quotient is null, NaN or ±inf. */
const safe = (a: pl.Expr, b: pl.Expr): pl.Expr => {
  const q = a.div(b);
  return pl.when(q.isFinite()).then(q).otherwise(lit(0.0));
};
const roll = (
  e: pl.Expr,
  kind: "sum" | "mean" | "std" | "max" | "min" | "median",
  w: number,
  minPeriods = w,
): pl.Expr => {
  const o = { windowSize: w, minPeriods };
  switch (kind) {
    case "sum":
      return e.rollingSum(o);
    case "mean":
      return e.rollingMean(o);
    case "std":
      return e.rollingStd({ ...o, ddof: 1 });
    case "max":
      return e.rollingMax(o);
    case "min":
      return e.rollingMin(o);
    case "median":
      return e.rollingMedian(o);
  }
};
const over = (e: pl.Expr): pl.Expr => e.over("symbol");
/** max(e, 0), null where e is null. */
const pos = (e: pl.Expr): pl.Expr =>
  pl.when(e.isNull()).then(lit(null)).when(e.gt(0)).then(e).otherwise(lit(0.0));

/** Features the peer computes, in frame order. */
export const PEER_FEATURES = [
  "ret_1m_bps",
  "ret_5m_bps",
  "ret_15m_bps",
  "ret_60m_bps",
  "ret_240m_bps",
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
  "compression_release_15m_bps",
  "taker_imbalance_1m",
  "taker_imbalance_5m",
  "taker_imbalance_15m",
  "oi_delta_15m_bps",
  "oi_delta_60m_bps",
  "mark_index_basis_bps",
  "liquidation_imbalance_15m",
  "liquidation_notional_zscore_15m",
  "minute_of_day_sin",
  "minute_of_day_cos",
  "minutes_to_next_funding",
] as const;

/**
 * The features of a replay frame with columns symbol, event_us (Int64 µs, minute open), close, high, low,
 * volume, taker_buy_volume, taker_sell_volume, mark_price, index_price, next_funding_us, open_interest,
 * liquidation_buy_notional_1m, liquidation_sell_notional_1m (Float64, null = missing), sorted by
 * (symbol, event_us).
 */
export function polarsTraderFeatures(df: pl.DataFrame): pl.DataFrame {
  const close = c("close");
  const high = c("high");
  const low = c("low");
  const ret = (col: string, k: number) => {
    const p = over(c(col).shift(k));
    return c(col).sub(p).div(p).mul(1e4);
  };
  const step1 = df.lazy().withColumns(
    over(close.div(close.shift(1)).log()).alias("_lr"),
    over(
      pl
        .when(close.gt(close.shift(1)))
        .then(lit(1.0))
        .when(close.lt(close.shift(1)))
        .then(lit(-1.0))
        .when(close.eq(close.shift(1)))
        .then(lit(0.0))
        .otherwise(lit(null)),
    ).alias("_sign"),
    over(roll(high, "max", 15)).alias("_h15"),
    over(roll(low, "min", 15)).alias("_l15"),
    over(roll(high, "max", 60)).alias("_h60"),
    over(roll(low, "min", 60)).alias("_l60"),
    over(roll(high.shift(1), "max", 60)).alias("_ph60"),
    over(roll(low.shift(1), "min", 60)).alias("_pl60"),
    over(roll(high.shift(1), "max", 15)).alias("_ph15"),
    over(roll(low.shift(1), "min", 15)).alias("_pl15"),
    over(roll(high.shift(15), "max", 60)).alias("_u"),
    over(roll(low.shift(15), "min", 60)).alias("_d"),
    c("taker_buy_volume").sub(c("taker_sell_volume")).alias("_td"),
    c("taker_buy_volume").add(c("taker_sell_volume")).alias("_tt"),
    c("liquidation_buy_notional_1m").sub(c("liquidation_sell_notional_1m")).alias("_ld"),
    c("liquidation_buy_notional_1m").add(c("liquidation_sell_notional_1m")).alias("_lt"),
  );
  const step2 = step1.withColumns(
    ...[1, 5, 15, 60, 240].map((k) => ret("close", k).alias(`ret_${k}m_bps`)),
    over(roll(c("_lr"), "std", 15))
      .mul(1e4)
      .alias("realized_vol_15m_bps"),
    over(roll(c("_lr"), "std", 60))
      .mul(1e4)
      .alias("realized_vol_60m_bps"),
    c("_h15").sub(c("_l15")).div(close).mul(1e4).alias("range_15m_bps"),
    c("_h60").sub(c("_l60")).div(close).mul(1e4).alias("range_60m_bps"),
    safe(c("volume").sub(over(roll(c("volume"), "mean", 60))), over(roll(c("volume"), "std", 60)))
      .fillNull(0)
      .alias("volume_zscore_60m"),
    over(roll(c("_sign"), "mean", 15)).alias("trend_consistency_15m"),
    pl
      .when(c("_h60").gt(c("_l60")))
      .then(close.sub(c("_l60")).div(c("_h60").sub(c("_l60"))))
      .otherwise(lit(null))
      .alias("channel_position_60m_pct"),
    pos(close.sub(c("_ph60")))
      .div(c("_ph60"))
      .mul(1e4)
      .alias("upper_breakout_60m_bps"),
    pos(c("_pl60").sub(close)).div(c("_pl60")).mul(1e4).alias("lower_breakout_60m_bps"),
    pl
      .when(
        c("_h15")
          .gt(c("_u"))
          .and(close.lt(c("_u"))),
      )
      .then(c("_u").sub(close).div(c("_u")).mul(1e4))
      .otherwise(lit(0.0))
      .alias("upper_failed_break_reclaim_15m_bps"),
    pl
      .when(
        c("_l15")
          .lt(c("_d"))
          .and(close.gt(c("_d"))),
      )
      .then(close.sub(c("_d")).div(c("_d")).mul(1e4))
      .otherwise(lit(0.0))
      .alias("lower_failed_break_reclaim_15m_bps"),
    pos(high.sub(c("_ph15")))
      .div(c("_ph15"))
      .mul(1e4)
      .alias("sweep_up_15m_bps"),
    pos(c("_pl15").sub(low)).div(c("_pl15")).mul(1e4).alias("sweep_down_15m_bps"),
    ...[1, 5, 15].map((k) =>
      safe(over(roll(c("_td"), "sum", k)), over(roll(c("_tt"), "sum", k)))
        .fillNull(0)
        .alias(`taker_imbalance_${k}m`),
    ),
    ret("open_interest", 15).alias("oi_delta_15m_bps"),
    ret("open_interest", 60).alias("oi_delta_60m_bps"),
    c("mark_price").sub(c("index_price")).div(c("index_price")).mul(1e4).alias("mark_index_basis_bps"),
    safe(over(roll(c("_ld"), "sum", 15, 1)), over(roll(c("_lt"), "sum", 15, 1)))
      .fillNull(0)
      .alias("liquidation_imbalance_15m"),
    over(roll(c("_lt"), "sum", 15, 1)).alias("_T"),
    c("event_us")
      .modulo(86_400_000_000)
      .cast(pl.Float64)
      .div(60_000_000)
      .floor()
      .mul((2 * Math.PI) / 1440)
      .alias("_a"),
    c("next_funding_us")
      .sub(c("event_us").add(60_000_000))
      .cast(pl.Float64)
      .div(60_000_000)
      .clip(0, 480)
      .alias("minutes_to_next_funding"),
  );
  const step3 = step2.withColumns(
    safe(
      c("realized_vol_15m_bps"),
      pl.when(c("realized_vol_60m_bps").lt(1)).then(lit(1.0)).otherwise(c("realized_vol_60m_bps")),
    )
      .fillNull(0)
      .alias("vol_ratio_15m_60m"),
    pos(c("range_15m_bps").sub(over(roll(c("range_15m_bps"), "median", 240)))).alias(
      "compression_release_15m_bps",
    ),
    safe(c("_T").sub(over(roll(c("_T"), "mean", 1440, 60))), over(roll(c("_T"), "std", 1440, 60)))
      .fillNull(0)
      .alias("liquidation_notional_zscore_15m"),
    c("_a").sin().alias("minute_of_day_sin"),
    c("_a").cos().alias("minute_of_day_cos"),
  );
  return step3.select("symbol", "event_us", ...PEER_FEATURES).collectSync();
}

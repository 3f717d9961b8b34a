/**
 * nodejs-polars peer of the interval frames (bench/intervals/run.ts): reads the same lake rows
 * (`queryFrame`) and computes, per interval, the trade-side columns of `interval_microstructure` with
 * Polars expressions: volume, trade count, realised vol (√(A·Σr²)), interval log return (ln of the last
 * price over the previous interval's, forward-filled), signed volume (Lee–Ready through `joinAsof` of the
 * quotes, backward: the last quote at or before the trade; tick test with forward-filled non-zero ticks).
 * Same conventions as the engine (one UTC day, no state before it).
 */
import pl from "nodejs-polars";
import { SECONDS_PER_YEAR } from "../../src/features/intervals/microstructure.js";
import { listSymbols } from "../../src/lake/symbols.js";
import { queryFrame } from "../../src/query/query.js";

export async function polarsIntervals(
  lake: string,
  dayUs: number,
  intervalsS: readonly number[],
): Promise<{ rows: number; columns: Record<string, number[]> }> {
  const entries = await listSymbols(lake);
  const columns: Record<string, number[]> = {};
  let rows = 0;
  const range = { lake, exchange: "usa", start: dayUs, end: dayUs + 86_400e6 };
  for (const [alias, symbol, quotes] of [
    ["spy", "SPY", false],
    ["ibm", "IBM", true],
  ] as const) {
    const e = entries.find((x) => x.exchange === "usa" && x.exchange_symbol === symbol)!;
    const qtyInc = Number(e.amount_increment);
    let trades = (await queryFrame("trades", { ...range, symbol }))
      .select(
        pl.col("ts_local_us").alias("ts"),
        pl.col("px_int").cast(pl.Float64).alias("px"),
        pl.col("qty_int").cast(pl.Float64).alias("qty"),
      )
      .withColumns(pl.col("px").shift(1).alias("prev"));
    trades = trades.withColumns(
      pl
        .when(pl.col("px").gt(pl.col("prev")))
        .then(pl.lit(1))
        .when(pl.col("px").lt(pl.col("prev")))
        .then(pl.lit(-1))
        .otherwise(pl.lit(null))
        .forwardFill()
        .fillNull(0)
        .alias("tick"),
      pl.col("px").div(pl.col("prev")).log().alias("r"),
    );
    if (quotes) {
      const q = (await queryFrame("quotes", { ...range, symbol })).select(
        pl.col("ts_local_us").alias("ts"),
        pl.col("bid_px_int").cast(pl.Float64).add(pl.col("ask_px_int").cast(pl.Float64)).alias("mid2"),
      );
      trades = trades.joinAsof(q, { on: "ts", strategy: "backward" });
    } else trades = trades.withColumns(pl.lit(null).cast(pl.Float64).alias("mid2"));
    trades = trades.withColumns(
      pl
        .when(pl.col("px").mul(2).gt(pl.col("mid2")))
        .then(pl.lit(1))
        .when(pl.col("px").mul(2).lt(pl.col("mid2")))
        .then(pl.lit(-1))
        .otherwise(pl.col("tick"))
        .alias("sign"),
    );
    for (const s of intervalsS) {
      const n = 86_400 / s;
      const A = SECONDS_PER_YEAR.equity / s;
      const agg = trades
        .withColumns(
          pl
            .col("ts")
            .sub(dayUs)
            .div(s * 1e6)
            .floor()
            .cast(pl.Int64)
            .alias("k"),
        )
        .groupBy("k")
        .agg(
          pl.col("qty").sum().alias("vol"),
          pl.col("px").count().alias("count"),
          pl.col("r").pow(2).sum().alias("r2"),
          pl.col("sign").mul(pl.col("qty")).sum().alias("sv"),
          pl.col("px").last().alias("last"),
        );
      const grid = pl
        .DataFrame({ k: Array.from({ length: n }, (_, i) => i) })
        .withColumns(pl.col("k").cast(pl.Int64))
        .join(agg, { on: "k", how: "left" })
        .sort("k")
        .withColumns(pl.col("last").forwardFill().alias("lastFf"));
      const out = grid.select(
        pl.col("vol").fillNull(0).mul(qtyInc).alias("volume"),
        pl.col("count").fillNull(0).cast(pl.Float64).alias("trade_count"),
        pl
          .when(pl.col("lastFf").isNull())
          .then(pl.lit(null))
          .otherwise(pl.col("r2").fillNull(0).mul(A).pow(0.5))
          .alias("realized_vol"),
        pl.col("lastFf").div(pl.col("lastFf").shift(1)).log().alias("interval_log_return"),
        pl.col("sv").fillNull(0).mul(qtyInc).alias("signed_volume"),
      );
      rows += n;
      for (const c of out.columns)
        columns[`${c}_${s}s_${alias}`] = (out.getColumn(c).toArray() as (number | null)[]).map((v) =>
          v === null ? Number.NaN : Number(v),
        );
    }
  }
  return { rows: rows / 2, columns };
}

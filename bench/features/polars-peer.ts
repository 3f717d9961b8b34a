/**
 * The speed peer and cross-check of the feature engine: the same feature families computed the way
 * Pointline (Python/Polars) computes them — whole-range columnar frames, `join_asof` of every source onto
 * the spine, then family expressions and row windows (`rolling_sum/mean/std/median(window = N rows)`,
 * min_periods = N, ddof = 1) — in nodejs-polars, independent of the engine's operators.
 *
 * Pipeline:
 * 1. Sources: each lake part of trades / book_snapshot_25 / derivative_ticker (/ quotes for the bar
 *    aggregations) with ts_local_us in [replayStart, end), lazily scanned and concatenated; the book's
 *    25-level lists are reduced to scalars inside the scan (level 0, Σ sizes over 1/5/10/25 levels,
 *    Σ px·qty over D levels) so no list column is ever materialised. Rows are checked to be in the total
 *    order (ts_local_us, file_id, file_line_number) and sorted only if they are not.
 * 2. Spine: clock — one row per step from replayStart (rows whose bar ends after `end` are not built),
 *    knowledge cut ts_local_us < bar end, i.e. as-of at bar_end − 1 µs; volume — bars built by one typed
 *    loop over the trades' qty_int (a running sum that closes on the trade reaching the threshold, includes
 *    it whole, resets to 0, resets at each UTC midnight and drops the partial bar there and at the range
 *    end: the volume-bar MFT guide's rule, the one step Polars has no vectorised form for), knowledge cut
 *    = everything up to and including the closing trade: book / quotes / ticker as-of at the closing
 *    trade's ts_local_us (they rank before trades at equal time), the trade as-of = the closing trade.
 * 3. `join_asof(strategy="backward")` of each source on its ts_local_us (for equal keys Polars takes the
 *    last row, i.e. the last in the total order).
 * 4. Per-bar trade sums (flow) and bar aggregations by `group_by(bar)`; family expressions; windows
 *    over the spine rows from replayStart (warm-up rows included, as in the engine); rows with
 *    ts_event_us ≥ start and available_at_us ≤ end are returned.
 *
 * Definitions are those of the engine's families (briefs a/b/c; see src/features/*.ts docs), including
 * the deliberate ones: the rolling flow sums every trade of each bar over the last N rows (not the as-of
 * trade), tb_dt_us is the as-of trade inter-arrival, realized_vol uses log1p((p − p₋₁)/p₋₁).
 */
import { resolve } from "node:path";
import pl from "nodejs-polars";
import { US_PER_DAY, US_PER_HOUR } from "../../src/core/time.js";
import { type loadManifests, partsFor } from "../../src/lake/catalog.js";
import type { TableName } from "../../src/schema/tables.js";

export type PeerSpine = { type: "clock"; stepMs: number } | { type: "volume"; thresholdQtyInt: number };

export interface PeerWindows {
  readonly flow: number;
  readonly liquidity: number;
  readonly basis: number;
  readonly burst: number;
  readonly regime: number;
  readonly bookDepth: number;
}

export interface PeerRequest {
  readonly lake: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly startUs: number;
  readonly endUs: number;
  /** First instant replayed (warm-up start; the engine's plan). */
  readonly replayStartUs: number;
  readonly spine: PeerSpine;
  readonly windows: PeerWindows;
  /** Add the volume-bar MFT guide's aggregations (needs quotes). */
  readonly barAggregations: boolean;
  /**
   * Natural-unit columns of the frame (the units rule, engine/units.ts): name → multiplier of the value
   * in increments (e.g. 0.1 for a price, 0.001 for a size). The peer computes in increments like the
   * engine's operators and converts these columns last, in Polars.
   */
  readonly naturalScale?: ReadonlyMap<string, { readonly mul: number; readonly div: number }>;
}

export interface PeerResult {
  readonly frame: pl.DataFrame;
  /** Rows read per table in [replayStart, end). */
  readonly events: Record<string, number>;
  /** Seconds per stage. */
  readonly stages: Record<string, number>;
}

const DAY = US_PER_DAY;

/** Integer output columns (cast to Int64 like the engine's i64 outputs). */
export function integerColumns(w: PeerWindows): string[] {
  return [
    "ts_event_us",
    "ts_end_us",
    "available_at_us",
    "bar_index",
    "bar_duration_us",
    "ms_bid_px_int",
    "ms_ask_px_int",
    "ms_bid_sz_int",
    "ms_ask_sz_int",
    "ms_spread_int",
    "of_signed_qty_int",
    "of_trade_sign",
    "of_last_qty_int",
    "of_last_px_int",
    `of_signed_qty_sum_${w.flow}`,
    `of_abs_qty_sum_${w.flow}`,
    `of_trade_count_${w.flow}`,
    `bs_bid_depth_${w.bookDepth}`,
    `bs_ask_depth_${w.bookDepth}`,
    "ex_spread_int",
    "sd_spread_int",
    "sd_spread_chg",
    "sd_spread_abs_chg",
    "ls_top_depth",
    "tb_dt_us",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "trade_count",
    "buy_volume",
    "sell_volume",
    "hour",
  ];
}

/** Lazily scans the parts of one table in [from, to) with `exprs` evaluated per part. */
function scanTable(
  lake: string,
  manifests: Awaited<ReturnType<typeof loadManifests>>,
  table: TableName,
  req: PeerRequest,
  exprs: pl.Expr[],
): pl.LazyDataFrame | null {
  const parts = partsFor(manifests, table, req.exchange, req.symbol, req.replayStartUs, req.endUs);
  if (parts.length === 0) return null;
  const lazies = parts.map((p) =>
    pl
      .scanParquet(resolve(lake, p.path))
      .filter(pl.col("ts_local_us").gtEq(req.replayStartUs).and(pl.col("ts_local_us").lt(req.endUs)))
      .select(pl.col("ts_local_us"), pl.col("file_id"), pl.col("file_line_number"), ...exprs),
  );
  return lazies.length === 1 ? lazies[0]! : pl.concat(lazies, { how: "vertical" });
}

/** Sorts into the total order unless the rows already are in it (cheap vectorised check). */
function inTotalOrder(df: pl.DataFrame): pl.DataFrame {
  if (df.height < 2) return df;
  const t = pl.col("ts_local_us");
  const f = pl.col("file_id");
  const l = pl.col("file_line_number");
  const ok = t
    .gt(t.shift(1))
    .or(t.eq(t.shift(1)).and(f.gt(f.shift(1)).or(f.eq(f.shift(1)).and(l.gt(l.shift(1))))))
    .fillNull(true);
  const sorted = df.select(ok.all().alias("ok")).getColumn("ok").toArray()[0] === true;
  return sorted ? df : df.sort(["ts_local_us", "file_id", "file_line_number"]);
}

const col = pl.col;
const lit = pl.lit;
const nullF = (): pl.Expr => lit(null).cast(pl.Float64);
/** True division in float64 (nodejs-polars' `div` floors integer operands). */
const fdiv = (a: pl.Expr, b: pl.Expr | number): pl.Expr =>
  a.cast(pl.Float64).div(typeof b === "number" ? lit(b).cast(pl.Float64) : b.cast(pl.Float64));
/** a / b in float64, null where b is 0 or null (never NaN/inf). */
const safeDiv = (a: pl.Expr, b: pl.Expr): pl.Expr =>
  pl.when(b.eq(0).or(b.isNull())).then(nullF()).otherwise(fdiv(a, b));
/** ⌊e / d⌋ for non-negative integer e (exact: the quotient is an integer below 2^53). */
const idiv = (e: pl.Expr, d: number): pl.Expr => e.sub(e.modulo(d)).div(d).cast(pl.Int64);
const roll = (e: pl.Expr, kind: "sum" | "mean" | "std" | "median", w: number): pl.Expr => {
  const o = { windowSize: w, minPeriods: w };
  switch (kind) {
    case "sum":
      return e.rollingSum(o);
    case "mean":
      return e.rollingMean(o);
    case "std":
      return e.rollingStd({ ...o, ddof: 1 });
    case "median":
      return e.rollingMedian(o);
  }
};

/** Computes the feature frame (see the module doc). */
export async function polarsPeer(
  req: PeerRequest,
  manifests: Awaited<ReturnType<typeof loadManifests>>,
): Promise<PeerResult> {
  const stages: Record<string, number> = {};
  let t0 = performance.now();
  const lap = async (name: string): Promise<void> => {
    const t = performance.now();
    stages[name] = (stages[name] ?? 0) + (t - t0) / 1000;
    // one event-loop turn so nodejs-polars' finalizers free the frames this stage replaced (they run
    // only on a later turn, pola-rs/nodejs-polars#458) — what reference counting does in Python Polars
    await new Promise((r) => setImmediate(r));
    t0 = performance.now();
  };
  const lake = resolve(req.lake);
  const w = req.windows;
  const D = w.bookDepth;
  const events: Record<string, number> = {};

  // 1. sources ------------------------------------------------------------------------------------
  const tradesLazy = scanTable(lake, manifests, "trades", req, [
    col("side").cast(pl.Int8).alias("tr_side"),
    col("px_int").alias("tr_px"),
    col("qty_int").alias("tr_qty"),
  ]);
  if (tradesLazy === null) throw new Error("no trades in range");
  let trades = inTotalOrder(tradesLazy.collectSync());
  events.trades = trades.height;
  // previous trade's ts (tb_dt), row index (event-spine as-of), one row per trade
  trades = trades.withColumns(
    col("ts_local_us").shift(1).alias("tr_prev_ts"),
    pl.intRange(0, trades.height, 1, pl.Int64, false).alias("tidx"),
  );
  await lap("load trades");

  const side = (s: "bid" | "ask"): pl.Expr[] => {
    const px = col(`${s}_px_int`);
    const qty = col(`${s}_qty_int`);
    const notional = Array.from({ length: D }, (_, k) =>
      px.lst.get(k, true).mul(qty.lst.get(k, true)).fillNull(0),
    ).reduce((a, b) => a.add(b));
    return [
      px.lst.get(0, true).alias(`bk_${s}0`),
      qty.lst.get(0, true).alias(`bk_${s}sz0`),
      ...[1, 5, 10, 25, D]
        .filter((k, i, a) => a.indexOf(k) === i)
        .map((k) => qty.lst.head(k).lst.sum().alias(`bk_${s}sum${k}`)),
      notional.alias(`bk_${s}not${D}`),
    ];
  };
  const bookLazy = scanTable(lake, manifests, "book_snapshot_25", req, [...side("bid"), ...side("ask")]);
  const book = bookLazy === null ? null : inTotalOrder(bookLazy.collectSync());
  events.book_snapshot_25 = book?.height ?? 0;
  await lap("load book (lists reduced in the scan)");

  const tickerLazy = scanTable(lake, manifests, "derivative_ticker", req, [
    col("mark_px").alias("tk_mark"),
    col("index_px").alias("tk_index"),
    col("funding_rate").alias("tk_funding"),
    col("open_interest").alias("tk_oi"),
  ]);
  const ticker = tickerLazy === null ? null : inTotalOrder(tickerLazy.collectSync());
  events.derivative_ticker = ticker?.height ?? 0;
  await lap("load ticker");

  let quotes: pl.DataFrame | null = null;
  if (req.barAggregations) {
    const ql = scanTable(lake, manifests, "quotes", req, [
      col("bid_px_int").alias("q_bid"),
      col("ask_px_int").alias("q_ask"),
    ]);
    quotes = ql === null ? null : inTotalOrder(ql.collectSync());
    events.quotes = quotes?.height ?? 0;
    await lap("load quotes");
  }

  // 2. spine ---------------------------------------------------------------------------------------
  let spine: pl.DataFrame;
  let tradeBar: pl.Series;
  if (req.spine.type === "clock") {
    const step = req.spine.stepMs * 1000;
    const n = Math.floor((req.endUs - req.replayStartUs) / step);
    const k = pl.intRange(0, n, 1, pl.Int64, true);
    spine = pl
      .DataFrame([k.alias("bar")])
      .withColumns(col("bar").mul(step).add(req.replayStartUs).cast(pl.Int64).alias("ts_event_us"))
      .withColumns(
        col("ts_event_us").add(step).cast(pl.Int64).alias("ts_end_us"),
        col("ts_event_us").add(step).cast(pl.Int64).alias("available_at_us"),
        idiv(col("ts_event_us"), step).alias("bar_index"),
        col("ts_event_us")
          .add(step - 1)
          .cast(pl.Int64)
          .alias("cut"),
      );
    // trade → its bar (null beyond the last complete bar)
    tradeBar = trades
      .select(
        pl
          .when(col("ts_local_us").lt(req.replayStartUs + n * step))
          .then(idiv(col("ts_local_us").sub(req.replayStartUs), step))
          .otherwise(lit(null).cast(pl.Int64))
          .alias("bar"),
      )
      .getColumn("bar");
    await lap("clock spine");
  } else {
    // the one sequential step: volume bars with threshold reset and UTC-day reset (typed loop)
    const ts = trades.getColumn("ts_local_us").cast(pl.Float64).toTypedArray() as Float64Array;
    const qty = trades.getColumn("tr_qty").cast(pl.Float64).toTypedArray() as Float64Array;
    const thr = req.spine.thresholdQtyInt;
    const bar = new Float64Array(ts.length).fill(Number.NaN);
    const first: number[] = [];
    const last: number[] = [];
    const index: number[] = [];
    let open = -1;
    let acc = 0;
    let day = Number.NaN;
    let perDay = 0;
    const drop = (to: number): void => {
      for (let j = open; j < to; j++) bar[j] = Number.NaN;
    };
    for (let i = 0; i < ts.length; i++) {
      const d = Math.floor(ts[i]! / DAY);
      if (d !== day) {
        if (open >= 0) drop(i);
        open = -1;
        day = d;
        perDay = 0;
      }
      if (open < 0) {
        open = i;
        acc = 0;
      }
      acc += qty[i]!;
      bar[i] = first.length;
      if (acc >= thr) {
        first.push(open);
        last.push(i);
        index.push(perDay++);
        open = -1;
      }
    }
    if (open >= 0) drop(ts.length);
    tradeBar = pl
      .DataFrame([pl.Series("bar", bar)])
      .select(col("bar").fillNan(null).cast(pl.Int64))
      .getColumn("bar");
    const firstTs = first.map((i) => ts[i]!);
    const lastTs = last.map((i) => ts[i]!);
    spine = pl
      .DataFrame([
        pl
          .Series(
            "bar",
            Float64Array.from(first, (_, k) => k),
          )
          .cast(pl.Int64),
        pl.Series("ts_event_us", Float64Array.from(firstTs)).cast(pl.Int64),
        pl.Series("ts_end_us", Float64Array.from(lastTs)).cast(pl.Int64),
        pl.Series("bar_index", Float64Array.from(index)).cast(pl.Int64),
        pl.Series("close_tidx", Float64Array.from(last)).cast(pl.Int64),
      ])
      .withColumns(col("ts_end_us").alias("available_at_us"), col("ts_end_us").alias("cut"));
    await lap("volume spine (typed loop)");
  }
  trades = trades.withColumns(tradeBar.alias("bar"));

  // 3. as-of joins ----------------------------------------------------------------------------------
  const asof = (left: pl.DataFrame, right: pl.DataFrame | null, keep: string[]): pl.DataFrame => {
    if (right === null) return left.withColumns(...keep.map((c) => lit(null).cast(pl.Float64).alias(c)));
    const r = right.select(col("ts_local_us").alias("asof_ts"), ...keep.map((c) => col(c)));
    return left.joinAsof(r, { leftOn: "cut", rightOn: "asof_ts", strategy: "backward" }).drop("asof_ts");
  };
  const bookCols = book === null ? [] : book.columns.filter((c) => c.startsWith("bk_"));
  spine = asof(spine, book, bookCols);
  spine = asof(spine, ticker, ["tk_mark", "tk_index", "tk_funding", "tk_oi"]);
  if (req.barAggregations) spine = asof(spine, quotes, ["q_bid", "q_ask"]);
  const tradeAsOf = ["ts_local_us", "tr_prev_ts", "tr_side", "tr_qty", "tr_px"];
  if (req.spine.type === "clock") {
    const r = trades.select(col("ts_local_us").alias("asof_ts"), ...tradeAsOf.map((c) => col(c)));
    spine = spine
      .joinAsof(r.rename({ ts_local_us: "tr_ts" }), {
        leftOn: "cut",
        rightOn: "asof_ts",
        strategy: "backward",
      })
      .drop("asof_ts");
  } else {
    const r = trades.select(col("tidx"), ...tradeAsOf.map((c) => col(c))).rename({ ts_local_us: "tr_ts" });
    spine = spine.join(r, { leftOn: "close_tidx", rightOn: "tidx", how: "left" });
  }
  await lap("join_asof");

  // 4. per-bar trade sums and aggregations --------------------------------------------------------
  const signedQty = pl
    .when(col("tr_side").isNull())
    .then(lit(null).cast(pl.Int64))
    .when(col("tr_side").eq(0))
    .then(col("tr_qty"))
    .when(col("tr_side").eq(1))
    .then(lit(0).sub(col("tr_qty")))
    .otherwise(lit(0));
  const inBars = trades.filter(col("bar").isNotNull());
  const aggs: pl.Expr[] = [
    signedQty.sum().alias("f_signed"),
    col("tr_qty").sum().alias("f_abs"),
    col("tr_qty").count().cast(pl.Int64).alias("f_count"),
  ];
  let perTrade = inBars;
  if (req.barAggregations) {
    // log return to the previous trade of the same bar (bars are contiguous runs of trades)
    const prev = col("tr_px").shift(1);
    perTrade = inBars.withColumns(
      pl
        .when(col("bar").eq(col("bar").shift(1)))
        .then(fdiv(col("tr_px").sub(prev), prev).log1p())
        .otherwise(nullF())
        .alias("lr"),
    );
    aggs.push(
      col("tr_px").first().alias("open"),
      col("tr_px").max().alias("high"),
      col("tr_px").min().alias("low"),
      col("tr_px").last().alias("close"),
      col("tr_px").mul(col("tr_qty")).sum().alias("pxqty"),
      pl.when(col("tr_side").eq(0)).then(col("tr_qty")).otherwise(lit(0)).sum().alias("buy_volume"),
      pl.when(col("tr_side").eq(1)).then(col("tr_qty")).otherwise(lit(0)).sum().alias("sell_volume"),
      col("lr").std().alias("rv_std"),
      col("lr").count().alias("rv_n"),
    );
  }
  const perBar = perTrade.groupBy("bar").agg(...aggs);
  spine = spine.join(perBar, { on: "bar", how: "left" }).sort("bar");
  spine = spine.withColumns(
    col("f_signed").fillNull(0),
    col("f_abs").fillNull(0),
    col("f_count").fillNull(0),
  );
  await lap("group_by bar");

  // 5. family expressions ---------------------------------------------------------------------------
  const bid0 = col("bk_bid0");
  const ask0 = col("bk_ask0");
  const bsz0 = col("bk_bidsz0");
  const asz0 = col("bk_asksz0");
  const mid = fdiv(ask0.add(bid0), 2);
  const imb = (k: number): pl.Expr =>
    safeDiv(col(`bk_bidsum${k}`).sub(col(`bk_asksum${k}`)), col(`bk_bidsum${k}`).add(col(`bk_asksum${k}`)));
  const basis = col("tk_mark").sub(col("tk_index"));
  spine = spine.withColumns(
    // ms_
    bid0.alias("ms_bid_px_int"),
    ask0.alias("ms_ask_px_int"),
    bsz0.alias("ms_bid_sz_int"),
    asz0.alias("ms_ask_sz_int"),
    ask0.sub(bid0).alias("ms_spread_int"),
    mid.alias("ms_mid_px"),
    safeDiv(ask0.mul(bsz0).add(bid0.mul(asz0)), bsz0.add(asz0)).alias("ms_microprice"),
    ...[1, 5, 10, 25].map((k) => imb(k).alias(`ms_imbalance_${k}`)),
    // of_ (as-of trade)
    signedQty.alias("of_signed_qty_int"),
    pl
      .when(col("tr_side").eq(0))
      .then(lit(1))
      .when(col("tr_side").eq(1))
      .then(lit(-1))
      .when(col("tr_side").isNotNull())
      .then(lit(0))
      .otherwise(lit(null))
      .alias("of_trade_sign"),
    col("tr_qty").alias("of_last_qty_int"),
    col("tr_px").alias("of_last_px_int"),
    // flow over N rows
    roll(col("f_signed"), "sum", w.flow).alias(`of_signed_qty_sum_${w.flow}`),
    roll(col("f_abs"), "sum", w.flow).alias(`of_abs_qty_sum_${w.flow}`),
    roll(col("f_count"), "sum", w.flow).alias(`of_trade_count_${w.flow}`),
    // fr_
    basis.alias("fr_basis"),
    safeDiv(basis.mul(1e4), col("tk_index")).alias("fr_basis_bps"),
    col("tk_funding").diff(1, "ignore").alias("fr_funding_delta"),
    col("tk_oi").diff(1, "ignore").alias("fr_oi_delta"),
    // bs_
    col(`bk_bidsum${D}`).alias(`bs_bid_depth_${D}`),
    col(`bk_asksum${D}`).alias(`bs_ask_depth_${D}`),
    safeDiv(col(`bk_bidnot${D}`), col(`bk_bidsum${D}`)).alias(`bs_bid_vwap_${D}`),
    safeDiv(col(`bk_asknot${D}`), col(`bk_asksum${D}`)).alias(`bs_ask_vwap_${D}`),
    // ex_
    ask0.sub(bid0).alias("ex_spread_int"),
    fdiv(ask0.sub(bid0), 2).alias("ex_half_spread_int"),
    safeDiv(bsz0, bsz0.add(asz0)).alias("ex_depth_pressure"),
    // sd_
    mid.alias("sd_mid_px"),
    ask0.sub(bid0).alias("sd_spread_int"),
    // ls_
    bsz0.add(asz0).alias("ls_top_depth"),
    // bm_
    basis.alias("bm_basis"),
    // tb_
    col("tr_ts").sub(col("tr_prev_ts")).alias("tb_dt_us"),
    // rg_
    safeDiv(mid, mid.shift(1)).sub(1).alias("rg_ret_1"),
  );
  spine = spine.withColumns(
    safeDiv(
      col(`bs_ask_vwap_${D}`).sub(col(`bs_bid_vwap_${D}`)),
      col(`bs_bid_depth_${D}`).add(col(`bs_ask_depth_${D}`)),
    ).alias(`bs_slope_${D}`),
    safeDiv(col(`of_signed_qty_sum_${w.flow}`), col(`of_abs_qty_sum_${w.flow}`)).alias(
      `of_flow_imbalance_${w.flow}`,
    ),
    col("sd_mid_px").diff(1, "ignore").alias("sd_mid_chg"),
    col("sd_spread_int").diff(1, "ignore").alias("sd_spread_chg"),
    col("sd_mid_px").diff(1, "ignore").abs().alias("sd_mid_abs_chg"),
    col("sd_spread_int").diff(1, "ignore").abs().alias("sd_spread_abs_chg"),
    roll(col("ls_top_depth"), "mean", w.liquidity).alias(`ls_depth_mean_${w.liquidity}`),
    roll(col("ls_top_depth"), "std", w.liquidity).alias(`ls_depth_std_${w.liquidity}`),
    roll(col("bm_basis"), "mean", w.basis).alias(`bm_basis_mean_${w.basis}`),
    roll(col("bm_basis"), "std", w.basis).alias(`bm_basis_std_${w.basis}`),
    col("bm_basis").diff(1, "ignore").alias("bm_basis_mom"),
    roll(col("tb_dt_us"), "mean", w.burst).alias(`tb_dt_mean_${w.burst}`),
    roll(col("tb_dt_us"), "std", w.burst).alias(`tb_dt_std_${w.burst}`),
    roll(col("rg_ret_1"), "std", w.regime).alias(`rg_vol_${w.regime}`),
  );
  const zscore = (x: string, mean: string, std: string): pl.Expr =>
    pl
      .when(col(std).gt(0))
      .then(fdiv(col(x).sub(col(mean)), col(std)))
      .otherwise(nullF());
  spine = spine.withColumns(
    zscore("ls_top_depth", `ls_depth_mean_${w.liquidity}`, `ls_depth_std_${w.liquidity}`).alias(
      `ls_depth_z_${w.liquidity}`,
    ),
    zscore("bm_basis", `bm_basis_mean_${w.basis}`, `bm_basis_std_${w.basis}`).alias(`bm_basis_z_${w.basis}`),
    pl
      .when(col(`tb_dt_mean_${w.burst}`).gt(0))
      .then(fdiv(col("tb_dt_us"), col(`tb_dt_mean_${w.burst}`)))
      .otherwise(nullF())
      .alias(`tb_burst_score_${w.burst}`),
  );
  const familyCols = [
    "ms_bid_px_int",
    "ms_ask_px_int",
    "ms_bid_sz_int",
    "ms_ask_sz_int",
    "ms_spread_int",
    "ms_mid_px",
    "ms_microprice",
    "ms_imbalance_1",
    "ms_imbalance_5",
    "ms_imbalance_10",
    "ms_imbalance_25",
    "of_signed_qty_int",
    "of_trade_sign",
    "of_last_qty_int",
    "of_last_px_int",
    `of_signed_qty_sum_${w.flow}`,
    `of_abs_qty_sum_${w.flow}`,
    `of_trade_count_${w.flow}`,
    `of_flow_imbalance_${w.flow}`,
    "fr_basis",
    "fr_basis_bps",
    "fr_funding_delta",
    "fr_oi_delta",
    `bs_bid_depth_${D}`,
    `bs_ask_depth_${D}`,
    `bs_bid_vwap_${D}`,
    `bs_ask_vwap_${D}`,
    `bs_slope_${D}`,
    "ex_spread_int",
    "ex_half_spread_int",
    "ex_depth_pressure",
    "sd_mid_px",
    "sd_spread_int",
    "sd_mid_chg",
    "sd_spread_chg",
    "sd_mid_abs_chg",
    "sd_spread_abs_chg",
    "ls_top_depth",
    `ls_depth_mean_${w.liquidity}`,
    `ls_depth_std_${w.liquidity}`,
    `ls_depth_z_${w.liquidity}`,
    "bm_basis",
    `bm_basis_mean_${w.basis}`,
    `bm_basis_std_${w.basis}`,
    `bm_basis_z_${w.basis}`,
    "bm_basis_mom",
    "tb_dt_us",
    `tb_dt_mean_${w.burst}`,
    `tb_dt_std_${w.burst}`,
    `tb_burst_score_${w.burst}`,
    "rg_ret_1",
    `rg_vol_${w.regime}`,
  ];

  if (req.barAggregations) {
    const vol = col("f_abs");
    spine = spine.withColumns(
      vol.alias("volume"),
      safeDiv(col("pxqty"), vol).alias("vwap"),
      col("f_count").alias("trade_count"),
      col("buy_volume").fillNull(0),
      col("sell_volume").fillNull(0),
      safeDiv(col("buy_volume").sub(col("sell_volume")), col("buy_volume").add(col("sell_volume"))).alias(
        "flow_imbalance",
      ),
      safeDiv(vol, col("f_count")).alias("avg_trade_size"),
      fdiv(col("q_ask").sub(col("q_bid")).mul(1e4), fdiv(col("q_ask").add(col("q_bid")), 2)).alias(
        "spread_bps",
      ),
      safeDiv(col("bk_bidsum5").sub(col("bk_asksum5")), col("bk_bidsum5").add(col("bk_asksum5"))).alias(
        "book_imbalance_top5",
      ),
      pl.when(col("rv_n").gtEq(2)).then(col("rv_std")).otherwise(nullF()).alias("realized_vol"),
    );
    spine = spine.withColumns(
      fdiv(col("close").sub(col("vwap")), col("vwap")).alias("vwap_reversion"),
      fdiv(col("close"), col("close").shift(1)).sub(1).alias("ret_1bar"),
      fdiv(col("close"), col("close").shift(5)).sub(1).alias("ret_5bar"),
      safeDiv(col("trade_count"), col("trade_count").shift(1)).sub(1).alias("trade_count_accel"),
      col("spread_bps")
        .sub(roll(col("spread_bps"), "mean", 10))
        .alias("spread_deviation"),
      col("flow_imbalance").mul(col("flow_imbalance").shift(1)).alias("flow_persistence"),
      col("book_imbalance_top5").sub(col("flow_imbalance")).alias("book_flow_divergence"),
      pl
        .when(roll(col("realized_vol"), "std", 20).gt(0))
        .then(
          fdiv(
            col("realized_vol").sub(roll(col("realized_vol"), "mean", 20)),
            roll(col("realized_vol"), "std", 20),
          ),
        )
        .otherwise(nullF())
        .alias("vol_zscore"),
      fdiv(col("avg_trade_size"), roll(col("avg_trade_size"), "median", 50)).alias("size_ratio"),
      fdiv(col("high").sub(col("low")), col("vwap")).alias("hl_range_pct"),
      idiv(col("ts_event_us").modulo(DAY), US_PER_HOUR).alias("hour"),
      fdiv(col("ts_end_us").sub(col("ts_event_us")), 1e6).alias("bar_duration_seconds"),
    );
    familyCols.push(
      "open",
      "high",
      "low",
      "close",
      "volume",
      "vwap",
      "trade_count",
      "buy_volume",
      "sell_volume",
      "flow_imbalance",
      "avg_trade_size",
      "spread_bps",
      "book_imbalance_top5",
      "realized_vol",
      "vwap_reversion",
      "ret_1bar",
      "ret_5bar",
      "trade_count_accel",
      "spread_deviation",
      "flow_persistence",
      "book_flow_divergence",
      "vol_zscore",
      "size_ratio",
      "hl_range_pct",
      "hour",
      "bar_duration_seconds",
    );
  }
  const ints = new Set(integerColumns(w));
  const frame = spine
    .filter(col("ts_event_us").gtEq(req.startUs).and(col("available_at_us").ltEq(req.endUs)))
    .select(
      col("ts_event_us"),
      col("ts_end_us"),
      col("available_at_us"),
      col("bar_index"),
      col("ts_end_us").sub(col("ts_event_us")).alias("bar_duration_us"),
      ...familyCols.map((c) => {
        const scale = req.naturalScale?.get(c);
        if (scale) return col(c).cast(pl.Float64).mul(scale.mul).div(scale.div).fillNan(null).alias(c);
        return ints.has(c) ? col(c).cast(pl.Int64) : col(c).cast(pl.Float64).fillNan(null).alias(c);
      }),
    );
  await lap("features");
  return { frame, events, stages };
}

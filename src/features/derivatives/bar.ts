/**
 * `deriv_bar`: the bar the derivatives preset computes on — `open`, `high`, `low`, `close` (price
 * increments), `volume`, `taker_buy_volume` (qty increments) — from either source:
 * - `source: "trades"` (clock and event spines): the trade pieces of the bar, accumulated by the pipeline's
 *   `BarTrades` (pipeline/aggregations/bar-trades.ts, the same sums as the `ohlcv` and `taker_volume`
 *   aggregations): first / max / min / last price, Σ qty, Σ qty of taker-buy pieces. A bar without trades
 *   has null prices and volume 0.
 * - `source: "bars"` (`bars:<interval>` spines): the vendor bars of `ohlcv_bars` of that interval fed since
 *   the previous row (one per row on a `bars:` spine): first open, max high, min low, last close, Σ volume,
 *   Σ taker-buy volume (null when a bar lacks it: freqtrade and Lean bars). Bars of other intervals are
 *   ignored.
 * The frame shows prices in quote currency and volumes in base units (engine/units.ts).
 */
import { z } from "zod";
import { EMPTY_F64, f64 } from "../../engine/inputs.js";
import type {
  EventCursor,
  JsonValue,
  Operator,
  SourceRole,
  SpineRow,
  TradeFieldsOperator,
} from "../../engine/operator.js";
import { numberToJson, stateNumber, stateObject } from "../../engine/operator.js";
import type { OutputMeta } from "../../engine/registry.js";
import { BarTrades } from "../../pipeline/aggregations/bar-trades.js";
import type { TypedRows } from "../../query/query.js";
import { familyOperator } from "../family.js";
import { catalogBuilder, GUIDE } from "./common.js";

const PIT =
  "the bar's own events: trade pieces fed to it, or the vendor bar that closes it (knowable at its end)";

/** Settings of `deriv_bar`. */
export interface DerivBarSettings extends Record<string, unknown> {
  readonly source: "trades" | "bars";
  /** Vendor bar interval read (µs), `bars` only; 0 = any. */
  readonly intervalUs: number;
}

export const DERIV_BAR_PARAMS = z
  .object({ source: z.enum(["trades", "bars"]), intervalUs: z.number().int().min(0) })
  .strict() as z.ZodType<DerivBarSettings>;

/** Outputs of `deriv_bar`. */
export function derivBarOutputs(s: DerivBarSettings): OutputMeta[] {
  const col = catalogBuilder(PIT, `${GUIDE}, OHLCV input`);
  const trades = s.source === "trades";
  const px = trades ? ["trades.px_int"] : ["ohlcv_bars.open_px_int", "ohlcv_bars.close_px_int"];
  const w = trades ? "current bar (trades)" : "current bar (vendor bars)";
  const p = (name: string, formula: string, inputs: readonly string[]) =>
    col(name, formula, { unit: "price increments", warmupRows: 0, inputs, window: w });
  return [
    p("open", trades ? "first trade price of the bar" : "first vendor bar's open", px),
    p("high", trades ? "max trade price" : "max vendor high", trades ? px : ["ohlcv_bars.high_px_int"]),
    p("low", trades ? "min trade price" : "min vendor low", trades ? px : ["ohlcv_bars.low_px_int"]),
    p("close", trades ? "last trade price" : "last vendor bar's close", px),
    col("volume", trades ? "Σ trade qty" : "Σ vendor volume", {
      unit: "qty increments",
      warmupRows: 0,
      inputs: trades ? ["trades.qty_int"] : ["ohlcv_bars.volume_qty_int"],
      window: w,
    }),
    col(
      "taker_buy_volume",
      trades ? "Σ qty of taker-buy trades" : "Σ vendor taker-buy volume (null if absent)",
      {
        unit: "qty increments",
        warmupRows: 0,
        inputs: trades ? ["trades.qty_int", "trades.side"] : ["ohlcv_bars.taker_buy_qty_int"],
        window: w,
      },
    ),
  ];
}

/** `deriv_bar` on trades (see the module doc). */
class TradeBarOperator implements TradeFieldsOperator {
  readonly id = "deriv_bar";
  readonly inputs: readonly SourceRole[] = ["trades"];
  readonly reads = { trades: { px_int: "f64", side: "i8" } } as const;
  readonly outputs: readonly OutputMeta[];
  private readonly acc = new BarTrades(0);
  private rows: TypedRows | null = null;
  private px = EMPTY_F64;
  private side: Int8Array = new Int8Array(0);
  constructor(s: DerivBarSettings) {
    this.outputs = derivBarOutputs(s);
  }
  onTrade(pxInt: number, qtyInt: number, side: number, continuation: boolean): void {
    this.acc.onTrade(pxInt, qtyInt, side, continuation);
  }
  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.px = f64(ev.rows, "px_int");
      this.side = ev.rows.columns.side as Int8Array;
    }
    this.acc.onTrade(this.px[ev.i]!, ev.qtyInt, this.side[ev.i]!, ev.continuation);
  }
  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    const a = this.acc;
    out[0]![r] = a.open;
    out[1]![r] = a.high;
    out[2]![r] = a.low;
    out[3]![r] = a.close;
    out[4]![r] = a.v;
    out[5]![r] = a.buy;
    a.reset();
  }
  discardBar(): void {
    this.acc.reset();
  }
  snapshot(): JsonValue {
    return this.acc.toJson();
  }
  restore(state: JsonValue): void {
    this.acc.fromJson(state);
  }
}

/** `deriv_bar` on vendor bars (see the module doc). */
class VendorBarOperator implements Operator {
  readonly id = "deriv_bar";
  readonly inputs: readonly SourceRole[] = ["bars"];
  readonly reads = {
    bars: {
      interval_us: "f64",
      open_px_int: "f64",
      high_px_int: "f64",
      low_px_int: "f64",
      close_px_int: "f64",
      volume_qty_int: "f64",
      taker_buy_qty_int: "f64",
    },
  } as const;
  readonly outputs: readonly OutputMeta[];
  private open = Number.NaN;
  private high = Number.NaN;
  private low = Number.NaN;
  private close = Number.NaN;
  private vol = 0;
  private buy = 0;
  private n = 0;
  private rows: TypedRows | null = null;
  private cols: Float64Array[] = [];
  constructor(private readonly s: DerivBarSettings) {
    this.outputs = derivBarOutputs(s);
  }
  onEvent(ev: EventCursor): void {
    if (ev.rows !== this.rows) {
      this.rows = ev.rows;
      this.cols = Object.keys(this.reads.bars).map((k) => f64(ev.rows, k));
    }
    const i = ev.i;
    const [iv, o, h, l, c, v, b] = this.cols as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    if (this.s.intervalUs !== 0 && iv[i] !== this.s.intervalUs) return;
    if (this.n === 0) {
      this.open = o[i]!;
      this.high = h[i]!;
      this.low = l[i]!;
    } else {
      if (h[i]! > this.high) this.high = h[i]!;
      if (l[i]! < this.low) this.low = l[i]!;
    }
    this.close = c[i]!;
    this.vol += v[i]!;
    this.buy += b[i]!; // a null taker-buy volume makes the bar's null
    this.n++;
  }
  emit(_row: SpineRow, out: readonly Float64Array[], r: number): void {
    out[0]![r] = this.open;
    out[1]![r] = this.high;
    out[2]![r] = this.low;
    out[3]![r] = this.close;
    out[4]![r] = this.vol;
    out[5]![r] = this.n > 0 ? this.buy : Number.NaN;
    this.discardBar();
  }
  discardBar(): void {
    this.open = this.high = this.low = this.close = Number.NaN;
    this.vol = 0;
    this.buy = 0;
    this.n = 0;
  }
  snapshot(): JsonValue {
    return {
      o: numberToJson(this.open),
      h: numberToJson(this.high),
      l: numberToJson(this.low),
      c: numberToJson(this.close),
      v: this.vol,
      b: numberToJson(this.buy),
      n: this.n,
    };
  }
  restore(state: JsonValue): void {
    const s = stateObject(state, this.id);
    this.open = stateNumber(s, "o");
    this.high = stateNumber(s, "h");
    this.low = stateNumber(s, "l");
    this.close = stateNumber(s, "c");
    this.vol = stateNumber(s, "v");
    this.buy = stateNumber(s, "b");
    this.n = stateNumber(s, "n");
  }
}

/** Registered operator `deriv_bar` (features/registry.ts via the preset). */
export const derivBarOperator = familyOperator<DerivBarSettings>({
  name: "deriv_bar",
  description:
    "the derivatives preset's bar: open/high/low/close/volume/taker_buy_volume from the bar's trades or from the vendor bar that closes a bars:<interval> row",
  source: `${GUIDE}; per-bar trade sums of pipeline/aggregations/bar-trades.ts`,
  params: DERIV_BAR_PARAMS,
  outputs: derivBarOutputs,
  create: (s) => (s.source === "trades" ? new TradeBarOperator(s) : new VendorBarOperator(s)),
});

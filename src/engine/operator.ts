/**
 * The operator contract (DESIGN.md "Computation model"): one contract for batch replay and live feeds.
 *
 * An operator declares the sources it reads (by role, e.g. `trades`, `book`, `ticker`, `spot_book`), the
 * columns of each it reads (`reads`, checked against the schema: engine/inputs.ts) and the output columns
 * it writes (name, dtype, unit, warm-up). The engine feeds it every event of its
 * sources in the total order (`onEvent`, O(1) amortised, no allocation), and at every spine point calls
 * `emit` once, after every event the row may know (the row's knowledge set) and before any later event.
 * `emit` is also called for warm-up rows (which the engine then discards), so rolling state over spine
 * rows advances identically whatever the requested range is. State is a JSON value (`snapshot`/`restore`)
 * so checkpoints, partition hand-off and the online store share one format.
 *
 * Null convention: every output is a float64 slot; NaN means null (warm-up, missing input, 0/0) and is
 * written as a null in user-facing frames. Integer outputs (dtype "i64") are exact below 2^53.
 */
import type { TypedRows } from "../query/query.js";
import type { TableName } from "../schema/tables.js";
import type { OperatorReads } from "./inputs.js";

/**
 * Base source roles. `spot_*` roles read the cross-venue instrument. `bars` reads vendor bars
 * (`ohlcv_bars`, stamped at their close: the trader replay's kline fallback, the `bars:` spine);
 * `quote_bars` vendor bid/ask bars (Lean); `funding`, `open_interest`, `long_short` the derivatives
 * tables. Pipeline requests cannot name these (`roleOfTable` leaves them out).
 */
export type BaseRole =
  | "trades"
  | "quotes"
  | "book"
  | "ticker"
  | "liquidations"
  | "spot_book"
  | "bars"
  | "funding"
  | "open_interest"
  | "long_short"
  | "quote_bars";

/**
 * A source role an operator subscribes to: a base role of the run's primary instrument (`trades`), or
 * a base role of a named instrument of a multi-instrument run, `<base>@<alias>` (`trades@spy`,
 * `bars@es`: the run maps each alias to an exchange and symbol, engine/replay.ts `instruments`). The
 * Driver treats only the primary `trades` role as spine input; `trades@x` events go to their subscribers.
 */
export type SourceRole = BaseRole | `${BaseRole}@${string}`;

/** `trades@spy` → `trades`; a base role is itself. */
export function baseRole(role: SourceRole): BaseRole {
  const at = role.indexOf("@");
  return (at < 0 ? role : role.slice(0, at)) as BaseRole;
}

/** `trades@spy` → `spy`; null for a base role (the primary or cross-venue instrument). */
export function roleAlias(role: SourceRole): string | null {
  const at = role.indexOf("@");
  return at < 0 ? null : role.slice(at + 1);
}

/** The role of base `base` on the instrument named `alias` (`trades`, `spy` → `trades@spy`). */
export function instrumentRole(base: BaseRole, alias: string): SourceRole {
  return `${base}@${alias}`;
}

/** Table read by a role (of its base role). */
export function roleTable(role: SourceRole): TableName {
  return ROLE_TABLE[baseRole(role)];
}

/** Table read for each base role. */
export const ROLE_TABLE: Readonly<Record<BaseRole, TableName>> = {
  trades: "trades",
  quotes: "quotes",
  book: "book_snapshot_25",
  ticker: "derivative_ticker",
  liquidations: "liquidations",
  spot_book: "book_snapshot_25",
  bars: "ohlcv_bars",
  funding: "funding_events",
  open_interest: "open_interest",
  long_short: "long_short_ratio",
  quote_bars: "quote_bars",
};

/**
 * Engine role of a table of the primary instrument that pipeline requests may read, or undefined. The
 * derivatives roles (`bars`, `funding`, `open_interest`, `long_short`) are read by the derivatives
 * preset's operators (features/derivatives/) and are not offered to requests.
 */
export function roleOfTable(table: string): SourceRole | undefined {
  switch (table) {
    case "trades":
      return "trades";
    case "quotes":
      return "quotes";
    case "book_snapshot_25":
      return "book";
    case "derivative_ticker":
      return "ticker";
    case "liquidations":
      return "liquidations";
    default:
      return undefined;
  }
}

/** Frame dtype of an output: Float64, or Int64 (values exact below 2^53). */
export type OutputDtype = "f64" | "i64";

/** One output column of an operator. */
export interface OutputSpec {
  /** Column name, e.g. `of_flow_imbalance_50`. */
  readonly name: string;
  readonly dtype: OutputDtype;
  /** Unit, e.g. "price increments", "qty increments", "bps", "µs", "ratio [-1,1]", "1". */
  readonly unit: string;
  /** Spine rows after the first input before the value can be non-null by construction (0 = none). */
  readonly warmupRows: number;
}

/**
 * The event being fed. One instance is reused for every event (no per-event allocation): read its fields
 * during `onEvent`, never keep the cursor itself. The batch `rows` is immutable once fed and is never
 * reused by the engine, so an operator may keep `(rows, i)` and read that row later (a lazy as-of copy at
 * the next emit, as `AsOfBook` does); doing so keeps at most that batch alive.
 */
export interface EventCursor {
  readonly role: SourceRole;
  /** Columns of the current batch of that source (see `TypedRows`). */
  readonly rows: TypedRows;
  /** Row index within `rows`. */
  readonly i: number;
  readonly tsLocalUs: number;
  /**
   * For trades: the quantity (qty increments) of this trade that belongs to the current bar. Equals the
   * trade's `qty_int` except when a `splitTrades` volume/dollar spine splits a trade across bars. NaN
   * for other tables.
   */
  readonly qtyInt: number;
  /** True for the second and later pieces of a trade split across bars (its first piece was fed before). */
  readonly continuation: boolean;
}

/** The spine point being emitted. Reused between calls. */
export interface SpineRow {
  /** Bar start (the frame's index), µs. */
  readonly tsEventUs: number;
  /** Bar end, µs: clock bar end (exclusive), or the completing event's ts_local_us. */
  readonly tsEndUs: number;
  /** Earliest time the row is computable, µs. */
  readonly availableAtUs: number;
  /** Bar number since the spine's anchor (UTC midnight for event spines, the epoch for clock spines). */
  readonly barIndex: number;
}

/** JSON-serialisable operator state. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

/** The instrument an operator computes on (increments from the symbol registry at the range start). */
export interface InstrumentInfo {
  readonly exchange: string;
  readonly symbol: string;
  /** Price of one price increment, e.g. 0.1 (USDT). */
  readonly priceIncrement: number;
  /** Quantity of one amount increment, e.g. 0.001 (BTC). */
  readonly amountIncrement: number;
}

/** Instruments of a run, given to `Operator.init` before the first event. */
export interface OperatorContext {
  readonly primary: InstrumentInfo;
  /** The `spot_*` instrument, when the run has one. */
  readonly crossVenue?: InstrumentInfo;
  /**
   * Per input role of the run: the UTC midnight of the instrument's first row of the role's table in the
   * lake (+Infinity when the lake holds none) — lets an operator tell "no events" (0) from "no source"
   * (null) before that time. Independent of the run's range (partition-safe). Absent without a lake.
   */
  readonly dataFromUs?: Readonly<Partial<Record<SourceRole, number>>>;
  /** The named instruments of a multi-instrument run (roles `<base>@<alias>`), by alias. */
  readonly instruments?: Readonly<Record<string, InstrumentInfo>>;
}

/** A streaming feature operator (see the module doc for the contract and the null convention). */
export interface Operator {
  /** Stable identifier, e.g. "rolling_flow". */
  readonly id: string;
  /** Source roles this operator reads; the engine feeds it events of these roles only. */
  readonly inputs: readonly SourceRole[];
  /**
   * The columns this operator reads, per role of `inputs`, with the storage it reads them as (e.g.
   * `{ trades: { px_int: "f64", side: "i8" } }`; `ts_local_us` and the cursor's `qtyInt` come from the
   * columns of the same names). Checked against the schema by `checkOperatorInputs` (engine/inputs.ts)
   * when a Driver is built. Every built-in operator declares it; an operator without it is run unchecked.
   * Read the columns through the typed accessors of engine/inputs.ts, resolved once per batch.
   */
  readonly reads?: OperatorReads;
  readonly outputs: readonly OutputSpec[];
  /**
   * Optional: output columns of earlier operators this one reads at every row (e.g. a derived column
   * `ret_1bar` reads `close`). Resolved by name by the `GroupOperator` that runs it (engine/group.ts),
   * which passes those columns to `emit` as `rowInputs`, aligned with this list; their value at row `r` is
   * already written when `emit` runs. The Driver refuses an operator with row inputs outside a group.
   */
  readonly rowInputs?: readonly string[];
  /** Optional: called once before the first event with the instruments of the run. */
  init?(ctx: OperatorContext): void;
  /** Feeds one event (O(1) amortised, no allocation). */
  onEvent(ev: EventCursor): void;
  /**
   * Writes this operator's outputs for one spine row: `out[k][r]` for `outputs[k]`. Must not read any
   * event not yet fed. Called exactly once per spine row, in row order. `rowInputs[j][r]` is the value
   * of `this.rowInputs[j]` at this row (only for operators that declare `rowInputs`).
   */
  emit(row: SpineRow, out: readonly Float64Array[], r: number, rowInputs?: readonly Float64Array[]): void;
  /**
   * Optional: the spine dropped the open bar (a partial bar at a UTC day boundary or the range end, see
   * spine.ts). Per-bar accumulations must be cleared; rolling state over emitted rows is kept.
   */
  discardBar?(): void;
  /** State as a JSON value. `restore(snapshot())` on a fresh instance continues identically. */
  snapshot(): JsonValue;
  restore(state: JsonValue): void;
}

/**
 * An operator whose handling of a trade needs only the trade's price, piece quantity, taker side and
 * continuation flag. `onTrade` must do exactly what `onEvent` does for a `trades` event with those
 * fields (the operator's `onEvent` typically decodes them and calls it). A `GroupOperator` whose trade
 * subscribers all implement it decodes each trade once and calls `onTrade` on each member, instead of
 * every member re-reading the batch (engine/group.ts).
 */
export interface TradeFieldsOperator extends Operator {
  /**
   * One trade piece: `pxInt` price increments, `qtyInt` the piece's quantity (qty increments, see
   * `EventCursor.qtyInt`), `side` 0 buy / 1 sell / −1 unknown, `continuation` for later pieces of a split
   * trade.
   */
  onTrade(pxInt: number, qtyInt: number, side: number, continuation: boolean): void;
}

/**
 * A per-bar trade accumulator that several operators can share, so a trade piece is accumulated once
 * for all of them (e.g. the bar family's OHLCV, VWAP, counts, taker volume and sizes all read one
 * accumulator: pipeline/aggregations/bar-trades.ts). Same arguments as `TradeFieldsOperator.onTrade`.
 */
export interface TradeAccumulator {
  onTrade(pxInt: number, qtyInt: number, side: number, continuation: boolean): void;
  /** Clears the per-bar sums (after every sharing operator wrote its row, or on a discarded bar). */
  reset(): void;
  /** A fresh accumulator computing everything `this` and `other` compute, or null if they cannot share. */
  union(other: TradeAccumulator): TradeAccumulator | null;
  /** State as a JSON value; `fromJson(toJson())` on a fresh accumulator of the same kind continues identically. */
  toJson(): JsonValue;
  /** @throws TypeError on a malformed state. */
  fromJson(state: JsonValue): void;
}

/**
 * A trade operator whose per-bar trade state is one `TradeAccumulator`. Standalone it owns, feeds and
 * resets it; after `shareTrades(acc)` it reads `acc` at emit and neither feeds, resets nor snapshots it
 * — the caller (a `GroupOperator`) feeds it once per trade piece, resets it after every member emitted
 * or on `discardBar`, and holds its state.
 */
export interface SharedTradesOperator extends TradeFieldsOperator {
  /** The accumulator this operator needs (its own until `shareTrades`). */
  readonly tradeAccumulator: TradeAccumulator;
  /** Reads `acc` from now on; call before the first event. */
  shareTrades(acc: TradeAccumulator): void;
}

/** Typed accessors for reading state objects in `restore`. */
export function stateObject(state: JsonValue, id: string): { readonly [k: string]: JsonValue } {
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    throw new TypeError(`${id}: state must be an object`);
  }
  return state as { readonly [k: string]: JsonValue };
}

/** A number field of a restored state (null → NaN). @throws TypeError if it is neither. */
export function stateNumber(s: { readonly [k: string]: JsonValue }, key: string): number {
  const v = s[key];
  if (v === null) return Number.NaN; // JSON has no NaN: NaN round-trips as null
  if (typeof v !== "number") throw new TypeError(`state field ${key} must be a number`);
  return v;
}

/** A numeric array field of a restored state (null elements → NaN). @throws TypeError if not an array. */
export function stateNumbers(s: { readonly [k: string]: JsonValue }, key: string): number[] {
  const v = s[key];
  if (!Array.isArray(v)) throw new TypeError(`state field ${key} must be an array`);
  return v.map((x) => (x === null ? Number.NaN : (x as number)));
}

/** A sub-state field of a restored state object (a part's own snapshot). @throws TypeError if missing. */
export function stateField(s: { readonly [k: string]: JsonValue }, key: string, id: string): JsonValue {
  const v = s[key];
  if (v === undefined) throw new TypeError(`${id}: state field ${key} missing`);
  return v;
}

/** NaN-safe number for snapshots (JSON turns NaN into null; `stateNumber` turns it back). */
export function numberToJson(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

/** NaN-safe numeric array for snapshots (JSON turns NaN into null; `stateNumbers` turns it back). */
export function numbersToJson(a: ArrayLike<number>): (number | null)[] {
  const out: (number | null)[] = new Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isNaN(a[i]!) ? null : a[i]!;
  return out;
}

/**
 * One fixed-point scale per read (issue "Data safety": fixed-point scales never mix).
 *
 * Rows carry the `symbol_id` of the registry version they were encoded with, and a version's increments
 * give its `_int` columns their meaning (lake/registry.ts). When a later ingest needs finer increments,
 * inference opens a new version, so one instrument's rows over a range may hold two scales: `px_int`
 * 968287 at 0.01 and 9683125 at 0.001 are the prices 9682.87 and 9683.125. A consumer that reads both
 * without converting mixes scales (a 10× price jump). Every reader of the lake converts instead:
 *
 * - the **common scale** of an instrument (`instrumentScale`, `Lake.scale`) is the finest price and the
 *   finest amount increment among its registry versions (versions without prices —
 *   `increment_source: "none"` — do not count). It does not depend on the range read, so a run, its gate
 *   re-runs and a live session convert alike;
 * - each coarser version's `_int` columns are multiplied by the integer factor increment / target when
 *   read (`rescaleExprs`: Int64 × Int64 in Polars, exact; float64 exact below 2^53): engine sources
 *   (engine/source.ts) always, so replays, feature frames and pipelines compute on one scale; queries when
 *   a read spans more than one version (a read of one version is returned as stored);
 * - when a factor is not an integer (e.g. 0.5 and 0.2), no exact common scale exists and the read is
 *   refused with a `ConfigError` naming both versions, their increments and validity ranges.
 *
 * Decoding to natural units then uses the common scale for every converted row.
 */
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { fixedToNumber, type Increment, parseIncrement } from "../core/fixed.js";
import { usToIso } from "../core/time.js";
import { type TableName, tableColumns } from "../schema/tables.js";
import type { SymbolEntry, SymbolRegistry } from "./registry.js";

/** Integer factors that bring one version's `_int` columns to the target scale. */
export interface ScaleFactors {
  /** Multiplier of price columns (`unit: price_increment`). */
  readonly price: number;
  /** Multiplier of size columns (`unit: amount_increment`). */
  readonly amount: number;
}

/** The common scale of one instrument's rows in a read (see the module doc). */
export interface ScalePlan {
  /** Target increments (exact decimals). */
  readonly price: Increment;
  readonly amount: Increment;
  /** The same as numbers (natural units per increment). */
  readonly priceIncrement: number;
  readonly amountIncrement: number;
  /** symbol_id → factors, for versions whose increments differ from the target (absent: factor 1). */
  readonly factors: Readonly<Record<number, ScaleFactors>>;
  /** The versions the read touches, oldest first (for reports). */
  readonly versions: readonly SymbolEntry[];
}

/** increment / target as an integer, or null when it is not one. */
function factorOf(inc: Increment, target: Increment): number | null {
  // inc = mi·10^-si, target = mt·10^-st: inc / target = mi·10^st / (mt·10^si)
  const num = BigInt(inc.mantissa) * 10n ** BigInt(target.scale);
  const den = BigInt(target.mantissa) * 10n ** BigInt(inc.scale);
  if (num % den !== 0n) return null;
  const f = num / den;
  return f <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(f) : null;
}

/** The finer of two increments (smaller value); compared exactly. */
function finer(a: Increment, b: Increment): Increment {
  const av = BigInt(a.mantissa) * 10n ** BigInt(b.scale);
  const bv = BigInt(b.mantissa) * 10n ** BigInt(a.scale);
  return av <= bv ? a : b;
}

const range = (e: SymbolEntry): string =>
  `[${usToIso(e.valid_from_us)}, ${e.valid_until_us === null ? "open" : usToIso(e.valid_until_us)})`;

/**
 * The common scale of `versions` (registry entries of one instrument): the finest price and amount
 * increments among the versions with prices, and the integer factor of every other version.
 * @throws ConfigError when `versions` is empty or two versions have no exact common scale (naming both).
 */
export function scaleOf(versions: readonly SymbolEntry[]): ScalePlan {
  const sorted = [...versions].sort((a, b) => a.valid_from_us - b.valid_from_us);
  if (sorted.length === 0) throw new ConfigError("no registry version to scale");
  const priced = sorted.filter((v) => v.increment_source !== "none");
  const basis = priced.length > 0 ? priced : sorted;
  let price = parseIncrement(basis[0]!.price_increment);
  let amount = parseIncrement(basis[0]!.amount_increment);
  for (const v of basis) {
    price = finer(price, parseIncrement(v.price_increment));
    amount = finer(amount, parseIncrement(v.amount_increment));
  }
  const factors: Record<number, ScaleFactors> = {};
  for (const v of priced) {
    const p = factorOf(parseIncrement(v.price_increment), price);
    const a = factorOf(parseIncrement(v.amount_increment), amount);
    if (p === null || a === null) {
      // the version that set the target the factor failed against (exact comparison of values)
      const other =
        priced.find((w) =>
          p === null
            ? factorOf(parseIncrement(w.price_increment), price) === 1
            : factorOf(parseIncrement(w.amount_increment), amount) === 1,
        ) ?? priced[0]!;
      throw new ConfigError(
        `${v.exchange}/${v.exchange_symbol}: registry versions without an exact common fixed-point scale: ` +
          `symbol_id ${v.symbol_id} (price ${v.price_increment}, amount ${v.amount_increment}, valid ${range(v)}) and ` +
          `symbol_id ${other.symbol_id} (price ${other.price_increment}, amount ${other.amount_increment}, valid ${range(other)}); ` +
          "set increments that divide both (`pointline symbols set`) and re-ingest",
      );
    }
    if (p !== 1 || a !== 1) factors[v.symbol_id] = { price: p, amount: a };
  }
  return {
    price,
    amount,
    priceIncrement: fixedToNumber(1, price),
    amountIncrement: fixedToNumber(1, amount),
    factors,
    versions: sorted,
  };
}

/**
 * The scale every engine read of `exchange`/`symbol` uses (replays, feature frames, pipelines and their
 * gate re-runs): the common scale of all its registry versions, independent of the range read, so every
 * run and re-run of a request converts with the same increments. @throws ConfigError when the registry
 * has no version of the instrument, or see `scaleOf`.
 */
export function instrumentScale(registry: SymbolRegistry, exchange: string, symbol: string): ScalePlan {
  const versions = registry.versions(exchange, symbol);
  if (versions.length === 0) throw new ConfigError(`no symbol ${exchange}/${symbol} in the lake's registry`);
  return scaleOf(versions);
}

/**
 * Polars expressions that rescale the fixed-point columns of `table` among `columns` by `f` (Int64
 * multiplication: exact; book level lists element-wise). Empty when both factors are 1.
 */
export function rescaleExprs(table: TableName, f: ScaleFactors, columns?: ReadonlySet<string>): pl.Expr[] {
  const out: pl.Expr[] = [];
  for (const c of tableColumns(table)) {
    if (columns && !columns.has(c.name)) continue;
    const k = c.unit === "price_increment" ? f.price : c.unit === "amount_increment" ? f.amount : 1;
    if (k === 1) continue;
    const lit = pl.lit(k).cast(pl.Int64);
    out.push(
      c.dtype === "list_i64"
        ? pl.col(c.name).lst.eval(pl.element().mul(lit)).alias(c.name)
        : pl.col(c.name).mul(lit).alias(c.name),
    );
  }
  return out;
}

/**
 * Symbol registry: one entry per (exchange, exchange_symbol, validity window) with the fixed-point
 * increments that give `px_int` / `qty_int` their meaning.
 *
 * - `symbol_id` is a stable 48-bit hash of (exchange, symbol, valid_from_us): the same version gets the
 *   same id in every lake, and a tick-size change (a new version) gets a new id. Rows carry their
 *   symbol_id, which is the authoritative link to the increments they were encoded with.
 * - Increments come from an override (`setSymbol`) or are inferred at ingest from the data's largest
 *   number of significant decimals over all files of one ingest call (e.g. "61837.63000000" → 0.01).
 *   A version created from files that carry no prices or sizes (funding, ticker) has
 *   `increment_source: "none"` and placeholder increments of 1; the first file with prices upgrades it
 *   in place (no fixed-point value was ever encoded with the placeholder).
 * - Inference is data-driven, so it can be too coarse: when a later ingest needs more decimals than an
 *   inferred version allows, a new, finer version starts at that ingest's first timestamp. Overrides are
 *   never changed: values finer than an override are rejected (quarantined) with a clear reason.
 * - Validity is [valid_from_us, valid_until_us) on ts_local_us; `null` until = open ended. A new
 *   version for a symbol closes the open-ended version before it.
 *
 * The registry is a small JSON file (`_meta/registry.json`), written atomically.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import { type Increment, incrementFromDecimals, parseIncrement } from "../core/fixed.js";
import { registryPath, stableId, writeFileAtomic } from "./layout.js";

export type AssetType = "spot" | "perpetual" | "future" | "option" | "equity" | "unknown";

export interface SymbolEntry {
  readonly symbol_id: number;
  readonly exchange: string;
  readonly exchange_symbol: string;
  readonly base: string | null;
  readonly quote: string | null;
  readonly asset_type: AssetType;
  price_increment: string;
  amount_increment: string;
  readonly contract_multiplier: number | null;
  readonly valid_from_us: number;
  valid_until_us: number | null;
  /** "inferred" from data decimals, "override" set by a user, "none" (no prices seen yet: placeholder). */
  increment_source: "inferred" | "override" | "none";
  /** Dated contracts: delivery month `YYYYMM` (e.g. "201312" for ESZ13); absent otherwise. */
  contract_month?: string;
  /**
   * Dated contracts: last trading instant, µs UTC, when the root's expiry rule is known (see
   * ingest/lean/futures.ts `contractExpiryUs`); null when only the month is known; absent otherwise.
   */
  expiry_us?: number | null;
}

/** What an adapter knows about a symbol beyond its increments (set on every version of it). */
export interface SymbolAnnotation {
  readonly asset_type?: AssetType;
  readonly base?: string | null;
  readonly quote?: string | null;
  readonly contract_month?: string;
  readonly expiry_us?: number | null;
}

const entrySchema = z.object({
  symbol_id: z.number().int(),
  exchange: z.string().min(1),
  exchange_symbol: z.string().min(1),
  base: z.string().nullable(),
  quote: z.string().nullable(),
  asset_type: z.enum(["spot", "perpetual", "future", "option", "equity", "unknown"]),
  price_increment: z.string(),
  amount_increment: z.string(),
  contract_multiplier: z.number().nullable(),
  valid_from_us: z.number().int(),
  valid_until_us: z.number().int().nullable(),
  increment_source: z.enum(["inferred", "override", "none"]),
  contract_month: z
    .string()
    .regex(/^\d{6}$/)
    .optional(),
  expiry_us: z.number().int().nullable().optional(),
});
const fileSchema = z.object({ version: z.literal(1), symbols: z.array(entrySchema) });

/** Resolved increments of one registry entry. */
export interface ResolvedSymbol {
  readonly entry: SymbolEntry;
  readonly priceIncrement: Increment;
  readonly amountIncrement: Increment;
}

/** Exchange-specific knowledge of asset types and base/quote for common crypto symbol shapes. */
export function describeSymbol(
  exchange: string,
  symbol: string,
): Pick<SymbolEntry, "asset_type" | "base" | "quote"> {
  const s = symbol.toUpperCase();
  const quotes = ["USDT", "USDC", "BUSD", "FDUSD", "USD", "BTC", "ETH", "BNB", "EUR"];
  const splitPair = (p: string): [string | null, string | null] => {
    for (const q of quotes) if (p.endsWith(q) && p.length > q.length) return [p.slice(0, -q.length), q];
    return [null, null];
  };
  if (exchange === "binance-delivery") {
    const [pair, suffix] = s.split("_");
    const [base, quote] = splitPair(pair ?? s);
    return { asset_type: suffix === "PERP" ? "perpetual" : suffix ? "future" : "unknown", base, quote };
  }
  if (exchange === "binance-futures") {
    const [pair, suffix] = s.split("_");
    const [base, quote] = splitPair(pair ?? s);
    return { asset_type: suffix ? "future" : "perpetual", base, quote };
  }
  if (exchange === "binance" || exchange.endsWith("-spot")) {
    const [base, quote] = splitPair(s);
    return { asset_type: "spot", base, quote };
  }
  if (/PERP|SWAP/.test(s) || exchange === "bitmex" || exchange === "bybit") {
    const [base, quote] = splitPair(s.replace(/[-_]?(PERPETUAL|PERP|SWAP)$/, "").replace(/[-_]/g, ""));
    return { asset_type: "perpetual", base, quote };
  }
  return { asset_type: "unknown", base: null, quote: null };
}

export class SymbolRegistry {
  private constructor(
    private readonly path: string | null,
    private readonly entries: SymbolEntry[],
  ) {}

  /** Loads `<lake>/_meta/registry.json` (empty registry if absent). @throws ConfigError if malformed. */
  static async open(lake: string): Promise<SymbolRegistry> {
    const path = registryPath(lake);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return new SymbolRegistry(path, []);
    }
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new ConfigError(`${path}: invalid registry: ${parsed.error.message}`);
    return new SymbolRegistry(path, parsed.data.symbols);
  }

  /** An in-memory registry (tests). */
  static inMemory(entries: SymbolEntry[] = []): SymbolRegistry {
    return new SymbolRegistry(null, entries);
  }

  /** Writes the registry atomically (sorted by exchange, symbol, valid_from); a no-op in memory. */
  async save(): Promise<void> {
    if (this.path === null) return;
    const sorted = [...this.entries].sort(
      (a, b) =>
        a.exchange.localeCompare(b.exchange) ||
        a.exchange_symbol.localeCompare(b.exchange_symbol) ||
        a.valid_from_us - b.valid_from_us,
    );
    await writeFileAtomic(this.path, `${JSON.stringify({ version: 1, symbols: sorted }, null, 2)}\n`);
  }

  /** Every entry (all symbols, all versions), in file order. */
  list(): readonly SymbolEntry[] {
    return this.entries;
  }

  /** Versions of one symbol, by valid_from. */
  versions(exchange: string, symbol: string): SymbolEntry[] {
    return this.entries
      .filter((e) => e.exchange === exchange && e.exchange_symbol === symbol)
      .sort((a, b) => a.valid_from_us - b.valid_from_us);
  }

  /** The version valid at `tsUs`, or undefined. */
  lookup(exchange: string, symbol: string, tsUs: number): ResolvedSymbol | undefined {
    const e = this.versions(exchange, symbol).find(
      (v) => v.valid_from_us <= tsUs && (v.valid_until_us === null || tsUs < v.valid_until_us),
    );
    return e === undefined ? undefined : resolve(e);
  }

  /** The entry a row's `symbol_id` points to: the increments its px_int/qty_int were encoded with. */
  byId(symbolId: number): SymbolEntry | undefined {
    return this.entries.find((e) => e.symbol_id === symbolId);
  }

  /**
   * Returns the version to encode data starting at `tsUs` with, given the decimals an ingest observed
   * (`null` decimals: the data has no prices/sizes). See the module doc for the rules:
   * - no version covers `tsUs` → a new one from `validFromUs` (closing an open-ended predecessor);
   * - a "none" version and decimals known → upgraded in place;
   * - an inferred version too coarse for the decimals → a new version from `tsUs`;
   * - an override → used as is.
   */
  resolveForIngest(
    exchange: string,
    symbol: string,
    tsUs: number,
    validFromUs: number,
    decimals: { price: number; amount: number } | null,
  ): ResolvedSymbol {
    const found = this.lookup(exchange, symbol, tsUs);
    const price = decimals === null ? "1" : incrementFromDecimals(decimals.price).text;
    const amount = decimals === null ? "1" : incrementFromDecimals(decimals.amount).text;
    if (found === undefined) {
      return resolve(
        this.addVersion(
          exchange,
          symbol,
          Math.min(validFromUs, tsUs),
          { priceIncrement: price, amountIncrement: amount },
          decimals === null ? "none" : "inferred",
        ),
      );
    }
    const e = found.entry;
    if (decimals === null || e.increment_source === "override") return found;
    if (e.increment_source === "none") {
      e.price_increment = price;
      e.amount_increment = amount;
      e.increment_source = "inferred";
      return resolve(e);
    }
    const fits =
      found.priceIncrement.mantissa === 1 &&
      found.amountIncrement.mantissa === 1 &&
      found.priceIncrement.scale >= decimals.price &&
      found.amountIncrement.scale >= decimals.amount;
    // Fits, or starts at the same time (nothing to split off): keep it; finer values get rejected.
    if (fits || e.valid_from_us >= tsUs) return found;
    const finer = {
      priceIncrement: incrementFromDecimals(Math.max(decimals.price, found.priceIncrement.scale)).text,
      amountIncrement: incrementFromDecimals(Math.max(decimals.amount, found.amountIncrement.scale)).text,
    };
    return resolve(this.addVersion(exchange, symbol, tsUs, finer, "inferred"));
  }

  /**
   * Records what an adapter knows about a symbol (asset type, base/quote, contract month, expiry) on
   * every version of (exchange, symbol). Fields not given are left as they are.
   */
  annotate(exchange: string, symbol: string, a: SymbolAnnotation): void {
    for (const e of this.entries) {
      if (e.exchange !== exchange || e.exchange_symbol !== symbol) continue;
      const m = e as { -readonly [K in keyof SymbolEntry]: SymbolEntry[K] };
      if (a.asset_type !== undefined) m.asset_type = a.asset_type;
      if (a.base !== undefined) m.base = a.base;
      if (a.quote !== undefined) m.quote = a.quote;
      if (a.contract_month !== undefined) m.contract_month = a.contract_month;
      if (a.expiry_us !== undefined) m.expiry_us = a.expiry_us;
    }
  }

  /**
   * Sets increments for a symbol from `validFromUs` on (user override). Replaces an inferred version
   * that starts at the same time. Data already ingested keeps the increments it was written with:
   * re-ingest it to apply the override.
   */
  setSymbol(
    exchange: string,
    symbol: string,
    spec: {
      priceIncrement: string;
      amountIncrement: string;
      validFromUs?: number;
      contractMultiplier?: number | null;
    },
  ): SymbolEntry {
    parseIncrement(spec.priceIncrement);
    parseIncrement(spec.amountIncrement);
    const from = spec.validFromUs ?? 0;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.exchange === exchange && e.exchange_symbol === symbol && e.valid_from_us >= from) {
        this.entries.splice(i, 1);
      }
    }
    return this.addVersion(exchange, symbol, from, spec, "override");
  }

  private addVersion(
    exchange: string,
    symbol: string,
    from: number,
    inc: { priceIncrement: string; amountIncrement: string; contractMultiplier?: number | null },
    source: "inferred" | "override" | "none",
  ): SymbolEntry {
    const price = parseIncrement(inc.priceIncrement).text;
    const amount = parseIncrement(inc.amountIncrement).text;
    const versions = this.versions(exchange, symbol);
    const next = versions.find((v) => v.valid_from_us > from);
    for (const v of versions) {
      if (v.valid_from_us < from && (v.valid_until_us === null || v.valid_until_us > from))
        v.valid_until_us = from;
    }
    const entry: SymbolEntry = {
      symbol_id: stableId(`${exchange}\u0000${symbol}\u0000${from}`),
      exchange,
      exchange_symbol: symbol,
      ...describeSymbol(exchange, symbol),
      price_increment: price,
      amount_increment: amount,
      contract_multiplier: inc.contractMultiplier ?? null,
      valid_from_us: from,
      valid_until_us: next === undefined ? null : next.valid_from_us,
      increment_source: source,
    };
    this.entries.push(entry);
    return entry;
  }
}

function resolve(e: SymbolEntry): ResolvedSymbol {
  return {
    entry: e,
    priceIncrement: parseIncrement(e.price_increment),
    amountIncrement: parseIncrement(e.amount_increment),
  };
}

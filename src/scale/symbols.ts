/**
 * Symbol selection for multi-symbol runs: an explicit list of `exchange:symbol` instruments, or a query
 * on the lake's symbol registry (exchange, base asset, quote asset, asset type).
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import type { TimeInput } from "../core/time.js";
import type { FeatureRunInput } from "../features/config.js";
import type { SymbolEntry } from "../lake/registry.js";
import { listSymbols } from "../lake/symbols.js";

/** One instrument of a run. */
export interface InstrumentRef {
  readonly exchange: string;
  readonly symbol: string;
}

/** A registry query: every given field must match (case-insensitive for assets). */
export const symbolQuerySchema = z
  .object({
    exchange: z.string().min(1).optional(),
    base: z.string().min(1).optional(),
    quote: z.string().min(1).optional(),
    assetType: z.enum(["spot", "perpetual", "future", "option", "unknown"]).optional(),
  })
  .strict();
export type SymbolQuery = z.infer<typeof symbolQuerySchema>;

/** Either an explicit list or a registry query. */
export type SymbolSelection =
  | { readonly symbols: readonly InstrumentRef[] }
  | { readonly query: SymbolQuery };

/** Parses `exchange:symbol[,exchange:symbol…]`. @throws ConfigError naming `flag` and the bad item. */
export function parseInstrumentList(text: string, flag = "--symbols"): InstrumentRef[] {
  const out: InstrumentRef[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const i = item.indexOf(":");
    const exchange = i < 0 ? "" : item.slice(0, i);
    const symbol = i < 0 ? "" : item.slice(i + 1);
    if (!exchange || !symbol || symbol.includes(":"))
      throw new ConfigError(
        `${flag} ${text}: '${item}' is not exchange:symbol (e.g. binance-futures:BTCUSDT)`,
      );
    out.push({ exchange, symbol });
  }
  if (out.length === 0) throw new ConfigError(`${flag} ${text}: no instrument given`);
  return out;
}

const overlaps = (e: SymbolEntry, startUs: number, endUs: number): boolean =>
  e.valid_from_us < endUs && (e.valid_until_us === null || e.valid_until_us > startUs);

/**
 * The instruments of a selection, deduplicated, in (exchange, symbol) order for a query and in the
 * given order for a list. A listed instrument must be in the registry; a query must match at least one
 * registry version overlapping [startUs, endUs).
 * @throws ConfigError naming the unknown instrument or the empty query.
 */
export async function resolveSymbols(
  lake: string,
  sel: SymbolSelection,
  startUs: number,
  endUs: number,
): Promise<InstrumentRef[]> {
  const entries = await listSymbols(lake);
  const seen = new Set<string>();
  const out: InstrumentRef[] = [];
  const add = (exchange: string, symbol: string): void => {
    const k = `${exchange}:${symbol}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ exchange, symbol });
  };
  if ("symbols" in sel) {
    for (const s of sel.symbols) {
      if (!entries.some((e) => e.exchange === s.exchange && e.exchange_symbol === s.symbol))
        throw new ConfigError(`${s.exchange}:${s.symbol} is not in the lake's symbol registry`);
      add(s.exchange, s.symbol);
    }
    return out;
  }
  const q = symbolQuerySchema.parse(sel.query);
  const eq = (a: string | null, b: string | undefined): boolean =>
    b === undefined || (a !== null && a.toUpperCase() === b.toUpperCase());
  for (const e of entries) {
    if (q.exchange !== undefined && e.exchange !== q.exchange) continue;
    if (!eq(e.base, q.base) || !eq(e.quote, q.quote)) continue;
    if (q.assetType !== undefined && e.asset_type !== q.assetType) continue;
    if (!overlaps(e, startUs, endUs)) continue;
    add(e.exchange, e.exchange_symbol);
  }
  if (out.length === 0)
    throw new ConfigError(`symbol query ${JSON.stringify(q)} matches no registry entry valid in the range`);
  return out;
}

/** What a many-symbol run reads and writes: lake, selection, output range, feature config, output dir. */
export interface ManySymbolsRequest {
  /** Lake root (a path: workers, threads or processes, open it themselves). */
  readonly lake: string;
  readonly selection: SymbolSelection;
  /** Output range [start, end) (ISO string, Date or µs). */
  readonly start: TimeInput;
  readonly end: TimeInput;
  readonly config?: FeatureRunInput;
  /** Output directory (created). */
  readonly outDir: string;
}

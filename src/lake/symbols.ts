/** Symbol listing for the CLI and library (`listSymbols`). */
import { resolve } from "node:path";
import { type SymbolEntry, SymbolRegistry } from "./registry.js";

/** All registry entries of a lake, sorted by exchange, symbol, valid_from. */
export async function listSymbols(lake: string): Promise<SymbolEntry[]> {
  const reg = await SymbolRegistry.open(resolve(lake));
  return [...reg.list()].sort(
    (a, b) =>
      a.exchange.localeCompare(b.exchange) ||
      a.exchange_symbol.localeCompare(b.exchange_symbol) ||
      a.valid_from_us - b.valid_from_us,
  );
}

/**
 * Argument parsers and checks of the `pointline` CLI. Every error names the flag (or the JSON field)
 * and shows the value as the user typed it.
 *
 * - Parsers for commander's `Option.argParser` / `Argument.argParser` throw commander's
 *   `InvalidArgumentError`; commander then prints `error: option '--limit <n>' argument 'abc' is
 *   invalid. <reason>` and exits with code 1. They run only on values typed on the command line.
 * - Checks that need several values, the file system or a default value run inside an action and throw
 *   `ConfigError` with the flag and the value in the message (`pointline: <message>`, exit code 1).
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Help, InvalidArgumentError, type Option } from "commander";
import { type ParseError, parse as parseJsonc, printParseErrorCode } from "jsonc-parser";
import { ConfigError } from "../core/errors.js";
import { parseIncrement } from "../core/fixed.js";
import { toUs, usToIso } from "../core/time.js";
import { registryPath } from "../lake/layout.js";
import { listSymbols } from "../lake/symbols.js";

/** A time argument: the text as typed and its value in µs since the epoch (UTC). */
export interface TimeArg {
  readonly text: string;
  readonly us: number;
}

/**
 * `--start` / `--end` / `--valid-from` parser: ISO-8601 (`2024-08-08T23:54:00Z`, `2024-08-08`,
 * microseconds allowed) or integer µs since the epoch.
 * @throws InvalidArgumentError with the reason (commander adds the flag and the typed value).
 */
export function parseTimeArg(text: string): TimeArg {
  try {
    return { text, us: toUs(/^\d+$/.test(text) ? Number(text) : text) };
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

/** A time as typed, with its ISO-8601 form when it was typed as µs (`1723161600000000 (2024-08-09T00:00:00.000000Z)`). */
export function showTime(t: TimeArg): string {
  return /^\d+$/.test(t.text) ? `${t.text} (${usToIso(t.us)})` : t.text;
}

/**
 * Checks that `[start, end)` is not empty.
 * @throws ConfigError `--start <typed> is not before --end <typed>` (times typed as µs shown as ISO too).
 */
export function checkTimeRange(start: TimeArg, end: TimeArg): void {
  if (end.us > start.us) return;
  throw new ConfigError(
    `--start ${showTime(start)} is not before --end ${showTime(end)}: the range [start, end) is empty`,
  );
}

/** Parser of a non-negative integer flag (`--limit`). @throws InvalidArgumentError. */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text)))
    throw new InvalidArgumentError("expected a non-negative integer (rows)");
  return Number(text);
}

/** Parser of a decimal increment flag (`--price-increment 0.1`); returns the text. @throws InvalidArgumentError. */
export function parseIncrementArg(text: string): string {
  try {
    parseIncrement(text);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
  return text;
}

/**
 * The absolute root of an existing lake given by `flag`: the directory must exist and hold a symbol
 * registry (`_meta/registry.json`, written by the first ingest). A lake that does not exist is an
 * error, never an empty result.
 * @throws ConfigError `--lake <typed>: …` saying what is missing and how to create it.
 */
export function requireLake(dir: string, flag = "--lake"): string {
  const abs = resolve(dir);
  if (!existsSync(abs))
    throw new ConfigError(
      `${flag} ${dir}: no such directory (${abs}); create a lake with \`pointline ingest <kind> <files…> ${flag} ${dir}\``,
    );
  if (!statSync(abs).isDirectory()) throw new ConfigError(`${flag} ${dir}: not a directory (${abs})`);
  if (!existsSync(registryPath(abs)))
    throw new ConfigError(
      `${flag} ${dir}: not a Pointline lake: no symbol registry at ${registryPath(abs)} (nothing was ingested into it)`,
    );
  return abs;
}

/**
 * Checks that the lake's symbol registry knows the instrument: the exchange, the symbol on it and, when
 * `at` is given, a registry version valid at that time (a feature frame takes its increments from the
 * version valid at `--start`). `flag` names an instrument given as one flag (`--cross-venue`); by
 * default the messages name `--exchange` and `--symbol`.
 * @throws ConfigError naming the flag and listing what the lake holds.
 */
export async function requireInstrument(
  lakeRoot: string,
  exchange: string,
  symbol: string,
  opts: { readonly at?: TimeArg; readonly flag?: string } = {},
): Promise<void> {
  const { at, flag } = opts;
  const entries = await listSymbols(lakeRoot);
  const onExchange = entries.filter((e) => e.exchange === exchange);
  if (onExchange.length === 0) {
    const exchanges = [...new Set(entries.map((e) => e.exchange))].sort();
    throw new ConfigError(
      `${flag ? `${flag} ${exchange}:${symbol}` : `--exchange ${exchange}`}: no such exchange in the lake (exchanges: ${exchanges.join(", ") || "none"})`,
    );
  }
  const versions = onExchange.filter((e) => e.exchange_symbol === symbol);
  if (versions.length === 0) {
    const symbols = [...new Set(onExchange.map((e) => e.exchange_symbol))].sort();
    throw new ConfigError(
      `${flag ? `${flag} ${exchange}:${symbol}` : `--symbol ${symbol}`}: no such symbol on ${exchange} in the lake (symbols: ${symbols.join(", ")})`,
    );
  }
  if (at === undefined) return;
  const valid = versions.some(
    (e) => e.valid_from_us <= at.us && (e.valid_until_us === null || at.us < e.valid_until_us),
  );
  if (!valid) {
    const spans = versions
      .map(
        (e) =>
          `[${usToIso(e.valid_from_us)}, ${e.valid_until_us === null ? "open" : usToIso(e.valid_until_us)})`,
      )
      .join(", ");
    throw new ConfigError(
      `--start ${showTime(at)}: ${exchange} ${symbol} has no symbol registry version valid then (versions: ${spans}); start within one`,
    );
  }
}

/** 1-based line and column of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** `InvalidSymbol` → `invalid symbol`. */
function words(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/**
 * Parses strict JSON (no comments, no trailing commas) from `text` read from `source`.
 * @throws ConfigError `<source>:<line>:<column>: invalid JSON (line <l>, column <c>): <reason> at '<text>'` (1-based line
 * and column of the first error, located with jsonc-parser because V8's message often has no position).
 */
export function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    if (first === undefined)
      throw new ConfigError(`${source}: invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
    const { line, column } = lineColumn(text, first.offset);
    const at = text.slice(first.offset, first.offset + Math.max(first.length, 1)).split("\n")[0] ?? "";
    const what = first.offset >= text.length ? "at the end of the file" : `at '${at}'`;
    throw new ConfigError(
      `${source}:${line}:${column}: invalid JSON (line ${line}, column ${column}): ${words(printParseErrorCode(first.error))} ${what}`,
    );
  }
}

/** Reads and parses a JSON file (see `parseJsonText`). @throws ConfigError naming `flag` and the path when unreadable or invalid. */
export async function readJsonFile(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(`${flag} ${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return parseJsonText(text, path);
  } catch (e) {
    throw new ConfigError(`${flag} ${e instanceof Error ? e.message : String(e)}`);
  }
}

const plainHelp = new Help();

/** commander help: each mandatory option's description ends in `(required)`. */
export function optionDescriptionWithRequired(option: Option): string {
  const d = plainHelp.optionDescription(option);
  return option.mandatory ? `${d} (required)` : d;
}

/** Helpers of `pointline features build`: the config from `--config` and the flags, the manifest summary. */
import { ConfigError } from "../core/errors.js";
import { spineShorthandFields } from "../engine/spine-spec.js";
import { type FeatureRunConfig, parseFeatureRunConfig } from "../features/config.js";
import { DERIVATIVES_WARMUP_MS } from "../features/derivatives/preset.js";
import { FAMILIES } from "../features/families.js";
import type { FeatureManifest } from "../features/output.js";
import { readJsonFile } from "./args.js";

/** The `features build` flags that shape the config; a flag is `undefined` when it was not typed. */
export interface FeatureFlags {
  /** `--spine` shorthand as typed (omitted: the config's spine, else `clock:1000`). */
  readonly spine?: string;
  /** `--families` as typed (omitted: the config's include* flags, else `default`). */
  readonly families?: string;
  /** `--cross-venue exchange:symbol` as typed. */
  readonly crossVenue?: string;
  /** `--config` path of a JSON `FeatureRunConfig`. */
  readonly config?: string;
  /**
   * `--preset derivatives`: the derivatives preset alone (every other family off unless `--families`
   * names some) and, unless the config sets `warmupMs`, its history `DERIVATIVES_WARMUP_MS`.
   */
  readonly preset?: string;
}

/** Presets of `--preset`. */
export const FEATURE_PRESETS = ["derivatives"] as const;

type Json = Readonly<Record<string, unknown>>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The cross-venue instrument of `--cross-venue exchange:symbol`. @throws ConfigError naming the flag. */
function parseCrossVenue(text: string): { exchange: string; symbol: string } {
  const i = text.indexOf(":");
  const exchange = i < 0 ? "" : text.slice(0, i).trim();
  const symbol = i < 0 ? "" : text.slice(i + 1).trim();
  if (!exchange || !symbol || symbol.includes(":"))
    throw new ConfigError(`--cross-venue ${text}: expected exchange:symbol, e.g. binance:BTCUSDT`);
  return { exchange, symbol };
}

/**
 * The family flags (`includeMicrostructure`, …) that `--families` sets: every family's flag, from a
 * comma-separated id list, `default` (Pointline's defaults: all but `cv` and `bar`; `cv` too when a
 * cross-venue instrument is given) or `all` (`cv` only when a cross-venue instrument is given).
 * @throws ConfigError naming `--families` and the value: an unknown id, or `cv` without an instrument.
 */
function familyFlags(text: string, hasCrossVenue: boolean): Record<string, boolean> {
  const ids = text
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  const out: Record<string, boolean> = {};
  if (ids.length === 1 && (ids[0] === "all" || ids[0] === "default")) {
    const all = ids[0] === "all";
    for (const f of FAMILIES) out[f.flag] = f.id === "cv" ? hasCrossVenue : all || f.id !== "bar";
    return out;
  }
  const known = new Map(FAMILIES.map((f) => [f.id, f]));
  for (const id of ids) {
    if (!known.has(id))
      throw new ConfigError(
        `--families ${text}: unknown family '${id}' (known: ${[...known.keys()].join(", ")}, or default, all)`,
      );
  }
  if (ids.length === 0) throw new ConfigError(`--families ${text}: no family id given`);
  if (ids.includes("cv") && !hasCrossVenue)
    throw new ConfigError(
      `--families ${text}: family cv (cross-venue basis) needs the spot instrument: add --cross-venue <exchange:symbol>, e.g. --cross-venue binance:BTCUSDT`,
    );
  for (const f of FAMILIES) out[f.flag] = ids.includes(f.id);
  return out;
}

const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/**
 * The validated FeatureRunConfig of `features build`: the `--config` JSON, with each typed flag setting
 * only what it names — `--spine` the spine fields its shorthand spells out (`volume:5` sets `type` and
 * `volumeThreshold`; `splitTrades` etc. stay as the config has them), `--families` every family flag,
 * `--cross-venue` the `crossVenue` instrument (and `includeCrossVenue` when neither `--families` nor the
 * config sets it). A flag and the config giving one field different values is an error, never a silent
 * override. Without `--spine` the spine is the config's (default `clock:1000`).
 * @throws ConfigError naming the flag and its value, or `--config <path>` and the field (JSON syntax
 * errors with line and column).
 */
export async function featureConfigFromCli(o: FeatureFlags): Promise<FeatureRunConfig> {
  let base: Json = {};
  if (o.config !== undefined) {
    const v = await readJsonFile(o.config, "--config");
    if (!isObject(v))
      throw new ConfigError(`--config ${o.config}: expected a JSON object (a FeatureRunConfig)`);
    base = v;
  }
  const conflict = (
    flag: string,
    typed: string,
    field: string,
    flagValue: unknown,
    cfgValue: unknown,
  ): never => {
    throw new ConfigError(
      `${flag} ${typed} sets ${field} = ${show(flagValue)} but --config ${o.config} has ${field} = ${show(cfgValue)}: give it in one place or make them agree`,
    );
  };
  const cfg: Record<string, unknown> = { ...base };

  if (o.spine !== undefined) {
    const fields = spineShorthandFields(o.spine);
    const own = isObject(base["spine"]) ? base["spine"] : undefined;
    if (own)
      for (const [k, v] of Object.entries(fields))
        if (k in own && own[k] !== v) conflict("--spine", o.spine, `spine.${k}`, v, own[k]);
    cfg["spine"] = { ...own, ...fields };
  }

  if (o.crossVenue !== undefined) {
    const cv = parseCrossVenue(o.crossVenue);
    const own = base["crossVenue"];
    if (own !== undefined) {
      const same = isObject(own) && own["exchange"] === cv.exchange && own["symbol"] === cv.symbol;
      if (!same) conflict("--cross-venue", o.crossVenue, "crossVenue", cv, own);
    }
    cfg["crossVenue"] = cv;
  }
  const hasCrossVenue = cfg["crossVenue"] !== undefined;

  if (o.families !== undefined) {
    for (const [flag, v] of Object.entries(familyFlags(o.families, hasCrossVenue))) {
      if (flag in base && base[flag] !== v) conflict("--families", o.families, flag, v, base[flag]);
      cfg[flag] = v;
    }
  } else if (o.crossVenue !== undefined && !("includeCrossVenue" in base)) cfg["includeCrossVenue"] = true;

  if (o.preset !== undefined) {
    if (!(FEATURE_PRESETS as readonly string[]).includes(o.preset))
      throw new ConfigError(`--preset ${o.preset}: unknown preset (${FEATURE_PRESETS.join(", ")})`);
    if (o.families === undefined) for (const f of FAMILIES) if (!(f.flag in base)) cfg[f.flag] = false;
    cfg["includeDerivatives"] = true;
    if (!("warmupMs" in base)) cfg["warmupMs"] = DERIVATIVES_WARMUP_MS;
  }

  if (cfg["includeCrossVenue"] === true && !hasCrossVenue)
    throw new ConfigError(
      `--config ${o.config} sets includeCrossVenue = true but has no crossVenue: add --cross-venue <exchange:symbol> (e.g. binance:BTCUSDT) or "crossVenue": { "exchange": …, "symbol": … } to the config`,
    );
  try {
    return parseFeatureRunConfig(cfg);
  } catch (e) {
    if (e instanceof ConfigError && o.config !== undefined)
      throw new ConfigError(`--config ${o.config}: ${e.message}`);
    throw e;
  }
}

/** Human summary of a written frame. */
export function formatManifest(m: FeatureManifest): string {
  const lines = [
    `wrote ${m.output.path} (${m.output.format}, ${m.row_count.toLocaleString("en-US")} rows × ${m.columns.length} columns, ${m.output.bytes.toLocaleString("en-US")} bytes)`,
    `  manifest ${m.output.path}.manifest.json`,
    `  ${m.instrument.exchange} ${m.instrument.symbol} [${m.range.start}, ${m.range.end}) families ${m.families.join(",")}`,
    `  events ${Object.entries(m.events)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}; trades in range ${m.trades_in_range}, unassigned ${m.unassigned_trades}`,
    `  sha256 ${m.output.sha256}  content ${m.content_sha256.slice(0, 16)}…  config ${m.config_hash.slice(0, 16)}…  ${m.elapsed_ms} ms`,
  ];
  return lines.join("\n");
}

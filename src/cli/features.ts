/** Helpers of `pointline features build`: config from flags, manifest summary, time arguments. */
import { readFile } from "node:fs/promises";
import { ConfigError } from "../core/errors.js";
import type { TimeInput } from "../core/time.js";
import { parseSpineShorthand } from "../engine/spine-spec.js";
import type { FeatureRunInput } from "../features/config.js";
import { FAMILIES } from "../features/families.js";
import type { FeatureManifest } from "../features/output.js";

/** A time argument: all digits = µs since the epoch, otherwise ISO 8601. */
export function timeArg(s: string): TimeInput {
  return /^\d+$/.test(s) ? Number(s) : s;
}

/**
 * FeatureRunConfig from CLI flags: `--config` JSON first, then `--spine`, `--families` (ids, "default"
 * or "all") and `--cross-venue exchange:symbol` on top. @throws ConfigError naming the bad flag.
 */
export async function featureConfigFromCli(o: {
  spine: string;
  families: string;
  crossVenue?: string;
  config?: string;
}): Promise<FeatureRunInput> {
  let base: Record<string, unknown> = {};
  if (o.config) {
    try {
      base = JSON.parse(await readFile(o.config, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`--config ${o.config}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const cfg: Record<string, unknown> = { ...base, spine: parseSpineShorthand(o.spine) };
  if (o.crossVenue) {
    const [exchange, symbol] = o.crossVenue.split(":");
    if (!exchange || !symbol)
      throw new ConfigError(`--cross-venue ${o.crossVenue}: expected exchange:symbol`);
    cfg.crossVenue = { exchange, symbol };
  }
  const ids = o.families
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (ids.length === 1 && ids[0] === "all") {
    for (const f of FAMILIES) cfg[f.flag] = f.id === "cv" ? o.crossVenue !== undefined : true;
  } else if (!(ids.length === 1 && ids[0] === "default")) {
    const known = new Map(FAMILIES.map((f) => [f.id, f]));
    for (const id of ids) {
      if (!known.has(id))
        throw new ConfigError(`--families: unknown family '${id}' (known: ${[...known.keys()].join(", ")})`);
    }
    for (const f of FAMILIES) cfg[f.flag] = ids.includes(f.id);
  } else if (o.crossVenue) cfg.includeCrossVenue = true;
  return cfg as FeatureRunInput;
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

/**
 * The liquidation features' null rule (docs/derivatives.md): no liquidation source → null, no events → 0.
 * Real XRPUSDT 5 m candles (freqtrade) with (a) no liquidations in the lake: every liquidation column is
 * null; (b) a `@forceOrder` capture of four liquidations on 2021-11-16 01:00–01:20: bars starting before
 * that UTC midnight (the source's start) are null, later bars equal a naive recomputation from the four
 * events (per bar and over (available_at − 1 h, available_at]), 0 where no event falls.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type pl from "nodejs-polars";
import { toUs } from "../../src/core/time.js";
import type { FeatureRunInput } from "../../src/features/config.js";
import { FAMILIES } from "../../src/features/families.js";
import { buildFeatureFrame } from "../../src/features/frame.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { data, tempDir } from "../helpers/data.js";

const OFF = Object.fromEntries(FAMILIES.map((f) => [f.flag, false]));
const CANDLES = data("freqtrade/tests/testdata/futures", "XRP_USDT_USDT-5m-futures.json");
const H = 3_600_000_000;
let tmp: { dir: string; cleanup: () => void };

/** Four liquidations (side, avg price, qty, time). */
const EVENTS = [
  ["SELL", "1.0521", "1000", "2021-11-16T01:00:30Z"],
  ["BUY", "1.0530", "250.5", "2021-11-16T01:03:00Z"],
  ["SELL", "1.0502", "4000", "2021-11-16T01:12:00Z"],
  ["BUY", "1.0499", "10", "2021-11-16T01:19:59Z"],
] as const;

const frame = (lake: string): Promise<pl.DataFrame> =>
  buildFeatureFrame({
    lake,
    exchange: "binance-futures",
    symbol: "XRPUSDT",
    start: "2021-11-15T22:00:00Z",
    end: "2021-11-16T03:00:00Z",
    chunkMs: 86_400_000,
    config: {
      ...OFF,
      includeDerivatives: true,
      spine: { type: "bars", intervalMs: 300_000 },
      warmupMs: 0,
    } as FeatureRunInput,
  });

const LIQ = [
  "liq_volume",
  "liq_count",
  "liquidation_vol_1h",
  "liquidation_count_1h",
  "long_liq_vol_1h",
  "short_liq_vol_1h",
  "net_liquidation",
  "avg_liq_size",
  "liq_notional_1h",
];

before(() => {
  tmp = tempDir("pointline-liq-");
});
after(() => tmp?.cleanup());

describe("liquidation features: null without a source, 0 without events", () => {
  it("a lake without liquidations gives null in every liquidation column", async () => {
    const lake = join(tmp.dir, "none");
    await ingestFiles("binance-vision", [CANDLES], { lake });
    const df = await frame(lake);
    assert.ok(df.height > 50);
    for (const c of [...LIQ, "liq_imbalance_1h", "liq_spike"])
      assert.equal(df.getColumn(c).nullCount(), df.height, `${c} all null`);
  });

  it("with a capture: null before the source's first UTC day, naive sums after, 0 without events", async () => {
    const lake = join(tmp.dir, "with");
    await ingestFiles("binance-vision", [CANDLES], { lake });
    const cap = join(tmp.dir, "xrpusdt_liq.txt");
    const ev = EVENTS.map(([side, ap, z, iso]) => {
      const t = toUs(iso) / 1000;
      return {
        side,
        px: Number(ap),
        qty: Number(z),
        us: toUs(iso),
        line: `${t * 1000} ${JSON.stringify({ stream: "xrpusdt@forceOrder", data: { e: "forceOrder", E: t, o: { s: "XRPUSDT", S: side, o: "LIMIT", f: "IOC", q: z, p: ap, ap, X: "FILLED", l: z, z, T: t } } })}`,
      };
    });
    writeFileSync(cap, ev.map((e) => e.line).join("\n"));
    await ingestFiles("binance-capture", [cap], { lake });
    const df = await frame(lake);
    const get = (c: string) => df.getColumn(c).toArray() as (number | null)[];
    const ts = get("ts_event_us") as number[];
    const at = get("available_at_us") as number[];
    const midnight = toUs("2021-11-16T00:00:00Z");
    const cols = Object.fromEntries(LIQ.map((c) => [c, get(c)]));
    let zeros = 0;
    let hits = 0;
    const close = (a: number | null, b: number, what: string) =>
      assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    for (let i = 0; i < df.height; i++) {
      const inBar = ev.filter((e) => e.us > at[i]! - 300_000_000 && e.us <= at[i]!);
      if (ts[i]! < midnight) assert.equal(cols.liq_volume![i], null, `bar ${i} before the source`);
      else {
        close(
          cols.liq_volume![i]!,
          inBar.reduce((a, e) => a + e.qty, 0),
          `liq_volume[${i}]`,
        );
        assert.equal(cols.liq_count![i], inBar.length);
        if (inBar.length === 0) zeros++;
      }
      const hour = ev.filter((e) => e.us > at[i]! - H && e.us <= at[i]!);
      if (at[i]! - H < midnight) {
        assert.equal(cols.liquidation_vol_1h![i], null, `1 h window ${i} starts before the source`);
        continue;
      }
      const long = hour.filter((e) => e.side === "SELL").reduce((a, e) => a + e.qty, 0);
      const vol = hour.reduce((a, e) => a + e.qty, 0);
      close(cols.liquidation_vol_1h![i]!, vol, `liquidation_vol_1h[${i}]`);
      assert.equal(cols.liquidation_count_1h![i], hour.length);
      close(cols.long_liq_vol_1h![i]!, long, "long");
      close(cols.short_liq_vol_1h![i]!, vol - long, "short");
      close(cols.net_liquidation![i]!, vol - 2 * long, "net");
      close(
        cols.liq_notional_1h![i]!,
        hour.reduce((a, e) => a + e.px * e.qty, 0),
        "notional",
      );
      if (hour.length > 0) hits++;
    }
    assert.ok(zeros > 10 && hits >= 12, `${zeros} zero bars, ${hits} rows with events in the hour`);
  });
});

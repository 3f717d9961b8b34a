/**
 * The OHLC consistency rule shared by every `ohlcv_bars` adapter (src/ingest/bars.ts): against its
 * definition on random bars (seeded property), and the same quarantine (field, reason, counts) from the
 * generic 1-minute OHLCV CSV and freqtrade candle JSON adapters, whose valid rows are written intact.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { ohlcInconsistency } from "../../src/ingest/bars.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import type { FileManifest } from "../../src/lake/manifest.js";
import { tempDir } from "../helpers/data.js";

const tmp = tempDir("pointline-bars-test-");
after(() => tmp.cleanup());

function quarantined(lake: string, m: FileManifest): { line: number; field: string; reason: string }[] {
  const p = join(lake, "_quarantine", `${m.file_id.toString(16).padStart(12, "0")}.jsonl`);
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { line: number; field: string; reason: string });
}

describe("OHLC consistency (shared by the bar adapters)", () => {
  it("matches its definition: low ≤ min(open, close), max(open, close, low) ≤ high", () => {
    const px = fc.integer({ min: 0, max: 20 });
    fc.assert(
      fc.property(px, px, px, px, (o, h, l, c) => {
        const want = h < Math.max(o, c, l) ? "high" : l > Math.min(o, c) ? "low" : null;
        assert.equal(ohlcInconsistency(o, h, l, c), want);
      }),
      { seed: 20261208, numRuns: 2000 },
    );
  });

  it("the generic 1m OHLCV CSV and freqtrade candles quarantine the same bad bars", async () => {
    const dir = join(tmp.dir, "src");
    mkdirSync(dir, { recursive: true });
    const csv = join(dir, "bars.csv");
    writeFileSync(
      csv,
      [
        "timestamp,open,high,low,close,volume",
        "2024-01-01T00:00:00Z,10,12,9,11,5", // 2 ok
        "2024-01-01T00:01:00Z,10,10.5,9,11,5", // 3 high below close
        "2024-01-01T00:02:00Z,10,12,10.5,11,5", // 4 low above open
        "2024-01-01T00:03:00Z,11,11,11,11,0", // 5 ok (flat bar)
      ].join("\n"),
    );
    const json = join(dir, "ABC_USDT_USDT-1m-futures.json");
    const t0 = Date.UTC(2024, 0, 1);
    writeFileSync(
      json,
      JSON.stringify([
        [t0, 10, 12, 9, 11, 5],
        [t0 + 60_000, 10, 10.5, 9, 11, 5],
        [t0 + 120_000, 10, 12, 10.5, 11, 5],
        [t0 + 180_000, 11, 11, 11, 11, 0],
      ]),
    );
    for (const [file, opts] of [
      [csv, { exchange: "test-ex", symbol: "ABCUSDT" }],
      [json, {}],
    ] as const) {
      const lake = join(tmp.dir, `lake-${file.endsWith(".csv") ? "csv" : "json"}`);
      const [m] = await ingestFiles("binance-vision", [file], { lake, ...opts });
      const r = m!.report;
      assert.deepEqual(r.tables["ohlcv_bars"], { rows_written: 2, rows_rejected: 2 }, file);
      const q = quarantined(lake, m!);
      assert.deepEqual(
        q.map((x) => x.field),
        ["high", "low"],
        file,
      );
      assert.match(q[0]!.reason, /^high 10\.5 is below max\(open 10, close 11, low 9\)$/);
      assert.match(q[1]!.reason, /^low 10\.5 is above min\(open 10, close 11\)$/);
    }
  });
});

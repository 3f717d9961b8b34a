/**
 * Lake layout, idempotent commits and the symbol registry, through `ingestFiles("binance-capture")`
 * on small synthetic captures. Expected values are hand-computed from the lines written here:
 * file ids and symbol ids from sha256 (the documented 48-bit prefix), fixed-point integers from the
 * decimal strings, partitions from the UTC dates of the µs timestamps.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import pl from "nodejs-polars";
import { IngestError } from "../../src/core/errors.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { dataCoverage } from "../../src/lake/catalog.js";
import type { FileManifest } from "../../src/lake/manifest.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import { listSymbols } from "../../src/lake/symbols.js";
import { tempDir } from "../helpers/data.js";

/** 2024-08-08T00:00:00Z and 2024-08-09T00:00:00Z in µs (1723075200 s = 19943 days × 86400 s). */
const D0808 = 1_723_075_200_000_000;
const D0809 = D0808 + 86_400_000_000;

interface Trade {
  readonly ts: number;
  readonly id: number;
  readonly p: string;
  readonly q: string;
  readonly m: boolean;
}

function tradeLine(t: Trade, symbol = "BTCUSDT"): string {
  const ms = Math.floor(t.ts / 1000) + 7; // exchange clock ahead of the local one, as in real captures
  const data = `{"e":"trade","E":${ms},"T":${ms},"s":"${symbol}","t":${t.id},"p":"${t.p}","q":"${t.q}","X":"MARKET","m":${t.m}}`;
  return `${t.ts} {"stream":"${symbol.toLowerCase()}@trade","data":${data}}`;
}

function writeCapture(path: string, trades: readonly Trade[]): string {
  writeFileSync(path, `${trades.map((t) => tradeLine(t)).join("\n")}\n`);
  return path;
}

/** Trades around midnight 2024-08-08 → 2024-08-09 (UTC). */
const MIDNIGHT_TRADES: readonly Trade[] = [
  { ts: D0809 - 1_000_000, id: 1, p: "100.5", q: "0.010", m: true },
  { ts: D0809 - 500_000, id: 2, p: "100.25", q: "0.5", m: false },
  { ts: D0809 - 1, id: 3, p: "100.50", q: "0.010", m: true }, // last µs of 08-08
  { ts: D0809, id: 4, p: "101", q: "1", m: false }, // exactly midnight: 08-09
  { ts: D0809 + 250_000, id: 5, p: "100.75", q: "0.020", m: true },
];
// Largest significant decimals: price 2 ("100.25", "100.75"), size 2 ("0.010" → 0.01, "0.020" → 0.02).
const INFERRED_PX = "0.01";
const INFERRED_QTY = "0.01";
const EXPECT_PX_INT = [10050, 10025, 10050, 10100, 10075];
const EXPECT_QTY_INT = [1, 50, 1, 100, 2];
const EXPECT_SIDE = [1, 0, 1, 0, 1];

const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const id48 = (hex: string): number => Number.parseInt(hex.slice(0, 12), 16);
/** Documented in src/lake/registry.ts: 48-bit prefix of sha256(exchange \0 symbol \0 valid_from_us). */
const symbolIdOf = (exchange: string, symbol: string, validFromUs: number): number =>
  id48(sha256Hex(`${exchange}\u0000${symbol}\u0000${validFromUs}`));

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Part files on disk under `<lake>/<table>`, relative to the lake. */
function partsOnDisk(lake: string, table: string): string[] {
  let files: string[];
  try {
    files = walk(join(lake, table));
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(".parquet"))
    .map((f) => relative(lake, f).split(sep).join("/"))
    .sort();
}

interface TradeRows {
  ts: number[];
  line: number[];
  px: number[];
  qty: number[];
  side: number[];
  id: (string | null)[];
  symbolId: number[];
  fileId: number[];
}

/** Reads the manifest's trade parts (in manifest order, then by line). */
function readTrades(lake: string, m: FileManifest): TradeRows {
  const parts = m.parts.filter((p) => p.table === "trades");
  const df = pl
    .concat(
      parts.map((p) => pl.readParquet(join(lake, p.path))),
      { how: "vertical" },
    )
    .sort("file_line_number");
  const num = (c: string): number[] => [...df.getColumn(c).cast(pl.Float64).toTypedArray()];
  return {
    ts: num("ts_local_us"),
    line: num("file_line_number"),
    px: num("px_int"),
    qty: num("qty_int"),
    side: num("side"),
    id: df.getColumn("trade_id").toArray() as (string | null)[],
    symbolId: num("symbol_id"),
    fileId: num("file_id"),
  };
}

describe("lake: synthetic binance captures", () => {
  let root: string;
  let cleanup: () => void;
  let src: string;
  let fileId: number;
  let fileHex: string;

  before(() => {
    ({ dir: root, cleanup } = tempDir("pointline-lake-"));
    src = writeCapture(join(root, "btcusdt_midnight.txt"), MIDNIGHT_TRADES);
    fileHex = sha256Hex(readFileSync(src)).slice(0, 12);
    fileId = Number.parseInt(fileHex, 16);
  });
  after(() => cleanup());

  describe("(a) a capture crossing UTC midnight", () => {
    let lake: string;
    let m: FileManifest;
    before(async () => {
      lake = join(root, "lake-a");
      [m] = (await ingestFiles("binance-capture", [src], { lake })) as [FileManifest];
    });

    it("lands in two date partitions with the documented part paths", () => {
      assert.equal(m.file_id, fileId);
      const trades = m.parts.filter((p) => p.table === "trades");
      assert.deepEqual(trades.map((p) => p.path).sort(), [
        `trades/exchange=binance-futures/symbol=BTCUSDT/date=2024-08-08/part-${fileHex}-0000.parquet`,
        `trades/exchange=binance-futures/symbol=BTCUSDT/date=2024-08-09/part-${fileHex}-0000.parquet`,
      ]);
      const byDate = new Map(trades.map((p) => [p.date, p]));
      assert.equal(byDate.get("2024-08-08")?.rows, 3);
      assert.equal(byDate.get("2024-08-09")?.rows, 2);
      assert.equal(byDate.get("2024-08-08")?.first_ts_local_us, D0809 - 1_000_000);
      assert.equal(byDate.get("2024-08-08")?.last_ts_local_us, D0809 - 1);
      assert.equal(byDate.get("2024-08-09")?.first_ts_local_us, D0809);
      assert.equal(byDate.get("2024-08-09")?.last_ts_local_us, D0809 + 250_000);
      assert.deepEqual(m.parts.map((p) => p.table).sort(), ["trades", "trades"]);
      assert.deepEqual(partsOnDisk(lake, "trades"), trades.map((p) => p.path).sort());
    });

    it("reports coverage with 2 partitions", async () => {
      const cov = await dataCoverage(lake);
      assert.equal(cov.length, 1);
      assert.deepEqual(
        { ...cov[0] },
        {
          exchange: "binance-futures",
          symbol: "BTCUSDT",
          table: "trades",
          rows: 5,
          first_ts_local_us: D0809 - 1_000_000,
          last_ts_local_us: D0809 + 250_000,
          partitions: 2,
          files: 1,
        },
      );
    });

    it("stores the rows with hand-computed fixed-point values and lineage", () => {
      const r = readTrades(lake, m);
      assert.deepEqual(
        r.ts,
        MIDNIGHT_TRADES.map((t) => t.ts),
      );
      assert.deepEqual(r.line, [1, 2, 3, 4, 5]);
      assert.deepEqual(r.px, EXPECT_PX_INT);
      assert.deepEqual(r.qty, EXPECT_QTY_INT);
      assert.deepEqual(r.side, EXPECT_SIDE);
      assert.deepEqual(r.id, ["1", "2", "3", "4", "5"]);
      assert.deepEqual(r.fileId, [fileId, fileId, fileId, fileId, fileId]);
      const sid = symbolIdOf("binance-futures", "BTCUSDT", D0808);
      assert.deepEqual(r.symbolId, [sid, sid, sid, sid, sid]);
      // Every line in one bucket.
      assert.equal(m.report.lines_read, 5);
      assert.deepEqual(m.report.tables, { trades: { rows_written: 5, rows_rejected: 0 } });
      assert.equal(m.report.replaced_previous, false);
    });

    it("(c) leaves no temp files after a successful commit", () => {
      const leftovers = walk(lake).filter((f) => f.includes(".tmp-"));
      assert.deepEqual(leftovers, []);
    });
  });

  describe("(b) re-ingesting the same file", () => {
    let lake: string;
    let first: FileManifest;
    let second: FileManifest;
    before(async () => {
      lake = join(root, "lake-b");
      [first] = (await ingestFiles("binance-capture", [src], { lake })) as [FileManifest];
      [second] = (await ingestFiles("binance-capture", [src], { lake })) as [FileManifest];
    });

    it("is idempotent: same file_id, same parts, same rows, replaced_previous", async () => {
      assert.equal(first.file_id, fileId);
      assert.equal(second.file_id, fileId);
      assert.deepEqual(second.parts.map((p) => p.path).sort(), first.parts.map((p) => p.path).sort());
      const rows = (m: FileManifest): number => m.parts.reduce((a, p) => a + p.rows, 0);
      assert.equal(rows(second), 5);
      assert.equal(rows(first), 5);
      assert.equal(first.report.replaced_previous, false);
      assert.equal(second.report.replaced_previous, true);
      assert.deepEqual(partsOnDisk(lake, "trades"), second.parts.map((p) => p.path).sort());
      assert.deepEqual(readTrades(lake, second), readTrades(lake, first));
      const cov = await dataCoverage(lake);
      assert.equal(cov.length, 1);
      assert.equal(cov[0]?.rows, 5);
      assert.equal(cov[0]?.files, 1);
      const manifests = readdirSync(join(lake, "_meta", "files"));
      assert.deepEqual(manifests, [`${fileHex}.json`]);
      assert.equal((await listSymbols(lake)).length, 1);
    });

    it("(c) leaves no temp files after re-ingest", () => {
      assert.deepEqual(
        walk(lake).filter((f) => f.includes(".tmp-")),
        [],
      );
    });
  });

  describe("(c) a failed ingest", () => {
    it("throws IngestError on a truncated gzip and publishes nothing", async () => {
      const lake = join(root, "lake-c");
      const gz = gzipSync(readFileSync(src));
      const bad = join(root, "truncated.txt.gz");
      writeFileSync(bad, gz.subarray(0, gz.length - 12));
      await assert.rejects(ingestFiles("binance-capture", [bad], { lake }), IngestError);
      let files: string[] = [];
      try {
        files = walk(lake);
      } catch {
        files = [];
      }
      assert.deepEqual(
        files.filter((f) => f.endsWith(".parquet") || f.includes(".tmp-") || f.includes(`${sep}files${sep}`)),
        [],
      );
      assert.deepEqual(await dataCoverage(lake), []);
    });

    it("never lets a truncated gzip escape as an uncaught stream error (32 concurrent ingests)", async () => {
      // ingestFiles first reads one line of each file to order them (an early stop of the gzip reader);
      // the gunzip stream must not emit an unhandled 'error' afterwards. Run many at once so that
      // the race shows up; any uncaught error fails this test file.
      const gz = gzipSync(readFileSync(src));
      const bad = join(root, "truncated-many.txt.gz");
      writeFileSync(bad, gz.subarray(0, gz.length - 12));
      const results = await Promise.allSettled(
        Array.from({ length: 32 }, (_, i) =>
          ingestFiles("binance-capture", [bad], { lake: join(root, `lake-c${i}`) }),
        ),
      );
      for (const r of results) {
        assert.equal(r.status, "rejected");
        if (r.status === "rejected") assert.ok(r.reason instanceof IngestError, String(r.reason));
      }
      await new Promise((res) => setTimeout(res, 200));
    });
  });

  describe("(d) symbol registry", () => {
    it("infers increments from significant decimals (hand-computed)", async () => {
      // "100.50" has 1 significant decimal → 0.1; "0.010" has 2 → 0.01.
      const lake = join(root, "lake-d1");
      const f = writeCapture(join(root, "two-lines.txt"), [
        { ts: D0808 + 1_000_000, id: 10, p: "100.50", q: "0.010", m: false },
        { ts: D0808 + 2_000_000, id: 11, p: "99.90", q: "1.000", m: true },
      ]);
      const [m] = (await ingestFiles("binance-capture", [f], { lake })) as [FileManifest];
      const syms = await listSymbols(lake);
      assert.equal(syms.length, 1);
      const e = syms[0]!;
      assert.equal(e.price_increment, "0.1");
      assert.equal(e.amount_increment, "0.01");
      assert.equal(e.increment_source, "inferred");
      assert.equal(e.exchange, "binance-futures");
      assert.equal(e.exchange_symbol, "BTCUSDT");
      assert.equal(e.asset_type, "perpetual");
      assert.equal(e.base, "BTC");
      assert.equal(e.quote, "USDT");
      assert.equal(e.valid_from_us, D0808);
      assert.equal(e.valid_until_us, null);
      assert.equal(e.symbol_id, symbolIdOf("binance-futures", "BTCUSDT", D0808));
      const r = readTrades(lake, m);
      assert.deepEqual(r.px, [1005, 999]);
      assert.deepEqual(r.qty, [1, 100]);
    });

    it("gives the same symbol_id in two separate lakes", async () => {
      const l1 = join(root, "lake-d2a");
      const l2 = join(root, "lake-d2b");
      await ingestFiles("binance-capture", [src], { lake: l1 });
      await ingestFiles("binance-capture", [src], { lake: l2 });
      const [s1] = await listSymbols(l1);
      const [s2] = await listSymbols(l2);
      assert.ok(s1 !== undefined && s2 !== undefined);
      assert.equal(s1.price_increment, INFERRED_PX);
      assert.equal(s1.amount_increment, INFERRED_QTY);
      assert.equal(s1.symbol_id, s2.symbol_id);
      assert.equal(s1.symbol_id, symbolIdOf("binance-futures", "BTCUSDT", D0808));
    });

    it("setSymbol override then re-ingest changes px_int, qty_int and symbol_id", async () => {
      const lake = join(root, "lake-d3");
      const [before1] = (await ingestFiles("binance-capture", [src], { lake })) as [FileManifest];
      assert.deepEqual(readTrades(lake, before1).px, EXPECT_PX_INT);
      const reg = await SymbolRegistry.open(lake);
      reg.setSymbol("binance-futures", "BTCUSDT", { priceIncrement: "0.05", amountIncrement: "0.001" });
      await reg.save();
      const [after1] = (await ingestFiles("binance-capture", [src], { lake })) as [FileManifest];
      const r = readTrades(lake, after1);
      // 100.5/0.05 = 2010, 100.25/0.05 = 2005, 101/0.05 = 2020, 100.75/0.05 = 2015
      assert.deepEqual(r.px, [2010, 2005, 2010, 2020, 2015]);
      // 0.010/0.001 = 10, 0.5/0.001 = 500, 1/0.001 = 1000, 0.020/0.001 = 20
      assert.deepEqual(r.qty, [10, 500, 10, 1000, 20]);
      // The override starts at valid_from 0 (the default): a new version, hence a new id.
      const sid = symbolIdOf("binance-futures", "BTCUSDT", 0);
      assert.notEqual(sid, symbolIdOf("binance-futures", "BTCUSDT", D0808));
      assert.deepEqual(r.symbolId, [sid, sid, sid, sid, sid]);
      assert.ok(after1.parts.every((p) => p.symbol_id === sid));
      assert.equal(after1.report.replaced_previous, true);
      const syms = await listSymbols(lake);
      assert.equal(syms.length, 1);
      assert.equal(syms[0]?.increment_source, "override");
      assert.equal(syms[0]?.price_increment, "0.05");
      assert.equal(syms[0]?.amount_increment, "0.001");
      assert.deepEqual(partsOnDisk(lake, "trades"), after1.parts.map((p) => p.path).sort());
    });
  });

  describe("(e) quarantine", () => {
    it("quarantines a value with more decimals than the override increment allows", async () => {
      const lake = join(root, "lake-e");
      const reg = await SymbolRegistry.open(lake);
      reg.setSymbol("binance-futures", "BTCUSDT", { priceIncrement: "0.1", amountIncrement: "0.01" });
      await reg.save();
      const [m] = (await ingestFiles("binance-capture", [src], { lake })) as [FileManifest];
      // Lines 2 ("100.25") and 5 ("100.75") have 2 price decimals > 1 allowed by 0.1.
      assert.deepEqual(m.report.tables, { trades: { rows_written: 3, rows_rejected: 2 } });
      assert.equal(m.report.lines_read, 5);
      const r = readTrades(lake, m);
      assert.deepEqual(r.line, [1, 3, 4]);
      assert.deepEqual(r.px, [1005, 1005, 1010]);
      assert.deepEqual(r.qty, [1, 1, 100]);
      const q = readFileSync(join(lake, "_quarantine", `${fileHex}.jsonl`), "utf8")
        .trim()
        .split("\n")
        .map(
          (l) =>
            JSON.parse(l) as { file: string; line: number; table: string; field: string; reason: string },
        );
      assert.equal(q.length, 2);
      assert.deepEqual(
        q.map((x) => [x.file, x.line, x.table, x.field]),
        [
          [src, 2, "trades", "p"],
          [src, 5, "trades", "p"],
        ],
      );
      assert.match(q[0]!.reason, /100\.25/);
      assert.match(q[0]!.reason, /0\.1/);
      assert.match(q[1]!.reason, /100\.75/);
      assert.deepEqual(
        walk(lake).filter((f) => f.includes(".tmp-")),
        [],
      );
    });
  });
});

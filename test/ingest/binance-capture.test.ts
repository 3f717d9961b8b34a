/**
 * Binance WebSocket capture ingest, on the real hftbacktest captures in ../shared/data (in place).
 * References are computed here from the raw gz text: message counts by stream, decimal strings, and a
 * naive order book (string-keyed Map, prices kept sorted with exact decimal checks) that applies
 * Binance's documented sequence rules independently of src/ingest/binance.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { formatFixed, type Increment, parseIncrement } from "../../src/core/fixed.js";
import { binanceCaptureAdapter } from "../../src/ingest/binance/capture.js";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { totals } from "../../src/ingest/report.js";
import { DecimalScanner } from "../../src/ingest/session.js";
import type { FileManifest } from "../../src/lake/manifest.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import { type LevelColumn, query } from "../../src/query/query.js";
import { HFT, tempDir } from "../helpers/data.js";

interface RawLine {
  line: number;
  tsUs: number;
  msg: Record<string, unknown>;
}

function rawLines(path: string): RawLine[] {
  const text = gunzipSync(readFileSync(path)).toString("utf8");
  const out: RawLine[] = [];
  text.split("\n").forEach((l, i) => {
    if (l.length === 0) return;
    const sp = l.indexOf(" ");
    const tsStr = l.slice(0, sp);
    // ns (19 digits) → µs by integer division with BigInt; µs (16 digits) as is.
    const tsUs = tsStr.length >= 18 ? Number(BigInt(tsStr) / 1000n) : Number(tsStr);
    out.push({ line: i + 1, tsUs, msg: JSON.parse(l.slice(sp + 1)) });
  });
  return out;
}

const streamKind = (m: Record<string, unknown>): string => {
  const s = m["stream"];
  if (typeof s !== "string") return "snapshot";
  const k = s.slice(s.indexOf("@") + 1);
  return k.startsWith("depth") ? "depth" : k.startsWith("markPrice") ? "markPrice" : k;
};

/** "61837.63000000" → "61837.63"; "5.000" → "5". */
function norm(s: string): string {
  if (!s.includes(".")) return s.replace(/^0+(?=\d)/, "");
  const t = s.replace(/0+$/, "").replace(/\.$/, "");
  return t.replace(/^0+(?=\d)/, "");
}

/**
 * Exact comparison of two non-negative decimal strings, digit by digit: integer parts without leading
 * zeros by length, then (equal length) as digit strings; then the fractions padded to equal length.
 */
function cmpDec(a: string, b: string): number {
  const [ai = "0", af = ""] = a.split(".");
  const [bi = "0", bf = ""] = b.split(".");
  const x = ai.replace(/^0+/, "");
  const y = bi.replace(/^0+/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  if (x !== y) return x < y ? -1 : 1;
  const w = Math.max(af.length, bf.length);
  const xf = af.padEnd(w, "0");
  const yf = bf.padEnd(w, "0");
  return xf < yf ? -1 : xf > yf ? 1 : 0;
}

interface RefRow {
  line: number;
  u: number;
  bids: [string, string][];
  asks: [string, string][];
}

/**
 * One side of the reference book: a Map price → quantity plus all its prices kept sorted best first
 * (binary-search insert and delete). Distinct decimal prices of ≤ 15 significant digits map to distinct,
 * equally ordered doubles, so Number() ordering is exact here; every inserted price is checked against
 * both its neighbours with the exact decimal comparison cmpDec, so the whole side (not only its top) is
 * always in exact price order.
 */
class Side {
  private readonly qty = new Map<string, string>();
  /** Prices, best first, and their sort keys (−price for bids, price for asks), ascending. */
  private readonly prices: string[] = [];
  private readonly keys: number[] = [];
  constructor(private readonly desc: boolean) {}
  /** First index whose key is ≥ k. */
  private lowerBound(k: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  set(p: string, q: string): void {
    if (!this.qty.has(p)) {
      const k = this.desc ? -Number(p) : Number(p);
      const i = this.lowerBound(k);
      if (this.keys[i] === k) assert.fail(`prices ${p} and ${this.prices[i]} share a double`);
      const better = this.desc ? 1 : -1;
      if (i > 0) assert.equal(cmpDec(this.prices[i - 1]!, p), better);
      if (i < this.prices.length) assert.equal(cmpDec(p, this.prices[i]!), better);
      this.keys.splice(i, 0, k);
      this.prices.splice(i, 0, p);
    }
    this.qty.set(p, q);
  }
  delete(p: string): void {
    if (!this.qty.delete(p)) return;
    const i = this.lowerBound(this.desc ? -Number(p) : Number(p));
    assert.equal(this.prices[i], p);
    this.keys.splice(i, 1);
    this.prices.splice(i, 1);
  }
  clear(): void {
    this.qty.clear();
    this.keys.length = 0;
    this.prices.length = 0;
  }
  top(n: number): [string, string][] {
    return this.prices.slice(0, n).map((p) => [p, this.qty.get(p)!]);
  }
}

/** Naive reference order book over the raw messages (Binance "manage a local order book" rules). */
function referenceBook(lines: RawLine[], futures: boolean): { rows: RefRow[]; gaps: number } {
  const bids = new Side(true);
  const asks = new Side(false);
  let synced = false;
  let first = false;
  let L = 0;
  let gaps = 0;
  const buffered: Record<string, unknown>[] = [];
  const rows: RefRow[] = [];
  const top = (side: Side): [string, string][] => side.top(25);
  const setLevels = (side: Side, lv: [string, string][]): void => {
    for (const [p, q] of lv) {
      // A non-negative decimal string is zero iff it has no non-zero digit.
      if (!/[1-9]/.test(q)) side.delete(norm(p));
      else side.set(norm(p), norm(q));
    }
  };
  const apply = (d: Record<string, unknown>): "applied" | "stale" | "gap" => {
    const U = d["U"] as number;
    const u = d["u"] as number;
    if (first) {
      if (futures ? u < L : u <= L) return "stale";
      if (!(futures ? U <= L && L <= u : U <= L + 1 && L + 1 <= u)) return "gap";
    } else if (futures ? d["pu"] !== L : U !== L + 1) return "gap";
    setLevels(bids, d["b"] as [string, string][]);
    setLevels(asks, d["a"] as [string, string][]);
    L = u;
    first = false;
    return "applied";
  };
  for (const r of lines) {
    const k = streamKind(r.msg);
    if (k === "snapshot") {
      bids.clear();
      asks.clear();
      setLevels(bids, r.msg["bids"] as [string, string][]);
      setLevels(asks, r.msg["asks"] as [string, string][]);
      L = r.msg["lastUpdateId"] as number;
      synced = true;
      first = true;
      for (const d of buffered.splice(0)) {
        if (apply(d) === "gap") {
          synced = false;
          gaps++;
          break;
        }
      }
      if (synced) rows.push({ line: r.line, u: L, bids: top(bids), asks: top(asks) });
    } else if (k === "depth") {
      const d = r.msg["data"] as Record<string, unknown>;
      if (!synced) {
        buffered.push(d);
        continue;
      }
      const res = apply(d);
      if (res === "gap") {
        synced = false;
        gaps++;
        bids.clear();
        asks.clear();
      } else if (res === "applied") rows.push({ line: r.line, u: L, bids: top(bids), asks: top(asks) });
    }
  }
  return { rows, gaps };
}

const FILES = {
  usdm: join(HFT, "usdm", "btcusdt_20240808.gz"),
  spot: join(HFT, "spot", "btcusdt_20240808.gz"),
  cm: join(HFT, "cm", "btcusd_perp_20240808.gz"),
  usdm0404: join(HFT, "usdm", "btcusdt_20230404.dat.gz"),
  usdm0405: join(HFT, "usdm", "btcusdt_20230405.dat.gz"),
  spot0405: join(HFT, "spot", "btcusdt_20230405.dat.gz"),
};
const SYMBOL: Record<keyof typeof FILES, [string, string]> = {
  usdm: ["binance-futures", "BTCUSDT"],
  spot: ["binance", "BTCUSDT"],
  cm: ["binance-delivery", "BTCUSD_PERP"],
  usdm0404: ["binance-futures", "BTCUSDT"],
  usdm0405: ["binance-futures", "BTCUSDT"],
  spot0405: ["binance", "BTCUSDT"],
};

describe("binance-capture ingest on real captures", () => {
  const { dir: lake, cleanup } = tempDir();
  let manifests: FileManifest[] = [];
  let registry: SymbolRegistry;
  const raw = new Map<string, RawLine[]>();

  before(async () => {
    manifests = await ingestFiles("binance-capture", Object.values(FILES), { lake });
    registry = await SymbolRegistry.open(lake);
    for (const f of Object.values(FILES)) raw.set(f, rawLines(f));
  });
  after(cleanup);

  const manifestOf = (f: string): FileManifest => {
    const m = manifests.find((x) => x.source === f);
    assert.ok(m, `no manifest for ${f}`);
    return m;
  };
  const range = (
    key: keyof typeof FILES,
  ): { lake: string; exchange: string; symbol: string; start: number; end: number } => {
    const lines = raw.get(FILES[key])!;
    return {
      lake,
      exchange: SYMBOL[key][0],
      symbol: SYMBOL[key][1],
      start: lines[0]!.tsUs,
      end: lines.at(-1)!.tsUs + 1,
    };
  };
  const incs = (key: keyof typeof FILES): { px: Increment; qty: Increment } => {
    const r = range(key);
    const s = registry.lookup(r.exchange, r.symbol, r.start);
    assert.ok(s);
    return { px: s.priceIncrement, qty: s.amountIncrement };
  };

  it("row counts per table equal the message counts of each file", () => {
    for (const f of Object.values(FILES)) {
      const counts: Record<string, number> = {};
      let nonMarket = 0;
      for (const r of raw.get(f)!) {
        const k = streamKind(r.msg);
        counts[k] = (counts[k] ?? 0) + 1;
        const d = r.msg["data"] as Record<string, unknown> | undefined;
        if (k === "trade" && d?.["X"] !== undefined && d["X"] !== "MARKET") nonMarket++;
      }
      const rep = manifestOf(f).report;
      assert.equal(rep.lines_read, raw.get(f)!.length, f);
      assert.equal(rep.tables.trades?.rows_written ?? 0, (counts["trade"] ?? 0) - nonMarket, `${f} trades`);
      assert.equal(rep.tables.liquidations?.rows_written ?? 0, nonMarket, `${f} liquidations`);
      assert.equal(rep.tables.quotes?.rows_written ?? 0, counts["bookTicker"] ?? 0, `${f} quotes`);
      assert.equal(rep.tables.derivative_ticker?.rows_written ?? 0, counts["markPrice"] ?? 0, `${f} ticker`);
      const t = totals(rep);
      assert.equal(t.rejected, 0, `${f} has no bad lines`);
      assert.equal(t.written + t.rejected + t.withoutRow, rep.lines_read, `${f} balances`);
    }
    // The one INSURANCE_FUND print of 2023-04-05 is routed to liquidations.
    assert.equal(manifestOf(FILES.usdm0405).report.tables.liquidations?.rows_written, 1);
  });

  it("trade prices and sizes decode back exactly to the source decimal strings", async () => {
    for (const key of ["usdm", "spot", "cm", "usdm0404"] as const) {
      const { px, qty } = incs(key);
      const t = await query.trades(range(key));
      const src = raw
        .get(FILES[key])!
        .filter((r) => streamKind(r.msg) === "trade")
        .map((r) => r.msg["data"] as Record<string, unknown>)
        .filter((d) => d["X"] === undefined || d["X"] === "MARKET");
      assert.equal(t.length, src.length);
      const pxc = t.columns["px_int"] as Float64Array;
      const qc = t.columns["qty_int"] as Float64Array;
      const side = t.columns["side"] as Int8Array;
      const ids = t.columns["trade_id"] as (string | null)[];
      for (let i = 0; i < src.length; i++) {
        const d = src[i]!;
        assert.equal(formatFixed(pxc[i]!, px), norm(d["p"] as string));
        assert.equal(formatFixed(qc[i]!, qty), norm(d["q"] as string));
        // minDecimals restores the vendor's exact string, trailing zeros included.
        const pStr = d["p"] as string;
        assert.equal(formatFixed(pxc[i]!, px, { minDecimals: pStr.split(".")[1]?.length ?? 0 }), pStr);
        assert.equal(side[i], d["m"] ? 1 : 0);
        assert.equal(ids[i], String(d["t"]));
      }
    }
  });

  it("pass 1 (text scan, no JSON.parse) observes what a JSON-parsing reference sees, on all captures", async () => {
    /** Significant decimals of a decimal string: digits after the point, trailing zeros not counted. */
    const sig = (x: string): number => {
      const dot = x.indexOf(".");
      if (dot < 0) return 0;
      let end = x.length;
      while (end > dot + 1 && x.charCodeAt(end - 1) === 48) end--; // '0'
      return end - dot - 1;
    };
    for (const f of Object.values(FILES)) {
      const scanner = new DecimalScanner();
      await binanceCaptureAdapter.scan(f, scanner, {});
      const ref = new Map<string, { first: number; last: number; px: number; qty: number }>();
      const lines = raw.get(f)!;
      const firstSym = lines
        .map((r) => (r.msg["data"] as Record<string, unknown> | undefined)?.["s"])
        .find((x): x is string => typeof x === "string");
      for (const r of lines) {
        const k = streamKind(r.msg);
        const d = (r.msg["data"] ?? r.msg) as Record<string, unknown>;
        const sym = (
          typeof d["s"] === "string" ? d["s"] : typeof d["symbol"] === "string" ? d["symbol"] : firstSym
        )!;
        const futures =
          k === "depth"
            ? "pu" in d
            : k === "trade"
              ? !("M" in d)
              : k === "bookTicker"
                ? "E" in d || "e" in d
                : k === "snapshot"
                  ? "E" in d || "T" in d
                  : true;
        const ex = !futures ? "binance" : sym.includes("_") ? "binance-delivery" : "binance-futures";
        const key = `${ex}/${sym}`;
        const e = ref.get(key) ?? { first: r.tsUs, last: r.tsUs, px: 0, qty: 0 };
        e.first = Math.min(e.first, r.tsUs);
        e.last = Math.max(e.last, r.tsUs);
        const pxs: string[] = [];
        const qtys: string[] = [];
        if (k === "trade") {
          pxs.push(d["p"] as string);
          qtys.push(d["q"] as string);
        }
        if (k === "bookTicker") {
          pxs.push(d["b"] as string, d["a"] as string);
          qtys.push(d["B"] as string, d["A"] as string);
        }
        for (const side of [d["b"], d["a"], d["bids"], d["asks"]]) {
          if (k !== "depth" && k !== "snapshot") break;
          for (const [p, q] of (side ?? []) as [string, string][]) {
            pxs.push(p);
            qtys.push(q);
          }
        }
        for (const x of pxs) e.px = Math.max(e.px, sig(x));
        for (const x of qtys) e.qty = Math.max(e.qty, sig(x));
        ref.set(key, e);
      }
      const got = new Map([...scanner.symbols.values()].map((o) => [`${o.exchange}/${o.symbol}`, o]));
      assert.deepEqual([...got.keys()].sort(), [...ref.keys()].sort(), f);
      for (const [key, e] of ref) {
        const o = got.get(key)!;
        assert.deepEqual(
          [o.firstTsUs, o.lastTsUs, o.priceDecimals, o.amountDecimals],
          [e.first, e.last, e.px, e.qty],
          `${f} ${key}`,
        );
      }
    }
  });

  it("infers Binance tick and lot sizes from significant decimals", () => {
    assert.deepEqual([incs("usdm").px.text, incs("usdm").qty.text], ["0.1", "0.001"]);
    // Spot depth carries aggregated sizes with 6 significant decimals ("25.42618900"), finer than the lot size.
    assert.deepEqual([incs("spot").px.text, incs("spot").qty.text], ["0.01", "0.000001"]);
    assert.deepEqual([incs("cm").px.text, incs("cm").qty.text], ["0.1", "1"]);
  });

  it("local timestamps: µs files taken as is, ns files floored to µs", async () => {
    for (const key of ["usdm", "usdm0404"] as const) {
      const q = await query.quotes(range(key));
      const src = raw.get(FILES[key])!.filter((r) => streamKind(r.msg) === "bookTicker");
      const ts = q.columns["ts_local_us"] as Float64Array;
      assert.equal(ts.length, src.length);
      for (let i = 0; i < src.length; i++) assert.equal(ts[i], src[i]!.tsUs);
    }
  });

  for (const key of ["usdm", "spot", "cm", "usdm0404"] as const) {
    it(`order book rows equal a naive reference book (${key})`, async () => {
      const lines = raw.get(FILES[key])!;
      const ref = referenceBook(lines, key !== "spot");
      const { px, qty } = incs(key);
      const b = await query.bookSnapshot25(range(key));
      assert.equal(b.length, ref.rows.length);
      assert.ok(b.length > 1000);
      const lineCol = b.columns["file_line_number"] as Float64Array;
      const uCol = b.columns["update_id"] as Float64Array;
      const cols = ["bid_px_int", "bid_qty_int", "ask_px_int", "ask_qty_int"].map(
        (c) => b.columns[c] as LevelColumn,
      );
      for (let i = 0; i < ref.rows.length; i++) {
        const r = ref.rows[i]!;
        assert.equal(lineCol[i], r.line);
        assert.equal(uCol[i], r.u);
        const [bp, bq, ap, aq] = cols as [LevelColumn, LevelColumn, LevelColumn, LevelColumn];
        assert.equal(bp.lens[i], r.bids.length, `row ${i} bid depth`);
        assert.equal(ap.lens[i], r.asks.length, `row ${i} ask depth`);
        for (let k = 0; k < r.bids.length; k++) {
          assert.equal(formatFixed(bp.values[i * 25 + k]!, px), r.bids[k]![0]);
          assert.equal(formatFixed(bq.values[i * 25 + k]!, qty), r.bids[k]![1]);
        }
        for (let k = 0; k < r.asks.length; k++) {
          assert.equal(formatFixed(ap.values[i * 25 + k]!, px), r.asks[k]![0]);
          assert.equal(formatFixed(aq.values[i * 25 + k]!, qty), r.asks[k]![1]);
        }
      }
    });
  }

  for (const key of ["usdm", "spot", "cm", "usdm0405"] as const) {
    it(`reconstructed best bid/ask equals @bookTicker at the same update id (${key})`, async () => {
      const r = range(key);
      const q = await query.quotes(r);
      const b = await query.bookSnapshot25(r);
      const byU = new Map<number, number>();
      const bu = b.columns["update_id"] as Float64Array;
      for (let i = 0; i < b.length; i++) byU.set(bu[i]!, i);
      const qu = q.columns["update_id"] as Float64Array;
      const bp = b.columns["bid_px_int"] as LevelColumn;
      const bq = b.columns["bid_qty_int"] as LevelColumn;
      const ap = b.columns["ask_px_int"] as LevelColumn;
      const aq = b.columns["ask_qty_int"] as LevelColumn;
      let matched = 0;
      for (let i = 0; i < q.length; i++) {
        const j = byU.get(qu[i]!);
        if (j === undefined) continue;
        matched++;
        assert.equal((q.columns["bid_px_int"] as Float64Array)[i], bp.values[j * 25], `bid px at u=${qu[i]}`);
        assert.equal(
          (q.columns["bid_qty_int"] as Float64Array)[i],
          bq.values[j * 25],
          `bid qty at u=${qu[i]}`,
        );
        assert.equal((q.columns["ask_px_int"] as Float64Array)[i], ap.values[j * 25], `ask px at u=${qu[i]}`);
        assert.equal(
          (q.columns["ask_qty_int"] as Float64Array)[i],
          aq.values[j * 25],
          `ask qty at u=${qu[i]}`,
        );
      }
      assert.ok(matched >= 50, `only ${matched} quotes share an update id with a book row`);
    });
  }

  it("continues the book from the previous file of the same capture (2023-04-04 → 04-05)", () => {
    const rep = manifestOf(FILES.usdm0405).report;
    const depth = raw.get(FILES.usdm0405)!.filter((r) => streamKind(r.msg) === "depth").length;
    assert.equal(rep.tables.book_snapshot_25?.rows_written, depth);
    assert.equal(rep.sequence_gaps.length, 0);
  });

  it("a capture without snapshot or predecessor yields no book rows, and says so", () => {
    const rep = manifestOf(FILES.spot0405).report;
    const depth = raw.get(FILES.spot0405)!.filter((r) => streamKind(r.msg) === "depth").length;
    assert.equal(rep.tables.book_snapshot_25?.rows_written ?? 0, 0);
    assert.equal(rep.lines_without_row["depth_awaiting_snapshot"], depth);
  });
});

describe("binance-capture: injected faults", () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);

  it("detects a deliberately injected sequence gap and stops emitting until a snapshot", async () => {
    const text = gunzipSync(readFileSync(FILES.usdm)).toString("utf8").split("\n");
    const snapIdx = text.findIndex((l) => l.includes('"lastUpdateId"'));
    let dropIdx = -1;
    let seen = 0;
    for (let i = snapIdx + 1; i < text.length; i++) {
      if (text[i]!.includes("@depth")) seen++;
      if (seen === 100) {
        dropIdx = i;
        break;
      }
    }
    const droppedLine = dropIdx + 1;
    text.splice(dropIdx, 1);
    const path = join(dir, "gap.gz");
    writeFileSync(path, gzipSync(text.join("\n")));
    const [m] = await ingestFiles("binance-capture", [path], { lake: join(dir, "lake") });
    assert.ok(m);
    assert.equal(m.report.sequence_gaps.length, 1);
    const gap = m.report.sequence_gaps[0]!;
    // The gap is seen at the first depth line after the dropped one (which now has that line number).
    const nextDepth = text.findIndex((l, i) => i >= dropIdx && l.includes("@depth")) + 1;
    assert.equal(gap.line, nextDepth);
    assert.ok(nextDepth >= droppedLine);
    assert.match(gap.expected, /^pu = \d+$/);
    const depthAfter = text.slice(nextDepth).filter((l) => l.includes("@depth")).length;
    assert.equal(m.report.lines_without_row["depth_sequence_gap"], 1);
    assert.equal(m.report.lines_without_row["depth_awaiting_snapshot"], depthAfter + 6);
  });

  it("quarantines malformed lines, unknown streams, bad values and backwards timestamps", async () => {
    const ok = (ts: number, id: number, p = "100.5", q = "0.010"): string =>
      `${ts} {"stream":"btcusdt@trade","data":{"e":"trade","E":${ts / 1000},"T":${ts / 1000},"s":"BTCUSDT","t":${id},"p":"${p}","q":"${q}","X":"MARKET","m":false}}`;
    const t0 = 1_680_652_700_000_000;
    const lines = [
      ok(t0, 1),
      "this is not a capture line",
      `${t0 + 1} {"stream":"btcusdt@aggTrade","data":{}}`,
      ok(t0 + 2, 2, "abc"),
      ok(t0 + 3, 3, "100.5", "-1"),
      `${t0 + 4} {"stream":"btcusdt@trade","data":{bad json`,
      ok(t0 + 10, 4),
      ok(t0 + 5, 5),
      `${t0 + 11} {"result":null,"id":1}`,
      ok(t0 + 12, 6),
    ];
    const path = join(dir, "bad.txt");
    writeFileSync(path, `${lines.join("\n")}\n`);
    const lake = join(dir, "lake2");
    const [m] = await ingestFiles("binance-capture", [path], { lake });
    assert.ok(m);
    const r = m.report;
    assert.equal(r.lines_read, 10);
    assert.equal(r.tables.trades?.rows_written, 3);
    assert.equal(r.tables.trades?.rows_rejected, 3); // abc, -1, backwards
    assert.equal(r.unrouted_rejected, 3); // not a capture line, unknown stream, bad json
    assert.equal(r.lines_without_row["subscription_reply"], 1);
    const q = readFileSync(
      join(lake, "_quarantine", `${m.file_id.toString(16).padStart(12, "0")}.jsonl`),
      "utf8",
    )
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; line: number; field: string; reason: string });
    assert.deepEqual(
      q.map((x) => [x.line, x.field]),
      [
        [2, "timestamp"],
        [3, "stream"],
        [4, "p"],
        [5, "q"],
        [6, "json"],
        [8, "ts_local_us"],
      ],
    );
    for (const x of q) assert.equal(x.file, path);
    assert.match(q[1]!.reason, /unknown stream 'btcusdt@aggTrade'/);
    assert.match(q[2]!.reason, /'abc' is not a decimal number/);
    assert.match(q[3]!.reason, /negative/);
    assert.match(q[5]!.reason, /went backwards/);
  });

  it("a truncated gzip raises an error naming the file", async () => {
    const buf = readFileSync(FILES.usdm0404);
    const path = join(dir, "truncated.gz");
    writeFileSync(path, buf.subarray(0, Math.floor(buf.length / 2)));
    await assert.rejects(ingestFiles("binance-capture", [path], { lake: join(dir, "lake3") }), (e: Error) => {
      assert.match(e.message, /truncated\.gz:\d+/);
      assert.match(e.message, /truncated or corrupt gzip/);
      return true;
    });
  });

  it("parses the increment used in messages", () => {
    assert.equal(parseIncrement("0.00001").scale, 5);
  });
});

/**
 * Temporary lakes built from the real captures (ingested in place from ../shared/data) for engine and
 * feature tests, plus a naive event reader for references.
 *
 * Ingesting a capture costs seconds, and most test files need the same few lakes, so each named lake is
 * built once into a cache shared by all test processes and then copied into the caller's private temp
 * dir (a caller may write into its copy; nothing reads the cache entry in place). A cache entry is keyed
 * by the capture names, the capture files' paths, sizes and mtimes, and the sha256 of every source file
 * the ingest can run (src/ingest, src/lake, src/schema, src/core) plus package-lock.json; it is built in
 * a temp dir beside it and published by one atomic rename, so a stale or half-built lake is never read.
 * Set POINTLINE_TEST_LAKE_CACHE to move the cache, or to "off" to ingest afresh on every call.
 */
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ingestFiles } from "../../src/ingest/ingest.js";
import { query, type TypedRows } from "../../src/query/query.js";
import { DATA, HFT, tempDir } from "./data.js";

/** Real capture files by short name. */
export const CAPTURES = {
  /** binance-futures BTCUSDT 2024-08-08 23:54–24:00: trades, quotes, book_snapshot_25 (no mark price). */
  usdm2024: join(HFT, "usdm", "btcusdt_20240808.gz"),
  /** binance BTCUSDT spot, same window. */
  spot2024: join(HFT, "spot", "btcusdt_20240808.gz"),
  /** The other BTC/ETH captures of the same window: ETHUSDT USDⓈ-M and spot, BTC/ETH COIN-M perpetuals. */
  ethUsdm2024: join(HFT, "usdm", "ethusdt_20240808.gz"),
  ethSpot2024: join(HFT, "spot", "ethusdt_20240808.gz"),
  btcCoinm2024: join(HFT, "cm", "btcusd_perp_20240808.gz"),
  ethCoinm2024: join(HFT, "cm", "ethusd_perp_20240808.gz"),
  /** binance-futures BTCUSDT 2023-04-04/05 around midnight, with @markPrice (derivative_ticker). */
  usdm2023a: join(HFT, "usdm", "btcusdt_20230404.dat.gz"),
  usdm2023b: join(HFT, "usdm", "btcusdt_20230405.dat.gz"),
  /** Lean IBM tick trades and quotes 2013-10-08 (usa/IBM; ingested with `binance-vision`). */
  leanIbmTrades: join(DATA, "lean", "equity", "usa", "tick", "ibm", "20131008_trade.zip"),
  leanIbmQuotes: join(DATA, "lean", "equity", "usa", "tick", "ibm", "20131008_quote.zip"),
  /** Lean IBM minute trade bars 2013-10-08 (the vendor's aggregation of the ticks above). */
  leanIbmMinute: join(DATA, "lean", "equity", "usa", "minute", "ibm", "20131008_trade.zip"),
  /** Lean ES minute trade bars 2013-10-08, every listed contract (cme/ESZ13, …). */
  leanEsMinute: join(DATA, "lean", "future", "cme", "minute", "es", "20131008_trade.zip"),
} as const;

export type CaptureName = keyof typeof CAPTURES;

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Everything `ingestFiles` can execute or depend on (these directories import nothing outside them). */
const INGEST_SOURCES = ["src/ingest", "src/lake", "src/schema", "src/core", "package-lock.json"];
const CACHE_SETTING = process.env["POINTLINE_TEST_LAKE_CACHE"];
const CACHE_ROOT =
  CACHE_SETTING === "off" ? null : (CACHE_SETTING ?? join(tmpdir(), "pointline-test-lake-cache"));
/** A build lock older than this is taken to be left over by a killed process. */
const STALE_LOCK_MS = 5 * 60_000;

let sourcesDigest: string | undefined;
function ingestSourcesDigest(): string {
  if (sourcesDigest !== undefined) return sourcesDigest;
  const h = createHash("sha256");
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
      return;
    }
    h.update(`${relative(REPO, p)}\0`);
    h.update(createHash("sha256").update(readFileSync(p)).digest("hex"));
    h.update("\n");
  };
  for (const s of INGEST_SOURCES) walk(join(REPO, s));
  sourcesDigest = h.digest("hex");
  return sourcesDigest;
}

function lakeKey(names: readonly CaptureName[]): string {
  const h = createHash("sha256").update(`${ingestSourcesDigest()}\n`);
  for (const n of names) {
    const st = statSync(CAPTURES[n]);
    h.update(`${n}\0${CAPTURES[n]}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest("hex").slice(0, 32);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Path of the cached, complete lake of `names`, building it first if no process has yet. */
async function cachedLake(root: string, names: readonly CaptureName[]): Promise<string> {
  const key = lakeKey(names);
  const entry = join(root, key);
  const lake = join(entry, "lake");
  if (existsSync(lake)) return lake;
  mkdirSync(root, { recursive: true });
  // The lock only saves a concurrent process from building the same lake twice; correctness rests on
  // the atomic rename below (an entry exists only complete).
  const lock = join(root, `${key}.lock`);
  let locked = false;
  for (;;) {
    try {
      mkdirSync(lock);
      locked = true;
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (existsSync(lake)) return lake;
    let age: number;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile: try again
    }
    if (age > STALE_LOCK_MS) break; // build without the lock
    await sleep(100);
  }
  const build = mkdtempSync(join(root, `.build-${key}-`));
  try {
    if (existsSync(lake)) return lake;
    await ingestCaptures(names, join(build, "lake"));
    try {
      renameSync(build, entry);
    } catch (e) {
      // Another process published the same entry first (a stale lock was overridden).
      if (!existsSync(lake)) throw e;
    }
    return lake;
  } finally {
    rmSync(build, { recursive: true, force: true });
    if (locked) rmSync(lock, { recursive: true, force: true });
  }
}

/** Ingests captures (`binance-capture`) and Lean zips (`binance-vision`) into `lake`. */
async function ingestCaptures(names: readonly CaptureName[], lake: string): Promise<void> {
  const caps = names.filter((n) => !CAPTURES[n].endsWith(".zip")).map((n) => CAPTURES[n]);
  const lean = names.filter((n) => CAPTURES[n].endsWith(".zip")).map((n) => CAPTURES[n]);
  if (caps.length > 0) await ingestFiles("binance-capture", caps, { lake });
  if (lean.length > 0) await ingestFiles("binance-vision", lean, { lake });
}

const building = new Map<string, Promise<string>>();

/** Ingests the named captures (in order) into a fresh temp lake (a private copy of a cached build). */
export async function captureLake(
  names: readonly CaptureName[],
): Promise<{ lake: string; cleanup: () => void }> {
  const { dir, cleanup } = tempDir("pointline-lake-");
  const lake = join(dir, "lake");
  if (CACHE_ROOT === null) {
    await ingestCaptures(names, lake);
    return { lake, cleanup };
  }
  const id = names.join("+");
  let cached = building.get(id);
  if (cached === undefined) {
    cached = cachedLake(CACHE_ROOT, names);
    building.set(id, cached);
    cached.catch(() => building.delete(id));
  }
  cpSync(await cached, lake, { recursive: true, preserveTimestamps: true });
  return { lake, cleanup };
}
/** The 2024-08-08 window of the usdm/spot captures. */
export const W2024 = { start: "2024-08-08T23:54:00Z", end: "2024-08-09T00:00:00Z" } as const;
/** The 2023-04-04/05 window of the usdm captures (crosses midnight, has derivative_ticker). */
export const W2023 = { start: "2023-04-04T23:58:00Z", end: "2023-04-05T00:07:00Z" } as const;

/** All raw rows of the tables features read, for naive references. */
export async function rawEvents(
  lake: string,
  exchange: string,
  symbol: string,
  start: string | number,
  end: string | number,
): Promise<{ trades: TypedRows; book: TypedRows; ticker: TypedRows; quotes: TypedRows }> {
  const req = { lake, exchange, symbol, start, end };
  return {
    trades: await query.trades(req),
    book: await query.bookSnapshot25(req),
    ticker: await query.derivativeTicker(req),
    quotes: await query.quotes(req),
  };
}

/**
 * Crash safety of the commit: an ingest stopped dead at any file operation of its commit (as by
 * SIGKILL) leaves the lake showing either the state before the ingest or the state after it — never
 * both copies of a file's rows, never half of them, and never a manifest whose parts are missing — and
 * the next ingest of the same file recovers the after state.
 *
 * The stop is simulated in process: the file operations a commit performs (`rename`, `rm`, `writeFile`
 * of node:fs/promises, `renameSync`) are wrapped (`syncBuiltinESMExports` updates the modules' imports);
 * at the k-th one after the commit stage begins, that operation and every later one never completes,
 * so the ingest freezes exactly where a killed process would have stopped, and the lake is inspected
 * as another process would see it. Every k from 1 to the number of operations of an uninterrupted
 * commit is tried, for: a fresh ingest; a re-ingest of the same capture as .gz (same file_id); a
 * re-ingest over a manifest of the former raw-bytes identity (superseded); a file whose rows overlap a
 * committed one (deduplicated). Readers' view = the parts the visible manifests list, each read back.
 * Data: slices of the real 2023-04-04 USDⓈ-M capture (../shared/data), 150 lines (trades, quotes,
 * depth with its snapshot, one mark price).
 */
import assert from "node:assert/strict";
import fs, { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import pl from "nodejs-polars";
import { binanceCaptureAdapter } from "../../src/ingest/binance/capture.js";
import { ingestBatch, ingestFiles } from "../../src/ingest/ingest.js";
import { DecimalScanner, FileIngest } from "../../src/ingest/session.js";
import { loadAllManifests } from "../../src/lake/catalog.js";
import { sha256File } from "../../src/lake/hash.js";
import { fileManifestPath, idFromSha256 } from "../../src/lake/layout.js";
import { SymbolRegistry } from "../../src/lake/registry.js";
import { HFT, tempDir } from "../helpers/data.js";

const LINES = gunzipSync(readFileSync(join(HFT, "usdm", "btcusdt_20230404.dat.gz")))
  .toString("utf8")
  .split("\n")
  .slice(0, 150);
const slice = (from: number, to: number): string => `${LINES.slice(from - 1, to).join("\n")}\n`;

// ---------------------------------------------------------------------------------------------
// Freezing file operations
// ---------------------------------------------------------------------------------------------

const P = fs.promises;
const ORIGINAL = { rename: P.rename, rm: P.rm, writeFile: P.writeFile, renameSync: fs.renameSync };

/** Counts the wrapped operations once armed; at `freezeAt` (1-based) and after, nothing completes. */
const trap = { armed: false, count: 0, freezeAt: 0, frozen: false, onFreeze: (): void => {} };

/** True when this operation must not happen (the process is "dead" from here on). */
function dead(): boolean {
  if (trap.frozen) return true;
  if (!trap.armed) return false;
  trap.count++;
  if (trap.freezeAt > 0 && trap.count >= trap.freezeAt) {
    trap.frozen = true;
    trap.onFreeze();
    return true;
  }
  return false;
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

function install(): void {
  P.rename = ((...a: Parameters<typeof P.rename>) =>
    dead() ? never() : ORIGINAL.rename(...a)) as typeof P.rename;
  P.rm = ((...a: Parameters<typeof P.rm>) => (dead() ? never() : ORIGINAL.rm(...a))) as typeof P.rm;
  P.writeFile = ((...a: Parameters<typeof P.writeFile>) =>
    dead() ? never() : ORIGINAL.writeFile(...a)) as typeof P.writeFile;
  fs.renameSync = ((...a: Parameters<typeof fs.renameSync>) => {
    if (dead()) throw new Error("simulated crash"); // a sync op cannot hang; later ops all hang
    ORIGINAL.renameSync(...a);
  }) as typeof fs.renameSync;
  syncBuiltinESMExports();
}

function uninstall(): void {
  P.rename = ORIGINAL.rename;
  P.rm = ORIGINAL.rm;
  P.writeFile = ORIGINAL.writeFile;
  fs.renameSync = ORIGINAL.renameSync;
  syncBuiltinESMExports();
}

// ---------------------------------------------------------------------------------------------
// Lake states
// ---------------------------------------------------------------------------------------------

/** Rows per table that a reader gets: the parts of the visible manifests, read back. */
type Rows = Record<string, number>;

/**
 * What a reader sees: rows per table of the parts the visible manifests list, each part read back
 * (it must exist and hold the rows its manifest says).
 */
async function visible(lake: string): Promise<Rows> {
  const { visible: ms } = await loadAllManifests(lake);
  const rows: Rows = {};
  for (const m of ms) {
    for (const p of m.parts) {
      const abs = resolve(lake, p.path);
      assert.ok(existsSync(abs), `listed part missing: ${p.path}`);
      assert.equal(pl.readParquet(abs).height, p.rows, `part ${p.path} holds the rows its manifest lists`);
      rows[p.table] = (rows[p.table] ?? 0) + p.rows;
    }
  }
  return rows;
}

interface Scenario {
  readonly name: string;
  /** Builds the lake before the ingest under test (in `lake`). */
  readonly prepare: (lake: string) => Promise<void>;
  /** The file the ingest under test reads. */
  readonly file: string;
  /** Manifests in the lake after the ingest. */
  readonly manifestsAfter: number;
}

describe("commit crash safety (ingest frozen at every file operation of its commit)", () => {
  let dir: string;
  let cleanup: () => void;
  let raw: string;
  let gz: string;
  let partA: string;
  let partB: string;
  before(() => {
    ({ dir, cleanup } = tempDir("pointline-crash-"));
    raw = join(dir, "head.txt");
    gz = join(dir, "head.txt.gz");
    partA = join(dir, "part_a.txt");
    partB = join(dir, "part_b.txt");
    writeFileSync(raw, slice(1, 150));
    writeFileSync(gz, gzipSync(readFileSync(raw)));
    writeFileSync(partA, slice(1, 100)); // with the depth snapshot (line 17)
    writeFileSync(partB, slice(51, 150)); // lines 51..100 overlap partA
  });
  after(() => {
    uninstall();
    cleanup();
  });

  /** The former code's ingest: file_id from the raw gzip bytes, a manifest without content_sha256. */
  async function legacyIngest(lake: string, file: string): Promise<void> {
    const { sha256, bytes } = await sha256File(file);
    const id = idFromSha256(sha256);
    const scanner = new DecimalScanner();
    await binanceCaptureAdapter.scan(file, scanner, {});
    const reg = await SymbolRegistry.open(lake);
    const fi = new FileIngest(lake, file, id, sha256, bytes, "binance-capture", reg, scanner);
    await binanceCaptureAdapter.ingest(file, fi, {});
    await fi.commit();
    const path = fileManifestPath(lake, id);
    const m = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    delete m["content_sha256"];
    delete m["content_bytes"];
    writeFileSync(path, JSON.stringify(m));
  }

  /**
   * For every k: prepare the lake, freeze the ingest of `s.file` at its k-th commit operation, check
   * that readers see `before` or `after` (listed parts all present), then ingest again (recovery) and
   * check `after` and the manifest count.
   */
  async function crashEverywhere(s: Scenario): Promise<number> {
    const template = join(dir, `template-${s.name}`);
    await s.prepare(template);
    const before = await visible(template);
    // An uninterrupted run: the after state and the number of operations of its commit.
    const full = join(dir, `full-${s.name}`);
    if (existsSync(template)) cpSync(template, full, { recursive: true });
    install();
    Object.assign(trap, { armed: false, count: 0, freezeAt: 0, frozen: false });
    await ingestBatch("binance-capture", [s.file], {
      lake: full,
      onProgress: (p) => {
        if (p.stage === "commit") trap.armed = true;
      },
    });
    const ops = trap.count;
    trap.armed = false;
    uninstall();
    const after = await visible(full);
    assert.notDeepEqual(after, {});
    assert.ok(ops >= 4, `${s.name}: ${ops} commit operations`);
    for (let k = 1; k <= ops; k++) {
      const lake = join(dir, `lake-${s.name}-${k}`);
      if (existsSync(template)) cpSync(template, lake, { recursive: true });
      install();
      const frozen = new Promise<void>((ok) => {
        Object.assign(trap, { armed: false, count: 0, freezeAt: k, frozen: false, onFreeze: ok });
      });
      void ingestBatch("binance-capture", [s.file], {
        lake,
        onProgress: (p) => {
          if (p.stage === "commit") trap.armed = true;
        },
      });
      await frozen;
      trap.armed = false;
      uninstall(); // the frozen ingest stays frozen: its pending operations never settle
      const seen = await visible(lake);
      assert.ok(
        JSON.stringify(seen) === JSON.stringify(before) || JSON.stringify(seen) === JSON.stringify(after),
        `${s.name}, stopped at commit operation ${k}/${ops}: readers see ${JSON.stringify(seen)}, ` +
          `expected before ${JSON.stringify(before)} or after ${JSON.stringify(after)}`,
      );
      await ingestFiles("binance-capture", [s.file], { lake });
      assert.deepEqual(await visible(lake), after, `${s.name}, k=${k}: recovered`);
      const all = await loadAllManifests(lake);
      assert.equal(all.hidden.length, 0, `${s.name}, k=${k}: no hidden manifest left`);
      assert.equal(all.visible.length, s.manifestsAfter, `${s.name}, k=${k}: manifests`);
    }
    return ops;
  }

  it("a fresh ingest: nothing or everything", async () => {
    await crashEverywhere({ name: "fresh", prepare: async () => {}, file: raw, manifestsAfter: 1 });
  });

  it("re-ingesting the same capture as .gz: the rows once, at every stage", async () => {
    await crashEverywhere({
      name: "gz",
      prepare: async (lake) => {
        await ingestFiles("binance-capture", [raw], { lake });
      },
      file: gz,
      manifestsAfter: 1,
    });
  });

  it("re-ingesting over a manifest of the raw-bytes identity: the rows once, at every stage", async () => {
    await crashEverywhere({
      name: "legacy",
      prepare: (lake) => legacyIngest(lake, gz),
      file: gz,
      manifestsAfter: 1,
    });
  });

  it("a file overlapping a committed one: without or with its new rows, the overlap once", async () => {
    await crashEverywhere({
      name: "overlap",
      prepare: async (lake) => {
        await ingestFiles("binance-capture", [partA], { lake });
      },
      file: partB,
      manifestsAfter: 2,
    });
  });
});

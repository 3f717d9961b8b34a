/**
 * The lake catalog: the committed file manifests (`_meta/files/*.json`). Only parts listed in a
 * manifest are visible to readers, so a crashed or in-flight ingest is never half-read.
 */
import { readdir, readFile } from "node:fs/promises";
import type { TableName } from "../schema/tables.js";
import { fileManifestDir } from "./layout.js";
import type { FileManifest, PartInfo } from "./manifest.js";

/**
 * The committed file manifests of a lake that readers see, in file-name order; [] for a lake with none.
 * A manifest that another one `supersedes` (same file id and `ingested_at`) is hidden: it is a replaced
 * ingest whose deletion a crash interrupted (see `FileManifest.supersedes`).
 * @throws SyntaxError on a corrupt manifest.
 */
export async function loadManifests(lake: string): Promise<FileManifest[]> {
  return (await loadAllManifests(lake)).visible;
}

/**
 * Every manifest file of a lake, split into the `visible` ones and the `hidden` ones (superseded, see
 * `loadManifests`), each in file-name order.
 * @throws SyntaxError on a corrupt manifest.
 */
export async function loadAllManifests(
  lake: string,
): Promise<{ visible: FileManifest[]; hidden: FileManifest[] }> {
  let names: string[];
  try {
    names = await readdir(fileManifestDir(lake));
  } catch {
    return { visible: [], hidden: [] };
  }
  const all: FileManifest[] = [];
  for (const n of names.sort()) {
    if (!n.endsWith(".json")) continue;
    all.push(JSON.parse(await readFile(`${fileManifestDir(lake)}/${n}`, "utf8")) as FileManifest);
  }
  const superseded = new Set<string>();
  for (const m of all) for (const s of m.supersedes ?? []) superseded.add(`${s.file_id}@${s.ingested_at}`);
  if (superseded.size === 0) return { visible: all, hidden: [] };
  const visible: FileManifest[] = [];
  const hidden: FileManifest[] = [];
  for (const m of all) (superseded.has(`${m.file_id}@${m.ingested_at}`) ? hidden : visible).push(m);
  return { visible, hidden };
}

/** Parts of one table/exchange/symbol whose rows may fall in [startUs, endUs). */
export function partsFor(
  manifests: readonly FileManifest[],
  table: TableName,
  exchange: string,
  symbol: string,
  startUs: number,
  endUs: number,
): PartInfo[] {
  const out: PartInfo[] = [];
  for (const m of manifests) {
    for (const p of m.parts) {
      if (p.table !== table || p.exchange !== exchange || p.symbol !== symbol) continue;
      if (p.last_ts_local_us < startUs || p.first_ts_local_us >= endUs) continue;
      out.push(p);
    }
  }
  return out.sort((a, b) => a.first_ts_local_us - b.first_ts_local_us || a.path.localeCompare(b.path));
}

export interface CoverageRow {
  readonly exchange: string;
  readonly symbol: string;
  readonly table: TableName;
  readonly rows: number;
  readonly first_ts_local_us: number;
  readonly last_ts_local_us: number;
  readonly partitions: number;
  readonly files: number;
}

/**
 * Per exchange/symbol/table: rows, first/last ts_local_us, number of date partitions and of source files.
 * Sorted by exchange, symbol, table.
 */
export async function dataCoverage(lake: string): Promise<CoverageRow[]> {
  return coverageOf(await loadManifests(lake));
}

/** `dataCoverage` of already-loaded manifests. */
export function coverageOf(manifests: readonly FileManifest[]): CoverageRow[] {
  const acc = new Map<
    string,
    { row: Omit<CoverageRow, "partitions" | "files">; dates: Set<string>; files: Set<number> }
  >();
  for (const m of manifests) {
    for (const p of m.parts) {
      const key = `${p.exchange}\u0000${p.symbol}\u0000${p.table}`;
      let a = acc.get(key);
      if (a === undefined) {
        a = {
          row: {
            exchange: p.exchange,
            symbol: p.symbol,
            table: p.table,
            rows: 0,
            first_ts_local_us: p.first_ts_local_us,
            last_ts_local_us: p.last_ts_local_us,
          },
          dates: new Set(),
          files: new Set(),
        };
        acc.set(key, a);
      }
      a.row = {
        ...a.row,
        rows: a.row.rows + p.rows,
        first_ts_local_us: Math.min(a.row.first_ts_local_us, p.first_ts_local_us),
        last_ts_local_us: Math.max(a.row.last_ts_local_us, p.last_ts_local_us),
      };
      a.dates.add(p.date);
      a.files.add(m.file_id);
    }
  }
  return [...acc.values()]
    .map((a) => ({ ...a.row, partitions: a.dates.size, files: a.files.size }))
    .sort(
      (x, y) =>
        x.exchange.localeCompare(y.exchange) ||
        x.symbol.localeCompare(y.symbol) ||
        x.table.localeCompare(y.table),
    );
}

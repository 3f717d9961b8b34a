/**
 * Ingest accounting. Every line of a source file ends in exactly one bucket:
 *   lines_read = Σ rows_written + Σ rows_rejected + Σ rows_deduplicated + Σ lines_without_row
 * (per table for rows; deduplicated rows are rows another committed file of the same stream already
 * holds, see ingest/dedup.ts; lines without a row are counted by reason, e.g. "header",
 * "subscription_reply", "depth_before_snapshot"). `assertBalanced` enforces the identity before
 * anything is committed.
 *
 * Printing: a `file_id` is printed as 12 hexadecimal digits everywhere (`fileIdHex`, lake/layout.ts): in
 * these reports, in `query` output and in the lake's file names (`part-<12 hex>-…`,
 * `_meta/files/<12 hex>.json`, `_quarantine/<12 hex>.jsonl`); JSON reports keep the integer stored in
 * every row's `file_id` column.
 */
import { usToIso } from "../core/time.js";
import { fileIdHex } from "../lake/layout.js";
import type { IngestReport, RegistryChange, TableCounts } from "../lake/manifest.js";
import type { TableName } from "../schema/tables.js";

export type {
  DedupSource,
  FirstRejection,
  IngestReport,
  ReplacedFile,
  SequenceGap,
  TableCounts,
} from "../lake/manifest.js";

/** An empty report for one source file (`contentSha256`: of the decoded content; defaults to `sha256`). */
export function newReport(
  file: string,
  fileId: number,
  sha256: string,
  format: string,
  contentSha256: string = sha256,
): IngestReport {
  return {
    file,
    file_id: fileId,
    sha256,
    content_sha256: contentSha256,
    format,
    lines_read: 0,
    tables: {},
    lines_without_row: {},
    rejected_by_reason: {},
    unrouted_rejected: 0,
    sequence_gaps: [],
    replaced_previous: false,
    replaced: [],
    deduplicated_against: [],
    first_rejected: null,
    quarantine_file: null,
    seconds: 0,
  };
}

/** The (created on first use) written/rejected counters of one table. */
export function tableCounts(r: IngestReport, t: TableName): TableCounts {
  let c = r.tables[t];
  if (c === undefined) {
    c = { rows_written: 0, rows_rejected: 0 };
    r.tables[t] = c;
  }
  return c;
}

/** Totals of one report (rows summed over tables). */
export interface ReportTotals {
  readonly written: number;
  /** Rows rejected, plus lines rejected before they could be routed to a table. */
  readonly rejected: number;
  /** Rows another committed file of the same stream already held (0 in old manifests). */
  readonly deduplicated: number;
  readonly withoutRow: number;
}

/** Rows written, rejected (plus unrouted rejects) and deduplicated over all tables, and lines without a row. */
export function totals(r: IngestReport): ReportTotals {
  let written = 0;
  let rejected = r.unrouted_rejected;
  let deduplicated = 0;
  for (const c of Object.values(r.tables)) {
    written += c.rows_written;
    rejected += c.rows_rejected;
    deduplicated += c.rows_deduplicated ?? 0;
  }
  const withoutRow = Object.values(r.lines_without_row).reduce((a, b) => a + b, 0);
  return { written, rejected, deduplicated, withoutRow };
}

/**
 * @throws Error if lines_read ≠ written + rejected + deduplicated + without_row (an internal accounting
 *   bug).
 */
export function assertBalanced(r: IngestReport): void {
  const t = totals(r);
  if (t.written + t.rejected + t.deduplicated + t.withoutRow !== r.lines_read) {
    throw new Error(
      `${r.file}: ingest accounting mismatch: lines_read ${r.lines_read} ≠ written ${t.written} + rejected ${t.rejected} + deduplicated ${t.deduplicated} + without_row ${t.withoutRow}`,
    );
  }
}

/**
 * One line per table plus the balance line, for terminals: the file and its `file_id` (hex, see
 * the module doc), whether it replaced an earlier ingest of the same content, rows deduplicated against
 * which files, rejections by reason, the first rejected line in full (line, field, reason) and the
 * quarantine file's path.
 */
/**
 * One line on a registry version opened by inference (see `RegistryChange`), naming the line that forced
 * it, e.g. "NEW REGISTRY VERSION binance-futures/BTCUSDT symbol_id 186… from 2020-02-22T00:00:04.457287Z:
 * price increment 0.01 → 0.001 (forced by line 2, field price = 9683.125); readers convert both scales
 * to one".
 */
export function formatRegistryChange(c: RegistryChange): string {
  const changes: string[] = [];
  if (c.price_increment !== c.previous.price_increment)
    changes.push(`price increment ${c.previous.price_increment} → ${c.price_increment}`);
  if (c.amount_increment !== c.previous.amount_increment)
    changes.push(`amount increment ${c.previous.amount_increment} → ${c.amount_increment}`);
  const by = c.forced_by
    ? `forced by line ${c.forced_by.line}, field ${c.forced_by.field} = ${c.forced_by.value}`
    : "forced by another file of this ingest";
  return (
    `NEW REGISTRY VERSION ${c.exchange}/${c.symbol} symbol_id ${c.symbol_id} from ${usToIso(c.valid_from_us)} ` +
    `(after symbol_id ${c.previous.symbol_id}): ${changes.join(", ")} (${by}); ` +
    "readers convert both scales to one exactly (`pointline symbols` shows the history)"
  );
}

export function formatReport(r: IngestReport): string {
  const t = totals(r);
  const out = [`${r.file} (${r.format}, file_id ${fileIdHex(r.file_id)})`];
  const replaced = r.replaced ?? [];
  if (replaced.length > 0) {
    for (const p of replaced) {
      out.push(
        `  same content as ${p.source === r.file ? "the earlier ingest of this file" : p.source} ` +
          `(file_id ${fileIdHex(p.file_id)}, ingested ${p.ingested_at}): its rows were replaced, not added`,
      );
    }
  } else if (r.replaced_previous) {
    out.push("  re-ingested: previous rows replaced");
  }
  for (const [name, c] of Object.entries(r.tables)) {
    const dedup = c.rows_deduplicated ? `  deduplicated ${String(c.rows_deduplicated).padStart(8)}` : "";
    out.push(
      `  ${name.padEnd(18)} written ${String(c.rows_written).padStart(8)}  rejected ${String(c.rows_rejected).padStart(6)}${dedup}`,
    );
  }
  const nr = Object.entries(r.lines_without_row)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const dd = t.deduplicated > 0 ? ` + deduplicated ${t.deduplicated}` : "";
  out.push(
    `  lines read ${r.lines_read} = written ${t.written} + rejected ${t.rejected}${dd} + without row ${t.withoutRow}${nr ? ` (${nr})` : ""}`,
  );
  for (const c of r.registry_changes ?? []) out.push(`  ${formatRegistryChange(c)}`);
  for (const d of r.deduplicated_against ?? []) {
    out.push(
      `  deduplicated: ${d.rows} rows already in the lake from ${d.source || "?"} (file_id ${fileIdHex(d.file_id)})`,
    );
  }
  if (t.rejected > 0) {
    out.push(
      `  rejected: ${Object.entries(r.rejected_by_reason)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
    const f = r.first_rejected;
    if (f) out.push(`  first rejected: line ${f.line}, field '${f.field}' (${f.table}): ${f.reason}`);
    if (r.quarantine_file) out.push(`  quarantine: ${r.quarantine_file}`);
  }
  if (r.sequence_gaps.length > 0)
    out.push(`  sequence gaps: ${r.sequence_gaps.length} (book resynced at next snapshot)`);
  return out.join("\n");
}

/** A file of a batch that failed, as `formatBatchSummary` prints it (ingest/ingest.ts `FailedFile`). */
export interface FailedFileSummary {
  readonly file: string;
  readonly stage: string;
  readonly error: { readonly message: string };
}

/**
 * The end-of-batch summary: one line for the batch (files committed / failed, rows written, rejected,
 * deduplicated), then one line per file — first the committed ones with their file_id (hex) and
 * row counts, noting a replaced earlier ingest of the same content (and, for a file with rejected rows,
 * the first rejected line in full — line, field, reason — and the quarantine file's path), then the
 * `FAILED` ones with the stage and the error (which names the file, line and reason).
 */
export function formatBatchSummary(
  kind: string,
  committed: readonly IngestReport[],
  failed: readonly FailedFileSummary[],
): string {
  let written = 0;
  let rejected = 0;
  let deduplicated = 0;
  for (const r of committed) {
    const t = totals(r);
    written += t.written;
    rejected += t.rejected;
    deduplicated += t.deduplicated;
  }
  const n = committed.length + failed.length;
  const head =
    `ingest ${kind}: ${committed.length} of ${n} file${n === 1 ? "" : "s"} committed` +
    (failed.length > 0 ? `, ${failed.length} FAILED` : "") +
    ` — rows written ${written}, rejected ${rejected}, deduplicated ${deduplicated}`;
  const out = [head];
  for (const r of committed) {
    const t = totals(r);
    const same = (r.replaced ?? []).length > 0 ? ", replaced an earlier ingest of the same content" : "";
    out.push(
      `  committed  ${r.file}  file_id ${fileIdHex(r.file_id)}: written ${t.written}, rejected ${t.rejected}, deduplicated ${t.deduplicated}${same}`,
    );
    const f = r.first_rejected;
    if (t.rejected > 0 && f) {
      out.push(`             first rejected: line ${f.line}, field '${f.field}' (${f.table}): ${f.reason}`);
      if (r.quarantine_file) out.push(`             quarantine: ${r.quarantine_file}`);
    }
  }
  for (const f of failed) out.push(`  FAILED     ${f.file} (at ${f.stage}): ${f.error.message}`);
  return out.join("\n");
}

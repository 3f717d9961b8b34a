/**
 * Ingest accounting. Every line of a source file ends in exactly one bucket:
 *   lines_read = Σ rows_written + Σ rows_rejected + Σ lines_without_row
 * (per table for rows; lines without a row are counted by reason, e.g. "header", "subscription_reply",
 * "depth_before_snapshot"). `assertBalanced` enforces the identity before anything is committed.
 */
import type { IngestReport, TableCounts } from "../lake/manifest.js";
import type { TableName } from "../schema/tables.js";

export type { IngestReport, SequenceGap, TableCounts } from "../lake/manifest.js";

/** An empty report for one source file. */
export function newReport(file: string, fileId: number, sha256: string, format: string): IngestReport {
  return {
    file,
    file_id: fileId,
    sha256,
    format,
    lines_read: 0,
    tables: {},
    lines_without_row: {},
    rejected_by_reason: {},
    unrouted_rejected: 0,
    sequence_gaps: [],
    replaced_previous: false,
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

/** Rows written and rejected over all tables (plus unrouted rejects), and lines without a row. */
export function totals(r: IngestReport): { written: number; rejected: number; withoutRow: number } {
  let written = 0;
  let rejected = r.unrouted_rejected;
  for (const c of Object.values(r.tables)) {
    written += c.rows_written;
    rejected += c.rows_rejected;
  }
  const withoutRow = Object.values(r.lines_without_row).reduce((a, b) => a + b, 0);
  return { written, rejected, withoutRow };
}

/** @throws Error if lines_read ≠ written + rejected + without_row (an internal accounting bug). */
export function assertBalanced(r: IngestReport): void {
  const t = totals(r);
  if (t.written + t.rejected + t.withoutRow !== r.lines_read) {
    throw new Error(
      `${r.file}: ingest accounting mismatch: lines_read ${r.lines_read} ≠ written ${t.written} + rejected ${t.rejected} + without_row ${t.withoutRow}`,
    );
  }
}

/** One line per table plus the balance line, for terminals. */
export function formatReport(r: IngestReport): string {
  const t = totals(r);
  const out = [
    `${r.file} (${r.format}, file_id ${r.file_id.toString(16).padStart(12, "0")}${r.replaced_previous ? ", re-ingested: previous rows replaced" : ""})`,
  ];
  for (const [name, c] of Object.entries(r.tables)) {
    out.push(
      `  ${name.padEnd(18)} written ${String(c.rows_written).padStart(8)}  rejected ${String(c.rows_rejected).padStart(6)}`,
    );
  }
  const nr = Object.entries(r.lines_without_row)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  out.push(
    `  lines read ${r.lines_read} = written ${t.written} + rejected ${t.rejected} + without row ${t.withoutRow}${nr ? ` (${nr})` : ""}`,
  );
  if (t.rejected > 0) {
    out.push(
      `  rejected: ${Object.entries(r.rejected_by_reason)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  }
  if (r.sequence_gaps.length > 0)
    out.push(`  sequence gaps: ${r.sequence_gaps.length} (book resynced at next snapshot)`);
  return out.join("\n");
}

/**
 * One source file's ingest: symbol resolution, row buffers, quarantine, accounting, and the atomic
 * commit into the lake.
 *
 * Two passes: `scan` (pass 1) records per symbol the first timestamp and the largest number of
 * significant decimals of prices and sizes, so increments can be inferred before any row is encoded;
 * `ingest` (pass 2) decodes and writes. Passes are streaming; memory is bounded by `chunkRows`.
 *
 * Deduplication: before a buffer is written, rows that another committed file of the same stream
 * already put in the lake are dropped (counted as `rows_deduplicated`) or, if they conflict, rejected
 * (see ingest/dedup.ts). The accounting identity becomes
 * `lines_read = written + rejected + deduplicated + without_row`.
 *
 * Commit protocol: parts are written as `.tmp-part-*` beside their final names; at commit they are
 * renamed into place, the quarantine file and the registry are published, and the file manifest
 * (`_meta/files/<id>.json`, one atomic rename) is written; only then are the parts that a previous
 * ingest of the same content wrote and this one did not deleted, and previous ingests under another
 * file id (the old raw-bytes identity), which the new manifest `supersedes` and readers therefore
 * hide, removed. Readers only read parts listed in a visible manifest, so a crash at any stage leaves
 * the lake showing either the previous ingest or this one, never both and never half of one.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { DecimalParser, describeFailure, type FixedDecoder, type Increment } from "../core/fixed.js";
import { utcDate, utcDayStart } from "../core/time.js";
import { TableBuffer } from "../lake/buffer.js";
import {
  fileManifestPath,
  partFileName,
  partitionDir,
  quarantinePath,
  writeFileAtomic,
} from "../lake/layout.js";
import type { FileManifest, PartInfo, RegistryChange, SupersededRef } from "../lake/manifest.js";
import type { ResolvedSymbol, SymbolAnnotation, SymbolRegistry } from "../lake/registry.js";
import type { TableName } from "../schema/tables.js";
import { DEDUP_SLACK_US, StreamDedup } from "./dedup.js";
import { assertBalanced, type IngestReport, newReport, tableCounts } from "./report.js";

/** What pass 1 learned about one symbol of a file. */
export interface SymbolObservation {
  readonly exchange: string;
  readonly symbol: string;
  firstTsUs: number;
  lastTsUs: number;
  priceDecimals: number;
  amountDecimals: number;
  /** Whether any price or size string was seen (false for funding/ticker-only data). */
  sawDecimals: boolean;
}

/** Pass-1 sink: records decimals and time range per symbol. Malformed values are ignored here (pass 2 rejects them). */
export class DecimalScanner {
  readonly symbols = new Map<string, SymbolObservation>();
  private readonly parser = new DecimalParser();

  /** The observation of (exchange, symbol), created on first sight; widens its time range to `tsUs` (µs). */
  observe(exchange: string, symbol: string, tsUs: number): SymbolObservation {
    const key = `${exchange}\u0000${symbol}`;
    let o = this.symbols.get(key);
    if (o === undefined) {
      o = {
        exchange,
        symbol,
        firstTsUs: tsUs,
        lastTsUs: tsUs,
        priceDecimals: 0,
        amountDecimals: 0,
        sawDecimals: false,
      };
      this.symbols.set(key, o);
    }
    if (tsUs < o.firstTsUs) o.firstTsUs = tsUs;
    if (tsUs > o.lastTsUs) o.lastTsUs = tsUs;
    return o;
  }
  /** Records the significant decimals of a price string `s[start,end)` (malformed values are ignored). */
  price(o: SymbolObservation, s: string | undefined | null, start = 0, end = s?.length ?? 0): void {
    if (typeof s === "string" && this.parser.parse(s, start, end)) {
      o.sawDecimals = true;
      if (this.parser.decimals > o.priceDecimals) o.priceDecimals = this.parser.decimals;
    }
  }
  /** Records the significant decimals of a size string `s[start,end)` (malformed values are ignored). */
  amount(o: SymbolObservation, s: string | undefined | null, start = 0, end = s?.length ?? 0): void {
    if (typeof s === "string" && this.parser.parse(s, start, end)) {
      o.sawDecimals = true;
      if (this.parser.decimals > o.amountDecimals) o.amountDecimals = this.parser.decimals;
    }
  }

  /** Merges another file's observations (an ingest call infers increments over all its files). */
  merge(other: DecimalScanner): void {
    for (const o of other.symbols.values()) {
      const m = this.observe(o.exchange, o.symbol, o.firstTsUs);
      this.observe(o.exchange, o.symbol, o.lastTsUs);
      m.priceDecimals = Math.max(m.priceDecimals, o.priceDecimals);
      m.amountDecimals = Math.max(m.amountDecimals, o.amountDecimals);
      m.sawDecimals ||= o.sawDecimals;
    }
  }
}

/**
 * The key rejections are counted under (`rejected_by_reason`): `table.field: reason` with quoted values
 * elided (…) and numbers replaced by N, so one kind of damage is one key. Shared with the live client's
 * quarantine (live/binance-ws.ts).
 */
export function rejectionKey(table: string, field: string, reason: string): string {
  return `${table}.${field}: ${reason.replace(/'[^']*'/g, "…").replace(/-?\d+/g, "N")}`;
}

/** Rows of one symbol: its registry version and per-table buffers. */
export class SymbolSink {
  private readonly buffers = new Map<TableName, TableBuffer>();
  constructor(
    private readonly fi: FileIngest,
    readonly exchange: string,
    readonly symbol: string,
    readonly resolved: ResolvedSymbol,
  ) {}
  get px(): Increment {
    return this.resolved.priceIncrement;
  }
  get qty(): Increment {
    return this.resolved.amountIncrement;
  }
  get symbolId(): number {
    return this.resolved.entry.symbol_id;
  }
  /** The row buffer of `table` for this symbol (created on first use). */
  buffer(table: TableName): TableBuffer {
    let b = this.buffers.get(table);
    if (b === undefined) {
      b = new TableBuffer(table, this.exchange, this.symbol, this.symbolId, this.fi.fileId);
      this.buffers.set(table, b);
    }
    return b;
  }
  /** Appends a row (counted as written) and returns its index in `buffer(table)`. */
  row(table: TableName, tsLocalUs: number, tsExchUs: number, line: number): number {
    tableCounts(this.fi.report, table).rows_written++;
    this.fi.bufferedRows++;
    return this.buffer(table).beginRow(tsLocalUs, tsExchUs, line);
  }
  allBuffers(): IterableIterator<TableBuffer> {
    return this.buffers.values();
  }
}

export interface FileIngestOptions {
  /** Flush buffered rows to staged parts when this many rows are buffered (bounds memory). */
  readonly chunkRows?: number;
  /** Max quarantine records kept on disk per file (all are still counted). */
  readonly maxQuarantineRecords?: number;
}

/** What the driver knows about a file's identity and the lake around it (see ingest/ingest.ts). */
export interface FileIngestContext {
  /** sha256 of the decoded content (the identity `fileId` is made from); defaults to `sha256`. */
  readonly contentSha256?: string;
  /** Decoded byte count; defaults to `bytes`. */
  readonly contentBytes?: number;
  /** Committed manifests of other files, whose rows this file's rows are deduplicated against. */
  readonly others?: readonly FileManifest[];
  /**
   * Committed manifests of the same content under another file id (written with the raw-bytes
   * identity): this ingest replaces them (its manifest supersedes them; they are deleted after it).
   */
  readonly replaces?: readonly FileManifest[];
}

export class FileIngest {
  readonly report: IngestReport;
  bufferedRows = 0;
  private lastTsLocal = Number.NEGATIVE_INFINITY;
  private lastTsLine = 0;
  private readonly sinks = new Map<string, SymbolSink>();
  private readonly staged: { tmp: string; final: string; info: PartInfo }[] = [];
  private readonly seq = new Map<string, number>();
  private quarantineFd: number | null = null;
  private quarantineTmp: string | null = null;
  private quarantineCount = 0;
  private readonly chunkRows: number;
  private readonly maxQuarantine: number;
  private readonly started = performance.now();
  private readonly dedups = new Map<string, StreamDedup>();
  private readonly dedupByFile = new Map<number, number>();
  /** Increments of versions opened for this file → the factor to the previous one and the report entry. */
  private readonly finer = new Map<
    Increment,
    { factor: number; change: { forced_by: RegistryChange["forced_by"] } }
  >();

  constructor(
    readonly lake: string,
    readonly source: string,
    readonly fileId: number,
    readonly sha256: string,
    readonly bytes: number,
    readonly format: string,
    private readonly registry: SymbolRegistry,
    /** This file's pass-1 observations. */
    private readonly scan: DecimalScanner,
    opts: FileIngestOptions = {},
    /** Observations over every file of the ingest call (increment inference); defaults to `scan`. */
    private readonly batch: DecimalScanner = scan,
    private readonly context: FileIngestContext = {},
  ) {
    this.report = newReport(source, fileId, sha256, format, context.contentSha256 ?? sha256);
    this.chunkRows = opts.chunkRows ?? 500_000;
    this.maxQuarantine = opts.maxQuarantineRecords ?? 100_000;
  }

  /**
   * Records what the file says about a symbol beyond its increments (asset type, contract month,
   * expiry) in the registry, on every version of it; published with the file's commit.
   */
  annotateSymbol(exchange: string, symbol: string, a: SymbolAnnotation): void {
    this.registry.annotate(exchange, symbol, a);
  }

  /** What pass 1 observed, per symbol (e.g. to route a snapshot line that names no symbol). */
  observations(): SymbolObservation[] {
    return [...this.scan.symbols.values()];
  }

  /** The sink of a symbol, resolving (or inferring) its registry version from pass 1. */
  sink(exchange: string, symbol: string): SymbolSink {
    const key = `${exchange}\u0000${symbol}`;
    let s = this.sinks.get(key);
    if (s === undefined) {
      const own = this.scan.symbols.get(key);
      const all = this.batch.symbols.get(key) ?? own;
      const first = own?.firstTsUs ?? all?.firstTsUs ?? 0;
      const before = this.registry.lookup(exchange, symbol, first);
      const resolved = this.registry.resolveForIngest(
        exchange,
        symbol,
        first,
        utcDayStart(all?.firstTsUs ?? first),
        all?.sawDecimals ? { price: all.priceDecimals, amount: all.amountDecimals } : null,
      );
      if (before && before.entry.symbol_id !== resolved.entry.symbol_id) this.watchFiner(before, resolved);
      s = new SymbolSink(this, exchange, symbol, resolved);
      this.sinks.set(key, s);
    }
    return s;
  }

  /**
   * A finer version replaced `before` for this file's rows: record the change in the report and watch
   * the decodes at the new increments for the first value the old one could not hold (its line).
   */
  private watchFiner(before: ResolvedSymbol, after: ResolvedSymbol): void {
    const change = {
      exchange: after.entry.exchange,
      symbol: after.entry.exchange_symbol,
      symbol_id: after.entry.symbol_id,
      price_increment: after.entry.price_increment,
      amount_increment: after.entry.amount_increment,
      valid_from_us: after.entry.valid_from_us,
      previous: {
        symbol_id: before.entry.symbol_id,
        price_increment: before.entry.price_increment,
        amount_increment: before.entry.amount_increment,
      },
      forced_by: null as RegistryChange["forced_by"],
    };
    if (!this.report.registry_changes) this.report.registry_changes = [];
    this.report.registry_changes.push(change);
    const watch = (inc: Increment, old: Increment) => {
      // inferred increments are 10^-k: a value fits the old scale when divisible by 10^(k_new − k_old)
      if (inc.mantissa === 1 && old.mantissa === 1 && inc.scale > old.scale)
        this.finer.set(inc, { factor: 10 ** (inc.scale - old.scale), change });
    };
    watch(after.priceIncrement, before.priceIncrement);
    watch(after.amountIncrement, before.amountIncrement);
  }

  /** A line that carries no row (header, subscription reply, book line before sync, …). */
  noRow(reason: string): void {
    this.report.lines_without_row[reason] = (this.report.lines_without_row[reason] ?? 0) + 1;
  }

  /** Rejects a line destined for `table`: counted, and recorded in the quarantine file. */
  reject(table: TableName, line: number, field: string, reason: string, raw?: string): void {
    tableCounts(this.report, table).rows_rejected++;
    this.quarantine(table, line, field, reason, raw);
  }

  /**
   * Decodes the non-negative decimal `s[start,end)` to a fixed-point integer at `inc`. On failure the
   * line is rejected for `table`/`field` with the decoder's reason (e.g. "'61837.635' has more
   * decimals than the increment 0.01 allows") and NaN is returned: callers return on NaN.
   */
  decodeOrReject(
    dec: FixedDecoder,
    table: TableName,
    line: number,
    field: string,
    s: string,
    inc: Increment,
    raw: string,
    start = 0,
    end = s.length,
  ): number {
    const v = dec.decode(s, inc, false, start, end);
    if (Number.isNaN(v))
      this.reject(table, line, field, describeFailure(dec.failure, s.slice(start, end), inc), raw);
    else if (this.finer.size > 0) {
      const w = this.finer.get(inc);
      if (w && w.change.forced_by === null && v % w.factor !== 0)
        w.change.forced_by = { line, field, value: s.slice(start, end) };
    }
    return v;
  }

  /** Rejects a line that cannot be routed to any table (malformed JSON, unknown stream). */
  rejectLine(line: number, field: string, reason: string, raw?: string): void {
    this.report.unrouted_rejected++;
    this.quarantine("line", line, field, reason, raw);
  }

  private quarantine(table: string, line: number, field: string, reason: string, raw?: string): void {
    const key = rejectionKey(table, field, reason);
    this.report.rejected_by_reason[key] = (this.report.rejected_by_reason[key] ?? 0) + 1;
    const first = this.report.first_rejected;
    if (first === null || first === undefined || line < first.line)
      this.report.first_rejected = { line, table, field, reason };
    if (this.quarantineCount >= this.maxQuarantine) return;
    if (this.quarantineFd === null) {
      const final = quarantinePath(this.lake, this.fileId);
      mkdirSync(dirname(final), { recursive: true });
      this.quarantineTmp = `${final}.tmp-${process.pid}`;
      this.quarantineFd = openSync(this.quarantineTmp, "w");
    }
    this.quarantineCount++;
    const rec = { file: this.source, line, table, field, reason, raw: raw?.slice(0, 500) };
    writeSync(this.quarantineFd, `${JSON.stringify(rec)}\n`);
  }

  /**
   * Enforces non-decreasing ts_local_us within the file. Returns false (after rejecting the line) if the
   * timestamp went backwards; real captures are monotone, so this only fires on damaged input.
   */
  checkTime(table: TableName, tsLocalUs: number, line: number, raw?: string): boolean {
    if (tsLocalUs < this.lastTsLocal) {
      this.reject(
        table,
        line,
        "ts_local_us",
        `timestamp went backwards: ${tsLocalUs} < ${this.lastTsLocal} at line ${this.lastTsLine}`,
        raw,
      );
      return false;
    }
    this.lastTsLocal = tsLocalUs;
    this.lastTsLine = line;
    return true;
  }

  /** Writes buffered rows to staged part files if the buffer is over `chunkRows` (or `force`). */
  flush(force = false): void {
    if (!force && this.bufferedRows < this.chunkRows) return;
    for (const sink of this.sinks.values()) {
      for (const buf of sink.allBuffers()) {
        this.deduplicate(sink, buf);
        this.flushBuffer(buf);
      }
    }
    this.bufferedRows = 0;
  }

  /** The committed rows of `buf`'s stream near this file's time range (read once per stream). */
  private dedupOf(buf: TableBuffer): StreamDedup | null {
    const others = this.context.others ?? [];
    if (others.length === 0 || buf.length === 0) return null;
    const key = `${buf.table}\u0000${buf.exchange}\u0000${buf.symbol}`;
    let d = this.dedups.get(key);
    if (d === undefined) {
      const o = this.scan.symbols.get(`${buf.exchange}\u0000${buf.symbol}`);
      let lo = o?.firstTsUs ?? Number.POSITIVE_INFINITY;
      let hi = o?.lastTsUs ?? Number.NEGATIVE_INFINITY;
      for (let i = 0; i < buf.length; i++) {
        const t = buf.tsLocal.data[i]!;
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
      d = StreamDedup.load(
        this.lake,
        others,
        buf.table,
        buf.exchange,
        buf.symbol,
        lo - DEDUP_SLACK_US,
        hi + DEDUP_SLACK_US,
        this.registry,
      );
      this.dedups.set(key, d);
    }
    return d;
  }

  /** Drops (duplicates) or rejects (conflicts) rows of `buf` that other committed files hold. */
  private deduplicate(sink: SymbolSink, buf: TableBuffer): void {
    const d = this.dedupOf(buf);
    if (d === null || d.empty) return;
    const out = d.filter(buf, { price: sink.px, amount: sink.qty });
    const c = tableCounts(this.report, buf.table);
    let dropped = 0;
    for (const [fileId, n] of out.duplicatesByFile) {
      this.dedupByFile.set(fileId, (this.dedupByFile.get(fileId) ?? 0) + n);
      c.rows_deduplicated = (c.rows_deduplicated ?? 0) + n;
      dropped += n;
    }
    for (const x of out.conflicts) {
      dropped++;
      this.reject(buf.table, buf.line.data[x.index]!, x.field, x.reason);
    }
    if (dropped === 0) return;
    c.rows_written -= dropped;
    buf.retain(out.keep);
  }

  private flushBuffer(buf: TableBuffer): void {
    const ts = buf.tsLocal.data;
    let start = 0;
    while (start < buf.length) {
      const date = utcDate(ts[start]!);
      const dayEnd = utcDayStart(ts[start]!) + 86_400_000_000;
      let end = start;
      while (end < buf.length && ts[end]! < dayEnd) end++;
      const dir = partitionDir(this.lake, buf.table, buf.exchange, buf.symbol, date);
      const seq = this.seq.get(dir) ?? 0;
      this.seq.set(dir, seq + 1);
      const final = join(dir, partFileName(this.fileId, seq));
      const tmp = join(dir, `.tmp-${partFileName(this.fileId, seq)}`);
      mkdirSync(dir, { recursive: true });
      buf.toDataFrame(start, end).writeParquet(tmp, { compression: "zstd" });
      this.staged.push({
        tmp,
        final,
        info: {
          path: relative(this.lake, final),
          table: buf.table,
          exchange: buf.exchange,
          symbol: buf.symbol,
          symbol_id: buf.symbolId,
          date,
          rows: end - start,
          first_ts_local_us: ts[start]!,
          last_ts_local_us: ts[end - 1]!,
        },
      });
      start = end;
    }
    buf.clear();
  }

  /**
   * Flushes, checks the accounting identity, and atomically publishes this file's parts (see the
   * module doc for the order of the steps and what a crash between them leaves).
   * @throws Error on an accounting mismatch (an adapter bug) before anything is published; file system
   *   errors.
   */
  async commit(): Promise<FileManifest> {
    this.flush(true);
    assertBalanced(this.report);
    const manifestPath = fileManifestPath(this.lake, this.fileId);
    let previous: FileManifest | null = null;
    try {
      previous = JSON.parse(await readFile(manifestPath, "utf8")) as FileManifest;
    } catch {
      previous = null;
    }
    const replaces = (this.context.replaces ?? []).filter((m) => m.file_id !== this.fileId);
    const replaced = previous === null ? replaces : [previous, ...replaces];
    this.report.replaced_previous = replaced.length > 0;
    this.report.replaced = replaced.map((m) => ({
      file_id: m.file_id,
      source: m.source,
      ingested_at: m.ingested_at,
    }));
    this.report.deduplicated_against = [...this.dedupByFile]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([fileId, rows]) => ({
        file_id: fileId,
        source: this.context.others?.find((m) => m.file_id === fileId)?.source ?? "",
        rows,
      }));
    for (const s of this.staged) await rename(s.tmp, s.final);
    const qFinal = quarantinePath(this.lake, this.fileId);
    if (this.quarantineFd !== null && this.quarantineTmp !== null) {
      closeSync(this.quarantineFd);
      this.quarantineFd = null;
      renameSync(this.quarantineTmp, qFinal);
      this.report.quarantine_file = qFinal;
    } else {
      await rm(qFinal, { force: true });
      this.report.quarantine_file = null;
    }
    this.report.seconds = (performance.now() - this.started) / 1000;
    // Replaced manifests under other ids stay hidden until deleted; refs whose manifests a previous
    // ingest of this content already removed are dropped.
    const supersedes: SupersededRef[] = [
      ...(previous?.supersedes ?? []).filter((r) => existsSync(fileManifestPath(this.lake, r.file_id))),
      ...replaces.map((m) => ({ file_id: m.file_id, ingested_at: m.ingested_at })),
    ];
    const manifest: FileManifest = {
      file_id: this.fileId,
      source: this.source,
      sha256: this.sha256,
      bytes: this.bytes,
      content_sha256: this.context.contentSha256 ?? this.sha256,
      content_bytes: this.context.contentBytes ?? this.bytes,
      format: this.format,
      ingested_at: new Date().toISOString(),
      parts: this.staged.map((s) => s.info),
      report: this.report,
      ...(supersedes.length > 0 ? { supersedes } : {}),
    };
    await this.registry.save();
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
    // Published. What follows only removes rows no manifest lists (or only hidden manifests list).
    const keep = new Set(this.staged.map((s) => resolve(s.final)));
    if (previous !== null) {
      for (const p of previous.parts) {
        const abs = resolve(this.lake, p.path);
        if (!keep.has(abs)) await rm(abs, { force: true });
      }
    }
    for (const m of replaces) await removeManifest(this.lake, m);
    return manifest;
  }

  /** Removes staged parts after a failure. */
  async abort(): Promise<void> {
    for (const s of this.staged) await rm(s.tmp, { force: true });
    if (this.quarantineFd !== null && this.quarantineTmp !== null) {
      closeSync(this.quarantineFd);
      await rm(this.quarantineTmp, { force: true });
    }
  }
}

/**
 * Deletes a manifest that another one supersedes, after its parts and quarantine file (so that a crash
 * midway leaves the manifest, hidden, to be removed by the next ingest).
 */
export async function removeManifest(lake: string, m: FileManifest): Promise<void> {
  for (const p of m.parts) await rm(resolve(lake, p.path), { force: true });
  await rm(quarantinePath(lake, m.file_id), { force: true });
  await rm(fileManifestPath(lake, m.file_id), { force: true });
}

/**
 * Pointline (TypeScript) — public library API.
 *
 * Layout: ingest (vendor adapters) → lake (Parquet partitions, registry, catalog) → query.
 * The feature engine, labels, pipeline and live store build on these (see README).
 */
export { ConfigError, IngestError, PointlineError, type SourceLocation } from "./core/errors.js";
export {
  DecimalParser,
  describeFailure,
  exactProduct,
  exactProductBig,
  FixedDecoder,
  fixedToNumber,
  formatFixed,
  type Increment,
  incrementFromDecimals,
  MAX_EXACT_INT,
  parseIncrement,
} from "./core/fixed.js";
export { compareEventKeys, type EventKey, totalOrderPermutation } from "./core/order.js";
export { parseEpochToUs, type TimeInput, toUs, usToIso, utcDate } from "./core/time.js";
export type { AdapterOptions, SourceAdapter } from "./ingest/adapter.js";
export { INGEST_KINDS, type IngestKind, type IngestRequest, ingestFiles } from "./ingest/ingest.js";
export { formatReport, type IngestReport } from "./ingest/report.js";
export type { FileManifest, PartInfo } from "./ingest/session.js";
export { type CoverageRow, dataCoverage, loadManifests } from "./lake/catalog.js";
export { type SymbolEntry, SymbolRegistry } from "./lake/registry.js";
export { listSymbols } from "./lake/symbols.js";
export {
  type LevelColumn,
  type QueryRequest,
  query,
  queryFrame,
  type TypedColumn,
  type TypedRows,
  toTypedRows,
} from "./query/query.js";
export { BOOK_DEPTH, COMMON_COLUMNS, TABLES, type TableName, tableColumns } from "./schema/tables.js";

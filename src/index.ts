/**
 * Pointline (TypeScript) — public library API.
 *
 * Layout: ingest (vendor adapters) → lake (Parquet partitions, registry, catalog) → query.
 * → engine (replay, spines, operators) → features → pipeline v2 (requests, aggregations, labels, gates,
 * evaluation, artifacts). See README.
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
export {
  CollectSink,
  Driver,
  type DriverConfig,
  type DriverSnapshot,
  type EventChunk,
  type EventSource,
  type FrameSink,
  type StreamSpec,
} from "./engine/driver.js";
export { GroupOperator } from "./engine/group.js";
export { CanonicalHasher, canonicalFrameHash } from "./engine/hash.js";
export { LakeSource, type LakeSourceConfig, type LakeStream, streamSpecOf } from "./engine/lake-source.js";
export type {
  EventCursor,
  InstrumentInfo,
  JsonValue,
  Operator,
  OperatorContext,
  OutputSpec,
  SourceRole,
  SpineRow,
} from "./engine/operator.js";
export {
  DEFAULT_PART_CACHE_BYTES,
  PartCache,
  type PartCacheStats,
} from "./engine/part-cache.js";
export { checkPrefixTruncation, type PitCheckResult, type PitViolation } from "./engine/pit.js";
export {
  type DeclaredOutput,
  isRequestOperator,
  type OperatorBuildContext,
  type OperatorDef,
  type OperatorParams,
  OperatorRegistry,
  type OutputMeta,
  type RequestOperatorDef,
} from "./engine/registry.js";
export {
  type FeatureBatch,
  Replay,
  type ReplayConfig,
  type ReplaySummary,
  type RunSetup,
  type RunShape,
  SPINE_COLUMNS,
  setupRun,
} from "./engine/replay.js";
export { RollingMedian, RollingStats } from "./engine/rolling.js";
export {
  type EventSpineConfig,
  type EventSpineInput,
  formatSpineSpec,
  parseSpineShorthand,
  parseSpineSpec,
  type RequestSpine,
  SPINE_DEFAULTS,
  SPINE_TYPES,
  type SpineSpec,
  type SpineSpecInput,
  type SpineType,
  spineSpecFromRequest,
  spineSpecSchema,
} from "./engine/spine-spec.js";
export { type FrameUnit, frameUnit, frameUnitName, toFrameUnit, toFrameValue } from "./engine/units.js";
export { catalogMarkdown, featureCatalog } from "./features/catalog.js";
export { type FeatureRunConfig, type FeatureRunInput, parseFeatureRunConfig } from "./features/config.js";
export { buildCrossVenueMidFrame } from "./features/cross-venue-frame.js";
export { FAMILIES } from "./features/families.js";
export {
  defineFamily,
  type FamilyDef,
  type FamilyMember,
  type FamilySpec,
  type FeatureMeta,
  familyOperator,
} from "./features/family.js";
export {
  buildFeatureFrame,
  buildFeatureFrameWithSummary,
  type FeatureFrameRequest,
  type FeaturePlan,
  planFeatureFrame,
  streamFeatureFrame,
} from "./features/frame.js";
export {
  buildIntervalFrames,
  frontMonth,
  type IntervalBuildRequest,
  type IntervalConfig,
  type IntervalFrame,
  intervalFrameToDataFrame,
  parseIntervalConfig,
  writeIntervalFrames,
} from "./features/intervals/frames.js";
export {
  IntervalMicroOperator,
  intervalMicrostructureDef,
} from "./features/intervals/microstructure.js";
export { type FeatureManifest, writeFeatureFrame } from "./features/output.js";
export { builtinRegistry } from "./features/registry.js";
// trader 1-minute frame (issue #12): replay_1m from the lake, the 33 features, splits, artifacts, reports
export {
  LIQUIDATION_FEATURES,
  TRADER_FEATURE_VERSION,
  TRADER_FEATURES,
  traderFeatureMeta,
} from "./features/trader/features.js";
export {
  REPLAY_REQUIRED_COLUMNS,
  REPLAY_VALUE_COLUMNS,
  type ReplayRows,
  TRADER_PRESET,
} from "./features/trader/preset.js";
export { runTraderFeatures } from "./features/trader/run.js";
export type { AdapterOptions, SourceAdapter } from "./ingest/adapter.js";
export { DEDUP_SLACK_US, VENDOR_IDENTITY } from "./ingest/dedup.js";
export {
  type FailedFile,
  INGEST_KINDS,
  IngestBatchError,
  type IngestBatchResult,
  type IngestKind,
  type IngestProgress,
  type IngestRequest,
  type IngestStage,
  ingestBatch,
  ingestFiles,
} from "./ingest/ingest.js";
export { formatBatchSummary, formatReport, type IngestReport, totals } from "./ingest/report.js";
export { type CoverageRow, dataCoverage, loadManifests } from "./lake/catalog.js";
export { Lake, type LakeInstrument, type LakeRef } from "./lake/lake.js";
export type { FileManifest, PartInfo } from "./lake/manifest.js";
export { type SymbolEntry, SymbolRegistry } from "./lake/registry.js";
export { listSymbols } from "./lake/symbols.js";
export {
  type BackoffOptions,
  BINANCE_ENDPOINTS,
  type BinanceMarket,
  type BinanceStreamKind,
  BinanceWsClient,
  type BinanceWsOptions,
  type BinanceWsStats,
  type QuarantineRecord,
  wallClockUs,
} from "./live/binance-ws.js";
export {
  Checkpointer,
  type CheckpointerOptions,
  checkpointPath,
  type FeedPosition,
  type LiveCheckpoint,
  readCheckpoint,
  replayPosition,
  runConfigHash,
  writeCheckpoint,
} from "./live/checkpoint.js";
export { type EngineRow, EventOrderError, PushSource, type PushSourceOptions } from "./live/push-source.js";
export {
  type PlaybackChunk,
  type PlaybackConfig,
  type PlaybackOrder,
  playbackChunks,
  type ReplayFeedOptions,
  type ReplayFeedStats,
  replayLake,
} from "./live/replay-feed.js";
export {
  type CheckpointWriter,
  CsvRowWriter,
  openFileWriter,
  ParquetRowWriter,
  type RowWriter,
  type WriterPosition,
} from "./live/row-writer.js";
export {
  type LiveFeatureRequest,
  LiveRow,
  LiveRunner,
  type LiveRunnerConfig,
  OPEN_END_US,
  type RowListener,
} from "./live/runner.js";
export {
  TRACKER_FAMILY,
  type TrackerTrade,
  type VolumeBar,
  VolumeBarTracker,
  type VolumeBarTrackerConfig,
} from "./live/volume-bar-tracker.js";
export {
  evaluateMetrics,
  type MetricResult,
  type MetricSpec,
  metricSpecSchema,
} from "./pipeline/evaluation.js";
export type { Decision, GateResult, PipelineColumn } from "./pipeline/gate-types.js";
export { computeLabels, type LabelSpec, labelSpecSchema } from "./pipeline/labels.js";
export { resolveOutputDir } from "./pipeline/paths.js";
export type {
  AggregationContext,
  AggregationOutput,
  AggregationParams,
  AggregationSpec,
  JoinStrategy,
  PipelineMode,
} from "./pipeline/registry.js";
export {
  type PipelineRequest,
  type RequestProblem,
  requestJsonSchema,
  requestSchema,
  type ValidationResult,
  validateRequest,
} from "./pipeline/request.js";
export { type PipelineOptions, type PipelineOutput, runPipeline } from "./pipeline/run.js";
export {
  type LevelColumn,
  type QueryRequest,
  query,
  queryFrame,
  type TypedColumn,
  type TypedRows,
  toTypedRows,
} from "./query/query.js";
export {
  buildCrossSection,
  type CrossSectionInput,
  type CrossSectionInstrument,
  type CrossSectionOptions,
  type CrossSectionRequest,
  crossSection,
  guideSpreads,
  type SpreadSpec,
} from "./scale/cross-section.js";
export {
  formatMultiSymbol,
  type MultiSymbolManifest,
  type MultiSymbolRequest,
  multiStatusExitCode,
  runMultiSymbol,
} from "./scale/multi.js";
export {
  type InstrumentRef,
  parseInstrumentList,
  resolveSymbols,
  type SymbolQuery,
  type SymbolSelection,
} from "./scale/symbols.js";
export { BOOK_DEPTH, COMMON_COLUMNS, TABLES, type TableName, tableColumns } from "./schema/tables.js";
export {
  type ForestOptions,
  fitForest,
  fitTree,
  forestImportance,
  predictForest,
  predictTree,
  type RandomForest,
  type RegressionTree,
  type TreeOptions,
  treeImportance,
} from "./selection/forest.js";
export {
  type CorrelationDrop,
  correlationFilter,
  type PermutationResult,
  pearsonMatrix,
  permutationImportance,
} from "./selection/importance.js";
export { rankingCsv, selectionHtml, writeSelectionArtifacts } from "./selection/report.js";
export {
  type RankedFeature,
  type SelectionResult,
  type SelectOptions,
  selectFeatures,
  targetHorizonMs,
} from "./selection/select.js";
export {
  type ChronoSplit,
  chronoManifest,
  chronoSplit,
  type Fold,
  type LabelWindows,
  purgedKFold,
  purgedKFoldManifest,
  rowIntervals,
  walkForwardFolds,
} from "./selection/splits.js";
export { trainXgboost, type XgbModel, XgboostError } from "./selection/xgboost.js";
export { asOfIndices } from "./store/asof.js";
export {
  type StoreDiffOptions,
  type StoreDiffResult,
  storeDiff,
  type ValueDifference,
} from "./store/diff.js";
export { EMBEDDED_FILE, EmbeddedOnlineStore, type EmbeddedStoreOptions } from "./store/embedded-store.js";
export {
  frameToStoreColumns,
  type MaterializeOptions,
  type MaterializeReport,
  materialize,
  readStoreFrame,
  type StoreFrame,
} from "./store/materialize.js";
export {
  type HistoricalOptions,
  type HistoricalSetRef,
  OFFLINE_DIR,
  type OfflineRegisterOptions,
  type OfflineSetManifest,
  OfflineStore,
  parseSetRef,
} from "./store/offline.js";
export { type OnlineStoreLocation, openOnlineStore } from "./store/open.js";
export { RedisOnlineStore, type RedisStoreOptions } from "./store/redis-store.js";
export { StoreRowWriter, type StoreRowWriterOptions, type WriterStats } from "./store/row-writer.js";
export {
  compareKeys,
  DEFAULT_TTL_SECONDS,
  ENTITY_KEYS,
  type Entity,
  type FeatureSetDef,
  type FeatureSetMeta,
  type FeatureSetRef,
  type OnlineStore,
  type RowKey,
  StoreError,
} from "./store/types.js";
export { type TraderArtifacts, writeTraderArtifacts } from "./trader/artifacts.js";
export {
  buildTraderFeatureFrame,
  type DataQualityFlag,
  type TraderFrame,
  type TraderFrameRequest,
  type TraderFrameSource,
} from "./trader/frame.js";
export { type QualityStats, qualityStats } from "./trader/quality.js";
export { buildReplay1m, type Replay1m, type Replay1mRequest } from "./trader/replay.js";
export { readReplayFile, replayFrameRows } from "./trader/replay-io.js";
export {
  assignSplits,
  generateSplitManifest,
  type PurgedFoldIntervals,
  parseSplitManifest,
  type SplitManifest,
  splitManifestJson,
} from "./trader/splits.js";

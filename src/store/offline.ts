/**
 * The offline feature store (issue 11, item 5): feature frames registered in the lake as versioned
 * feature sets, and point-in-time training retrieval (`getHistoricalFeatures`).
 *
 * Layout (beside the lake's tables, like `_meta` and `_quarantine`):
 *
 *   <lake>/_feature_sets/<name>/v<version>/exchange=<ex>/symbol=<sym>/features.parquet
 *   <lake>/_feature_sets/<name>/v<version>/exchange=<ex>/symbol=<sym>/manifest.json
 *
 * One Parquet file per entity (its rows in key order: available_at_us, ts_event_us, bar_index) and its
 * manifest (`OfflineSetManifest`: schema with units, rows, available_at_us range, file sha256, canonical
 * content hash, source such as the feature config hash or pipeline request hash, code version). Both are
 * written to a temp name and renamed, the manifest last: a part is visible only once complete (as the
 * lake's ingest manifests). A version is immutable: every entity of a version has the same columns, and
 * registering different content for an entity that a version holds needs a new version (the default
 * when no version is given; the same content again is a no-op).
 *
 * `getHistoricalFeatures(entityRows, featureSets, { maxStalenessUs })`: for each entity row (exchange,
 * symbol, event time t in µs), the row of each feature set with the greatest key whose
 * available_at_us ≤ t (store/asof.ts) — what a model could have known at t; null when there is none or
 * when t − available_at_us > maxStalenessUs. Output: the entity rows' columns, in their order, then
 * `<set>__<column>` for every column of every set (the set's spine columns included, so
 * `<set>__available_at_us` shows each value's age).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { usToIso } from "../core/time.js";
import { type CodeVersion, codeVersion } from "../core/version.js";
import { canonicalColumnsHash } from "../engine/hash.js";
import { type FrameColumn, typedColumnsToFrame } from "../features/frame.js";
import { sha256File } from "../lake/hash.js";
import { writeFileAtomic } from "../lake/layout.js";
import { asOfIndices } from "./asof.js";
import { checkEntity, checkName, keyLayout, metaOf } from "./codec.js";
import { frameToStoreColumns, readStoreFrame } from "./materialize.js";
import { compareKeys, type Entity } from "./types.js";

/** Directory of the offline feature sets inside a lake. */
export const OFFLINE_DIR = "_feature_sets";

/** The manifest of one entity's part of an offline feature set version. */
export interface OfflineSetManifest {
  readonly kind: "pointline.offline_feature_set";
  readonly version: 1;
  readonly name: string;
  readonly set_version: number;
  readonly entity: Entity;
  readonly columns: readonly FrameColumn[];
  readonly rows: number;
  /** available_at_us of the first and last row (null when empty), µs. */
  readonly first_available_at_us: number | null;
  readonly last_available_at_us: number | null;
  /** The Parquet file, `path` relative to the manifest's directory. */
  readonly data: { readonly path: string; readonly sha256: string; readonly bytes: number };
  /** `canonicalColumnsHash` of the rows (engine/hash.ts): equal content, equal hash. */
  readonly content_sha256: string;
  readonly source: Readonly<Record<string, string | number | null>>;
  readonly registered_at: string;
  readonly code_version: CodeVersion;
}

/** What `OfflineStore.register` takes. */
export interface OfflineRegisterOptions {
  readonly name: string;
  /** Default: the highest version if its schema matches and it lacks this entity, else a new one. */
  readonly version?: number;
  /** Default: the instrument named by the frame file's manifest. */
  readonly entity?: Entity;
  /** A Parquet feature frame (`readStoreFrame` rules: manifest units, labels dropped) or a DataFrame. */
  readonly frame: string | pl.DataFrame;
  /** Units by column for a DataFrame (default ""). */
  readonly units?: ReadonlyMap<string, string>;
  readonly source?: Readonly<Record<string, string | number | null>>;
}

/** A feature set named for retrieval: "name", "name@version", or an object (columns: a subset). */
export type HistoricalSetRef =
  | string
  | { readonly name: string; readonly version?: number; readonly columns?: readonly string[] };

/** Options of `getHistoricalFeatures`. */
export interface HistoricalOptions {
  /** Values older than this at t (t − available_at_us > maxStalenessUs) are null; default: no limit. */
  readonly maxStalenessUs?: number;
  /** Column of the entity rows holding the event time t, integer µs (default "event_time_us"). */
  readonly timeColumn?: string;
  readonly exchangeColumn?: string;
  readonly symbolColumn?: string;
}

interface LoadedPart {
  readonly manifest: OfflineSetManifest;
  readonly values: readonly Float64Array[];
  readonly availableAt: Float64Array;
}

/** `name@3` → { name, version }. */
export function parseSetRef(s: string): { name: string; version?: number } {
  const m = /^([^@]+)(?:@(\d+))?$/.exec(s);
  if (!m) throw new ConfigError(`feature set ${JSON.stringify(s)}: expected NAME or NAME@VERSION`);
  return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, version: Number(m[2]) };
}

/** The offline store of one lake (see the module doc). */
export class OfflineStore {
  readonly root: string;
  private readonly cache = new Map<string, LoadedPart>();

  constructor(lakeRoot: string) {
    this.root = resolve(lakeRoot);
  }

  private setDir(name: string, version: number): string {
    return join(this.root, OFFLINE_DIR, checkName("feature set name", name), `v${version}`);
  }

  private partDir(name: string, version: number, e: Entity): string {
    checkEntity(e);
    return join(this.setDir(name, version), `exchange=${e.exchange}`, `symbol=${e.symbol}`);
  }

  /** Versions of `name` that hold at least one part, ascending. */
  versions(name: string): number[] {
    const dir = join(this.root, OFFLINE_DIR, checkName("feature set name", name));
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((d) => /^v\d+$/.test(d))
      .map((d) => Number(d.slice(1)))
      .filter((v) => this.manifests(name, v).length > 0)
      .sort((a, b) => a - b);
  }

  /** The committed part manifests of a version (every entity). */
  manifests(name: string, version: number): OfflineSetManifest[] {
    const dir = this.setDir(name, version);
    const out: OfflineSetManifest[] = [];
    if (!existsSync(dir)) return out;
    for (const ex of readdirSync(dir)
      .filter((d) => d.startsWith("exchange="))
      .sort())
      for (const sym of readdirSync(join(dir, ex))
        .filter((d) => d.startsWith("symbol="))
        .sort()) {
        const m = join(dir, ex, sym, "manifest.json");
        if (existsSync(m)) out.push(JSON.parse(readFileSync(m, "utf8")) as OfflineSetManifest);
      }
    return out;
  }

  /** Every part of every version of every set, by name, version, exchange, symbol. */
  list(): OfflineSetManifest[] {
    const dir = join(this.root, OFFLINE_DIR);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .sort()
      .flatMap((name) => this.versions(name).flatMap((v) => this.manifests(name, v)));
  }

  /**
   * Registers a frame as one entity's part of a feature set version (see the module doc).
   * @returns the part's manifest (the existing one when the same content is registered again)
   * @throws ConfigError for a bad name/entity, a schema without available_at_us, a schema differing from
   *   the version's, different content for an entity of an explicit version, or as `readStoreFrame`
   */
  async register(o: OfflineRegisterOptions): Promise<OfflineSetManifest> {
    checkName("feature set name", o.name);
    let columns: readonly FrameColumn[];
    let values: Float64Array[];
    let height: number;
    let entity = o.entity ?? null;
    let source: Record<string, string | number | null> = {};
    if (typeof o.frame === "string") {
      const f = readStoreFrame(o.frame);
      ({ columns, height } = f);
      values = [...f.values];
      entity ??= f.entity;
      source = { ...f.source };
    } else {
      ({ columns, values } = frameToStoreColumns(o.frame, `feature set ${o.name}`, o.units));
      height = o.frame.height;
    }
    if (entity === null)
      throw new ConfigError(
        `feature set ${o.name}: give the entity (exchange, symbol); the frame names none`,
      );
    checkEntity(entity);
    source = { ...source, ...(o.source ?? {}) };
    // the schema rules of the online store (available_at_us, Int64 keys)
    metaOf({ name: o.name, columns }, 0);
    // rows in key order (a frame is usually in it already)
    const l = keyLayout(columns);
    const key = (i: number) => ({
      availableAtUs: values[l.availableAt]![i]!,
      tsEventUs: l.tsEvent < 0 ? 0 : values[l.tsEvent]![i]!,
      barIndex: l.barIndex < 0 ? 0 : values[l.barIndex]![i]!,
    });
    for (let i = 0; i < height; i++) {
      const a = values[l.availableAt]![i]!;
      if (!Number.isInteger(a))
        throw new ConfigError(
          `feature set ${o.name}: row ${i} has available_at_us ${a} (must be an integer)`,
        );
    }
    let sorted = true;
    for (let i = 1; i < height && sorted; i++) if (compareKeys(key(i - 1), key(i)) > 0) sorted = false;
    if (!sorted) {
      const perm = Array.from({ length: height }, (_, i) => i).sort((x, y) => compareKeys(key(x), key(y)));
      values = values.map((v) => Float64Array.from(perm, (p) => v[p]!));
    }
    const valueMap = new Map(columns.map((c, k) => [c.name, values[k]!]));
    const content = canonicalColumnsHash(columns, valueMap, height);
    // the version
    const versions = this.versions(o.name);
    const schemaOf = (v: number): readonly FrameColumn[] | null =>
      this.manifests(o.name, v)[0]?.columns ?? null;
    const sameSchema = (a: readonly FrameColumn[] | null): boolean =>
      a === null ||
      (a.length === columns.length &&
        a.every(
          (c, k) =>
            c.name === columns[k]!.name && c.dtype === columns[k]!.dtype && c.unit === columns[k]!.unit,
        ));
    const existing = (v: number): OfflineSetManifest | null => {
      const m = join(this.partDir(o.name, v, entity), "manifest.json");
      return existsSync(m) ? (JSON.parse(readFileSync(m, "utf8")) as OfflineSetManifest) : null;
    };
    let version = o.version;
    if (version !== undefined) {
      if (!Number.isSafeInteger(version) || version < 1)
        throw new ConfigError(`feature set ${o.name}: version must be an integer ≥ 1, got ${version}`);
      if (!sameSchema(schemaOf(version)))
        throw new ConfigError(
          `feature set ${o.name} v${version} has another schema than this frame: register a new version`,
        );
      const ex = existing(version);
      if (ex !== null) {
        if (ex.content_sha256 === content) return ex;
        throw new ConfigError(
          `feature set ${o.name} v${version} already holds other rows for ${entity.exchange}/${entity.symbol} (versions are immutable): register a new version`,
        );
      }
    } else {
      const last = versions.at(-1);
      if (last !== undefined && sameSchema(schemaOf(last))) {
        const ex = existing(last);
        if (ex !== null && ex.content_sha256 === content) return ex;
        version = ex === null ? last : last + 1;
      } else version = (last ?? 0) + 1;
    }
    // write: Parquet to a temp name, rename; then the manifest (atomic), last
    const dir = this.partDir(o.name, version, entity);
    const df = typedColumnsToFrame(columns, values);
    const tmp = join(dir, `.tmp-${process.pid}-${Date.now()}.parquet`);
    const data = join(dir, "features.parquet");
    await mkdir(dir, { recursive: true });
    try {
      df.writeParquet(tmp, { compression: "zstd" });
      await rename(tmp, data);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const { sha256, bytes } = await sha256File(data);
    const avail = values[l.availableAt]!;
    const manifest: OfflineSetManifest = {
      kind: "pointline.offline_feature_set",
      version: 1,
      name: o.name,
      set_version: version,
      entity: { exchange: entity.exchange, symbol: entity.symbol },
      columns,
      rows: height,
      first_available_at_us: height > 0 ? avail[0]! : null,
      last_available_at_us: height > 0 ? avail[height - 1]! : null,
      data: { path: "features.parquet", sha256, bytes },
      content_sha256: content,
      source,
      registered_at: new Date().toISOString(),
      code_version: codeVersion(),
    };
    await writeFileAtomic(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }

  /**
   * One entity's part of a version, its columns as float64 (NaN = null); cached.
   * @throws ConfigError when the set, version or entity is not registered, or the file's sha256 differs
   *   from its manifest's (a changed or corrupt file)
   */
  async load(name: string, version: number | undefined, entity: Entity): Promise<LoadedPart> {
    const v = version ?? this.versions(name).at(-1);
    if (v === undefined)
      throw new ConfigError(`no offline feature set ${name} in ${join(this.root, OFFLINE_DIR)}`);
    const ck = `${name}@${v}/${entity.exchange}/${entity.symbol}`;
    const hit = this.cache.get(ck);
    if (hit) return hit;
    const dir = this.partDir(name, v, entity);
    const mpath = join(dir, "manifest.json");
    if (!existsSync(mpath)) {
      const have = this.manifests(name, v).map((m) => `${m.entity.exchange}/${m.entity.symbol}`);
      throw new ConfigError(
        `offline feature set ${name} v${v} has no rows for ${entity.exchange}/${entity.symbol} (entities: ${have.join(", ") || "none"})`,
      );
    }
    const manifest = JSON.parse(readFileSync(mpath, "utf8")) as OfflineSetManifest;
    const file = join(dir, manifest.data.path);
    const { sha256 } = await sha256File(file);
    if (sha256 !== manifest.data.sha256)
      throw new ConfigError(`${file}: sha256 ${sha256} differs from its manifest's ${manifest.data.sha256}`);
    const df = pl.readParquet(file);
    const { values } = frameToStoreColumns(df, file);
    const k = manifest.columns.findIndex((c) => c.name === "available_at_us");
    const part: LoadedPart = { manifest, values, availableAt: values[k]! };
    this.cache.set(ck, part);
    return part;
  }

  /**
   * Point-in-time retrieval (see the module doc): `entityRows` must have the exchange, symbol and time
   * columns; the output has its columns and rows, in order, plus `<set>__<column>` per requested column.
   * @throws ConfigError for a missing or null entity/time column value (naming the row), an unknown set,
   *   version, entity or column, or two requests producing the same output column
   */
  async getHistoricalFeatures(
    entityRows: pl.DataFrame,
    featureSets: readonly HistoricalSetRef[],
    opts: HistoricalOptions = {},
  ): Promise<pl.DataFrame> {
    const tc = opts.timeColumn ?? "event_time_us";
    const xc = opts.exchangeColumn ?? "exchange";
    const sc = opts.symbolColumn ?? "symbol";
    for (const c of [xc, sc, tc])
      if (!entityRows.columns.includes(c))
        throw new ConfigError(`entity rows: no column ${c} (columns: ${entityRows.columns.join(", ")})`);
    const maxStale = opts.maxStalenessUs ?? Number.POSITIVE_INFINITY;
    if (!(maxStale >= 0)) throw new ConfigError(`maxStalenessUs must be ≥ 0, got ${maxStale}`);
    const n = entityRows.height;
    const exch = entityRows.getColumn(xc).toArray() as (string | null)[];
    const syms = entityRows.getColumn(sc).toArray() as (string | null)[];
    const tdt = entityRows.getColumn(tc).dtype;
    if (!(tdt.equals(pl.Int64) || tdt.equals(pl.Float64) || tdt.equals(pl.Int32)))
      throw new ConfigError(`entity rows: ${tc} must be integer µs since the epoch, got ${String(tdt)}`);
    const times = entityRows
      .select(pl.col(tc).cast(pl.Float64).fillNull(pl.lit(Number.NaN)))
      .getColumn(tc)
      .toTypedArray() as Float64Array;
    const groups = new Map<string, { entity: Entity; rows: number[] }>();
    for (let i = 0; i < n; i++) {
      const x = exch[i];
      const s = syms[i];
      const t = times[i]!;
      if (typeof x !== "string" || typeof s !== "string" || !Number.isInteger(t))
        throw new ConfigError(
          `entity rows: row ${i} has ${xc}=${x}, ${sc}=${s}, ${tc}=${t} (each must be set; the time an integer µs)`,
        );
      const key = `${x}\u0000${s}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { entity: { exchange: x, symbol: s }, rows: [] };
        groups.set(key, g);
      }
      g.rows.push(i);
    }
    const outCols: FrameColumn[] = [];
    const outVals: Float64Array[] = [];
    const taken = new Set(entityRows.columns);
    for (const ref of featureSets) {
      const r = typeof ref === "string" ? parseSetRef(ref) : ref;
      const want = typeof ref === "string" ? undefined : ref.columns;
      const version = r.version ?? this.versions(r.name).at(-1);
      if (version === undefined)
        throw new ConfigError(`no offline feature set ${r.name} in ${join(this.root, OFFLINE_DIR)}`);
      const schema = this.manifests(r.name, version)[0]?.columns;
      if (schema === undefined)
        throw new ConfigError(`offline feature set ${r.name} has no version ${version}`);
      const picks = (want ?? schema.map((c) => c.name)).map((name) => {
        const k = schema.findIndex((c) => c.name === name);
        if (k < 0) throw new ConfigError(`offline feature set ${r.name} v${version} has no column ${name}`);
        return k;
      });
      const base = outCols.length;
      for (const k of picks) {
        const c = schema[k]!;
        const name = `${r.name}__${c.name}`;
        if (taken.has(name))
          throw new ConfigError(`getHistoricalFeatures: output column ${name} appears twice`);
        taken.add(name);
        outCols.push({ name, dtype: c.dtype, unit: c.unit });
        outVals.push(new Float64Array(n).fill(Number.NaN));
      }
      for (const g of groups.values()) {
        const part = await this.load(r.name, version, g.entity);
        const ts = Float64Array.from(g.rows, (i) => times[i]!);
        const idx = asOfIndices(part.availableAt, ts, maxStale);
        picks.forEach((k, p) => {
          const src = part.values[k]!;
          const dst = outVals[base + p]!;
          for (let j = 0; j < idx.length; j++) {
            const at = idx[j]!;
            if (at >= 0) dst[g.rows[j]!] = src[at]!;
          }
        });
      }
    }
    if (outCols.length === 0) return entityRows;
    const features: pl.DataFrame = typedColumnsToFrame(outCols, outVals);
    return pl.concat([entityRows, features], { how: "horizontal" });
  }
}

/** A one-line description of a part (CLI). */
export function describePart(m: OfflineSetManifest): string {
  const range =
    m.first_available_at_us === null
      ? "empty"
      : `${usToIso(m.first_available_at_us)} … ${usToIso(m.last_available_at_us!)}`;
  return `${m.name}@${m.set_version} ${m.entity.exchange}/${m.entity.symbol}: ${m.rows} rows × ${m.columns.length} columns, available ${range}`;
}

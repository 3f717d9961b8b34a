/**
 * Row encoding and validation shared by the online-store backends (see store/types.ts for the model).
 *
 * - **Payload**: a row's values as little-endian float64, 8 bytes per column, in schema order (NaN =
 *   null). Bit for bit: every value decodes `Object.is`-equal to the value encoded, integers up to 2^53
 *   exactly. 100 columns = 800 bytes.
 * - **Ordered key**: (available_at_us, ts_event_us, bar_index) as three 8-byte big-endian order-preserving
 *   float64 encodings (sign bit flipped for x ≥ 0, all bits flipped for x < 0), so the bytewise order of
 *   two keys is their numeric order. The Redis backend prefixes each sorted-set member with it (equal
 *   scores are ordered by member bytes).
 */
import { ConfigError } from "../core/errors.js";
import type { FrameColumn } from "../features/frame.js";
import {
  DEFAULT_TTL_SECONDS,
  ENTITY_KEYS,
  type Entity,
  type FeatureSetDef,
  type FeatureSetMeta,
  type RowKey,
} from "./types.js";

/** Bytes of an ordered key. */
export const KEY_BYTES = 24;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const MAX_EXACT = 2 ** 53;

/** @throws ConfigError unless `s` is a name the store can put in keys and paths (`what` names it). */
export function checkName(what: string, s: string): string {
  if (typeof s !== "string" || !NAME_RE.test(s) || s.length > 200)
    throw new ConfigError(
      `${what} ${JSON.stringify(s)}: use letters, digits, '_', '-' and '.' (not first), at most 200 characters`,
    );
  return s;
}

/** @throws ConfigError unless exchange and symbol are valid names. */
export function checkEntity(e: Entity): Entity {
  checkName("exchange", e.exchange);
  checkName("symbol", e.symbol);
  return e;
}

/**
 * The normalized metadata of a definition (defaults applied).
 * @throws ConfigError for a bad name, version, TTL, duplicate column, bad dtype, or a missing or
 *   non-Int64 `available_at_us` / `ts_event_us` / `bar_index` column.
 */
export function metaOf(def: FeatureSetDef, createdAtMs: number): FeatureSetMeta {
  checkName("feature set name", def.name);
  const version = def.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1)
    throw new ConfigError(`feature set ${def.name}: version must be an integer ≥ 1, got ${version}`);
  const ttlSeconds = def.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1)
    throw new ConfigError(`feature set ${def.name}: ttlSeconds must be an integer ≥ 1, got ${ttlSeconds}`);
  if (def.columns.length === 0) throw new ConfigError(`feature set ${def.name}: no columns`);
  const seen = new Set<string>();
  const columns: FrameColumn[] = def.columns.map((c, k) => {
    if (typeof c.name !== "string" || c.name === "")
      throw new ConfigError(`feature set ${def.name}: column ${k} has no name`);
    if (seen.has(c.name)) throw new ConfigError(`feature set ${def.name}: duplicate column ${c.name}`);
    seen.add(c.name);
    if (c.dtype !== "Int64" && c.dtype !== "Float64")
      throw new ConfigError(
        `feature set ${def.name}: column ${c.name} dtype must be Int64 or Float64, got ${String(c.dtype)}`,
      );
    return { name: c.name, dtype: c.dtype, unit: typeof c.unit === "string" ? c.unit : "" };
  });
  for (const key of ["available_at_us", "ts_event_us", "bar_index"]) {
    const c = columns.find((x) => x.name === key);
    if (c === undefined) {
      if (key === "available_at_us")
        throw new ConfigError(`feature set ${def.name}: no available_at_us column (rows are indexed by it)`);
    } else if (c.dtype !== "Int64")
      throw new ConfigError(`feature set ${def.name}: column ${key} must be Int64, got ${c.dtype}`);
  }
  return {
    name: def.name,
    version,
    columns,
    entityKeys: [...ENTITY_KEYS],
    ttlSeconds,
    description: def.description ?? null,
    source: def.source ?? null,
    createdAtMs,
  };
}

/**
 * Why two definitions of one version differ (column, TTL, description or source), or null if equal.
 */
export function definitionDifference(a: FeatureSetMeta, b: FeatureSetMeta): string | null {
  if (a.columns.length !== b.columns.length)
    return `${a.columns.length} columns registered, ${b.columns.length} given`;
  for (let k = 0; k < a.columns.length; k++) {
    const x = a.columns[k]!;
    const y = b.columns[k]!;
    if (x.name !== y.name || x.dtype !== y.dtype || x.unit !== y.unit)
      return `column ${k}: registered ${x.name} ${x.dtype} [${x.unit}], given ${y.name} ${y.dtype} [${y.unit}]`;
  }
  if (a.ttlSeconds !== b.ttlSeconds) return `ttlSeconds: registered ${a.ttlSeconds}, given ${b.ttlSeconds}`;
  if (a.description !== b.description) return "description differs";
  if (JSON.stringify(a.source) !== JSON.stringify(b.source)) return "source differs";
  return null;
}

/** Positions of the key columns in a schema (-1: absent, then 0 is used). */
export interface KeyLayout {
  readonly availableAt: number;
  readonly tsEvent: number;
  readonly barIndex: number;
  /** Positions of the Int64 columns (checked to hold exact integers). */
  readonly ints: Int32Array;
  readonly width: number;
}

const layouts = new WeakMap<readonly FrameColumn[], KeyLayout>();

/** The key layout of a schema (cached per columns array). */
export function keyLayout(columns: readonly FrameColumn[]): KeyLayout {
  let l = layouts.get(columns);
  if (l === undefined) {
    const at = (n: string) => columns.findIndex((c) => c.name === n);
    const ints: number[] = [];
    columns.forEach((c, k) => {
      if (c.dtype === "Int64") ints.push(k);
    });
    l = {
      availableAt: at("available_at_us"),
      tsEvent: at("ts_event_us"),
      barIndex: at("bar_index"),
      ints: Int32Array.from(ints),
      width: columns.length,
    };
    layouts.set(columns, l);
  }
  return l;
}

/** The key of a row (no checks). */
export function rowKey(l: KeyLayout, row: Float64Array): RowKey {
  return {
    availableAtUs: row[l.availableAt]!,
    tsEventUs: l.tsEvent < 0 ? 0 : row[l.tsEvent]!,
    barIndex: l.barIndex < 0 ? 0 : row[l.barIndex]!,
  };
}

/**
 * Checks a row before it is written: its length, its key columns (integers, not null) and every Int64
 * value (null or an integer with |x| ≤ 2^53).
 * @throws ConfigError naming the feature set, the row (`i`, 0-based in the call) and the column.
 */
export function checkRow(set: FeatureSetMeta, l: KeyLayout, row: Float64Array, i: number): void {
  if (row.length !== l.width)
    throw new ConfigError(
      `feature set ${set.name} v${set.version}: row ${i} has ${row.length} values, the schema ${l.width} columns`,
    );
  for (const k of [l.availableAt, l.tsEvent, l.barIndex]) {
    if (k >= 0 && !Number.isInteger(row[k]!))
      throw new ConfigError(
        `feature set ${set.name} v${set.version}: row ${i} column ${set.columns[k]!.name} = ${row[k]}: a row key must be an integer`,
      );
  }
  const ints = l.ints;
  for (let j = 0; j < ints.length; j++) {
    const x = row[ints[j]!]!;
    if (!Number.isNaN(x) && !(Number.isInteger(x) && Math.abs(x) <= MAX_EXACT))
      throw new ConfigError(
        `feature set ${set.name} v${set.version}: row ${i} column ${set.columns[ints[j]!]!.name} = ${x}: an Int64 value must be an integer with |x| ≤ 2^53`,
      );
  }
}

const f64 = new Float64Array(1);
const u8 = new Uint8Array(f64.buffer);

/** Writes x as 8 order-preserving big-endian bytes at `buf[off]`. */
function putOrdered(buf: Uint8Array, off: number, x: number): void {
  f64[0] = x === 0 ? 0 : x; // −0 and +0 are the same key
  const neg = (u8[7]! & 0x80) !== 0;
  for (let b = 0; b < 8; b++) {
    const v = u8[7 - b]!;
    buf[off + b] = neg ? ~v & 0xff : b === 0 ? v ^ 0x80 : v;
  }
}

/** The 24-byte ordered encoding of a key (see the module doc). */
export function encodeKey(key: RowKey, out: Uint8Array = new Uint8Array(KEY_BYTES), off = 0): Uint8Array {
  putOrdered(out, off, key.availableAtUs);
  putOrdered(out, off + 8, key.tsEventUs);
  putOrdered(out, off + 16, key.barIndex);
  return out;
}

/** A row's payload: its values as little-endian float64 bytes, after `prefix` bytes left for a key. */
export function encodePayload(row: Float64Array, prefix = 0): Buffer {
  const out = Buffer.allocUnsafe(prefix + row.length * 8);
  const bytes = new Uint8Array(row.buffer, row.byteOffset, row.byteLength);
  // the machine is little-endian (checked at load): the bytes are the payload
  out.set(bytes, prefix);
  return out;
}

/**
 * Decodes a payload of `width` values starting at `buf[off]` into a new Float64Array.
 * @throws StoreError-worthy RangeError (`what` names the source) when the length is wrong.
 */
export function decodePayload(buf: Uint8Array, off: number, width: number, what: string): Float64Array {
  if (buf.length - off !== width * 8)
    throw new RangeError(`${what}: stored row has ${buf.length - off} bytes, the schema needs ${width * 8}`);
  const out = new Float64Array(width);
  new Uint8Array(out.buffer).set(buf.subarray(off));
  return out;
}

if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f)
  throw new Error("pointline's store encoding assumes a little-endian machine");

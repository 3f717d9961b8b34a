/**
 * `Lake`: a handle on one lake, opened once and passed down (engine sources, feature frames, queries,
 * pipeline runs and all their gate re-runs), instead of a path string each stage re-opens. It holds the
 * resolved root, the symbol registry and the committed file manifests as of `open` — a consistent view:
 * an ingest committed after `open` is not seen until `refresh()`, so every re-run of one pipeline reads
 * exactly the same partitions.
 *
 * Functions that take a lake accept `string | Lake` (`LakeRef`); `Lake.from` opens a path once.
 */
import { resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import type { Increment } from "../core/fixed.js";
import { usToIso } from "../core/time.js";
import type { TableName } from "../schema/tables.js";
import { type CoverageRow, coverageOf, loadManifests, partsFor } from "./catalog.js";
import type { FileManifest, PartInfo } from "./manifest.js";
import { SymbolRegistry } from "./registry.js";
import { instrumentScale, type ScalePlan } from "./scale.js";

/** A lake path or an open handle. */
export type LakeRef = string | Lake;

/**
 * An instrument's increments for engine reads (natural units per fixed-point increment): the common
 * scale of its registry versions (lake/scale.ts), in which every row a replay reads is delivered.
 */
export interface LakeInstrument {
  readonly exchange: string;
  readonly symbol: string;
  /** The registry version valid at the time asked for. */
  readonly symbolId: number;
  /** Price of one price increment, e.g. 0.1 (USDT). */
  readonly priceIncrement: number;
  /** Quantity of one amount increment, e.g. 0.001 (BTC). */
  readonly amountIncrement: number;
  /** The same increments as exact decimals (for exact unit conversion, see engine/units.ts). */
  readonly increments: { readonly price: Increment; readonly amount: Increment };
  /** The scale plan: target increments and the integer factor of every coarser version. */
  readonly scale: ScalePlan;
}

/** An open lake (see the module doc). */
export class Lake {
  private constructor(
    /** Absolute root directory. */
    readonly root: string,
    readonly registry: SymbolRegistry,
    /** Committed file manifests, in file-name order. */
    readonly manifests: readonly FileManifest[],
  ) {}

  private readonly scales = new Map<string, ScalePlan>();

  /** Opens the lake at `root`: registry and manifests read once. @throws ConfigError on a corrupt registry. */
  static async open(root: string): Promise<Lake> {
    const abs = resolve(root);
    const [registry, manifests] = await Promise.all([SymbolRegistry.open(abs), loadManifests(abs)]);
    return new Lake(abs, registry, manifests);
  }

  /** `ref` itself when it is a handle, else `Lake.open(ref)`. */
  static async from(ref: LakeRef): Promise<Lake> {
    return ref instanceof Lake ? ref : Lake.open(ref);
  }

  /** The root directory of a path or handle (no IO). */
  static rootOf(ref: LakeRef): string {
    return ref instanceof Lake ? ref.root : resolve(ref);
  }

  /** A new handle with the registry and manifests read again. */
  refresh(): Promise<Lake> {
    return Lake.open(this.root);
  }

  /** Parts of one table/exchange/symbol whose rows may fall in [fromUs, toUs), in first-ts order. */
  parts(table: TableName, exchange: string, symbol: string, fromUs: number, toUs: number): PartInfo[] {
    return partsFor(this.manifests, table, exchange, symbol, fromUs, toUs);
  }

  /**
   * `exchange`/`symbol` as engine reads see it: the registry version valid at `atUs` must exist, and the
   * increments are the instrument's common scale over all its versions (`scale`), the same for every
   * range, so a run and its re-runs convert alike. Rows of a coarser version are multiplied into it
   * exactly when read (lake/scale.ts).
   * @throws ConfigError naming the instrument when the registry has none at that time, or its versions
   *   have no exact common scale.
   */
  instrument(exchange: string, symbol: string, atUs: number): LakeInstrument {
    const r = this.registry.lookup(exchange, symbol, atUs);
    if (!r)
      throw new ConfigError(`no symbol ${exchange}/${symbol} in the lake's registry at ${usToIso(atUs)}`);
    const scale = this.scale(exchange, symbol);
    return {
      exchange,
      symbol,
      symbolId: r.entry.symbol_id,
      priceIncrement: scale.priceIncrement,
      amountIncrement: scale.amountIncrement,
      increments: { price: scale.price, amount: scale.amount },
      scale,
    };
  }

  /** The common scale of all registry versions of `exchange`/`symbol` (cached). @throws ConfigError (see `instrumentScale`). */
  scale(exchange: string, symbol: string): ScalePlan {
    const key = `${exchange}\u0000${symbol}`;
    let s = this.scales.get(key);
    if (!s) {
      s = instrumentScale(this.registry, exchange, symbol);
      this.scales.set(key, s);
    }
    return s;
  }

  /** Rows, time range, partitions and files per exchange/symbol/table (see `dataCoverage`). */
  coverage(): CoverageRow[] {
    return coverageOf(this.manifests);
  }
}

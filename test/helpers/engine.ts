/**
 * Engine test helpers: a snapshot/restore probe that swaps an operator for a freshly restored copy
 * mid-run (its output must be bitwise identical to an uninterrupted run), and value comparisons for
 * naive references.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pl from "nodejs-polars";
import type { OperatorReads } from "../../src/engine/inputs.js";
import type {
  EventCursor,
  Operator,
  OperatorContext,
  OutputSpec,
  SourceRole,
  SpineRow,
} from "../../src/engine/operator.js";
import { featureCatalog } from "../../src/features/catalog.js";
import type { FeatureRunConfig } from "../../src/features/config.js";
import type { FamilyDef } from "../../src/features/family.js";

/**
 * Wraps the operator of `make()`. After the emits numbered in `atRows` (1-based) and after every
 * `everyEvents` events, it snapshots the inner operator, round-trips the state through JSON text, restores
 * it into a fresh operator and continues with that one.
 */
export class SnapshotProbe implements Operator {
  readonly id: string;
  readonly inputs: readonly SourceRole[];
  readonly reads: OperatorReads | undefined;
  readonly outputs: readonly OutputSpec[];
  swaps = 0;
  private inner: Operator;
  private ctx: OperatorContext | undefined;
  private rows = 0;
  private events = 0;

  constructor(
    private readonly make: () => Operator,
    private readonly atRows: readonly number[],
    private readonly everyEvents = 0,
  ) {
    this.inner = make();
    this.id = `probe(${this.inner.id})`;
    this.inputs = this.inner.inputs;
    this.reads = this.inner.reads;
    this.outputs = this.inner.outputs;
  }

  init(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.inner.init?.(ctx);
  }

  onEvent(ev: EventCursor): void {
    this.inner.onEvent(ev);
    if (this.everyEvents > 0 && ++this.events % this.everyEvents === 0) this.swap();
  }

  emit(row: SpineRow, out: readonly Float64Array[], r: number): void {
    this.inner.emit(row, out, r);
    if (this.atRows.includes(++this.rows)) this.swap();
  }

  discardBar(): void {
    this.inner.discardBar?.();
  }

  snapshot() {
    return this.inner.snapshot();
  }

  restore(): void {
    throw new Error("SnapshotProbe is not restorable");
  }

  private swap(): void {
    const state = JSON.parse(JSON.stringify(this.inner.snapshot()));
    const fresh = this.make();
    if (this.ctx) fresh.init?.(this.ctx);
    fresh.restore(state);
    this.inner = fresh;
    this.swaps++;
  }
}

/** A FamilyDef whose operator is wrapped in a SnapshotProbe (for buildFeatureFrame({ families })). */
export function probedFamily(
  f: FamilyDef,
  atRows: readonly number[],
  everyEvents = 0,
): FamilyDef & { probes: SnapshotProbe[] } {
  const probes: SnapshotProbe[] = [];
  return {
    ...f,
    probes,
    create(cfg: FeatureRunConfig): Operator {
      const p = new SnapshotProbe(() => f.create(cfg), atRows, everyEvents);
      probes.push(p);
      return p;
    },
  };
}

/** Asserts two frames have the same columns, dtypes and bitwise-equal values (nulls included). */
export function assertFramesIdentical(a: pl.DataFrame, b: pl.DataFrame, label = ""): void {
  assert.deepEqual(a.columns, b.columns, `${label} columns`);
  assert.equal(a.height, b.height, `${label} rows`);
  for (const c of a.columns) {
    const x = a.getColumn(c);
    const y = b.getColumn(c);
    assert.equal(String(x.dtype), String(y.dtype), `${label} dtype of ${c}`);
    const xs = x.toArray() as unknown[];
    const ys = y.toArray() as unknown[];
    for (let i = 0; i < xs.length; i++) {
      if (!Object.is(xs[i], ys[i])) assert.fail(`${label} ${c}[${i}]: ${String(xs[i])} !== ${String(ys[i])}`);
    }
  }
}

/** A frame column as numbers with null → NaN (Int64 columns read exactly via Float64). */
export function columnValues(df: pl.DataFrame, name: string): Float64Array {
  if (df.height === 0) return new Float64Array(0);
  return Float64Array.from(
    df
      .select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN)))
      .getColumn(name)
      .toTypedArray() as Float64Array,
  );
}

/**
 * Compares an engine column with a naive reference: NaN (null) must match NaN; integer-valued
 * references must match exactly; others within `relTol` relative (absolute below 1e-300).
 */
export function assertColumnClose(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  relTol = 1e-12,
): void {
  assert.equal(actual.length, expected.length, `${name}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (!(Number.isNaN(e) && Number.isNaN(a))) assert.fail(`${name}[${i}]: engine ${a}, reference ${e}`);
      continue;
    }
    if (Number.isInteger(e) && Number.isInteger(a)) {
      if (a !== e) assert.fail(`${name}[${i}]: engine ${a}, reference ${e} (exact)`);
      continue;
    }
    const err = Math.abs(a - e) / Math.max(Math.abs(e), 1e-300);
    if (err > relTol && Math.abs(a - e) > 1e-300)
      assert.fail(`${name}[${i}]: engine ${a}, reference ${e} (rel ${err})`);
  }
}

/** Fraction of non-null (non-NaN) values of `x`, in [0, 1]; 0 for an empty `x`. */
export function nonNullRatio(x: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i]!)) k++;
  return x.length === 0 ? 0 : k / x.length;
}

/** Natural value of one price / amount increment (e.g. 0.1 USDT, 0.001 BTC), parsed from the registry's decimal text. */
export interface NaturalIncrements {
  readonly price: number;
  readonly amount: number;
}

/** The increments of `exchange`/`symbol` at `atUs` in the lake's registry file (read directly). */
export function naturalIncrements(
  lake: string,
  exchange: string,
  symbol: string,
  atUs: number,
): NaturalIncrements {
  const reg = JSON.parse(readFileSync(join(lake, "_meta", "registry.json"), "utf8")) as {
    symbols: {
      exchange: string;
      exchange_symbol: string;
      valid_from_us: number;
      valid_until_us: number | null;
      price_increment: string;
      amount_increment: string;
    }[];
  };
  const e = reg.symbols.find(
    (s) =>
      s.exchange === exchange &&
      s.exchange_symbol === symbol &&
      s.valid_from_us <= atUs &&
      (s.valid_until_us === null || atUs < s.valid_until_us),
  );
  assert.ok(e, `no registry entry for ${exchange}/${symbol}`);
  return { price: Number(e.price_increment), amount: Number(e.amount_increment) };
}

/**
 * A reference column computed in increments, expressed in the frame's units (the units rule: names
 * ending in `_int` stay in increments; price / qty increment units become quote currency / base units):
 * v × the natural increment — an independent restatement of the rule, compared within a relative
 * tolerance (the exact rounding of the engine's conversion is tested on its own).
 */
export function refInFrameUnits(
  name: string,
  operatorUnit: string,
  values: Float64Array,
  inc: NaturalIncrements,
): Float64Array {
  if (name.endsWith("_int")) return values;
  const factor =
    operatorUnit === "price increments"
      ? inc.price
      : operatorUnit === "qty increments" || operatorUnit === "qty increments per trade"
        ? inc.amount
        : operatorUnit === "price increments per qty increment"
          ? inc.price / inc.amount
          : 1;
  return factor === 1 ? values : values.map((v) => v * factor);
}

/** The operator unit of a feature column by name (window suffixes ignored), from the feature catalogue. */
export function catalogUnitOf(name: string): string {
  const key = (n: string) => n.replace(/_\d+$/, "");
  const m = featureCatalog().find((e) => key(e.name) === key(name));
  assert.ok(m, `no catalogue entry for ${name}`);
  return m.unit;
}

/**
 * Canonical content hash of a frame: sha256 over the row count and, per column, its name, dtype and a
 * sha256 of its values in row order (Float64/Int64 values as float64 little-endian bytes after a null
 * bitmap of one byte per row). Independent of Parquet/CSV encoding, compression and batch boundaries, so
 * two runs that computed the same values hash equally however they were written.
 */
import { createHash, type Hash } from "node:crypto";
import pl from "nodejs-polars";

/** Streaming form: `add` frames (same columns) in row order, then `digest`. */
export class CanonicalHasher {
  private rows = 0;
  private cols: { name: string; dtype: string; nulls: Hash; values: Hash }[] | null = null;

  add(df: pl.DataFrame): void {
    if (this.cols === null) {
      this.cols = df.columns.map((name) => ({
        name,
        dtype: String(df.getColumn(name).dtype),
        nulls: createHash("sha256"),
        values: createHash("sha256"),
      }));
    }
    this.rows += df.height;
    if (df.height === 0) return;
    for (const c of this.cols) {
      const s = df.getColumn(c.name);
      if (s.dtype.equals(pl.String) || s.dtype.equals(pl.Utf8)) {
        c.values.update(JSON.stringify(s.toArray()));
        continue;
      }
      const isNull = df
        .select(pl.col(c.name).isNull().cast(pl.UInt8))
        .getColumn(c.name)
        .toTypedArray() as Uint8Array;
      // casts: nodejs-polars types toTypedArray() as any typed array; the columns were cast to UInt8/Float64
      const vals = df
        .select(pl.col(c.name).cast(pl.Float64).fillNull(pl.lit(0)))
        .getColumn(c.name)
        .toTypedArray() as Float64Array;
      c.nulls.update(Buffer.from(isNull.buffer, isNull.byteOffset, isNull.byteLength));
      c.values.update(Buffer.from(vals.buffer, vals.byteOffset, vals.byteLength));
    }
  }

  digest(): string {
    const h = createHash("sha256").update(`rows=${this.rows};`);
    for (const c of this.cols ?? [])
      h.update(`col=${c.name}:${c.dtype}:${c.nulls.digest("hex")}:${c.values.digest("hex")};`);
    return h.digest("hex");
  }
}

/** Canonical content hash (hex sha256) of one frame; equal to `CanonicalHasher` fed the same rows in any batches. */
export function canonicalFrameHash(df: pl.DataFrame): string {
  const h = new CanonicalHasher();
  h.add(df);
  return h.digest();
}

/**
 * `canonicalFrameHash` computed straight from typed columns, without building a frame: the digest equals
 * `canonicalFrameHash` of the frame whose column `name` holds `values.get(name)` with NaN as null, cast to
 * `dtype` (Int64 columns must hold integers exactly representable in float64). About 100× cheaper than the
 * frame path for small frames, where nodejs-polars' per-expression cost dominates.
 * @throws RangeError if a column is missing or shorter than `n`.
 */
export function canonicalColumnsHash(
  columns: readonly { readonly name: string; readonly dtype: "Int64" | "Float64" }[],
  values: ReadonlyMap<string, Float64Array>,
  n: number,
): string {
  const h = createHash("sha256").update(`rows=${n};`);
  for (const c of columns) {
    const v = values.get(c.name);
    if (!v || v.length < n) throw new RangeError(`canonicalColumnsHash: column ${c.name} missing or short`);
    const nulls = new Uint8Array(n);
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      if (Number.isNaN(x)) nulls[i] = 1;
      else vals[i] = x;
    }
    const hn = createHash("sha256").update(nulls).digest("hex");
    const hv = createHash("sha256").update(new Uint8Array(vals.buffer)).digest("hex");
    h.update(`col=${c.name}:DataType(${c.dtype}):${hn}:${hv}`);
    h.update(";");
  }
  return h.digest("hex");
}

/**
 * Canonical content hash of a frame: sha256 over column names, dtypes and values in row order
 * (Float64/Int64 values as float64 little-endian bytes, null as a distinct tag). Independent of Parquet
 * encoding and compression, so two runs that computed the same values hash equally.
 */
import { createHash } from "node:crypto";
import pl from "nodejs-polars";

export function canonicalFrameHash(df: pl.DataFrame): string {
  const h = createHash("sha256");
  h.update(`rows=${df.height};`);
  for (const name of df.columns) {
    const s = df.getColumn(name);
    h.update(`col=${name}:${String(s.dtype)};`);
    if (df.height === 0) continue;
    const numeric =
      s.dtype.equals(pl.Float64) ||
      s.dtype.equals(pl.Int64) ||
      s.dtype.equals(pl.Int8) ||
      s.dtype.equals(pl.Int32);
    if (numeric) {
      const isNull = df
        .select(pl.col(name).isNull().cast(pl.UInt8))
        .getColumn(name)
        .toTypedArray() as Uint8Array;
      const vals = df
        .select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(0)))
        .getColumn(name)
        .toTypedArray() as Float64Array;
      h.update(Buffer.from(isNull.buffer, isNull.byteOffset, isNull.byteLength));
      h.update(Buffer.from(vals.buffer, vals.byteOffset, vals.byteLength));
    } else {
      h.update(JSON.stringify(s.toArray()));
    }
  }
  return h.digest("hex");
}

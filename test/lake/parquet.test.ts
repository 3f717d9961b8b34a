/**
 * nodejs-polars native binary on this Node: Parquet round trip with exact Int64 values.
 * Note: `Series.get` on Int64 columns is buggy in nodejs-polars 0.26.1 (returns a truncated 32-bit
 * value), so values are read through cast(Float64).toTypedArray() / toArray() only.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import { tempDir } from "../helpers/data.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");

describe("nodejs-polars", () => {
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir("pointline-parquet-"));
  });
  after(() => cleanup());

  it("loads and builds a DataFrame", () => {
    const df = pl.DataFrame({ a: [1, 2, 3], s: ["x", "y", "z"] });
    assert.equal(df.height, 3);
    assert.deepEqual(df.columns, ["a", "s"]);
  });

  it("round-trips Int64 values above 2^32 exactly through Parquet", () => {
    // ts_local_us of the first line of the 2024-08-08 hftbacktest capture, a 48-bit file id, 2^53 - 1.
    const values = [1723161255030314, 1723161599833492, 11921547916751, 2 ** 53 - 1, 0, -1723161255030314];
    const df = pl.DataFrame([
      pl.Series("ts_local_us", values).cast(pl.Int64),
      pl.Series("side", Int8Array.from([0, 1, -1, 0, 1, -1])),
      pl.Series("trade_id", ["5266583935", null, "a", "b", "c", "d"], pl.Utf8),
      pl.Series("lvl", [[61800, 61799], [], [1], [2, 3, 4], [5], [6]], pl.List(pl.Int64)),
    ]);
    const path = join(dir, "roundtrip.parquet");
    df.writeParquet(path, { compression: "zstd" });
    const back = pl.readParquet(path);
    assert.equal(back.height, values.length);
    assert.ok(
      back.getColumn("ts_local_us").dtype.equals(pl.Int64),
      String(back.getColumn("ts_local_us").dtype),
    );
    assert.ok(back.getColumn("side").dtype.equals(pl.Int8));
    const ts = back.getColumn("ts_local_us").cast(pl.Float64).toTypedArray();
    assert.ok(ts instanceof Float64Array);
    assert.deepEqual([...ts], values);
    assert.deepEqual([...back.getColumn("side").toTypedArray()], [0, 1, -1, 0, 1, -1]);
    assert.deepEqual(back.getColumn("trade_id").toArray(), ["5266583935", null, "a", "b", "c", "d"]);
    const lvl = back.getColumn("lvl").toArray() as unknown as unknown[][];
    assert.deepEqual(
      lvl.map((r) => r.map((x) => Number(x))),
      [[61800, 61799], [], [1], [2, 3, 4], [5], [6]],
    );
  });

  it("filters and sorts Int64 columns by values above 2^32", () => {
    const df = pl.DataFrame([
      pl.Series("t", [1723161255030316, 1723161255030314, 1723161255030315]).cast(pl.Int64),
    ]);
    const out = df.filter(pl.col("t").gtEq(1723161255030315)).sort("t");
    assert.deepEqual(
      [...out.getColumn("t").cast(pl.Float64).toTypedArray()],
      [1723161255030315, 1723161255030316],
    );
  });
});

describe("package.json", () => {
  it("pins nodejs-polars and its linux-x64-gnu binary to the same exact version", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const deps = { ...pkg.optionalDependencies, ...pkg.dependencies };
    const a = deps["nodejs-polars"];
    const b = deps["nodejs-polars-linux-x64-gnu"];
    assert.ok(a !== undefined && b !== undefined, "both packages are dependencies");
    assert.match(a, /^\d+\.\d+\.\d+$/, "nodejs-polars is an exact version");
    assert.equal(b, a);
    const installed = JSON.parse(
      readFileSync(join(ROOT, "node_modules", "nodejs-polars", "package.json"), "utf8"),
    ) as {
      version: string;
    };
    assert.equal(installed.version, a, "installed nodejs-polars matches the pin");
  });
});

/**
 * The total event order (src/core/order.ts): (ts_local_us, table rank, file_id, file_line_number).
 * Checked against a naive reference: tuples compared element by element with `<` / `>`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  compareColumnar,
  compareEventKeys,
  type EventKey,
  totalOrderPermutation,
} from "../../src/core/order.js";
import { TABLE_NAMES, TABLES } from "../../src/schema/tables.js";

const SEED = 424242;

type Tuple = readonly [number, number, number, number];

/** Naive lexicographic comparison of (ts, rank, file, line) tuples. */
function refCompare(a: Tuple, b: Tuple): number {
  for (let k = 0; k < 4; k++) {
    if (a[k]! < b[k]!) return -1;
    if (a[k]! > b[k]!) return 1;
  }
  return 0;
}

const key = (t: Tuple): EventKey => ({ tsLocalUs: t[0], rank: t[1], fileId: t[2], line: t[3] });
/** Sign as -1 / 0 / 1 (never -0). */
const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

/** Realistic timestamps (around 2024-08-08, µs) with many ties; 48-bit file ids; small ranks/lines. */
const tupleArb: fc.Arbitrary<Tuple> = fc.tuple(
  fc.oneof(
    fc.integer({ min: 1723161255000000, max: 1723161255000005 }),
    fc.integer({ min: 1723161255000000, max: 1723161599999999 }),
    fc.integer({ min: 0, max: 2 ** 53 - 1 }),
  ),
  fc.integer({ min: 0, max: 6 }),
  fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 ** 48 - 1 })),
  fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 100_000_000 })),
);

describe("table ranks", () => {
  it("follow the documented order", () => {
    const byRank = [...TABLE_NAMES].sort((a, b) => TABLES[a].rank - TABLES[b].rank);
    assert.deepEqual(byRank, [
      "book_snapshot_25",
      "quotes",
      "derivative_ticker",
      "open_interest",
      "long_short_ratio",
      "funding_events",
      "liquidations",
      "trades",
      "ohlcv_bars",
      "quote_bars",
    ]);
    assert.equal(
      new Set(TABLE_NAMES.map((t) => TABLES[t].rank)).size,
      TABLE_NAMES.length,
      "ranks are distinct",
    );
  });

  it("break ties on ts_local_us regardless of file and line", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        fc.constantFrom(...TABLE_NAMES),
        fc.constantFrom(...TABLE_NAMES),
        tupleArb,
        tupleArb,
        (ts, ta, tb, x, y) => {
          const a: EventKey = { tsLocalUs: ts, rank: TABLES[ta].rank, fileId: x[2], line: x[3] };
          const b: EventKey = { tsLocalUs: ts, rank: TABLES[tb].rank, fileId: y[2], line: y[3] };
          const c = compareEventKeys(a, b);
          if (ta !== tb) assert.equal(sign(c), sign(TABLES[ta].rank - TABLES[tb].rank), `${ta} vs ${tb}`);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
    // Hand-checked: at equal arrival time a quote sorts before a trade, even from a later file/line.
    const q: EventKey = { tsLocalUs: 5, rank: TABLES.quotes.rank, fileId: 9, line: 900 };
    const t: EventKey = { tsLocalUs: 5, rank: TABLES.trades.rank, fileId: 1, line: 1 };
    assert.ok(compareEventKeys(q, t) < 0);
    assert.ok(compareEventKeys({ ...t, tsLocalUs: 4 }, q) < 0);
  });
});

describe("compareEventKeys", () => {
  it("agrees in sign with the reference comparator", () => {
    fc.assert(
      fc.property(tupleArb, tupleArb, (a, b) => {
        assert.equal(sign(compareEventKeys(key(a), key(b))), refCompare(a, b), `${a} vs ${b}`);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("is antisymmetric and reflexive", () => {
    fc.assert(
      fc.property(tupleArb, tupleArb, (a, b) => {
        assert.equal(sign(compareEventKeys(key(a), key(b))), sign(-compareEventKeys(key(b), key(a))));
        assert.equal(sign(compareEventKeys(key(a), key(a))), 0);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("is transitive on random triples", () => {
    fc.assert(
      fc.property(tupleArb, tupleArb, tupleArb, (a, b, c) => {
        const ab = compareEventKeys(key(a), key(b));
        const bc = compareEventKeys(key(b), key(c));
        const ac = compareEventKeys(key(a), key(c));
        if (ab <= 0 && bc <= 0) assert.ok(ac <= 0, `${a} ≤ ${b} ≤ ${c} but not ${a} ≤ ${c}`);
        if (ab < 0 && bc <= 0) assert.ok(ac < 0);
        if (ab === 0 && bc === 0) assert.equal(sign(ac), 0);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("compareColumnar agrees with compareEventKeys", () => {
    fc.assert(
      fc.property(fc.array(tupleArb, { minLength: 2, maxLength: 20 }), fc.nat(), fc.nat(), (rows, i0, j0) => {
        const i = i0 % rows.length;
        const j = j0 % rows.length;
        const col = (k: number): Float64Array => Float64Array.from(rows.map((r) => r[k]!));
        const c = compareColumnar(col(0), col(1), col(2), col(3), i, j);
        assert.equal(sign(c), refCompare(rows[i]!, rows[j]!));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe("totalOrderPermutation", () => {
  it("is a permutation that sorts like a naive reference sort (stable on full ties)", () => {
    fc.assert(
      fc.property(fc.array(tupleArb, { maxLength: 300 }), (rows) => {
        const n = rows.length;
        const col = (k: number): Float64Array => Float64Array.from(rows.map((r) => r[k]!));
        const perm = totalOrderPermutation(col(0), col(1), col(2), col(3));
        assert.equal(perm.length, n);
        assert.deepEqual(
          [...perm].sort((a, b) => a - b),
          Array.from({ length: n }, (_, i) => i),
          "each index exactly once",
        );
        // Reference: insertion sort of (tuple, index) — stable by construction.
        const ref: number[] = [];
        for (let i = 0; i < n; i++) {
          let p = ref.length;
          while (p > 0 && refCompare(rows[ref[p - 1]!]!, rows[i]!) > 0) p--;
          ref.splice(p, 0, i);
        }
        assert.deepEqual([...perm], ref);
        for (let k = 1; k < n; k++) {
          assert.ok(refCompare(rows[perm[k - 1]!]!, rows[perm[k]!]!) <= 0, "nondecreasing");
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("hand-checked example", () => {
    const ts = [10, 5, 10, 10, 5];
    const rank = [
      TABLES.trades.rank,
      TABLES.trades.rank,
      TABLES.quotes.rank,
      TABLES.trades.rank,
      TABLES.trades.rank,
    ];
    const file = [1, 1, 2, 1, 0];
    const line = [7, 3, 1, 6, 9];
    // ts 5: (file 0, line 9) = row 4, (file 1, line 3) = row 1; ts 10: quote row 2, then trades line 6 (row 3), 7 (row 0)
    assert.deepEqual([...totalOrderPermutation(ts, rank, file, line)], [4, 1, 2, 3, 0]);
  });

  it("handles empty input", () => {
    assert.equal(totalOrderPermutation([], [], [], []).length, 0);
  });
});

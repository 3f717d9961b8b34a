/**
 * Fixed-point decoding (src/core/fixed.ts) checked against an independent BigInt reference:
 * a decimal string is read as the exact rational N · 10^-d (BigInt N), reduced to its significant
 * decimals, and its count of increments `m · 10^-s` is N · 10^(s-d) / m when that is an integer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  DecimalParser,
  type DecodeFailure,
  exactProduct,
  exactProductBig,
  FixedDecoder,
  formatFixed,
  type Increment,
  incrementFromDecimals,
  MAX_EXACT_INT,
  parseIncrement,
  significantDecimals,
} from "../../src/core/fixed.js";

const SEED = 20240808;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Exact value of a decimal string: sign, significant mantissa and significant decimals. */
interface RefDecimal {
  readonly negative: boolean;
  readonly mant: bigint;
  readonly decimals: number;
}

/** Independent reference parser (regex + BigInt); null when the text is not a decimal. */
function refParse(text: string): RefDecimal | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) return null;
  const intPart = m[2] ?? "";
  const frac = m[3] ?? "";
  if (intPart.length + frac.length === 0) return null;
  let mant = BigInt(intPart + frac);
  let decimals = frac.length - Number(m[4] ?? "0");
  if (decimals < 0) {
    mant *= 10n ** BigInt(-decimals);
    decimals = 0;
  }
  while (decimals > 0 && mant % 10n === 0n) {
    mant /= 10n;
    decimals--;
  }
  if (mant === 0n) return { negative: false, mant: 0n, decimals: 0 };
  return { negative: m[1] === "-", mant, decimals };
}

/** Canonical plain decimal text of a reference value (no trailing zeros, no exponent). */
function refFormat(r: RefDecimal): string {
  let digits = r.mant.toString();
  let out = digits;
  if (r.decimals > 0) {
    if (digits.length <= r.decimals) digits = "0".repeat(r.decimals - digits.length + 1) + digits;
    out = `${digits.slice(0, digits.length - r.decimals)}.${digits.slice(digits.length - r.decimals)}`;
  }
  return r.negative ? `-${out}` : out;
}

/** Reference increment: mantissa and scale from the increment's text, reduced. */
function refIncrement(text: string): { mant: bigint; scale: number } {
  const r = refParse(text);
  assert.ok(r !== null && r.mant > 0n && !r.negative, `bad test increment ${text}`);
  return { mant: r.mant, scale: r.decimals };
}

type Expectation = { ok: true; value: number } | { ok: false; allowed: Set<DecodeFailure> };

/**
 * What decoding `text` at increment `inc` must give: the exact count of increments, or one of the
 * failure reasons that truly apply (the decoder may report any of them when several apply).
 */
function expectDecode(text: string, incText: string, allowNegative: boolean): Expectation {
  const r = refParse(text);
  if (r === null) return { ok: false, allowed: new Set(text === "" ? ["empty"] : ["not_a_number"]) };
  const inc = refIncrement(incText);
  const allowed = new Set<DecodeFailure>();
  if (r.negative && !allowNegative) allowed.add("negative");
  if (r.mant > MAX) allowed.add("out_of_exact_range");
  let count = 0n;
  if (r.decimals > inc.scale) {
    allowed.add("too_many_decimals");
  } else {
    const scaled = r.mant * 10n ** BigInt(inc.scale - r.decimals);
    if (scaled > MAX) allowed.add("out_of_exact_range");
    if (scaled % inc.mant !== 0n) allowed.add("not_a_multiple");
    else count = scaled / inc.mant;
  }
  if (allowed.size > 0) return { ok: false, allowed };
  return { ok: true, value: Number(r.negative ? -count : count) };
}

const digitString = (maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength }).map((d) => d.join(""));

/** Plain decimal strings: random integer part, 0–12 decimals, then 0–4 trailing zeros. */
const plainDecimal = fc
  .record({
    negative: fc.boolean(),
    int: fc.oneof(
      fc.bigInt({ min: 0n, max: 999n }),
      fc.bigInt({ min: 0n, max: 10n ** 9n }),
      fc.bigInt({ min: 0n, max: 10n ** 16n }),
    ),
    frac: digitString(12),
    zeros: fc.nat({ max: 4 }),
  })
  .map(({ negative, int, frac, zeros }) => {
    const f = frac + "0".repeat(frac.length > 0 ? zeros : 0);
    const body = f.length > 0 ? `${int}.${f}` : `${int}`;
    return { text: negative ? `-${body}` : body, fracLen: f.length };
  });

/** Exponent forms such as "1.5e-3", "25E+2", "+7.250e1" (at most 15 mantissa digits). */
const exponentDecimal = fc
  .record({
    sign: fc.constantFrom("", "-", "+"),
    int: fc.bigInt({ min: 0n, max: 99_999n }),
    frac: digitString(9),
    e: fc.constantFrom("e", "E"),
    expSign: fc.constantFrom("", "-", "+"),
    exp: fc.integer({ min: 0, max: 12 }),
  })
  .map(
    ({ sign, int, frac, e, expSign, exp }) =>
      `${sign}${int}${frac.length > 0 ? `.${frac}` : ""}${e}${expSign}${exp}`,
  );

const FIXED_INCREMENTS = [
  "0.1",
  "0.01",
  "0.5",
  "0.25",
  "1e-8",
  "1",
  "0.001",
  "0.00000001",
  "0.05",
  "5",
  "10",
];

/** Increments: the usual ones plus random mantissa (1–99) × 10^-scale (0–12). */
const incrementText = fc.oneof(
  fc.constantFrom(...FIXED_INCREMENTS),
  fc
    .record({ m: fc.integer({ min: 1, max: 99 }), scale: fc.integer({ min: 0, max: 12 }) })
    .map(
      ({ m, scale }) =>
        refFormat({ negative: false, mant: BigInt(m), decimals: 0 }) + (scale > 0 ? `e-${scale}` : ""),
    ),
);

/** Strings that are not a decimal number. */
const MALFORMED = [
  "-",
  "+",
  "1.2.3",
  "abc",
  "1e",
  "1e+",
  " 1",
  "1 ",
  "e5",
  ".",
  "1,5",
  "0x10",
  "1e5.5",
  "--1",
  "1-",
];

function checkDecode(dec: FixedDecoder, text: string, incText: string, allowNegative: boolean): void {
  const inc = parseIncrement(incText);
  const exp = expectDecode(text, incText, allowNegative);
  const got = dec.decode(text, inc, allowNegative);
  if (exp.ok) {
    assert.equal(
      got,
      exp.value,
      `decode('${text}', ${incText}) should be ${exp.value}, failure=${dec.failure}`,
    );
    assert.equal(dec.failure, "none");
  } else {
    assert.ok(
      Number.isNaN(got),
      `decode('${text}', ${incText}) should fail (${[...exp.allowed]}) but gave ${got}`,
    );
    assert.ok(
      exp.allowed.has(dec.failure),
      `decode('${text}', ${incText}) failure '${dec.failure}' not among ${[...exp.allowed].join("/")}`,
    );
  }
}

describe("parseIncrement / incrementFromDecimals", () => {
  it("parses hand-checked increments to reduced mantissa and scale", () => {
    const cases: [string, string, number, number][] = [
      ["0.01", "0.01", 1, 2],
      ["0.010", "0.01", 1, 2],
      ["0.5", "0.5", 5, 1],
      ["0.25", "0.25", 25, 2],
      ["1e-8", "0.00000001", 1, 8],
      ["0.00000001", "0.00000001", 1, 8],
      ["1", "1", 1, 0],
      ["10", "10", 10, 0],
      ["2.5e-3", "0.0025", 25, 4],
    ];
    for (const [text, canon, mantissa, scale] of cases) {
      const inc = parseIncrement(text);
      assert.deepEqual({ ...inc }, { text: canon, mantissa, scale }, text);
    }
  });

  it("matches the reference on random increments", () => {
    fc.assert(
      fc.property(incrementText, (text) => {
        const inc = parseIncrement(text);
        const ref = refIncrement(text);
        assert.equal(BigInt(inc.mantissa), ref.mant);
        assert.equal(inc.scale, ref.scale);
        assert.equal(inc.text, refFormat({ negative: false, mant: ref.mant, decimals: ref.scale }));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("rejects non-positive or malformed increments", () => {
    for (const bad of ["0", "0.000", "-0.1", "abc", "", "1.2.3", "-1"]) {
      assert.throws(() => parseIncrement(bad), RangeError, bad);
    }
  });

  it("incrementFromDecimals gives 10^-k and validates k", () => {
    assert.equal(incrementFromDecimals(0).text, "1");
    assert.equal(incrementFromDecimals(3).text, "0.001");
    assert.equal(incrementFromDecimals(8).text, "0.00000001");
    assert.throws(() => incrementFromDecimals(-1), RangeError);
    assert.throws(() => incrementFromDecimals(1.5), RangeError);
    assert.throws(() => incrementFromDecimals(19), RangeError);
  });
});

describe("DecimalParser", () => {
  it("reports significant decimals and mantissa (property vs reference)", () => {
    const p = new DecimalParser();
    fc.assert(
      fc.property(
        fc.oneof(
          plainDecimal.map((d) => d.text),
          exponentDecimal,
        ),
        (text) => {
          const ref = refParse(text);
          assert.ok(ref !== null);
          const ok = p.parse(text);
          if (ref.mant > MAX) {
            // Too many significant digits for a double: must fail, never round.
            if (!ok) assert.equal(p.failure, "out_of_exact_range");
            return;
          }
          assert.ok(ok, `parse('${text}') failed: ${p.failure}`);
          assert.equal(BigInt(p.mantissa), ref.mant, text);
          assert.equal(p.decimals, ref.decimals, text);
          assert.equal(p.negative, ref.negative, text);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it("significantDecimals strips trailing zeros", () => {
    assert.equal(significantDecimals("61837.63000000"), 2);
    assert.equal(significantDecimals("100.50"), 1);
    assert.equal(significantDecimals("0.010"), 2);
    assert.equal(significantDecimals("100"), 0);
    assert.equal(significantDecimals("1.5e-3"), 4);
    assert.equal(significantDecimals("abc"), -1);
  });

  it("fails malformed strings with not_a_number and the empty string with empty", () => {
    const p = new DecimalParser();
    assert.equal(p.parse(""), false);
    assert.equal(p.failure, "empty");
    for (const bad of MALFORMED) {
      assert.equal(p.parse(bad), false, `'${bad}' should not parse`);
      assert.equal(p.failure, "not_a_number", `'${bad}'`);
    }
  });

  it("parses a sub-range of a longer string", () => {
    const p = new DecimalParser();
    const s = `"p":"61800.30","q":"0.006"`;
    const start = s.indexOf("61800");
    assert.ok(p.parse(s, start, start + "61800.30".length));
    assert.equal(p.mantissa, 618003);
    assert.equal(p.decimals, 1);
  });
});

describe("FixedDecoder.decode", () => {
  it("equals the BigInt reference on random plain decimals and increments", () => {
    const dec = new FixedDecoder();
    fc.assert(
      fc.property(plainDecimal, incrementText, fc.boolean(), ({ text }, inc, allowNegative) => {
        checkDecode(dec, text, inc, allowNegative);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("equals the BigInt reference on exponent forms", () => {
    const dec = new FixedDecoder();
    fc.assert(
      fc.property(exponentDecimal, incrementText, fc.boolean(), (text, inc, allowNegative) => {
        checkDecode(dec, text, inc, allowNegative);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("decodes values built as exact multiples of the increment (success path is exercised)", () => {
    const dec = new FixedDecoder();
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXED_INCREMENTS),
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.nat({ max: 3 }),
        (incText, k, extraZeros) => {
          const ref = refIncrement(incText);
          // value = k · m · 10^-scale, written with `scale + extraZeros` decimals.
          const mant = k * ref.mant;
          const neg = mant < 0n;
          const abs = (neg ? -mant : mant) * 10n ** BigInt(extraZeros);
          const decimals = ref.scale + extraZeros;
          let digits = abs.toString();
          if (digits.length <= decimals) digits = "0".repeat(decimals - digits.length + 1) + digits;
          const body =
            decimals > 0
              ? `${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`
              : digits;
          const text = neg ? `-${body}` : body;
          const got = dec.decode(text, parseIncrement(incText), true);
          assert.equal(got, Number(k), `decode('${text}', ${incText})`);
          assert.equal(dec.failure, "none");
          if (!neg || k === 0n) {
            // minDecimals restores the original text exactly.
            assert.equal(formatFixed(got, parseIncrement(incText), { minDecimals: decimals }), text);
          }
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it("hand-checked values", () => {
    const dec = new FixedDecoder();
    const cases: [string, string, number][] = [
      ["61837.63000000", "0.01", 6183763],
      ["100.50", "0.01", 10050],
      ["0.010", "0.001", 10],
      ["1.25", "0.25", 5],
      ["0.00000001", "1e-8", 1],
      ["1.5e-3", "0.0001", 15],
      ["1.5E+3", "1", 1500],
      ["25e2", "10", 250],
      ["0", "0.01", 0],
      ["-0.00", "0.01", 0],
      ["+3.5", "0.5", 7],
      ["90071992547409.91", "0.01", 9007199254740991],
    ];
    for (const [s, inc, want] of cases) {
      assert.equal(dec.decode(s, parseIncrement(inc)), want, `${s} @ ${inc}`);
      assert.equal(dec.failure, "none");
    }
  });

  it("reports too_many_decimals and not_a_multiple", () => {
    const dec = new FixedDecoder();
    const cases: [string, string, DecodeFailure][] = [
      ["0.123", "0.01", "too_many_decimals"],
      ["100.25", "0.1", "too_many_decimals"],
      ["0.000000015", "1e-8", "too_many_decimals"],
      ["1.125", "0.25", "too_many_decimals"],
      ["1.3", "0.25", "not_a_multiple"],
      ["0.3", "0.5", "not_a_multiple"],
      ["7", "5", "not_a_multiple"],
      ["100.07", "0.05", "not_a_multiple"],
    ];
    for (const [s, inc, f] of cases) {
      assert.ok(Number.isNaN(dec.decode(s, parseIncrement(inc))), `${s} @ ${inc}`);
      assert.equal(dec.failure, f, `${s} @ ${inc}`);
    }
  });

  it("rejects negatives unless allowNegative", () => {
    const dec = new FixedDecoder();
    const inc = parseIncrement("0.01");
    assert.ok(Number.isNaN(dec.decode("-1.5", inc)));
    assert.equal(dec.failure, "negative");
    assert.equal(dec.decode("-1.5", inc, true), -150);
    assert.equal(dec.failure, "none");
    assert.equal(dec.decode("-0.01", inc, true), -1);
    fc.assert(
      fc.property(plainDecimal, incrementText, ({ text }, incText) => {
        const ref = refParse(text);
        assert.ok(ref !== null);
        const v = dec.decode(text, parseIncrement(incText), false);
        if (ref.negative) {
          assert.ok(Number.isNaN(v), `negative '${text}' accepted without allowNegative`);
        } else if (!Number.isNaN(v)) {
          assert.ok(v >= 0);
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("fails malformed strings with not_a_number / empty", () => {
    const dec = new FixedDecoder();
    const inc = parseIncrement("0.01");
    assert.ok(Number.isNaN(dec.decode("", inc)));
    assert.equal(dec.failure, "empty");
    for (const bad of MALFORMED) {
      assert.ok(Number.isNaN(dec.decode(bad, inc)), `'${bad}'`);
      assert.equal(dec.failure, "not_a_number", `'${bad}'`);
    }
  });

  it("fails with out_of_exact_range above 2^53 at the increment instead of rounding", () => {
    const dec = new FixedDecoder();
    const cases: [string, string][] = [
      ["90071992547409.92", "0.01"], // 2^53 increments
      ["90071992547409.93", "0.01"], // 2^53 + 1: a double would round it to 2^53
      ["9007199254740993", "1"],
      ["9007199254740992", "1"],
      ["1", "1e-16"], // 10^16 increments
      ["123456789.123456789", "1e-9"],
      ["1e16", "1"],
      ["1e30", "0.01"],
      ["100000000", "1e-8"],
    ];
    for (const [s, inc] of cases) {
      const v = dec.decode(s, parseIncrement(inc));
      assert.ok(Number.isNaN(v), `${s} @ ${inc} gave ${v}`);
      assert.equal(dec.failure, "out_of_exact_range", `${s} @ ${inc}`);
    }
    // Just below the bound is exact.
    assert.equal(dec.decode("9007199254740991", parseIncrement("1")), MAX_EXACT_INT);
    assert.equal(dec.decode("90071992.54740991", parseIncrement("1e-8")), MAX_EXACT_INT);
  });

  it("decodes a sub-range without allocation", () => {
    const dec = new FixedDecoder();
    const s = `["61800.30","2.507"]`;
    const a = s.indexOf("61800.30");
    assert.equal(dec.decode(s, parseIncrement("0.1"), false, a, a + 8), 618003);
    const b = s.indexOf("2.507");
    assert.equal(dec.decode(s, parseIncrement("0.001"), false, b, b + 5), 2507);
  });
});

describe("formatFixed", () => {
  it("formatFixed(decode(s)) is s normalized; minDecimals restores s exactly", () => {
    const dec = new FixedDecoder();
    fc.assert(
      fc.property(plainDecimal, incrementText, ({ text, fracLen }, incText) => {
        const inc: Increment = parseIncrement(incText);
        const v = dec.decode(text, inc, true);
        if (Number.isNaN(v)) return;
        const ref = refParse(text);
        assert.ok(ref !== null);
        assert.equal(formatFixed(v, inc), refFormat(ref), `format(decode('${text}'), ${incText})`);
        const isNegZero = text.startsWith("-") && ref.mant === 0n;
        if (!isNegZero) assert.equal(formatFixed(v, inc, { minDecimals: fracLen }), text);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("exponent forms format as plain decimals", () => {
    const dec = new FixedDecoder();
    fc.assert(
      fc.property(exponentDecimal, incrementText, (text, incText) => {
        const inc = parseIncrement(incText);
        const v = dec.decode(text, inc, true);
        if (Number.isNaN(v)) return;
        const ref = refParse(text);
        assert.ok(ref !== null);
        assert.equal(formatFixed(v, inc), refFormat(ref), text);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it("reproduces Binance spot strings with minDecimals", () => {
    const inc = parseIncrement("0.01");
    assert.equal(formatFixed(6183763, inc), "61837.63");
    assert.equal(formatFixed(6183763, inc, { minDecimals: 8 }), "61837.63000000");
    assert.equal(formatFixed(5, parseIncrement("1e-8")), "0.00000005");
    assert.equal(formatFixed(3, parseIncrement("0.25")), "0.75");
    assert.equal(formatFixed(-150, inc), "-1.5");
    assert.equal(formatFixed(0, inc, { minDecimals: 2 }), "0.00");
    assert.equal(formatFixed(25, parseIncrement("10")), "250");
    assert.equal(formatFixed(25, parseIncrement("10"), { minDecimals: 1 }), "250.0");
  });

  it("throws RangeError for non-integers and out-of-range values", () => {
    const inc = parseIncrement("0.01");
    assert.throws(() => formatFixed(1.5, inc), RangeError);
    assert.throws(() => formatFixed(Number.NaN, inc), RangeError);
    assert.throws(() => formatFixed(2 ** 53, inc), RangeError);
    assert.throws(() => formatFixed(2 ** 52, parseIncrement("5")), RangeError);
  });
});

describe("exactProduct / exactProductBig", () => {
  it("exactProduct is exact below 2^53 and NaN past it; exactProductBig is always exact", () => {
    const operand = fc.oneof(
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.integer({ min: -MAX_EXACT_INT, max: MAX_EXACT_INT }),
      fc.integer({ min: 0, max: 200_000_000 }),
    );
    fc.assert(
      fc.property(operand, operand, (a, b) => {
        const ref = BigInt(a) * BigInt(b);
        assert.equal(exactProductBig(a, b), ref);
        const p = exactProduct(a, b);
        // `===` so that 0 × -1 = -0 counts as 0.
        if (ref <= MAX && ref >= -MAX) assert.ok(p === Number(ref), `${a} × ${b}: ${p} ≠ ${ref}`);
        else assert.ok(Number.isNaN(p), `${a} × ${b} = ${ref} should be NaN, got ${p}`);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("hand-checked boundary products", () => {
    // 94906265² = 9007199136250225 < 2^53 - 1; 94906266² = 9007199326062756 > 2^53 - 1.
    assert.equal(exactProduct(94906265, 94906265), 9007199136250225);
    assert.ok(Number.isNaN(exactProduct(94906266, 94906266)));
    assert.equal(exactProductBig(94906266, 94906266), 9007199326062756n);
    assert.ok(Number.isNaN(exactProduct(2 ** 27, 2 ** 26)));
    assert.equal(exactProduct(2 ** 26, 2 ** 26), 2 ** 52);
    assert.equal(exactProductBig(6183763, 2507), 15502693841n);
  });
});

/**
 * The spine grammar (engine/spine-spec.ts): one SpineSpec from three surfaces — camelCase object
 * (`parseSpineSpec`), CLI shorthand (`parseSpineShorthand`), request v2 snake_case
 * (`spineSpecFromRequest`) — equal specs for equivalent inputs, errors naming the field on each
 * surface, and the canonical shorthand (`formatSpineSpec`) round trip as a seeded property.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  formatSpineSpec,
  parseSpineShorthand,
  parseSpineSpec,
  SPINE_DEFAULTS,
  type SpineSpec,
  spineSpecFromRequest,
} from "../../src/engine/spine-spec.js";

const SEED = { seed: 20260412, numRuns: 500 };

const positive = fc.double({ min: 1e-9, max: 1e15, noNaN: true, noDefaultInfinity: true });
const posInt = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const common = { includePartialLastBar: fc.boolean(), maxRows: posInt };

/** Every SpineSpec (validated shape, defaults or not; plain objects, as the parsers return). */
const specArb: fc.Arbitrary<SpineSpec> = fc
  .oneof(
    fc.record({ type: fc.constant("clock" as const), stepMs: posInt, ...common }),
    fc.record({ type: fc.constant("trades" as const), ...common }),
    fc.record({
      type: fc.constant("volume" as const),
      volumeThreshold: positive,
      useAbsoluteVolume: fc.boolean(),
      splitTrades: fc.boolean(),
      ...common,
    }),
    fc.record({
      type: fc.constant("dollar" as const),
      dollarThreshold: positive,
      splitTrades: fc.boolean(),
      ...common,
    }),
    fc.record({ type: fc.constant("tick" as const), tickThreshold: posInt, ...common }),
    fc.record({
      type: fc.constant("hybrid" as const),
      volumeThreshold: positive,
      maxTimeMs: posInt,
      useAbsoluteVolume: fc.boolean(),
      ...common,
    }),
  )
  .map((o): SpineSpec => ({ ...o }));

/** The request v2 spelling of a spec (snake_case keys under `config`), written independently of the parser. */
function toRequest(spec: SpineSpec): { type: string; config: Record<string, unknown> } {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (k !== "type") config[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  }
  return { type: spec.type, config };
}

describe("spine grammar: canonical shorthand", () => {
  it("spec → shorthand → spec and shorthand → spec → shorthand round-trip (seeded property)", () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const s = formatSpineSpec(spec);
        const back = parseSpineShorthand(s);
        assert.deepEqual(back, spec);
        assert.equal(formatSpineSpec(back), s);
      }),
      SEED,
    );
  });

  it("writes positional arguments and only the options that differ from the defaults", () => {
    assert.equal(formatSpineSpec(parseSpineSpec({ type: "clock", stepMs: 1000 })), "clock:1000");
    assert.equal(formatSpineSpec(parseSpineSpec({ type: "trades" })), "trades");
    assert.equal(formatSpineSpec(parseSpineSpec({ type: "volume", volumeThreshold: 5 })), "volume:5");
    assert.equal(
      formatSpineSpec(parseSpineSpec({ type: "hybrid", volumeThreshold: 5, maxTimeMs: 60000 })),
      "hybrid:5:60000",
    );
    assert.equal(
      formatSpineSpec(
        parseSpineSpec({
          type: "volume",
          volumeThreshold: 0.5,
          splitTrades: true,
          useAbsoluteVolume: false,
          maxRows: 7,
        }),
      ),
      "volume:0.5,useAbsoluteVolume=false,splitTrades=true,maxRows=7",
    );
    // non-canonical spellings normalise
    assert.equal(formatSpineSpec(parseSpineShorthand("volume:5.0,splitTrades=false")), "volume:5");
    assert.equal(formatSpineSpec(parseSpineShorthand("tick:100,maxRows=5000000")), "tick:100");
  });
});

describe("spine grammar: the three surfaces agree", () => {
  const cases: [shorthand: string, spec: Record<string, unknown>, request: Record<string, unknown>][] = [
    ["clock:1000", { type: "clock", stepMs: 1000 }, { type: "clock", config: { step_ms: 1000 } }],
    ["trades", { type: "trades" }, { type: "trades" }],
    ["volume:5", { type: "volume", volumeThreshold: 5 }, { type: "volume", config: { volume_threshold: 5 } }],
    [
      "volume:2,useAbsoluteVolume=false,splitTrades=true,includePartialLastBar=true,maxRows=100",
      {
        type: "volume",
        volumeThreshold: 2,
        useAbsoluteVolume: false,
        splitTrades: true,
        includePartialLastBar: true,
        maxRows: 100,
      },
      {
        type: "volume",
        config: {
          volume_threshold: 2,
          use_absolute_volume: false,
          split_trades: true,
          include_partial_last_bar: true,
          max_rows: 100,
        },
        source: "trades",
      },
    ],
    [
      "dollar:1000000,splitTrades=true",
      { type: "dollar", dollarThreshold: 1e6, splitTrades: true },
      { type: "dollar", config: { dollar_threshold: 1e6, split_trades: true } },
    ],
    ["tick:100", { type: "tick", tickThreshold: 100 }, { type: "tick", config: { tick_threshold: 100 } }],
    [
      "hybrid:5:60000",
      { type: "hybrid", volumeThreshold: 5, maxTimeMs: 60000 },
      { type: "hybrid", config: { volume_threshold: 5, max_time_ms: 60000 } },
    ],
  ];
  for (const [shorthand, spec, request] of cases) {
    it(`${shorthand}`, () => {
      const a = parseSpineShorthand(shorthand);
      assert.deepEqual(parseSpineSpec(spec), a);
      assert.deepEqual(spineSpecFromRequest(request), a);
      assert.equal(formatSpineSpec(a), shorthand);
    });
  }

  it("defaults are filled identically on every surface", () => {
    const s = parseSpineShorthand("volume:5");
    assert.deepEqual(s, {
      type: "volume",
      volumeThreshold: 5,
      useAbsoluteVolume: SPINE_DEFAULTS.useAbsoluteVolume,
      splitTrades: SPINE_DEFAULTS.splitTrades,
      includePartialLastBar: SPINE_DEFAULTS.includePartialLastBar,
      maxRows: SPINE_DEFAULTS.maxRows,
    });
  });

  it("every spec survives its request v2 spelling (seeded property)", () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        assert.deepEqual(spineSpecFromRequest(toRequest(spec)), spec);
        assert.deepEqual(parseSpineSpec(spec), spec);
      }),
      SEED,
    );
  });
});

describe("spine grammar: each surface rejects invalid input naming the field", () => {
  it("camelCase object", () => {
    assert.throws(
      () => parseSpineSpec({ type: "volume", volumeThreshold: -1 }),
      /invalid spine config: volumeThreshold/,
    );
    assert.throws(() => parseSpineSpec({ type: "volume" }), /volumeThreshold/);
    assert.throws(() => parseSpineSpec({ type: "tick", tickThreshold: 1.5 }), /tickThreshold/);
    assert.throws(() => parseSpineSpec({ type: "hybrid", volumeThreshold: 5 }), /maxTimeMs/);
    assert.throws(() => parseSpineSpec({ type: "clock", stepMs: 1000, maxRows: 0 }), /maxRows/);
    assert.throws(
      () => parseSpineSpec({ type: "volume", volumeThreshold: 5, splitTrade: true }),
      /splitTrade/,
    );
    assert.throws(() => parseSpineSpec({ type: "renko" }), /type/);
    assert.throws(() => parseSpineSpec("volume:5"), /invalid spine config/);
  });

  it("CLI shorthand", () => {
    assert.throws(
      () => parseSpineShorthand("volume:x"),
      /--spine volume:x: volumeThreshold must be a number/,
    );
    assert.throws(() => parseSpineShorthand("volume"), /volumeThreshold must be a number/);
    assert.throws(() => parseSpineShorthand("hybrid:5"), /maxTimeMs must be a number/);
    assert.throws(() => parseSpineShorthand("clock:0"), /--spine clock:0: invalid spine config: stepMs/);
    assert.throws(() => parseSpineShorthand("tick:2.5"), /tickThreshold/);
    assert.throws(() => parseSpineShorthand("volume:5:60000"), /too many arguments for volume/);
    assert.throws(() => parseSpineShorthand("volume:5,split=true"), /unknown option 'split'/);
    assert.throws(() => parseSpineShorthand("volume:5,splitTrades=yes"), /splitTrades must be true or false/);
    assert.throws(() => parseSpineShorthand("volume:5,splitTrades"), /splitTrades must be true or false/);
    assert.throws(() => parseSpineShorthand("volume:5,maxRows=x"), /maxRows must be a number/);
    assert.throws(() => parseSpineShorthand("volume:5,maxRows=2,maxRows=3"), /maxRows given twice/);
    assert.throws(() => parseSpineShorthand("hybrid:5:60000,splitTrades=true"), /splitTrades/);
    assert.throws(() => parseSpineShorthand("renko:5"), /unknown spine type/);
  });

  it("request v2 (snake_case, JSON paths)", () => {
    assert.throws(
      () => spineSpecFromRequest({ type: "volume", config: { volume_threshold: -1 } }),
      /invalid request spine: \$\.spine\.config\.volume_threshold/,
    );
    assert.throws(
      () => spineSpecFromRequest({ type: "volume", config: { volume_treshold: 5 } }),
      /\$\.spine\.config.*volume_treshold/,
    );
    assert.throws(() => spineSpecFromRequest({ type: "clock" }), /\$\.spine\.config/);
    assert.throws(
      () => spineSpecFromRequest({ type: "hybrid", config: { volume_threshold: 5, max_time_ms: 0.5 } }),
      /\$\.spine\.config\.max_time_ms/,
    );
    assert.throws(() => spineSpecFromRequest({ type: "renko", config: {} }), /\$\.spine\.type/);
    // camelCase keys are not the request's spelling
    assert.throws(
      () => spineSpecFromRequest({ type: "volume", config: { volumeThreshold: 5 } }),
      /\$\.spine\.config/,
    );
  });
});

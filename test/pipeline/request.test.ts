/**
 * Request v2 validation. The fixture is the complete example request of Pointline's volume-bar MFT guide
 * (docs/guides/volume-bar-features-crypto-mft.md: 8 operators, 2 labels, 3 metrics), with its exchange,
 * symbol and dates naming the sample capture (examples/requests/btc_mft_volbar.json; its output_dir is made
 * relative to the output root, the guide's absolute `/data/research_outputs/…` is tested separately).
 * Each invalid field must be reported at its exact JSON path; the exported JSON Schema file must be current
 * and must agree with the zod schema when checked by an independent validator (Ajv, draft 2020-12).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { builtinRegistry } from "../../src/pipeline/registry.js";
import { requestJsonSchema, validateRequest } from "../../src/pipeline/request.js";

// biome-ignore lint/suspicious/noExplicitAny: request fixtures are edited as free-form JSON
type Req = Record<string, any>;

const EXAMPLE_PATH = new URL("../../examples/requests/btc_mft_volbar.json", import.meta.url);
const example = (): Record<string, unknown> => JSON.parse(readFileSync(EXAMPLE_PATH, "utf8"));
const registry = builtinRegistry();

/** Applies `edit` to a fresh copy of the example and returns the problem paths. */
function problems(edit: (r: Req) => void): { path: string; message: string }[] {
  const r = example();
  edit(r);
  const v = validateRequest(r, registry);
  return v.ok ? [] : [...v.problems];
}

describe("request v2 validation", () => {
  it("the guide's complete example validates: 8 operators, 2 labels, 3 metrics", () => {
    const r = example();
    const v = validateRequest(r, registry);
    assert.ok(v.ok, JSON.stringify(v.problems, null, 2));
    assert.equal(v.request.operators.length, 8);
    assert.equal(v.request.labels.length, 2);
    assert.equal(v.request.evaluation.metrics.length, 3);
    // the guide's absolute output_dir is valid request JSON (confinement is checked at run time)
    r.artifacts = { emit_lineage: true, output_dir: "/data/research_outputs/btc_mft_volbar" };
    assert.ok(validateRequest(r, registry).ok);
  });

  const cases: [string, (r: Req) => void, string, RegExp][] = [
    ["schema_version", (r) => (r.schema_version = "1.0"), "$.schema_version", /2\.0/],
    ["request_id too short", (r) => (r.request_id = "ab"), "$.request_id", /3/],
    ["unknown mode", (r) => (r.mode = "hft"), "$.mode", /bar_then_feature/],
    ["missing timeline.end", (r) => delete r.timeline.end, "$.timeline.end", /./],
    ["calendar-invalid start", (r) => (r.timeline.start = "2024-02-30T00:00:00Z"), "$.timeline.start", /./],
    ["end before start", (r) => (r.timeline.end = "2024-08-08T00:00:00Z"), "$.timeline.end", /after start/],
    [
      "ts_col other than ts_local_us",
      (r) => (r.timeline.ts_col = "ts_exch_us"),
      "$.timeline.ts_col",
      /ts_local_us/,
    ],
    ["no sources", (r) => (r.sources = []), "$.sources", /./],
    ["unknown table", (r) => (r.sources[0].table = "trade"), "$.sources[0].table", /unknown table trade/],
    [
      "table the engine cannot replay",
      (r) => (r.sources[0].table = "ohlcv_bars"),
      "$.sources[0].table",
      /cannot be replayed/,
    ],
    ["missing symbol filter", (r) => delete r.sources[1].filters.symbol, "$.sources[1].filters.symbol", /./],
    ["two instruments", (r) => (r.sources[1].filters.symbol = "ETHUSDT"), "$.sources", /one instrument/],
    [
      "duplicate source name",
      (r) => (r.sources[1].name = "trades_src"),
      "$.sources[1].name",
      /duplicate source/,
    ],
    ["unknown spine type", (r) => (r.spine.type = "renko"), "$.spine.type", /./],
    [
      "negative threshold",
      (r) => (r.spine.config.volume_threshold = -1),
      "$.spine.config.volume_threshold",
      /./,
    ],
    ["misspelt spine key", (r) => (r.spine.config.volume_treshold = 5), "$.spine.config", /volume_treshold/],
    [
      "unknown aggregation",
      (r) => (r.operators[0].agg = "trade_vwapp"),
      "$.operators[0].agg",
      /unknown aggregation trade_vwapp/,
    ],
    [
      "a family operator (several sources) named as an aggregation",
      (r) => (r.operators[0].agg = "microstructure"),
      "$.operators[0].agg",
      /reads several sources and runs in its feature family/,
    ],
    [
      "unknown operator source",
      (r) => (r.operators[2].source = "nope"),
      "$.operators[2].source",
      /unknown source nope/,
    ],
    [
      "column the source lacks",
      (r) => (r.operators[5].source = "trades_src"),
      "$.operators[5].source",
      /spread_bps requires column bid_px_int, which source trades_src \(trades\) lacks/,
    ],
    [
      "generic aggregation without source_column",
      (r) => r.operators.push({ name: "s", agg: "sum", source: "trades_src" }),
      "$.operators[8].source_column",
      /needs source_column/,
    ],
    [
      "source_column not in the table",
      (r) => r.operators.push({ name: "s", agg: "sum", source: "trades_src", source_column: "bid_px_int" }),
      "$.operators[8].source_column",
      /has no column bid_px_int/,
    ],
    [
      "mode outside the allowlist",
      (r) => (r.mode = "event_joined"),
      "$.mode",
      /trade_vwap .* not allowed in mode event_joined/,
    ],
    [
      "forward as-of join",
      (r) => (r.operators[5].join_strategy = "asof_forward"),
      "$.operators[5].join_strategy",
      /./,
    ],
    [
      "join strategy the aggregation lacks",
      (r) => (r.operators[0].join_strategy = "asof_backward"),
      "$.operators[0].join_strategy",
      /supports join strategies in_bar/,
    ],
    [
      "stage mismatch",
      (r) => (r.operators[0].stage = "feature_then_aggregate"),
      "$.operators[0].stage",
      /does not match/,
    ],
    [
      "duplicate operator",
      (r) => (r.operators[1].name = "vwap"),
      "$.operators[1].name",
      /duplicate operator/,
    ],
    [
      "output collision",
      (r) => r.operators.push({ name: "vwap2", agg: "trade_vwap", source: "trades_src" }),
      "$.operators[8].output_name",
      /vwap_px collides with operator vwap/,
    ],
    ["unknown operator key", (r) => (r.operators[0].window = 5), "$.operators[0]", /window/],
    [
      "label column nobody produces",
      (r) => (r.labels[0].column = "mid_px"),
      "$.labels[0].column",
      /no operator produces/,
    ],
    ["label window 0", (r) => (r.labels[0].window = 0), "$.labels[0].window", /./],
    [
      "unknown normalization",
      (r) => (r.labels[1].normalization = "minmax"),
      "$.labels[1].normalization",
      /./,
    ],
    ["unknown label type", (r) => (r.labels[1].type = "sharpe"), "$.labels[1].type", /./],
    [
      "label name collision",
      (r) => (r.labels[1].name = "forward_return_5bar"),
      "$.labels[1].name",
      /collides/,
    ],
    ["unknown metric", (r) => (r.evaluation.metrics[0].type = "sharpe"), "$.evaluation.metrics[0].type", /./],
    [
      "metric on an unknown column",
      (r) => (r.evaluation.metrics[1].columns[1] = "spread"),
      "$.evaluation.metrics[1].columns[1]",
      /unknown column spread/,
    ],
    [
      "ratio above 1",
      (r) => (r.constraints.max_unassigned_ratio = 2),
      "$.constraints.max_unassigned_ratio",
      /./,
    ],
    [
      "contradicting reproducibility flags",
      (r) => Object.assign(r.constraints, { check_reproducibility: true, skip_reproducibility_check: true }),
      "$.constraints",
      /contradict/,
    ],
    ["missing output_dir", (r) => delete r.artifacts.output_dir, "$.artifacts.output_dir", /./],
    ["unknown top-level key", (r) => (r.extra = 1), "$", /extra/],
  ];
  for (const [name, edit, path, msg] of cases) {
    it(`${name} → ${path}`, () => {
      const p = problems(edit);
      const hit = p.find((x) => x.path === path);
      assert.ok(hit, `expected a problem at ${path}, got ${JSON.stringify(p)}`);
      assert.match(hit.message, msg);
    });
  }

  it("lists every problem at once, each with its path", () => {
    const p = problems((r) => {
      r.operators[0].agg = "nope";
      r.labels[0].window = -1;
      r.constraints.max_unassigned_ratio = -0.5;
    });
    const paths = p.map((x) => x.path);
    // schema problems come first (a shape error stops the semantic pass): both shape errors are listed
    assert.ok(
      paths.includes("$.labels[0].window") && paths.includes("$.constraints.max_unassigned_ratio"),
      paths.join(),
    );
    const q = problems((r) => {
      r.operators[0].agg = "nope";
      r.operators[2].source = "nope";
      r.evaluation.metrics[2].column = "nope";
    });
    assert.deepEqual(
      q.map((x) => x.path),
      [
        "$.operators[0].agg",
        "$.operators[2].source",
        "$.labels[0].column",
        "$.labels[1].column",
        // flow_imbalance is unknown once its operator's source is
        "$.evaluation.metrics[1].columns[0]",
        "$.evaluation.metrics[2].column",
      ],
    );
  });
});

describe("exported JSON Schema", () => {
  it("schemas/quant_research_input.v2.json is current (run npm run docs)", () => {
    const file = JSON.parse(
      readFileSync(new URL("../../schemas/quant_research_input.v2.json", import.meta.url), "utf8"),
    );
    assert.deepEqual(file, requestJsonSchema(), "schema file is stale: run npm run docs");
  });

  it("an independent validator (Ajv, draft 2020-12) accepts the example and rejects shape errors zod rejects", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(requestJsonSchema());
    assert.ok(validate(example()), JSON.stringify(validate.errors));
    const shapeCases: ((r: Req) => void)[] = [
      (r) => (r.schema_version = "1.0"),
      (r) => (r.mode = "hft"),
      (r) => delete r.timeline.end,
      (r) => (r.spine.config.volume_treshold = 5),
      (r) => (r.operators[0].window = 5),
      (r) => (r.labels[0].window = 0),
      (r) => (r.evaluation.metrics[0].type = "sharpe"),
      (r) => (r.constraints.max_unassigned_ratio = 2),
      (r) => (r.extra = 1),
    ];
    for (const edit of shapeCases) {
      const r = example();
      edit(r);
      assert.equal(validate(r), false, `Ajv accepted ${edit.toString()}`);
      assert.equal(validateRequest(r, registry).ok, false);
    }
  });
});

describe("aggregation checks that need the source table", () => {
  it("book_imbalance_top5 on quotes is rejected at validation, naming the operator's source", () => {
    const r = example() as Req;
    r.operators[6].source = "quotes_src";
    const v = validateRequest(r, registry);
    assert.equal(v.ok, false);
    const p = v.problems.find((x) => x.path === "$.operators[6].source");
    assert.ok(p, JSON.stringify(v.problems));
  });
});

describe("generated docs", () => {
  it("docs/aggregations.md is current (run npm run docs)", async () => {
    const { aggregationsMarkdown } = await import("../../src/cli/pipeline.js");
    const file = readFileSync(new URL("../../docs/aggregations.md", import.meta.url), "utf8");
    assert.equal(
      file,
      aggregationsMarkdown(builtinRegistry()),
      "docs/aggregations.md is stale: run npm run docs",
    );
  });
});

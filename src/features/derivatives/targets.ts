/**
 * The derivatives preset's targets (the guide's "Target Variable Engineering"), as label specs of the
 * pipeline's labels (pipeline/labels.ts) with wall-clock horizons looking forward from `available_at_us`
 * (null where the horizon runs past the frame):
 * `target_return_1h`, `target_return_4h`, `target_return_24h` (forward simple returns of `close`),
 * `target_class` (4 h return: 2 LONG above +θ, 0 SHORT below −θ, 1 NEUTRAL; θ default 0.5 % = 50 bps),
 * `target_binary` (1 when the 4 h return > θ), `target_oi_change_4h` (forward change of `open_interest`).
 * Labels are never features: the frame's feature columns are computed before and without them.
 */
import pl from "nodejs-polars";
import { ConfigError } from "../../core/errors.js";
import { computeLabels, type LabelSpecInput, parseLabelSpec } from "../../pipeline/labels.js";

const H = 3_600_000;

/** The derivatives target specs with threshold θ in bps (default 50 = 0.5 %). */
export function derivativesTargets(thresholdBps = 50): LabelSpecInput[] {
  return [
    { name: "target_return_1h", type: "forward_return", column: "close", horizon_ms: H },
    { name: "target_return_4h", type: "forward_return", column: "close", horizon_ms: 4 * H },
    { name: "target_return_24h", type: "forward_return", column: "close", horizon_ms: 24 * H },
    {
      name: "target_class",
      type: "three_class",
      column: "close",
      horizon_ms: 4 * H,
      threshold_bps: thresholdBps,
      class_values: [0, 1, 2],
    },
    {
      name: "target_binary",
      type: "direction",
      column: "close",
      horizon_ms: 4 * H,
      threshold_bps: thresholdBps,
    },
    { name: "target_oi_change_4h", type: "forward_return", column: "open_interest", horizon_ms: 4 * H },
  ];
}

/**
 * A frame with the label columns appended (Float64; null where undefined). `frame` needs
 * `available_at_us` and every label's column.
 * @throws ConfigError naming a missing column or an invalid spec.
 */
export function addTargets(frame: pl.DataFrame, specs: readonly LabelSpecInput[]): pl.DataFrame {
  const parsed = specs.map(parseLabelSpec);
  const need = new Set(["available_at_us", ...parsed.map((s) => s.column)]);
  for (const c of need)
    if (!frame.columns.includes(c))
      throw new ConfigError(`labels: the frame has no column ${c} (columns: ${frame.columns.join(", ")})`);
  const col = (c: string) =>
    Float64Array.from(
      frame.getColumn(c).cast(pl.Float64).toArray() as (number | null)[],
      (v) => v ?? Number.NaN,
    );
  const columns = new Map<string, Float64Array>();
  for (const s of parsed) columns.set(s.column, col(s.column));
  const r = computeLabels({ n: frame.height, columns, availableAtUs: col("available_at_us") }, parsed, {
    trainRows: 0,
  });
  const names = [...r.columns.keys()];
  return frame
    .withColumns(...[...r.columns].map(([name, v]) => pl.Series(name, v, pl.Float64)))
    .withColumns(...names.map((n) => pl.col(n).fillNan(null)));
}

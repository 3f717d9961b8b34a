/**
 * Runs the trader preset (features/trader/preset.ts) over one symbol's replay rows: the one Driver on a
 * 60 s clock spine from the replay's first minute to its last, with no event stream (the replay rows are
 * served by `replay_rows` as row values), collecting the feature values of the minutes the replay has.
 */
import { US_PER_MINUTE } from "../../core/time.js";
import { CollectSink, Driver, type DriverSnapshot } from "../../engine/driver.js";
import type { Operator } from "../../engine/operator.js";
import { createSpine } from "../../engine/spine.js";
import { parseSpineSpec } from "../../engine/spine-spec.js";
import { TRADER_FEATURES } from "./features.js";
import { checkReplayRows, createTraderGroup, type ReplayRows } from "./preset.js";

/** Feature values of one symbol, aligned with the replay's rows. */
export interface TraderFeatureColumns {
  /** One column per feature of `TRADER_FEATURES` (float64; NaN = null), one value per replay row. */
  readonly columns: readonly Float64Array[];
}

/** Options of `runTraderFeatures` (checkpoints for tests of snapshot/restore). */
export interface TraderRunOptions {
  readonly checkpointAtRows?: number;
  readonly onCheckpoint?: (s: DriverSnapshot) => void;
  readonly restore?: DriverSnapshot;
}

/**
 * The 33 features over `rows` (one symbol), aligned with its rows.
 * @throws ConfigError when the replay's minutes are not aligned or not strictly increasing.
 */
export function runTraderFeatures(
  symbol: string,
  rows: ReplayRows,
  opts: TraderRunOptions = {},
): TraderFeatureColumns {
  checkReplayRows(symbol, rows);
  const n = rows.eventUs.length;
  const out = TRADER_FEATURES.map(() => new Float64Array(n).fill(Number.NaN));
  if (n === 0) return { columns: out };
  const startUs = rows.eventUs[0]!;
  const endUs = rows.eventUs[n - 1]! + US_PER_MINUTE;
  const group: Operator = createTraderGroup(rows);
  const spine = createSpine(parseSpineSpec({ type: "clock", stepMs: 60_000, maxRows: 1e9 }), {
    startUs,
    priceIncrement: 1,
    amountIncrement: 1,
  });
  spine.replayStartUs(startUs, 0);
  const sink = new CollectSink();
  // batches of at most a day of minutes (the Driver allocates a batch's columns up front)
  const batchRows = Math.min(1440, (endUs - startUs) / US_PER_MINUTE + 1);
  const driver = new Driver({ streams: [], spine, operators: [group], startUs, endUs, sink, batchRows });
  if (opts.restore) driver.restore(opts.restore);
  if (opts.checkpointAtRows !== undefined && opts.onCheckpoint) {
    // no events: advance the clock to the checkpoint row, snapshot, then continue
    driver.advanceTo(startUs + opts.checkpointAtRows * US_PER_MINUTE);
    opts.onCheckpoint(driver.snapshot());
  }
  driver.finish();
  const names = driver.names;
  const idx = TRADER_FEATURES.map((f) => names.indexOf(f));
  const closeIdx = names.indexOf("close");
  let j = 0;
  for (const b of sink.batches) {
    for (let r = 0; r < b.length; r++) {
      const t = b.tsEventUs[r]!;
      while (j < n && rows.eventUs[j]! < t) j++;
      if (j < n && rows.eventUs[j] === t && !Number.isNaN(b.columns[closeIdx]![r]!)) {
        for (let k = 0; k < idx.length; k++) out[k]![j] = b.columns[idx[k]!]![r]!;
      }
    }
  }
  return { columns: out };
}

/**
 * `VolumeBarTracker`: the volume-bar MFT guide's incremental tracker (`add_trade(trade) → completed bar |
 * None`, Pointline docs/guides/volume-bar-features-crypto-mft.md, "Production workaround") on the live
 * runner. It is not a second bar builder: `addTrade` pushes the trade into a trades-only `LiveRunner`
 * whose spine is the volume spine and whose operators are the trade members of the bar family (the
 * pipeline's registered aggregations: ohlcv, trade_vwap, trade_count, taker_volume,
 * signed_trade_imbalance, avg_trade_size per trade, realized_volatility, vwap_reversion), and returns the
 * row the runner emits for the bar this trade completes. A trades-only run has one stream, so each trade
 * is processed as it arrives (`LiveRunner.processThrough`): the bar is returned by the call that adds
 * its completing trade.
 *
 * Bars are the engine's volume bars (engine/spine.ts): a bar closes on the trade that brings its volume
 * to the threshold (that trade included whole; the counter restarts at zero), bars never span a UTC
 * midnight (a bar still open at midnight is dropped), so bars equal those of `buildFeatureFrame` with
 * the same spine and `TRACKER_FAMILY` provided the trades start at the UTC midnight at or before the
 * tracker's start (feed the day's earlier trades first, e.g. with `replayLake(tracker.runner, …,
 * { finish: false })`). Bars before `start` are warm-up and not returned.
 *
 * Units: trades in increments of the instrument (`pxInt`, `qtyInt`: the lake's fixed point) and µs;
 * bars in frame units (prices in quote currency, sizes in base units, engine/units.ts), as batch frames.
 */
import { ConfigError } from "../core/errors.js";
import type { TimeInput } from "../core/time.js";
import { barAggregations } from "../features/bar-aggregations.js";
import { defineFamily, type FamilyDef } from "../features/family.js";
import type { LakeRef } from "../lake/lake.js";
import { type LiveRow, LiveRunner } from "./runner.js";

/**
 * The tracker's columns as a family: the bar family's members that read trades only (open, high, low,
 * close, volume, vwap, trade_count, buy_volume, sell_volume, flow_imbalance, avg_trade_size, realized_vol,
 * vwap_reversion). Give it as `families` to `buildFeatureFrame` (with `includeBarAggregations`) for the
 * batch frame of the same bars.
 */
export const TRACKER_FAMILY: FamilyDef = defineFamily({
  id: "bar_trades",
  prefix: "",
  title: "Volume-bar aggregations over trades only (VolumeBarTracker)",
  flag: "includeBarAggregations",
  members: (cfg) => barAggregations.members(cfg).filter((m) => m.table === "trades"),
});

/** One trade as the tracker takes it. */
export interface TrackerTrade {
  /** Arrival time, µs since the epoch UTC; not before the previous trade's. */
  readonly tsLocalUs: number;
  /** Price in price increments of the instrument (the lake's `px_int`). */
  readonly pxInt: number;
  /** Size in amount increments (`qty_int`), > 0. */
  readonly qtyInt: number;
  /** Taker side: 0 buy, 1 sell, −1 unknown. */
  readonly side: number;
  /** Lineage (tie-break of trades at one µs): source file id and line; default 0 and a running count. */
  readonly fileId?: number;
  readonly line?: number;
}

/**
 * A completed volume bar: spine columns (µs) and the tracker's columns in frame units (prices in quote
 * currency, sizes in base units); null where undefined (e.g. flow_imbalance with no signed volume).
 */
export interface VolumeBar {
  readonly ts_event_us: number;
  readonly ts_end_us: number;
  readonly available_at_us: number;
  readonly bar_index: number;
  readonly bar_duration_us: number;
  readonly open: number | null;
  readonly high: number | null;
  readonly low: number | null;
  readonly close: number | null;
  readonly volume: number | null;
  readonly vwap: number | null;
  readonly trade_count: number | null;
  readonly buy_volume: number | null;
  readonly sell_volume: number | null;
  readonly flow_imbalance: number | null;
  readonly avg_trade_size: number | null;
  readonly realized_vol: number | null;
  readonly vwap_reversion: number | null;
}

/** What a tracker is built from. */
export interface VolumeBarTrackerConfig {
  /** Lake root or handle: its symbol registry gives the instrument's increments at `start`. */
  readonly lake: LakeRef;
  readonly exchange: string;
  readonly symbol: string;
  /** Bar volume, base units (e.g. 5 = 5 BTC). */
  readonly threshold: number;
  /** First bar start returned (earlier bars are warm-up). */
  readonly start: TimeInput;
  /** End of the bars (exclusive); default open-ended. */
  readonly end?: TimeInput;
}

/** The guide's tracker on the live runner (see the module doc). */
export class VolumeBarTracker {
  private completed: VolumeBar | null = null;
  private lines = 0;
  private readonly row = {
    ts_local_us: 0,
    file_id: 0,
    file_line_number: 0,
    side: 0,
    px_int: 0,
    qty_int: 0,
  };

  private constructor(
    /** The runner the tracker pushes into (its `counters`, `snapshot`, …). */
    readonly runner: LiveRunner,
  ) {
    runner.onRow((r: LiveRow) => {
      this.completed = r.toObject() as unknown as VolumeBar;
    });
  }

  /** A tracker of `cfg`. @throws ConfigError as `LiveRunner.forFeatures` (unknown symbol, threshold) */
  static async create(cfg: VolumeBarTrackerConfig): Promise<VolumeBarTracker> {
    const runner = await LiveRunner.forFeatures({
      lake: cfg.lake,
      exchange: cfg.exchange,
      symbol: cfg.symbol,
      start: cfg.start,
      ...(cfg.end !== undefined ? { end: cfg.end } : {}),
      families: [TRACKER_FAMILY],
      config: {
        spine: { type: "volume", volumeThreshold: cfg.threshold },
        includeBarAggregations: true,
      },
    });
    if (runner.streams.length !== 1) throw new ConfigError("VolumeBarTracker: the run must read trades only");
    return new VolumeBarTracker(runner);
  }

  /**
   * Adds one trade; returns the bar it completes (null when the bar is still open, or the bar is warm-up).
   * @throws EventOrderError if the trade is before the previous one; ConfigError for a malformed trade
   */
  addTrade(trade: TrackerTrade): VolumeBar | null {
    const r = this.row;
    r.ts_local_us = trade.tsLocalUs;
    r.file_id = trade.fileId ?? 0;
    r.file_line_number = trade.line ?? ++this.lines;
    r.side = trade.side;
    r.px_int = trade.pxInt;
    r.qty_int = trade.qtyInt;
    this.completed = null;
    this.runner.push(0, r);
    this.runner.processThrough(trade.tsLocalUs);
    return this.completed;
  }
}

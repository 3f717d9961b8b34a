/**
 * The point-in-time as-of lookup behind `getHistoricalFeatures` (store/offline.ts): for each query time
 * t, the last feature row whose available_at_us ≤ t — never by ts_event_us: a bar is not knowable at its
 * start. Rows must be in key order (available_at_us, ts_event_us, bar_index), so among rows of equal
 * available_at_us the last one is the greatest key, as the online store's `getAsOf` returns.
 *
 * Typed arrays only, no allocation per query: a binary search per time (O(m log n)), or one merge pass
 * (O(m + n)) when the times are sorted.
 */

/**
 * For each `timesUs[i]`: the index of the last row with `availableAtUs[row] ≤ t`, or −1 (no such row,
 * t is NaN, or the row is older than `maxStalenessUs`: t − available_at_us > maxStalenessUs).
 * `availableAtUs` must be non-decreasing (checked: RangeError otherwise).
 */
export function asOfIndices(
  availableAtUs: Float64Array,
  timesUs: Float64Array,
  maxStalenessUs = Number.POSITIVE_INFINITY,
): Int32Array {
  const n = availableAtUs.length;
  for (let r = 1; r < n; r++)
    if (!(availableAtUs[r]! >= availableAtUs[r - 1]!))
      throw new RangeError(`asOfIndices: available_at_us not sorted at row ${r}`);
  const m = timesUs.length;
  const out = new Int32Array(m);
  let sorted = true;
  for (let i = 1; i < m && sorted; i++) if (!(timesUs[i]! >= timesUs[i - 1]!)) sorted = false;
  if (sorted) {
    // merge: the row pointer only moves forward
    let r = -1;
    for (let i = 0; i < m; i++) {
      const t = timesUs[i]!;
      while (r + 1 < n && availableAtUs[r + 1]! <= t) r++;
      out[i] = r;
    }
  } else {
    for (let i = 0; i < m; i++) {
      const t = timesUs[i]!;
      // upper bound: first row with available_at_us > t
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (availableAtUs[mid]! <= t) lo = mid + 1;
        else hi = mid;
      }
      out[i] = Number.isNaN(t) ? -1 : lo - 1;
    }
  }
  for (let i = 0; i < m; i++) {
    const r = out[i]!;
    const t = timesUs[i]!;
    if (Number.isNaN(t) || (r >= 0 && t - availableAtUs[r]! > maxStalenessUs)) out[i] = -1;
  }
  return out;
}

/**
 * The built-in aggregations of pipeline v2, in catalogue order. Files here import only types from
 * ../registry.ts (which imports this list at runtime).
 */
import type { AggregationSpec } from "../registry.js";

export const BUILTIN_AGGREGATIONS: readonly AggregationSpec[] = [];

/**
 * `SpineSpec`: the one validated description of an event spine (semantics in engine/spine.ts and
 * docs/engine.md), and its three input surfaces. Each surface has exactly one parser, and each parser
 * returns a `SpineSpec` with every default filled:
 *
 * | surface | parser | example |
 * |---|---|---|
 * | library / config file (camelCase) | `parseSpineSpec` | `{ type: "volume", volumeThreshold: 5 }` |
 * | CLI `--spine` shorthand | `parseSpineShorthand` | `volume:5` |
 * | request v2 `spine` (snake_case) | `spineSpecFromRequest` | `{ type: "volume", config: { volume_threshold: 5 } }` |
 *
 * `formatSpineSpec` is the inverse of `parseSpineShorthand`: it writes the canonical shorthand (options
 * only when they differ from the defaults), so `parseSpineShorthand(formatSpineSpec(s))` equals `s`.
 *
 * Fields and units: `stepMs` (ms), `volumeThreshold` (base units, e.g. BTC), `dollarThreshold` (quote
 * units, e.g. USDT notional), `tickThreshold` (trades), `maxTimeMs` (ms), `splitTrades`,
 * `useAbsoluteVolume`, `includePartialLastBar` (booleans), `maxRows` (rows, warm-up rows included).
 * The request surface spells the same fields in snake_case (`volume_threshold`, …) under `config`.
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.js";

/** Spine types, in the order the grammar lists them. */
export const SPINE_TYPES = ["clock", "trades", "volume", "dollar", "tick", "hybrid", "bars"] as const;
/** One of `SPINE_TYPES`. */
export type SpineType = (typeof SPINE_TYPES)[number];

/** Defaults of the optional fields (every spine type takes `includePartialLastBar` and `maxRows`). */
export const SPINE_DEFAULTS = {
  splitTrades: false,
  useAbsoluteVolume: true,
  includePartialLastBar: false,
  maxRows: 5_000_000,
} as const;

// One validator per field, shared by the camelCase and the snake_case schema (fresh instances each use,
// so the generated request JSON Schema inlines them exactly as before).
const field = {
  stepMs: () => z.number().int().positive(),
  volumeThreshold: () => z.number().positive(),
  dollarThreshold: () => z.number().positive(),
  tickThreshold: () => z.number().int().positive(),
  maxTimeMs: () => z.number().int().positive(),
  intervalMs: () => z.number().int().positive(),
  splitTrades: () => z.boolean(),
  useAbsoluteVolume: () => z.boolean(),
  includePartialLastBar: () => z.boolean(),
  maxRows: () => z.number().int().positive(),
};

const common = {
  /** Emit a bar still open at a day boundary or at the range end (default false: counted as unassigned). */
  includePartialLastBar: field.includePartialLastBar().default(SPINE_DEFAULTS.includePartialLastBar),
  /** Safety limit on rows the spine produces, warm-up rows included; exceeding it is a ConfigError (default 5,000,000). */
  maxRows: field.maxRows().default(SPINE_DEFAULTS.maxRows),
};

/**
 * zod schema of `SpineSpec` (camelCase; discriminated on `type`; strict: an unknown or misspelt key is
 * an error, never a silently ignored option).
 */
export const spineSpecSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("clock"), stepMs: field.stepMs(), ...common }).strict(),
  z.object({ type: z.literal("trades"), ...common }).strict(),
  z
    .object({
      type: z.literal("volume"),
      volumeThreshold: field.volumeThreshold(),
      useAbsoluteVolume: field.useAbsoluteVolume().default(SPINE_DEFAULTS.useAbsoluteVolume),
      splitTrades: field.splitTrades().default(SPINE_DEFAULTS.splitTrades),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal("dollar"),
      dollarThreshold: field.dollarThreshold(),
      splitTrades: field.splitTrades().default(SPINE_DEFAULTS.splitTrades),
      ...common,
    })
    .strict(),
  z.object({ type: z.literal("tick"), tickThreshold: field.tickThreshold(), ...common }).strict(),
  z
    .object({
      type: z.literal("hybrid"),
      volumeThreshold: field.volumeThreshold(),
      maxTimeMs: field.maxTimeMs(),
      useAbsoluteVolume: field.useAbsoluteVolume().default(SPINE_DEFAULTS.useAbsoluteVolume),
      ...common,
    })
    .strict(),
  z.object({ type: z.literal("bars"), intervalMs: field.intervalMs(), ...common }).strict(),
]);

/**
 * Validated spine description, defaults filled, discriminated on `type`:
 * - `clock`: `stepMs` (ms);
 * - `trades`: one row per trade;
 * - `volume`: `volumeThreshold` (base units), `useAbsoluteVolume` (false: signed imbalance bars), `splitTrades`;
 * - `dollar`: `dollarThreshold` (quote units), `splitTrades`;
 * - `tick`: `tickThreshold` (trades);
 * - `hybrid`: `volumeThreshold` (base units), `maxTimeMs` (ms), `useAbsoluteVolume`;
 * - `bars`: `intervalMs` (ms): one row per vendor bar (`ohlcv_bars`) of that interval, closed by the bar
 *   at its end (engine/spine.ts);
 * - every type: `includePartialLastBar`, `maxRows`.
 */
export type SpineSpec = z.output<typeof spineSpecSchema>;
/** A `SpineSpec` as accepted from users (optional fields may be omitted). */
export type SpineSpecInput = z.input<typeof spineSpecSchema>;
/** Former name of `SpineSpec` (public API; same type). */
export type EventSpineConfig = SpineSpec;
/** Former name of `SpineSpecInput` (public API; same type). */
export type EventSpineInput = SpineSpecInput;

/** Field path of a camelCase spec issue (`volumeThreshold`). */
const fieldPath = (p: readonly PropertyKey[]): string => p.map(String).join(".") || "(root)";

function issuesText(
  issues: readonly z.core.$ZodIssue[],
  path: (p: readonly PropertyKey[]) => string,
): string {
  return issues.map((i) => `${path(i.path)}: ${i.message}`).join("; ");
}

/**
 * Parses the library / config-file surface (camelCase object, optional fields may be omitted).
 * @throws ConfigError `invalid spine config: <field>: <problem>; …` listing every invalid, missing or
 * unknown field.
 */
export function parseSpineSpec(input: unknown): SpineSpec {
  const r = spineSpecSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(`invalid spine config: ${issuesText(r.error.issues, fieldPath)}`);
  }
  return r.data;
}

// ---------------------------------------------------------------------------------------------------
// CLI shorthand

/** Positional arguments of each type in the shorthand (`hybrid:<volumeThreshold>:<maxTimeMs>`). */
const POSITIONAL: Record<
  SpineType,
  readonly ("stepMs" | "volumeThreshold" | "dollarThreshold" | "tickThreshold" | "maxTimeMs" | "intervalMs")[]
> = {
  clock: ["stepMs"],
  trades: [],
  volume: ["volumeThreshold"],
  dollar: ["dollarThreshold"],
  tick: ["tickThreshold"],
  hybrid: ["volumeThreshold", "maxTimeMs"],
  bars: ["intervalMs"],
};

/** Units of a `bars:` interval in the shorthand: `1s`, `5m`, `1h`, `1d` (or a bare number of ms). */
const INTERVAL_UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `5m` → 300000 (ms); a bare integer is ms; NaN when it is neither. */
export function parseIntervalMs(text: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (m === null) return Number.NaN;
  return Number(m[1]) * (m[2] === undefined ? 1 : INTERVAL_UNIT_MS[m[2]]!);
}

/** 300000 → `5m`: the largest unit that divides the interval (ms when none does). */
export function formatIntervalMs(ms: number): string {
  for (const u of ["d", "h", "m", "s"] as const) {
    const k = INTERVAL_UNIT_MS[u]!;
    if (ms % k === 0) return `${ms / k}${u}`;
  }
  return String(ms);
}

/** Optional fields, in canonical order (the shorthand writes them as `,name=value`). */
const OPTIONS = ["useAbsoluteVolume", "splitTrades", "includePartialLastBar", "maxRows"] as const;
type OptionName = (typeof OPTIONS)[number];

/**
 * Parses the CLI shorthand `<type>[:<arg>…][,<option>=<value>…]`: `clock:<stepMs>`, `trades`,
 * `volume:<base qty>`, `dollar:<quote notional>`, `tick:<trades>`, `hybrid:<base qty>:<maxTimeMs>`,
 * `bars:<interval>` (`bars:5m`, `bars:1m`, `bars:1h`; s|m|h|d or ms),
 * optionally followed by options the type takes, e.g. `volume:5,splitTrades=true,maxRows=1000`
 * (`useAbsoluteVolume`, `splitTrades`, `includePartialLastBar`: true|false; `maxRows`: integer).
 * @throws ConfigError `--spine <s>: …` naming the field: unknown type, a missing, extra or non-numeric
 * argument, an unknown option, or a value the schema rejects.
 */
export function parseSpineShorthand(s: string): SpineSpec {
  // the fields are validated against the schema there; parsing again fills the defaults
  return spineSpecSchema.parse(spineShorthandFields(s));
}

/** The fields a shorthand names: `type`, its positional arguments and the options it spells out. */
export type SpineShorthandFields = { readonly type: SpineType } & Readonly<Record<string, unknown>>;

/**
 * The fields the shorthand `s` names, without defaults (`volume:5` → `{ type: "volume",
 * volumeThreshold: 5 }`): what `--spine` sets when it is merged into a config's spine. Each value is
 * checked like `parseSpineShorthand` does (then the merged spec is validated as a whole).
 * @throws ConfigError `--spine <s>: …` as `parseSpineShorthand`.
 */
export function spineShorthandFields(s: string): SpineShorthandFields {
  const fail = (msg: string): never => {
    throw new ConfigError(`--spine ${s}: ${msg}`);
  };
  const [head = "", ...opts] = s.split(",");
  const [type, ...args] = head.split(":");
  if (!(SPINE_TYPES as readonly string[]).includes(type ?? ""))
    return fail(`unknown spine type (${SPINE_TYPES.join("|")})`);
  const names = POSITIONAL[type as SpineType];
  const obj: Record<string, unknown> = { type };
  names.forEach((name, i) => {
    const x = args[i];
    const v = name === "intervalMs" ? parseIntervalMs(x ?? "") : Number(x);
    if (x === undefined || x.trim() === "" || !Number.isFinite(v))
      fail(name === "intervalMs" ? "interval must be <n>s|m|h|d or ms, e.g. 5m" : `${name} must be a number`);
    obj[name] = v;
  });
  if (args.length > names.length)
    fail(`too many arguments for ${type} (expected ${[type, ...names.map((n) => `<${n}>`)].join(":")})`);
  for (const opt of opts) {
    const eq = opt.indexOf("=");
    const name = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? undefined : opt.slice(eq + 1);
    if (!(OPTIONS as readonly string[]).includes(name))
      fail(`unknown option '${name}' (${OPTIONS.join(", ")})`);
    if (name in obj) fail(`option ${name} given twice`);
    if (name === "maxRows") {
      const v = Number(value);
      if (value === undefined || value.trim() === "" || !Number.isFinite(v)) fail(`maxRows must be a number`);
      obj[name] = v;
    } else if (value === "true" || value === "false") obj[name] = value === "true";
    else fail(`${name} must be true or false`);
  }
  const r = spineSpecSchema.safeParse(obj);
  if (!r.success) return fail(`invalid spine config: ${issuesText(r.error.issues, fieldPath)}`);
  return obj as SpineShorthandFields;
}

/**
 * Canonical shorthand of a spec (for logs and manifests): positional arguments, then the options that
 * differ from `SPINE_DEFAULTS` in canonical order, e.g. `volume:5`, `hybrid:5:60000`,
 * `dollar:1000000,splitTrades=true`. Numbers are written with `String(n)` (shortest exact form), so
 * `parseSpineShorthand(formatSpineSpec(spec))` deep-equals `spec`. Never throws for a `SpineSpec`.
 */
export function formatSpineSpec(spec: SpineSpec): string {
  const rec = spec as unknown as Record<string, unknown>;
  let s = [
    spec.type,
    ...POSITIONAL[spec.type].map((n) =>
      n === "intervalMs" ? formatIntervalMs(Number(rec[n])) : String(rec[n]),
    ),
  ].join(":");
  for (const name of OPTIONS) {
    if (name in rec && rec[name] !== SPINE_DEFAULTS[name as OptionName]) s += `,${name}=${String(rec[name])}`;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------
// request v2 surface (snake_case)

const requestCommon = {
  include_partial_last_bar: field.includePartialLastBar().optional(),
  max_rows: field.maxRows().optional(),
};

/**
 * zod schema of a request v2 `spine`: `type` plus a snake_case `config` per type (optional for
 * `trades`) and an optional `source` (the trades source an event spine is built from). Every object is
 * strict. The request's JSON Schema (schemas/quant_research_input.v2.json) is generated from it.
 */
export const requestSpineSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("clock"),
      config: z.object({ step_ms: field.stepMs(), ...requestCommon }).strict(),
      source: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("trades"),
      config: z
        .object({ ...requestCommon })
        .strict()
        .optional(),
      source: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("volume"),
      config: z
        .object({
          volume_threshold: field.volumeThreshold(),
          use_absolute_volume: field.useAbsoluteVolume().optional(),
          split_trades: field.splitTrades().optional(),
          ...requestCommon,
        })
        .strict(),
      source: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("dollar"),
      config: z
        .object({
          dollar_threshold: field.dollarThreshold(),
          split_trades: field.splitTrades().optional(),
          ...requestCommon,
        })
        .strict(),
      source: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("tick"),
      config: z.object({ tick_threshold: field.tickThreshold(), ...requestCommon }).strict(),
      source: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("hybrid"),
      config: z
        .object({
          volume_threshold: field.volumeThreshold(),
          max_time_ms: field.maxTimeMs(),
          use_absolute_volume: field.useAbsoluteVolume().optional(),
          ...requestCommon,
        })
        .strict(),
      source: z.string().optional(),
    })
    .strict(),
]);

/** A request v2 `spine` as written (snake_case). */
export type RequestSpine = z.infer<typeof requestSpineSchema>;

/** `step_ms` → `stepMs`. */
function camelKey(k: string): string {
  return k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses the request v2 surface: a request's `spine` (`{ type, config: { volume_threshold, … }, source? }`)
 * to a `SpineSpec` (`source` is the pipeline's concern and is not part of the spec). The snake_case keys
 * map one-to-one to the spec's camelCase fields.
 * @throws ConfigError `invalid request spine: $.spine.config.<field>: <problem>; …` with the JSON path of
 * every invalid, missing or unknown field (never for a spine that `validateRequest` accepted).
 */
export function spineSpecFromRequest(spine: unknown): SpineSpec {
  const r = requestSpineSchema.safeParse(spine);
  if (!r.success) {
    const jsonPath = (p: readonly PropertyKey[]) =>
      p.reduce<string>((s, k) => (typeof k === "number" ? `${s}[${k}]` : `${s}.${String(k)}`), "$.spine");
    throw new ConfigError(`invalid request spine: ${issuesText(r.error.issues, jsonPath)}`);
  }
  const obj: Record<string, unknown> = { type: r.data.type };
  for (const [k, v] of Object.entries(r.data.config ?? {})) if (v !== undefined) obj[camelKey(k)] = v;
  return parseSpineSpec(obj);
}

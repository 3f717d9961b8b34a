/**
 * `pointline store …`: the feature store from the command line (docs/store.md).
 *
 * Online store (Redis with `--redis URL`, else the embedded store in `--store DIR`, default `./store`):
 * - `store sets` — registered feature sets (and, with `--lake`, the offline ones);
 * - `store get --set NAME[@V] --exchange E --symbol S [--at T | --start T --end T]` — the latest row,
 *   the row as of T (greatest available_at_us ≤ T) or the rows with available_at_us in [start, end);
 * - `store materialize FRAME.parquet --set NAME[@V]` — pushes a feature frame incrementally;
 * - `store diff FRAME.parquet --set NAME[@V]` — the online/batch consistency check (exit 2 when any row
 *   differs or is missing on one side).
 *
 * Offline store (in the lake, `--lake DIR`):
 * - `store register FRAME.parquet --lake DIR --set NAME[@V]` — registers a frame as a versioned set;
 * - `store history --lake DIR --entities ROWS.csv|.parquet --sets A,B@2 [--max-staleness-ms N]
 *   [--out FILE.csv|.parquet]` — point-in-time training rows.
 *
 * Errors (exit 1) name the flag, file or URL: e.g. `cannot connect to Redis at redis://…: ECONNREFUSED`.
 */
import { existsSync } from "node:fs";
import { extname } from "node:path";
import { type Command, Option } from "commander";
import pl from "nodejs-polars";
import { ConfigError } from "../core/errors.js";
import { usToIso } from "../core/time.js";
import { typedColumnsToFrame } from "../features/frame.js";
import { storeDiff } from "../store/diff.js";
import { materialize, readStoreFrame } from "../store/materialize.js";
import { describePart, OfflineStore, parseSetRef } from "../store/offline.js";
import { openOnlineStore } from "../store/open.js";
import type { Entity, FeatureSetMeta, OnlineStore } from "../store/types.js";
import { parseCount, parseTimeArg, requireLake, type TimeArg } from "./args.js";
import type { CliIo } from "./main.js";

interface StoreFlags {
  readonly redis?: string;
  readonly store: string;
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option("--redis <url>", "Redis URL (redis://host:port[/db]); default: the embedded store")
    .option("--store <dir>", "directory of the embedded store", "./store");
}

/** Opens the online store the flags name, runs `f`, closes the store. */
async function withStore<T>(o: StoreFlags, f: (s: OnlineStore) => Promise<T>): Promise<T> {
  const store = await openOnlineStore(o.redis !== undefined ? { redis: o.redis } : { dir: o.store });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

/** The feature set `--set NAME[@V]` names. @throws ConfigError when it is not registered. */
async function requireSet(store: OnlineStore, ref: string): Promise<FeatureSetMeta> {
  const r = parseSetRef(ref);
  const m = await store.getMetadata(r.name, r.version);
  if (m !== null) return m;
  const have = (await store.listFeatureSets()).map((s) => `${s.name}@${s.version}`);
  throw new ConfigError(
    `--set ${ref}: no such feature set in ${store.kind} store ${store.location} (sets: ${have.join(", ") || "none"})`,
  );
}

function entityOf(o: { exchange?: string; symbol?: string }, fallback: Entity | null, what: string): Entity {
  if (o.exchange !== undefined && o.symbol !== undefined) return { exchange: o.exchange, symbol: o.symbol };
  if (o.exchange !== undefined || o.symbol !== undefined)
    throw new ConfigError("give both --exchange and --symbol (or neither, to use the frame's manifest)");
  if (fallback === null) throw new ConfigError(`--exchange and --symbol are required: ${what}`);
  return fallback;
}

function rowsFrame(set: FeatureSetMeta, rows: readonly Float64Array[]): pl.DataFrame {
  const cols = set.columns.map((_, k) => Float64Array.from(rows, (r) => r[k]!));
  return typedColumnsToFrame(set.columns, cols);
}

function printRows(io: CliIo, set: FeatureSetMeta, rows: readonly Float64Array[], format: string): void {
  if (format === "json") {
    const out = rows.map((r) =>
      Object.fromEntries(set.columns.map((c, k) => [c.name, Number.isNaN(r[k]!) ? null : r[k]!])),
    );
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else if (format === "csv") {
    io.stdout.write(rowsFrame(set, rows).writeCSV().toString());
  } else if (rows.length === 1) {
    // one row: vertical, with units
    const r = rows[0]!;
    const w = Math.max(...set.columns.map((c) => c.name.length));
    for (const [k, c] of set.columns.entries()) {
      const v = r[k]!;
      const text = Number.isNaN(v)
        ? "null"
        : c.name.endsWith("_us") && c.dtype === "Int64" && v > 1e15
          ? `${v} (${usToIso(v)})`
          : String(v);
      io.stdout.write(`${c.name.padEnd(w)}  ${text}${c.unit ? `  [${c.unit}]` : ""}\n`);
    }
  } else io.stdout.write(`${rowsFrame(set, rows).toString()}\n`);
}

function readEntities(path: string): pl.DataFrame {
  if (!existsSync(path)) throw new ConfigError(`--entities ${path}: no such file`);
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".parquet") return pl.readParquet(path);
    if (ext === ".csv") return pl.readCSV(path);
  } catch (e) {
    throw new ConfigError(`--entities ${path}: cannot read: ${e instanceof Error ? e.message : e}`);
  }
  throw new ConfigError(`--entities ${path}: extension must be .csv or .parquet`);
}

/** Adds the `store` command group to the CLI. */
export function registerStoreCommands(program: Command, io: CliIo): void {
  const store = program
    .command("store")
    .description("feature store: online (Redis or embedded) and offline (lake) feature sets");

  storeOptions(store.command("sets"))
    .description("list the registered feature sets (online; offline too with --lake)")
    .option("--lake <dir>", "also list the lake's offline feature sets")
    .option("--json", "JSON output")
    .action(async (o: StoreFlags & { lake?: string; json?: boolean }) => {
      const online = await withStore(o, (s) => s.listFeatureSets());
      const offline = o.lake !== undefined ? new OfflineStore(requireLake(o.lake)).list() : [];
      if (o.json) {
        io.stdout.write(`${JSON.stringify({ online, offline }, null, 2)}\n`);
        return;
      }
      const where = o.redis ?? o.store;
      io.stdout.write(
        `online (${o.redis !== undefined ? "redis" : "embedded"} ${where}): ${online.length} set(s)\n`,
      );
      for (const m of online)
        io.stdout.write(
          `  ${m.name}@${m.version}: ${m.columns.length} columns, ttl ${m.ttlSeconds} s${m.description ? `, ${m.description}` : ""}\n`,
        );
      if (o.lake !== undefined) {
        io.stdout.write(`offline (${o.lake}): ${offline.length} part(s)\n`);
        for (const m of offline) io.stdout.write(`  ${describePart(m)}\n`);
      }
    });

  storeOptions(store.command("get"))
    .description("online rows of one entity: latest, as of --at, or with available_at_us in [--start, --end)")
    .requiredOption("--set <name[@version]>", "feature set")
    .requiredOption("--exchange <id>", "exchange")
    .requiredOption("--symbol <symbol>", "symbol")
    .addOption(
      new Option("--at <time>", "as of this time: the last row with available_at_us ≤ it").argParser(
        parseTimeArg,
      ),
    )
    .addOption(
      new Option("--start <time>", "range start (available_at_us, inclusive)").argParser(parseTimeArg),
    )
    .addOption(new Option("--end <time>", "range end (exclusive)").argParser(parseTimeArg))
    .addOption(new Option("--limit <n>", "rows printed from a range").argParser(parseCount).default(50))
    .addOption(
      new Option("--format <fmt>", "output format").choices(["table", "csv", "json"]).default("table"),
    )
    .action(
      async (
        o: StoreFlags & {
          set: string;
          exchange: string;
          symbol: string;
          at?: TimeArg;
          start?: TimeArg;
          end?: TimeArg;
          limit: number;
          format: string;
        },
      ) => {
        if (o.at !== undefined && (o.start !== undefined || o.end !== undefined))
          throw new ConfigError("give --at or --start/--end, not both");
        if ((o.start === undefined) !== (o.end === undefined))
          throw new ConfigError("give both --start and --end");
        await withStore(o, async (s) => {
          const set = await requireSet(s, o.set);
          const e = { exchange: o.exchange, symbol: o.symbol };
          let rows: Float64Array[];
          if (o.start !== undefined && o.end !== undefined) {
            rows = await s.getRange(set, e, o.start.us, o.end.us);
            if (rows.length > o.limit) {
              io.stderr.write(`${rows.length} rows in range; printing the first ${o.limit} (--limit)\n`);
              rows = rows.slice(0, o.limit);
            }
          } else {
            const r = o.at !== undefined ? await s.getAsOf(set, e, o.at.us) : await s.getLatest(set, e);
            rows = r === null ? [] : [r];
          }
          if (rows.length === 0)
            io.stderr.write(
              `no row of ${set.name}@${set.version} for ${e.exchange}/${e.symbol}${o.at ? ` as of ${o.at.text}` : ""}\n`,
            );
          printRows(io, set, rows, o.format);
        });
      },
    );

  storeOptions(store.command("materialize"))
    .description(
      "push a feature frame (Parquet) into an online feature set, rows after the last materialized one",
    )
    .argument("<frame>", "Parquet feature frame (features build / pipeline run output)")
    .requiredOption("--set <name[@version]>", "feature set (registered from the frame's schema if new)")
    .option("--exchange <id>", "entity exchange (default: the frame's manifest)")
    .option("--symbol <symbol>", "entity symbol (default: the frame's manifest)")
    .addOption(
      new Option("--ttl-seconds <n>", "TTL of a new feature set (default 7 days)").argParser(parseCount),
    )
    .option("--json", "print the report as JSON")
    .action(
      async (
        file: string,
        o: StoreFlags & {
          set: string;
          exchange?: string;
          symbol?: string;
          ttlSeconds?: number;
          json?: boolean;
        },
      ) => {
        const frame = readStoreFrame(file);
        const entity = entityOf(o, frame.entity, `${file} has no manifest naming its instrument`);
        const r = await withStore(o, (s) =>
          materialize({
            store: s,
            frame,
            set: parseSetRef(o.set),
            entity,
            ...(o.ttlSeconds !== undefined ? { ttlSeconds: o.ttlSeconds } : {}),
          }),
        );
        if (o.json) {
          io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          return;
        }
        io.stdout.write(
          `${r.set.name}@${r.set.version} ${r.entity.exchange}/${r.entity.symbol}${r.registered ? " (registered)" : ""}: ${r.rowsRead} rows read = ${r.rowsWritten} written + ${r.rowsSkipped} skipped (already materialized) in ${r.seconds.toFixed(2)} s${r.last ? `; last available_at ${usToIso(r.last.availableAtUs)}` : ""}${r.droppedLabels.length > 0 ? `; ${r.droppedLabels.length} label columns not materialized (${r.droppedLabels.join(", ")})` : ""}\n`,
        );
      },
    );

  storeOptions(store.command("diff"))
    .description("consistency check: online rows vs a batch frame, bitwise (exit 2 if any row differs)")
    .argument("<frame>", "batch Parquet feature frame of the same request")
    .requiredOption("--set <name[@version]>", "feature set")
    .option("--exchange <id>", "entity exchange (default: the frame's manifest)")
    .option("--symbol <symbol>", "entity symbol (default: the frame's manifest)")
    .addOption(
      new Option(
        "--start <time>",
        "online range start (default: the frame's first available_at_us)",
      ).argParser(parseTimeArg),
    )
    .addOption(
      new Option("--end <time>", "online range end, exclusive (default: its last + 1 µs)").argParser(
        parseTimeArg,
      ),
    )
    .option("--json", "print the result as JSON")
    .action(
      async (
        file: string,
        o: StoreFlags & {
          set: string;
          exchange?: string;
          symbol?: string;
          start?: TimeArg;
          end?: TimeArg;
          json?: boolean;
        },
      ) => {
        const frame = readStoreFrame(file);
        const entity = entityOf(o, frame.entity, `${file} has no manifest naming its instrument`);
        const d = await withStore(o, async (s) =>
          storeDiff(s, await requireSet(s, o.set), entity, frame, {
            ...(o.start !== undefined ? { startUs: o.start.us } : {}),
            ...(o.end !== undefined ? { endUs: o.end.us } : {}),
          }),
        );
        const bad = d.rowsDiffering + d.rowsOnlyBatch + d.rowsOnlyOnline > 0;
        if (o.json) io.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
        else {
          io.stdout.write(
            `${[
              `store diff ${o.set} ${entity.exchange}/${entity.symbol} vs ${file}, available_at_us in [${usToIso(d.startUs)}, ${usToIso(d.endUs)})`,
              `rows compared:     ${d.rowsCompared}`,
              `rows differing:    ${d.rowsDiffering}`,
              `values differing:  ${d.valuesDiffering}`,
              `rows only online:  ${d.rowsOnlyOnline}`,
              `rows only batch:   ${d.rowsOnlyBatch}`,
              ...d.differences.map(
                (x) =>
                  `  available_at ${x.key.availableAtUs} ts_event ${x.key.tsEventUs} bar ${x.key.barIndex}: ${x.column} online ${x.online} ≠ batch ${x.batch}`,
              ),
              bad ? "DIFFERENT" : "IDENTICAL (bitwise)",
            ].join("\n")}\n`,
          );
        }
        if (bad) io.setExitCode(2);
      },
    );

  store
    .command("register")
    .description("register a feature frame (Parquet) as a versioned offline feature set in the lake")
    .argument("<frame>", "Parquet feature frame")
    .requiredOption("--lake <dir>", "lake root directory")
    .requiredOption("--set <name[@version]>", "feature set (default version: see docs/store.md)")
    .option("--exchange <id>", "entity exchange (default: the frame's manifest)")
    .option("--symbol <symbol>", "entity symbol (default: the frame's manifest)")
    .option("--json", "print the manifest as JSON")
    .action(
      async (
        file: string,
        o: { lake: string; set: string; exchange?: string; symbol?: string; json?: boolean },
      ) => {
        const off = new OfflineStore(requireLake(o.lake));
        const ref = parseSetRef(o.set);
        const frame = readStoreFrame(file);
        const entity = entityOf(o, frame.entity, `${file} has no manifest naming its instrument`);
        const m = await off.register({
          name: ref.name,
          ...(ref.version ? { version: ref.version } : {}),
          frame: file,
          entity,
        });
        io.stdout.write(o.json ? `${JSON.stringify(m, null, 2)}\n` : `${describePart(m)}\n`);
      },
    );

  store
    .command("history")
    .description(
      "point-in-time training rows: each entity row joined with each set's last row available at its time",
    )
    .requiredOption("--lake <dir>", "lake root directory")
    .requiredOption(
      "--entities <file>",
      "entity rows (.csv or .parquet) with exchange, symbol and the time column",
    )
    .requiredOption("--sets <list>", "comma-separated feature sets: name or name@version")
    .option("--time-column <name>", "event time column of the entity rows (integer µs)", "event_time_us")
    .addOption(
      new Option("--max-staleness-ms <n>", "values older than this at the event time are null").argParser(
        parseCount,
      ),
    )
    .option("--out <file>", "write the rows to .csv or .parquet (default: print)")
    .action(
      async (o: {
        lake: string;
        entities: string;
        sets: string;
        timeColumn: string;
        maxStalenessMs?: number;
        out?: string;
      }) => {
        const off = new OfflineStore(requireLake(o.lake));
        const rows = readEntities(o.entities);
        const df = await off.getHistoricalFeatures(
          rows,
          o.sets
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== ""),
          {
            timeColumn: o.timeColumn,
            ...(o.maxStalenessMs !== undefined ? { maxStalenessUs: o.maxStalenessMs * 1000 } : {}),
          },
        );
        if (o.out === undefined) {
          io.stdout.write(`${df.toString()}\n`);
          return;
        }
        const ext = extname(o.out).toLowerCase();
        if (ext === ".parquet") df.writeParquet(o.out, { compression: "zstd" });
        else if (ext === ".csv") df.writeCSV(o.out);
        else throw new ConfigError(`--out ${o.out}: extension must be .csv or .parquet`);
        io.stderr.write(`${df.height} rows × ${df.width} columns → ${o.out}\n`);
      },
    );
}

/**
 * Error types. Every error that comes from bad input names the source file, the 1-based line number
 * and the field, so a researcher can open the file at the offending line.
 */

/** Base class for all errors thrown by Pointline. */
export class PointlineError extends Error {
  override readonly name: string = "PointlineError";
}

/** Where in a source file a problem was found. `line` is 1-based; `field` is the column/JSON key. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly field?: string;
}

/** Formats a location as `file:line [field]`. */
export function formatLocation(loc: SourceLocation): string {
  return loc.field === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line} field '${loc.field}'`;
}

/**
 * Bad input that aborts an ingest (e.g. a truncated gzip stream, an unreadable header).
 * Row-level problems are quarantined and counted instead of thrown.
 */
export class IngestError extends PointlineError {
  override readonly name: string = "IngestError";
  constructor(
    readonly location: SourceLocation,
    readonly reason: string,
  ) {
    super(`${formatLocation(location)}: ${reason}`);
  }
}

/**
 * Validation issues (zod's `error.issues`) as one line: `path.to.field: message; …`, the path `root`
 * when an issue concerns the whole object.
 */
export function issuesText(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  root = "(root)",
): string {
  return issues.map((i) => `${i.path.map(String).join(".") || root}: ${i.message}`).join("; ");
}

/** A request/config object failed validation. */
export class ConfigError extends PointlineError {
  override readonly name: string = "ConfigError";
}

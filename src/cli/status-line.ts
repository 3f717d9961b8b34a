/**
 * A one-line status display for terminals: the line is rewritten in place (carriage return + erase
 * line) with the elapsed seconds of the current status, refreshed every second, and erased before
 * other output is printed (`clear`). On a stream that is not a TTY it writes nothing at all, so piped
 * and redirected output stays clean.
 */

/** The part of a writable stream a status line needs (process.stderr, or a test double). */
export interface StatusStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

export class StatusLine {
  private text = "";
  private since = 0;
  private shown = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Whether anything is drawn (the stream is a TTY). */
  readonly active: boolean;

  constructor(
    private readonly stream: StatusStream,
    /** Clock in ms (tests pass a fake one). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.active = stream.isTTY === true;
  }

  /** Shows `text` (the elapsed time restarts) and keeps it refreshed every second until `clear`/`stop`. */
  set(text: string): void {
    if (!this.active) return;
    this.text = text;
    this.since = this.now();
    this.draw();
    if (this.timer === null) {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
  }

  /** Erases the line (call before printing anything else); the next `set` draws it again. */
  clear(): void {
    if (!this.active || !this.shown) return;
    this.stream.write("\r\u001b[2K");
    this.shown = false;
  }

  /** Erases the line and stops refreshing it. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private draw(): void {
    if (this.text === "") return;
    const secs = Math.floor((this.now() - this.since) / 1000);
    this.stream.write(`\r\u001b[2K${this.text}${secs > 0 ? ` (${secs} s)` : ""}`);
    this.shown = true;
  }
}

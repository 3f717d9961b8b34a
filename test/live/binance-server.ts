/**
 * A local stand-in for Binance on 127.0.0.1 (free port) that serves a real capture: the combined-stream
 * WebSocket (`/stream?streams=…`) sends the capture's stream messages in their recorded order, and the
 * REST depth endpoint (`/fapi/v1/depth`, `/dapi/v1/depth`, `/api/v3/depth`) serves the order book the
 * "exchange" has at that moment: the capture's own REST snapshot line, plus every depth diff the server
 * has passed since (sent, or dropped on purpose), kept as price strings → size strings (an independent
 * book: no fixed-point decoding, no sequence checks — a diff whose u is past the book's last update id
 * sets its levels, size "0…" deletes).
 *
 * Faults for the client tests: `dropDepth` (indices among the depth messages that are not sent: the
 * client sees a sequence gap and must resync from the REST snapshot), `disconnectAfter` (message indices
 * after which the server closes the connection: the client must reconnect; sending resumes with the next
 * message, nothing is lost), `inject` (extra frames sent before a message index: malformed frames).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

type Levels = [string, string][];

/** The server's book: price string → size string per side, and the last update id. */
class NaiveBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  lastUpdateId = -1;
  E = 0;
  T = 0;

  load(s: { lastUpdateId: number; bids: Levels; asks: Levels; E?: number; T?: number }): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of s.bids) this.bids.set(p, q);
    for (const [p, q] of s.asks) this.asks.set(p, q);
    this.lastUpdateId = s.lastUpdateId;
    this.E = s.E ?? 0;
    this.T = s.T ?? 0;
  }

  apply(d: { u: number; b: Levels; a: Levels; E?: number; T?: number }): void {
    if (this.lastUpdateId < 0 || d.u <= this.lastUpdateId) return;
    const set = (side: Map<string, string>, lv: Levels): void => {
      for (const [p, q] of lv) {
        if (Number(q) === 0) side.delete(p);
        else side.set(p, q);
      }
    };
    set(this.bids, d.b);
    set(this.asks, d.a);
    this.lastUpdateId = d.u;
    this.E = d.E ?? this.E;
    this.T = d.T ?? this.T;
  }

  json(limit: number, futures: boolean): string {
    const side = (m: Map<string, string>, desc: boolean): Levels =>
      [...m.entries()]
        .sort((x, y) => (desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0])))
        .slice(0, limit);
    const body: Record<string, unknown> = { lastUpdateId: this.lastUpdateId };
    if (futures) {
      body["E"] = this.E;
      body["T"] = this.T;
    }
    body["bids"] = side(this.bids, true);
    body["asks"] = side(this.asks, false);
    return JSON.stringify(body);
  }
}

/** Options of a replay server. */
export interface ReplayServerOptions {
  /** The capture's lines `<ts> <json>` in recorded order. */
  readonly lines: readonly string[];
  /** Indices among the depth messages (0-based) not to send. */
  readonly dropDepth?: readonly number[];
  /** Message indices (0-based, among stream messages) after which the connection is closed. */
  readonly disconnectAfter?: readonly number[];
  /** Extra frames sent right before stream message `before`. */
  readonly inject?: readonly { readonly before: number; readonly text: string }[];
  /** The first n depth requests are answered 503. */
  readonly failRest?: number;
  /** Message indices after which the server stops sending (the connection stays open); the next connection resumes. */
  readonly pauseAfter?: readonly number[];
}

/** A running replay server. */
export class ReplayServer {
  /** Stream messages of the capture (JSON text), in order. */
  readonly messages: string[] = [];
  /** Per message: its depth index, or -1. */
  private readonly depthIndex: number[] = [];
  private readonly parsed: ({ u: number; b: Levels; a: Levels; E?: number; T?: number } | null)[] = [];
  readonly book = new NaiveBook();
  /** The URLs clients opened, and the depth requests served. */
  readonly wsRequests: string[] = [];
  readonly restRequests: string[] = [];
  /** Frames sent (stream messages and injected frames), messages dropped, connections closed. */
  sent = 0;
  dropped = 0;
  disconnects = 0;
  /** Update ids of the dropped diffs. */
  readonly droppedUpdateIds: number[] = [];
  /** True once every message has been passed. */
  done = false;
  /** True while paused (`pauseAfter`), until the next connection. */
  paused = false;
  private pos = 0;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private futures = true;

  private constructor(private readonly opts: ReplayServerOptions) {
    let depth = 0;
    for (const line of opts.lines) {
      const sp = line.indexOf(" ");
      const json = line.slice(sp + 1);
      const msg = JSON.parse(json) as Record<string, unknown>;
      if (typeof msg["stream"] !== "string") {
        // the capture's REST snapshot: the exchange's book from here on
        const s = msg as unknown as {
          lastUpdateId: number;
          bids: Levels;
          asks: Levels;
          E?: number;
          T?: number;
        };
        this.futures = "E" in msg || "T" in msg;
        if (this.book.lastUpdateId < 0) this.book.load(s);
        continue;
      }
      this.messages.push(json);
      const stream = msg["stream"] as string;
      if (stream.includes("@depth")) {
        this.depthIndex.push(depth++);
        this.parsed.push(msg["data"] as { u: number; b: Levels; a: Levels; E?: number; T?: number });
      } else {
        this.depthIndex.push(-1);
        this.parsed.push(null);
      }
    }
    this.http = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (!/^\/(fapi\/v1|dapi\/v1|api\/v3)\/depth$/.test(url.pathname)) {
        res.writeHead(404).end("not found");
        return;
      }
      this.restRequests.push(req.url ?? "");
      if (this.restRequests.length <= (this.opts.failRest ?? 0)) {
        res.writeHead(503).end("try later");
        return;
      }
      const limit = Number(url.searchParams.get("limit") ?? "1000");
      res.writeHead(200, { "content-type": "application/json" }).end(this.book.json(limit, this.futures));
    });
    this.wss = new WebSocketServer({ server: this.http, path: "/stream" });
    this.wss.on("connection", (ws, req) => {
      this.wsRequests.push(req.url ?? "");
      void this.stream(ws);
    });
  }

  /** Starts a server on a free loopback port. */
  static async start(opts: ReplayServerOptions): Promise<ReplayServer> {
    const s = new ReplayServer(opts);
    await new Promise<void>((r) => s.http.listen(0, "127.0.0.1", r));
    return s;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }
  get restUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Sends messages from the current position until the end or a planned disconnect. */
  private async stream(ws: WebSocket): Promise<void> {
    const drop = new Set(this.opts.dropDepth ?? []);
    const cut = new Set(this.opts.disconnectAfter ?? []);
    const pause = new Set(this.opts.pauseAfter ?? []);
    this.paused = false;
    const inject = this.opts.inject ?? [];
    let n = 0;
    while (this.pos < this.messages.length) {
      if (ws.readyState !== ws.OPEN) return;
      const i = this.pos++;
      for (const x of inject) {
        if (x.before === i) {
          ws.send(x.text);
          this.sent++;
        }
      }
      const d = this.depthIndex[i]!;
      const diff = this.parsed[i];
      if (diff) this.book.apply(diff);
      if (d >= 0 && drop.has(d)) {
        this.dropped++;
        this.droppedUpdateIds.push(diff!.u);
      } else {
        ws.send(this.messages[i]!);
        this.sent++;
      }
      if (cut.has(i)) {
        this.disconnects++;
        ws.close(1012, "service restart");
        return;
      }
      if (pause.has(i)) {
        this.paused = true;
        return;
      }
      if (++n % 64 === 0 || ws.bufferedAmount > 1 << 18) await new Promise<void>((r) => setImmediate(r));
    }
    this.done = true;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}

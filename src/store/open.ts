/**
 * `openOnlineStore`: the CLI's and the live runner's way to get an `OnlineStore` — Redis when a URL is
 * given, else the embedded store in a directory (default `./store`).
 */
import { EmbeddedOnlineStore } from "./embedded-store.js";
import { RedisOnlineStore, type RedisStoreOptions } from "./redis-store.js";
import type { OnlineStore } from "./types.js";

/** Where the online store is. */
export interface OnlineStoreLocation {
  /** Redis URL (`redis://127.0.0.1:6379`); when absent, the embedded store in `dir`. */
  readonly redis?: string;
  /** Directory of the embedded store (default `./store`). */
  readonly dir?: string;
  readonly redisOptions?: RedisStoreOptions;
}

/**
 * Opens the online store at `loc`.
 * @throws StoreError naming the URL (Redis unreachable) or the file (embedded store unreadable).
 */
export async function openOnlineStore(loc: OnlineStoreLocation): Promise<OnlineStore> {
  if (loc.redis !== undefined) return RedisOnlineStore.connect(loc.redis, loc.redisOptions);
  return EmbeddedOnlineStore.open(loc.dir ?? "./store");
}

// List+watch for one resource with a local cache, that survives anything the API server does
// (500s, killed sockets, restarts, 410 compaction) until stop(). The fixes client-node's informer
// lacks: restart with backoff on every error, relist with a consistent diff on 410, drop no-op
// MODIFIEDs, and a stop() that emits no error.
import { silentLogger, type Logger } from "../log.ts";
import { KubeApiError } from "./api-error.ts";
import type { KubeClient } from "./client.ts";
import { abortableSleep } from "./abortable-sleep.ts";
import type { OutageSink } from "./outage.ts";
import { objectKey, type KubeObject, type ResourceRef, type WatchEvent } from "./types.ts";

export type InformerEventType = "ADDED" | "MODIFIED" | "DELETED";
export type InformerHandler = (type: InformerEventType, obj: KubeObject, old?: KubeObject) => void;

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** The delay starts again from initialMs only after this long without a failure (default 60 s, as client-go's reset). */
  resetAfterMs?: number;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** The cache to fill (a consumer may hold the Map); default a new one. Mutated in place, never replaced. */
  cache?: Map<string, KubeObject>;
  onEvent?: InformerHandler;
  /** Called on each restart after an error (for metrics). */
  onRestart?: (error: unknown) => void;
  /** Called when onEvent threw (already logged; for metrics). */
  onHandlerError?: (error: unknown) => void;
  logger?: Logger;
  /** Resume: watch from here instead of listing first (a 410 still falls back to a list). */
  initialResourceVersion?: string;
  /**
   * Default 250 ms doubling to 30 s, with jitter; back to 250 ms only after a minute without failures. A
   * list or an event is no proof of health: a watch that sends one event and then an ERROR must not spin.
   */
  backoff?: BackoffOptions;
  /** Items per list page (limit/continue); default the client's LIST_PAGE_SIZE (500), 0 = unpaginated. */
  listPageSize?: number;
  /** Server-side watch timeout; default random 300–600 s as client-go. */
  watchTimeoutSeconds?: number;
  random?: () => number;
  /** Where "no answer" failures go instead of one warning per retry (shared by every informer). */
  outage?: OutageSink;
}

export interface InformerStats {
  events: number;
  restarts: number;
  relists: number;
  malformed: number;
  handlerErrors: number;
}

class RelistNeeded extends Error {}

export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random = Math.random): number {
  const initial = opts.initialMs ?? 250;
  const max = opts.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  // "Equal jitter": half fixed, half random, so restarts of many informers spread out.
  return Math.round(base / 2 + random() * (base / 2));
}

export class Informer {
  readonly cache: Map<string, KubeObject>;
  readonly stats: InformerStats = { events: 0, restarts: 0, relists: 0, malformed: 0, handlerErrors: 0 };
  synced = false;
  resourceVersion = "";
  /** ms epoch of the last thing received from the server (list, event or bookmark). */
  lastEventAt?: number;
  lastError?: string;
  /** The delay chosen before the last restart (ms). */
  lastBackoffMs?: number;
  private stopped = false;
  private running?: Promise<void>;
  private abort = new AbortController();
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly log: Logger;
  private readonly random: () => number;

  constructor(
    private readonly client: KubeClient,
    readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {
    this.cache = opts.cache ?? new Map();
    this.log = (opts.logger ?? silentLogger).child({ component: "informer", resource: ref.plural });
    this.random = opts.random ?? Math.random;
    if (opts.initialResourceVersion) this.resourceVersion = opts.initialResourceVersion;
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.run();
  }

  /** Stops for good; the open watch is aborted silently. Resolves when the loop has exited. */
  async stop(): Promise<void> {
    if (this.stopped) return this.running;
    this.stopped = true;
    this.abort.abort();
    for (const w of this.waiters.splice(0)) w.reject(new Error(`informer ${this.ref.plural} stopped before it synced`));
    await this.running;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`informer ${this.ref.plural} is stopped`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private async run(): Promise<void> {
    let needList = !this.resourceVersion;
    let attempt = 0;
    let lastFailureAt = -Infinity;
    const signal = this.abort.signal;
    while (!this.stopped) {
      let progressed = false;
      let afterList = false; // this watch directly follows a list
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
          afterList = true;
        }
        const opened = Date.now();
        let received = false;
        const timeoutSeconds = this.opts.watchTimeoutSeconds ?? Math.round(300 * (1 + this.random()));
        await this.client.watch(
          this.ref,
          {
            namespace: this.opts.namespace,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds,
            signal,
            onOpen: () => {
              this.opts.outage?.answered();
              this.markSynced(); // a resumed informer is synced once its watch is accepted
            },
            // Counted here; logged (once per interval, truncated) by the client's RejectSink, so a flood cannot flood the log.
            onMalformed: () => void this.stats.malformed++,
          },
          (ev) => {
            if (this.stopped) return;
            received = true;
            this.onWatchEvent(ev);
          },
        );
        if (this.stopped) break;
        // A clean end (server timeout, apiserver shutting down): re-watch from the last RV at once,
        // unless streams end as soon as they open (back off then, so we never spin).
        progressed = received || Date.now() - opened >= 1000;
        if (progressed) continue;
        throw new KubeApiError(0, "WatchEnded", "watch ended immediately with no events");
      } catch (e) {
        if (this.stopped) break;
        if (e instanceof RelistNeeded || (e instanceof KubeApiError && e.status === 410)) {
          this.log.info("resource version expired; relisting", { resourceVersion: this.resourceVersion });
          needList = true;
          // 410 straight after a fresh list (the list's RV already compacted away): back off, never spin.
          if (!afterList) continue;
        }
        this.stats.restarts++;
        this.lastError = (e as Error)?.message ?? String(e);
        const now = Date.now();
        if (now - lastFailureAt >= (this.opts.backoff?.resetAfterMs ?? 60_000)) attempt = 0; // healthy for a while
        lastFailureAt = now;
        const delay = backoffDelay(attempt++, this.opts.backoff, this.random);
        this.lastBackoffMs = delay;
        if (!this.opts.outage?.failed(this.ref.plural, e)) {
          this.log.warn("list/watch failed; restarting", { error: this.lastError, retryInMs: delay, restarts: this.stats.restarts });
        }
        try {
          this.opts.onRestart?.(e);
        } catch {
          /* metrics hooks must not break the loop */
        }
        await abortableSleep(delay, signal);
      }
    }
  }

  private emit(type: InformerEventType, obj: KubeObject, old?: KubeObject): void {
    this.stats.events++;
    const handler = this.opts.onEvent;
    if (!handler) return;
    try {
      handler(type, obj, old);
    } catch (e) {
      this.stats.handlerErrors++;
      try {
        this.opts.onHandlerError?.(e);
      } catch {}
      this.log.error("event handler threw; event skipped by that handler", {
        type,
        object: objectKey(obj),
        error: (e as Error)?.stack ?? String(e),
      });
    }
  }

  /**
   * List, then reconcile the cache to it: ADDED/MODIFIED for each listed object, then synthetic DELETED for what
   * vanished. Each page goes into the cache (trimmed there) as it arrives, so only one page is ever held as
   * received. A list that fails midway leaves newer objects in the cache and is retried whole: deletions and
   * synced wait for its last page.
   */
  private async relist(signal: AbortSignal): Promise<void> {
    let seen = new Set<string>();
    let resourceVersion = "";
    let answered = false;
    const pages = this.client.listPages(this.ref, {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      signal,
      pageSize: this.opts.listPageSize,
    });
    for await (const page of pages) {
      if (this.stopped) return;
      if (!answered) {
        answered = true;
        this.opts.outage?.answered();
      }
      this.lastEventAt = Date.now();
      if (page.restarted) seen = new Set(); // the list started over: only what it now says counts
      for (const obj of page.items) {
        const key = objectKey(obj);
        seen.add(key);
        const old = this.cache.get(key);
        this.cache.set(key, obj);
        if (!old) this.emit("ADDED", obj);
        else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit("MODIFIED", obj, old);
      }
      resourceVersion = page.resourceVersion;
    }
    if (this.stopped) return;
    this.stats.relists++;
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit("DELETED", old, old);
    }
    this.resourceVersion = resourceVersion;
    this.markSynced();
  }

  private onWatchEvent(ev: WatchEvent): void {
    this.lastEventAt = Date.now();
    const obj = ev.object;
    if (ev.type === "ERROR") {
      const code = (obj as { code?: number }).code;
      if (code === 410) throw new RelistNeeded("resource version expired");
      throw new KubeApiError(code ?? 500, String(obj.reason ?? "WatchError"), `watch ERROR event: ${obj.message ?? JSON.stringify(obj)}`, obj);
    }
    const rv = obj.metadata?.resourceVersion;
    if (ev.type === "BOOKMARK") {
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (!obj.metadata?.name) {
      this.stats.malformed++;
      return;
    }
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (rv) this.resourceVersion = rv;
    if (ev.type === "DELETED") {
      this.cache.delete(key);
      this.emit("DELETED", obj, old);
      return;
    }
    // ADDED for a known object is an update, MODIFIED for an unknown one an add (as client-go does).
    if (old && old.metadata.resourceVersion === rv) return; // unchanged: client-node would re-deliver it
    this.cache.set(key, obj);
    this.emit(old ? "MODIFIED" : "ADDED", obj, old);
  }
}

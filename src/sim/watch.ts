// Watch streams: chunked JSON lines, replay from a resourceVersion, selector transitions, bookmarks.
import type { ServerResponse } from "node:http";
import type { KubeObject } from "../kube/types.ts";
import type { StoredEvent } from "./history.ts";
import { apiVersionOf, type SimResource } from "./resources.ts";
import type { ObjectMatcher } from "./selectors.ts";
import { statusBody } from "./status.ts";
import type { SimStore } from "./store.ts";

export interface WatchRequest {
  res: SimResource;
  namespace?: string;
  match: ObjectMatcher;
  /** Absent or "0": synthetic ADDED for current state, then live. Otherwise replay every event after it. */
  resourceVersion?: string;
  bookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

interface Watch {
  resp: ServerResponse;
  req: WatchRequest;
  unsubscribe?: () => void;
  timer?: ReturnType<typeof setTimeout>;
  done: boolean;
}

function line(type: string, object: unknown): string {
  return `{"type":"${type}","object":${JSON.stringify(object)}}\n`;
}

export class WatchHub {
  private watches = new Set<Watch>();
  private bookmarkTimer?: ReturnType<typeof setInterval>;
  total = 0;

  constructor(
    private store: SimStore,
    private bookmarkIntervalMs: number,
  ) {}

  get openCount(): number {
    return this.watches.size;
  }

  start(resp: ServerResponse, req: WatchRequest): void {
    this.total++;
    resp.writeHead(200, {
      "Content-Type": "application/json",
      "Transfer-Encoding": "chunked",
      "Cache-Control": "no-cache, private",
    });
    // Clients treat the response headers as "watch established"; send them before any event exists.
    resp.flushHeaders();
    const w: Watch = { resp, req, done: false };
    const { res, match } = req;
    const rv = req.resourceVersion;
    if (!rv || rv === "0" || req.sendInitialEvents) {
      let out = "";
      for (const obj of this.store.peekAll(res, req.namespace)) if (match(obj)) out += line("ADDED", obj);
      if (out) resp.write(out);
      if (req.sendInitialEvents && req.bookmarks) {
        this.write(w, this.bookmarkLine(res, { "k8s.io/initial-events-end": "true" }));
      }
    } else {
      const from = Number(rv);
      const events = this.store.ring(res).since(from);
      if (!events) {
        // kube-apiserver answers 200 and puts the 410 inside the stream, then ends it.
        const floor = this.store.historyFloor(res);
        resp.end(line("ERROR", statusBody(410, `too old resource version: ${from} (${floor + 1})`, "Expired")));
        return;
      }
      let out = "";
      for (const ev of events) out += this.render(w, ev);
      if (out) resp.write(out);
    }
    // Subscribing synchronously after the replay means no event can fall between the two.
    w.unsubscribe = this.store.subscribe(res, (ev) => {
      const s = this.render(w, ev);
      if (s) this.write(w, s);
    });
    this.watches.add(w);
    resp.on("close", () => this.finish(w));
    if (req.timeoutSeconds && req.timeoutSeconds > 0) {
      w.timer = setTimeout(() => this.end(w), req.timeoutSeconds * 1000);
    }
    if (req.bookmarks) this.ensureBookmarkTimer();
  }

  /** The line a watcher gets for a stored event, "" when it is outside the watcher's selection. */
  private render(w: Watch, ev: StoredEvent): string {
    const { match } = w.req;
    const now = match(ev.object);
    if (ev.type === "ADDED") return now ? (ev.line ??= line(ev.type, ev.object)) : "";
    if (ev.type === "DELETED") return now ? (ev.line ??= line(ev.type, ev.object)) : "";
    const before = ev.prev ? match(ev.prev) : now;
    if (now && before) return (ev.line ??= line(ev.type, ev.object));
    // An object moving into or out of a selection is an ADDED or DELETED for that watcher, as in the watch cache.
    if (now) return line("ADDED", ev.object);
    if (before) return line("DELETED", ev.object);
    return "";
  }

  private write(w: Watch, s: string): void {
    if (w.done || w.resp.destroyed || w.resp.writableEnded) return;
    w.resp.write(s);
  }

  private bookmarkLine(res: SimResource, annotations?: Record<string, string>): string {
    const metadata: KubeObject["metadata"] = { resourceVersion: this.store.resourceVersion() } as KubeObject["metadata"];
    if (annotations) metadata.annotations = annotations;
    return line("BOOKMARK", { kind: res.kind, apiVersion: apiVersionOf(res), metadata });
  }

  private ensureBookmarkTimer(): void {
    if (this.bookmarkTimer) return;
    // One shared tick for all watchers keeps thousands of watches at one timer.
    this.bookmarkTimer = setInterval(() => {
      let any = false;
      for (const w of this.watches) {
        if (!w.req.bookmarks) continue;
        any = true;
        this.write(w, this.bookmarkLine(w.req.res));
      }
      if (!any) this.stopBookmarkTimer();
    }, this.bookmarkIntervalMs);
    (this.bookmarkTimer as { unref?: () => void }).unref?.();
  }

  private stopBookmarkTimer(): void {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
  }

  private finish(w: Watch): void {
    if (w.done) return;
    w.done = true;
    w.unsubscribe?.();
    if (w.timer) clearTimeout(w.timer);
    this.watches.delete(w);
  }

  /** End one stream cleanly (terminating chunk), as a server-side timeout does. */
  private end(w: Watch): void {
    const { resp } = w;
    this.finish(w);
    if (!resp.writableEnded && !resp.destroyed) resp.end();
  }

  closeAll(): void {
    for (const w of [...this.watches]) this.end(w);
    this.stopBookmarkTimer();
  }
}

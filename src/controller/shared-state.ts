// What the active controller has already logged, kept in a ConfigMap beside its Lease.
// Every Pi node runs a controller with its own local state.db; when leadership moves to
// another node, the new leader seeds its logged set from here so it does not re-announce
// what the previous leader already logged.
import type { KubeClient } from "../kube/client.ts";
import { ConfigMapDocument } from "../kube/configmap-document.ts";
import type { Anomaly } from "../model/anomaly.ts";

export interface SharedLoggedEntry {
  anomaly: Anomaly;
  loggedAt: number;
}

/**
 * The whole ConfigMap's data stays under this many bytes (the API's object limit is 1 MiB). The
 * logged set gets at most SHARED_LOGGED_MAX_BYTES of it, newest entries first; the alerting state
 * is shared only when it fits in what is left.
 */
export const SHARED_STATE_MAX_BYTES = 512 * 1024 - 1024;
export const SHARED_LOGGED_MAX_BYTES = 256 * 1024;
const DATA_KEY = "logged.json";
const ALERTING_KEY = "alerting.json";

export interface SharedState {
  logged: Map<string, SharedLoggedEntry>;
  /** Incident and pipeline state (absent when too large to share). */
  alerting?: unknown;
}

/**
 * The logged set as JSON within `maxBytes`: the newest entries are kept, the oldest dropped first
 * (a standby that misses one re-announces it at worst). Keys sorted so equal sets give equal text.
 */
export function boundedLoggedJson(firing: Map<string, SharedLoggedEntry>, maxBytes: number): { text: string; dropped: number } {
  const newestFirst = [...firing.entries()].sort((a, b) => b[1].loggedAt - a[1].loggedAt);
  const kept: [string, string][] = [];
  let bytes = 2; // "{}"
  for (const [key, entry] of newestFirst) {
    const member = `${JSON.stringify(key)}:${JSON.stringify(entry)}`;
    const size = Buffer.byteLength(member) + (kept.length ? 1 : 0);
    if (bytes + size > maxBytes) break; // full: this one and every older one are left out
    kept.push([key, member]);
    bytes += size;
  }
  kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { text: `{${kept.map((k) => k[1]).join(",")}}`, dropped: firing.size - kept.length };
}

export class SharedLoggedState {
  private lastPublished = "";
  private lastAlerting = "";
  private readonly doc: ConfigMapDocument;
  /** Logged entries left out of the last publish for lack of room (oldest first). */
  lastDropped = 0;
  /** Publishes whose alerting state was too large to share. */
  alertingOmitted = 0;

  constructor(client: KubeClient, namespace: string, name: string) {
    this.doc = new ConfigMapDocument(client, namespace, name, { maxBytes: SHARED_STATE_MAX_BYTES });
  }

  /** What the previous leader published; null when there is no ConfigMap yet (first leader). */
  async load(): Promise<SharedState | null> {
    const current = await this.doc.read();
    if (!current) return null;
    const parsed = JSON.parse(current.data[DATA_KEY] ?? "{}") as Record<string, SharedLoggedEntry>;
    this.lastPublished = current.data[DATA_KEY] ?? "";
    this.lastAlerting = current.data[ALERTING_KEY] ?? "";
    return { logged: new Map(Object.entries(parsed)), alerting: this.lastAlerting ? JSON.parse(this.lastAlerting) : undefined };
  }

  /** Writes the firing set and the alerting state when they changed. Returns false when nothing needed writing. */
  async publish(firing: Map<string, SharedLoggedEntry>, alerting?: unknown, signal?: AbortSignal): Promise<boolean> {
    const { text, dropped } = boundedLoggedJson(firing, SHARED_LOGGED_MAX_BYTES);
    this.lastDropped = dropped;
    let alertingText = alerting === undefined ? "" : JSON.stringify(alerting);
    const room = SHARED_STATE_MAX_BYTES - Buffer.byteLength(DATA_KEY) - Buffer.byteLength(ALERTING_KEY) - Buffer.byteLength(text);
    if (Buffer.byteLength(alertingText) > room) {
      alertingText = ""; // a standby then starts its own view
      this.alertingOmitted++;
    }
    if (text === this.lastPublished && alertingText === this.lastAlerting) return false;
    // This leader's view replaces the keys it owns; other keys are kept, and a concurrent writer's
    // change is never overwritten blindly (the write is re-applied to a fresh read on 409).
    await this.doc.update((data) => {
      const next: Record<string, string> = { ...data, [DATA_KEY]: text };
      if (alertingText) next[ALERTING_KEY] = alertingText;
      else delete next[ALERTING_KEY];
      return next;
    }, signal);
    this.lastPublished = text;
    this.lastAlerting = alertingText;
    return true;
  }
}

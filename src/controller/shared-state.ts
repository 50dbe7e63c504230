// What the active controller has already logged, kept in a ConfigMap beside its Lease.
// Every Pi node runs a controller with its own local state.db; when leadership moves to
// another node, the new leader seeds its logged set from here so it does not re-announce
// what the previous leader already logged.
import type { KubeClient } from "../kube/client.ts";
import type { Anomaly } from "../watchers/types.ts";

export interface SharedLoggedEntry {
  anomaly: Anomaly;
  loggedAt: number;
}

/** Keeps the ConfigMap well under the 1 MiB object limit. */
export const SHARED_STATE_MAX_ENTRIES = 2000;
const SHARED_ALERTING_MAX_BYTES = 512 * 1024;
const DATA_KEY = "logged.json";
const ALERTING_KEY = "alerting.json";

export interface SharedState {
  logged: Map<string, SharedLoggedEntry>;
  /** Incident and pipeline state (absent when too large to share). */
  alerting?: unknown;
}

export class SharedLoggedState {
  private lastPublished = "";
  private lastAlerting = "";

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  private path(withName = true): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps${withName ? `/${encodeURIComponent(this.name)}` : ""}`;
  }

  /** What the previous leader published; null when there is no ConfigMap yet (first leader). */
  async load(): Promise<SharedState | null> {
    try {
      const cm = (await this.client.request("GET", this.path())) as { data?: Record<string, string> };
      const parsed = JSON.parse(cm.data?.[DATA_KEY] ?? "{}") as Record<string, SharedLoggedEntry>;
      this.lastPublished = cm.data?.[DATA_KEY] ?? "";
      this.lastAlerting = cm.data?.[ALERTING_KEY] ?? "";
      return { logged: new Map(Object.entries(parsed)), alerting: this.lastAlerting ? JSON.parse(this.lastAlerting) : undefined };
    } catch (e) {
      if ((e as { status?: number }).status === 404) return null;
      throw e;
    }
  }

  /** Writes the firing set and the alerting state when they changed. Returns false when nothing needed writing. */
  async publish(firing: Map<string, SharedLoggedEntry>, alerting?: unknown, signal?: AbortSignal): Promise<boolean> {
    const entries = [...firing.entries()].sort((a, b) => b[1].loggedAt - a[1].loggedAt).slice(0, SHARED_STATE_MAX_ENTRIES);
    const text = JSON.stringify(Object.fromEntries(entries.sort((a, b) => (a[0] < b[0] ? -1 : 1))));
    let alertingText = alerting === undefined ? "" : JSON.stringify(alerting);
    if (alertingText.length > SHARED_ALERTING_MAX_BYTES) alertingText = ""; // a standby then starts its own view
    if (text === this.lastPublished && alertingText === this.lastAlerting) return false;
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: this.name, namespace: this.namespace, labels: { "app.kubernetes.io/name": "neurocontroller" } },
      data: { [DATA_KEY]: text, ...(alertingText ? { [ALERTING_KEY]: alertingText } : {}) },
    };
    try {
      await this.client.request("PUT", this.path(), { body, signal });
    } catch (e) {
      if ((e as { status?: number }).status !== 404) throw e;
      await this.client.request("POST", this.path(false), { body, signal });
    }
    this.lastPublished = text;
    this.lastAlerting = alertingText;
    return true;
  }
}

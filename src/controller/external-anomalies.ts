// Anomalies no informer produces, fed to the same collector under their own source keys: the API
// server's health (from the health monitor) and slow syscalls (from agent spans via the trace bridge).
import { hostname } from "node:os";
import type { Anomaly } from "../model/anomaly.ts";
import { anomalyKey } from "../model/anomaly.ts";
import type { AnomalySink } from "./evaluator.ts";

export const API_SOURCE = "Cluster/api-server";
export const TRACE_SOURCE = "Trace/syscall-latency";
export const LOG_SOURCE = "Controller/log-writer";

/** APIServerUnreachable, about the cluster itself, starting `now`. */
export function apiUnreachable(clusterId: string, server: string, detail: string, now: number): Anomaly {
  return {
    kind: "Cluster",
    namespace: "",
    name: clusterId,
    node: "",
    reason: "APIServerUnreachable",
    severity: "critical",
    category: "Cluster",
    message: `The Kubernetes API server at ${server} does not answer its health check (${detail}). Check the K3s server node and network; anomalies are held until it returns.`,
    eventTime: new Date(now).toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

/** LogWriteFailing: cleaned_events.log cannot be written; lines are held in state.db until it can. */
export function logWriteFailing(identity: string, path: string, detail: string, since: number): Anomaly {
  return {
    kind: "Controller",
    namespace: "",
    name: identity,
    node: hostname(),
    reason: "LogWriteFailing",
    severity: "critical",
    category: "Controller",
    message: `The controller cannot append to ${path} (${detail}); its lines are held in its state database and will be written once it can. Check free space and permissions of NEURO_LOG_DIR.`,
    eventTime: new Date(since).toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

/**
 * Slow-syscall anomalies arrive only when traced requests are exported; like Warning events they
 * stay firing while seen within `maxAgeMs` (RULE_EVENT_MAX_AGE), then resolve on a refresh.
 */
export class LatencyAnomalies {
  private readonly seen = new Map<string, { anomaly: Anomaly; lastSeen: number }>();

  constructor(
    private readonly sink: Pick<AnomalySink, "observe">,
    private readonly maxAgeMs: number,
  ) {}

  record(anomalies: Anomaly[], now: number): void {
    for (const a of anomalies) this.seen.set(anomalyKey(a), { anomaly: a, lastSeen: now });
    this.refresh(now);
  }

  /** Drops what aged out and publishes the rest; the runtime calls it every evaluation tick while any are held. */
  refresh(now: number): void {
    for (const [key, e] of this.seen) if (now - e.lastSeen > this.maxAgeMs) this.seen.delete(key);
    this.sink.observe(
      TRACE_SOURCE,
      [...this.seen.values()].map((e) => e.anomaly),
      now,
    );
  }

  get size(): number {
    return this.seen.size;
  }
}

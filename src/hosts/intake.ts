// Controller side of host health: every node's last snapshot (validated by src/hosts/snapshot.ts), turned
// into Host anomalies by the rules (src/hosts/rules.ts) on each evaluation tick and fed to the same
// collector as everything else under the source key Host/<node>. An empty retained payload on a node's
// topic forgets the node (how an operator retires a node's agent for good).
import type { RejectSink } from "../boundary/reject.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { hostFindings, type HostReport, type HostThresholds } from "./rules.ts";
import { HOST_SNAPSHOT_SOURCE, type HostSnapshot, parseHostSnapshot } from "./snapshot.ts";

/** Nodes tracked at once; snapshots of further nodes are refused (a bound on what the broker can make us hold). */
export const HOST_NODES_MAX = 5000;

export interface HostSink {
  observe(sourceKey: string, anomalies: Anomaly[], now: number): unknown;
}

export const hostSourceKey = (node: string) => `Host/${node}`;

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

export class HostHealthIntake {
  private readonly reports = new Map<string, HostReport>();
  /** node/reason -> when the finding was first made (the anomaly's eventTime, stable while it lasts). */
  private readonly since = new Map<string, number>();
  /** Nodes whose last observation yielded anomalies: they must be told when that ends. */
  private readonly observed = new Set<string>();

  constructor(
    private readonly sink: HostSink,
    private readonly thresholds: HostThresholds,
    /** The Kubernetes Node's Ready condition: true / false, undefined when there is no such Node. */
    private readonly nodeReady: (node: string) => boolean | undefined,
    private readonly rejects: RejectSink,
    /** The reference clock (the API server's, from its Date header) minus the controller's; undefined: the controller's own. */
    private readonly referenceOffsetMs: () => number | undefined = () => undefined,
  ) {}

  /**
   * One message on <prefix>/hosts/<topicNode>. Returns true when a snapshot was accepted. `retained`: the
   * broker's stored copy delivered on subscribing (its age is unknown, so no clock skew is measured from it).
   */
  accept(topicNode: string, payload: Uint8Array | string, retained: boolean, now: number): boolean {
    if (payload.length === 0) {
      this.reports.delete(topicNode);
      return false;
    }
    const snapshot = parseHostSnapshot(payload, { sink: this.rejects, topicNode });
    if (!snapshot) return false;
    const previous = this.reports.get(snapshot.node);
    if (!previous && this.reports.size >= HOST_NODES_MAX) {
      this.rejects.reject(HOST_SNAPSHOT_SOURCE, `more than ${HOST_NODES_MAX} nodes report host health; ${snapshot.node} ignored`);
      return false;
    }
    const measured = Date.parse(snapshot.time);
    const skewMs = retained ? (previous?.skewMs ?? null) : measured - (now + (this.referenceOffsetMs() ?? 0));
    this.reports.set(snapshot.node, { snapshot, receivedAt: now, skewMs });
    return true;
  }

  /** Runs the rules for every known node and publishes their anomalies (each evaluation tick, and after a snapshot). */
  evaluate(now: number): void {
    const nodes = new Set([...this.reports.keys(), ...this.observed]);
    for (const node of nodes) {
      const report = this.reports.get(node);
      const findings = report ? hostFindings(report, this.nodeReady(node), now, this.thresholds) : [];
      const reasons = new Set(findings.map((f) => f.reason));
      for (const key of this.since.keys())
        if (key.startsWith(`${node}/`) && !reasons.has(key.slice(node.length + 1) as never)) this.since.delete(key);
      const anomalies = findings.map((f): Anomaly => {
        const key = `${node}/${f.reason}`;
        if (!this.since.has(key)) this.since.set(key, now);
        return {
          kind: "Host",
          namespace: "",
          name: node,
          node,
          reason: f.reason,
          severity: f.severity,
          category: "Host",
          message: f.message,
          eventTime: rfc3339(this.since.get(key)!),
        };
      });
      this.sink.observe(hostSourceKey(node), anomalies, now);
      if (anomalies.length) this.observed.add(node);
      else this.observed.delete(node);
    }
  }

  /** Every node's last report (the hosts CLI reads the broker directly; this serves tests and metrics). */
  get size(): number {
    return this.reports.size;
  }

  report(node: string): HostReport | undefined {
    return this.reports.get(node);
  }

  /** Every node's last snapshot (the status page and Home Assistant read these; no second subscription). */
  snapshots(): ReadonlyMap<string, HostSnapshot> {
    return new Map([...this.reports].map(([node, r]) => [node, r.snapshot]));
  }
}

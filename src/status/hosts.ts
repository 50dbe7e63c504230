// Host health snapshots (the agent's retained <prefix>/hosts/<node> JSON, docs/host-health.md) as the
// status page and Home Assistant discovery see them: each checked by the one documented schema
// (src/hosts/snapshot.ts: size bound, node = the topic's), the number of nodes kept bounded. `null` means
// "not measurable on this node", never "healthy".
import type { RejectSink } from "../boundary/reject.ts";
import { HOST_SNAPSHOT_SOURCE, type HostSnapshot, parseHostSnapshot } from "../hosts/snapshot.ts";
import type { MqttConnection } from "../mqtt/connection.ts";

export type { HostSnapshot };
export const HOST_SNAPSHOTS_MAX = 512;

/** The latest snapshot of each node; an empty retained payload (the node left) removes it. */
export class HostSnapshots {
  private readonly byNode = new Map<string, HostSnapshot>();
  private listeners: (() => void)[] = [];

  constructor(private readonly sink: RejectSink) {}

  get(node: string): HostSnapshot | undefined {
    return this.byNode.get(node);
  }

  all(): ReadonlyMap<string, HostSnapshot> {
    return this.byNode;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** One message of <prefix>/hosts/<node>; `node` comes from the topic and must match the payload. */
  accept(node: string, payload: Uint8Array): void {
    if (payload.byteLength === 0) {
      if (this.byNode.delete(node)) this.changed();
      return;
    }
    const snapshot = parseHostSnapshot(payload, { sink: this.sink, topicNode: node });
    if (!snapshot) return;
    if (!this.byNode.has(node) && this.byNode.size >= HOST_SNAPSHOTS_MAX) {
      this.sink.reject(HOST_SNAPSHOT_SOURCE, `more than ${HOST_SNAPSHOTS_MAX} nodes publish host snapshots; ignoring ${node}`);
      return;
    }
    this.byNode.set(node, snapshot);
    this.changed();
  }

  /** Subscribes to every node's snapshot on `conn`; returns the unsubscribe function. */
  subscribe(conn: MqttConnection): Promise<() => Promise<void>> {
    return conn.subscribe(conn.topics.hostsAll, (topic, payload) => {
      const node = conn.topics.nodeOf(topic);
      if (node) this.accept(node, payload);
    });
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}

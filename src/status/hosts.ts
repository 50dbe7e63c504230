// Host health snapshots (the agent's retained <prefix>/hosts/<node> JSON, contract in the agent's docs):
// read by the status page and Home Assistant discovery. Only the fields shown are validated; the agent
// may add others. `null` means "not measurable on this node", never "healthy". Input from the broker is
// checked with zod, size-bounded, and the number of nodes kept is bounded.
import { parseJsonAt, z, type RejectSink } from "../boundary/reject.ts";
import type { MqttConnection } from "../mqtt/connection.ts";

export const HOST_SNAPSHOT_MAX_BYTES = 16 * 1024;
export const HOST_SNAPSHOTS_MAX = 512;
export const HOSTS_SOURCE = "mqtt.hosts";

const throttledSchema = z.object({
  raw: z.string().max(32),
  underVoltageNow: z.boolean(),
  freqCappedNow: z.boolean(),
  throttledNow: z.boolean(),
  softTempLimitNow: z.boolean(),
  underVoltageSinceBoot: z.boolean(),
  freqCappedSinceBoot: z.boolean(),
  throttledSinceBoot: z.boolean(),
  softTempLimitSinceBoot: z.boolean(),
});

export const hostSnapshotSchema = z.object({
  v: z.literal(1),
  node: z.string().min(1).max(253),
  time: z.string().max(64),
  intervalSeconds: z.number().positive().max(86_400).optional(),
  temperature: z
    .object({ celsius: z.number().min(-100).max(200) })
    .nullable()
    .optional(),
  throttled: throttledSchema.nullable().optional(),
  rootFs: z
    .object({
      mount: z.string().max(4096),
      usedPercent: z.number().min(0).max(100),
      sizeBytes: z.number().nonnegative().optional(),
      readOnly: z.boolean().optional(),
    })
    .nullable()
    .optional(),
});

export type HostSnapshot = z.output<typeof hostSnapshotSchema>;

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
    const r = parseJsonAt(hostSnapshotSchema, payload, { source: HOSTS_SOURCE, sink: this.sink, maxBytes: HOST_SNAPSHOT_MAX_BYTES });
    if (!r.ok) return;
    if (r.value.node !== node) {
      this.sink.reject(HOSTS_SOURCE, `snapshot names node ${JSON.stringify(r.value.node)} but came on the topic of ${JSON.stringify(node)}`, payload);
      return;
    }
    if (!this.byNode.has(node) && this.byNode.size >= HOST_SNAPSHOTS_MAX) {
      this.sink.reject(HOSTS_SOURCE, `more than ${HOST_SNAPSHOTS_MAX} nodes publish host snapshots; ignoring ${node}`);
      return;
    }
    this.byNode.set(node, r.value);
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

// The host-health snapshot an agent publishes, retained at QoS 1, on <prefix>/hosts/<node> — a documented
// contract (docs/host-health.md) read by the controller (src/hosts/intake.ts), `neurocontroller hosts`
// and Home Assistant. `null` always means "not measurable on this host", never "healthy".
import { IGNORE_REJECTS, parseJsonAt, z, type RejectSink } from "../boundary/reject.ts";

export const HOST_SNAPSHOT_VERSION = 1;
/** A snapshot is a few hundred bytes; anything past this is refused before parsing. */
export const HOST_SNAPSHOT_MAX_BYTES = 16 * 1024;
export const HOST_SNAPSHOT_SOURCE = "mqtt.host-snapshot";
/** Filesystems listed in one snapshot (the agent keeps the largest). */
export const HOST_FILESYSTEMS_MAX = 16;

const num = z.number().finite();
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const bytes = count;
const percent = num.min(0).max(100);
const text = (max: number) => z.string().max(max);

export const throttledSchema = z.object({
  /** The firmware's value as printed by `vcgencmd get_throttled` (hex). */
  raw: z.string().regex(/^0x[0-9a-f]{1,8}$/),
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
  v: z.literal(HOST_SNAPSHOT_VERSION),
  node: text(253).min(1),
  /** RFC 3339, the agent's clock when it measured. */
  time: z.string().datetime({ offset: true }),
  intervalSeconds: num.positive().max(86_400),
  temperature: z.object({ celsius: num.min(-100).max(250), zone: text(64).optional() }).nullable(),
  throttled: throttledSchema.nullable(),
  rootFs: z.object({ mount: text(4096), usedPercent: percent.nullable(), sizeBytes: bytes.nullable(), readOnly: z.boolean().nullable() }).nullable(),
  filesystems: z
    .array(z.object({ mount: text(4096), fs: text(4096), type: text(64), sizeBytes: bytes, usedPercent: percent }))
    .max(HOST_FILESYSTEMS_MAX)
    .nullable()
    .optional(),
  memory: z.object({ totalBytes: bytes, availableBytes: bytes, swapTotalBytes: bytes, swapUsedBytes: bytes }).nullable().optional(),
  load: z
    .object({ avg1: num.min(0), cpus: count.nullable() })
    .nullable()
    .optional(),
  network: z.object({ rxErrors: count, txErrors: count, rxDropped: count, txDropped: count }).nullable().optional(),
  storage: z
    .object({
      device: text(64),
      /** eMMC/SD life time estimate bands as the kernel reports them (0x01 = 0–10 % used … 0x0b = exceeded). */
      lifeTimeA: count.max(255).nullable(),
      lifeTimeB: count.max(255).nullable(),
      /** Approximate percentage of rated life used, from the worse band (upper bound of the band). */
      lifeUsedPercent: num.min(0).max(110).nullable(),
      preEol: z.enum(["normal", "warning", "urgent"]).nullable(),
    })
    .nullable()
    .optional(),
  ioErrors: z
    .object({ count: count, sources: z.array(text(256)).max(32) })
    .nullable()
    .optional(),
  clock: z
    .object({ synchronized: z.boolean().nullable(), source: text(32).nullable(), uptimeSeconds: num.min(0).nullable() })
    .nullable()
    .optional(),
});

export type HostSnapshot = z.infer<typeof hostSnapshotSchema>;
export type ThrottledFlags = z.infer<typeof throttledSchema>;

/** Validates a payload (size, JSON, schema, node = the topic's <node>); refusals go to `sink`. */
export function parseHostSnapshot(payload: Uint8Array | string, opts: { sink?: RejectSink; topicNode?: string } = {}): HostSnapshot | undefined {
  const sink = opts.sink ?? IGNORE_REJECTS;
  const r = parseJsonAt(hostSnapshotSchema, payload, { source: HOST_SNAPSHOT_SOURCE, sink, maxBytes: HOST_SNAPSHOT_MAX_BYTES });
  if (!r.ok) return undefined;
  if (opts.topicNode !== undefined && r.value.node !== opts.topicNode) {
    sink.reject(
      HOST_SNAPSHOT_SOURCE,
      `snapshot for node ${JSON.stringify(r.value.node)} published on the topic of node ${JSON.stringify(opts.topicNode)}`,
      payload,
    );
    return undefined;
  }
  return r.value;
}

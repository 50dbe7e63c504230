// Healing's shared document — ConfigMap `<LEADER_LEASE_NAME>-healing` beside the Lease and the silences:
// the pause switch (`heal pause` on any node, the signed MQTT command and whichever controller leads see
// the same one, and it survives failover), and the ids of the decisions already told, so a new leader
// does not announce again a refusal or wait its predecessor announced (the history is per controller).
// Writes are resourceVersion-guarded read-modify-writes (ConfigMapDocument): nobody's change is lost.
import { parseJsonAt, type RejectSink, IGNORE_REJECTS, z } from "../boundary/reject.ts";
import type { KubeClient } from "../kube/client.ts";
import { ConfigMapDocument } from "../kube/configmap-document.ts";

const DATA_KEY = "pause.json";
const TOLD_KEY = "told.json";
const MAX_BYTES = 4096;
const TOLD_MAX_BYTES = 256 * 1024;
/** Ids kept: the newest this many, none older than TOLD_RETENTION_MS. */
export const TOLD_MAX = 1000;
export const TOLD_RETENTION_MS = 7 * 24 * 3_600_000;
const toldSchema = z.record(z.string().max(400), z.number());

export interface SharedHealing {
  pause?: PauseState;
  /** Ids of action records some leader already told. */
  told: ReadonlySet<string>;
}

export const pauseSchema = z.object({
  paused: z.boolean(),
  by: z.string().max(200),
  at: z.string().max(40),
  reason: z.string().max(500).optional(),
});
export type PauseState = z.output<typeof pauseSchema>;

export const healingConfigMapName = (leaseName: string): string => `${leaseName}-healing`;

export class HealingPauseStore {
  private readonly doc: ConfigMapDocument;

  constructor(
    client: KubeClient,
    namespace: string,
    name: string,
    private readonly rejects: RejectSink = IGNORE_REJECTS,
  ) {
    this.doc = new ConfigMapDocument(client, namespace, name, { rejects });
  }

  /** The current switch; a missing or unreadable one reads as not paused (the unreadable one is counted). */
  async read(signal?: AbortSignal): Promise<PauseState | undefined> {
    const raw = (await this.doc.read(signal))?.data[DATA_KEY];
    if (raw === undefined) return undefined;
    const parsed = parseJsonAt(pauseSchema, raw, { source: "configmap.healing-pause", sink: this.rejects, maxBytes: MAX_BYTES });
    return parsed.ok ? parsed.value : undefined;
  }

  /** The switch and the told ids in one read (each validated; an unreadable part reads as absent and is counted). */
  async readShared(signal?: AbortSignal): Promise<SharedHealing> {
    const data = (await this.doc.read(signal))?.data ?? {};
    const pause =
      data[DATA_KEY] === undefined
        ? undefined
        : parseJsonAt(pauseSchema, data[DATA_KEY], { source: "configmap.healing-pause", sink: this.rejects, maxBytes: MAX_BYTES });
    const told =
      data[TOLD_KEY] === undefined
        ? undefined
        : parseJsonAt(toldSchema, data[TOLD_KEY], { source: "configmap.healing-told", sink: this.rejects, maxBytes: TOLD_MAX_BYTES });
    return { pause: pause?.ok ? pause.value : undefined, told: new Set(told?.ok ? Object.keys(told.value) : []) };
  }

  /** Adds ids told at `now`; keeps the newest TOLD_MAX within TOLD_RETENTION_MS. */
  async addTold(ids: readonly string[], now: number, signal?: AbortSignal): Promise<void> {
    if (ids.length === 0) return;
    await this.doc.update((data) => {
      const parsed = toldSchema.safeParse(safeJson(data?.[TOLD_KEY]));
      const all: Record<string, number> = { ...(parsed.success ? parsed.data : {}) };
      for (const id of ids) all[id] ??= now;
      const kept = Object.entries(all)
        .filter(([, t]) => t > now - TOLD_RETENTION_MS)
        .sort((a, b) => b[1] - a[1])
        .slice(0, TOLD_MAX);
      return { ...(data ?? {}), [TOLD_KEY]: JSON.stringify(Object.fromEntries(kept)) };
    }, signal);
  }

  async set(state: PauseState): Promise<void> {
    const checked = pauseSchema.parse(state);
    await this.doc.update((data) => ({ ...(data ?? {}), [DATA_KEY]: JSON.stringify(checked) }));
  }
}

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? {} : JSON.parse(text);
  } catch {
    return {};
  }
}

// Healing pause lives in the cluster — ConfigMap `<LEADER_LEASE_NAME>-healing` beside the Lease and the
// silences — so `heal pause` on any node, the signed MQTT command and whichever controller leads see
// the same switch, and it survives failover. Writes are resourceVersion-guarded (ConfigMapDocument).
import { parseJsonAt, type RejectSink, IGNORE_REJECTS, z } from "../boundary/reject.ts";
import type { KubeClient } from "../kube/client.ts";
import { ConfigMapDocument } from "../kube/configmap-document.ts";

const DATA_KEY = "pause.json";
const MAX_BYTES = 4096;

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

  async set(state: PauseState): Promise<void> {
    const checked = pauseSchema.parse(state);
    await this.doc.update((data) => ({ ...(data ?? {}), [DATA_KEY]: JSON.stringify(checked) }));
  }
}

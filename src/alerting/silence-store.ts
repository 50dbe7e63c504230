// Silences live in the cluster — ConfigMap `<LEADER_LEASE_NAME>-silences` beside the Lease — so the
// CLI on any node, the MQTT command topic and whichever controller leads all see the same list, and
// it survives failover. Writes use the ConfigMap's resourceVersion (optimistic concurrency).
import type { KubeClient } from "../kube/client.ts";
import { checkExpireId, createSilence, expireSilence, pruneSilences, withSilenceAdded, type Silence, type SilenceInput, type SilenceOptions } from "./silence.ts";

const DATA_KEY = "silences.json";
/** Expired silences stay listed (the audit trail) this long before they are pruned. */
export const SILENCE_RETENTION_MS = 7 * 24 * 3_600_000;

interface ConfigMap {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  data?: Record<string, string>;
}

export class SilenceStore {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  private path(named = true): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps${named ? `/${encodeURIComponent(this.name)}` : ""}`;
  }

  private async read(): Promise<{ cm: ConfigMap | null; silences: Silence[] }> {
    try {
      const cm = (await this.client.request("GET", this.path())) as ConfigMap;
      return { cm, silences: JSON.parse(cm.data?.[DATA_KEY] ?? "[]") as Silence[] };
    } catch (e) {
      if ((e as { status?: number }).status === 404) return { cm: null, silences: [] };
      throw e;
    }
  }

  async list(): Promise<Silence[]> {
    return (await this.read()).silences;
  }

  /** Read-modify-write, retried when another writer got there first (409). */
  async update(fn: (current: Silence[]) => Silence[], now: number): Promise<Silence[]> {
    for (let attempt = 0; ; attempt++) {
      const { cm, silences } = await this.read();
      const next = pruneSilences(fn(silences), now, SILENCE_RETENTION_MS);
      const body = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: this.name, namespace: this.namespace, labels: { "app.kubernetes.io/name": "neurocontroller" }, ...(cm ? { resourceVersion: cm.metadata.resourceVersion } : {}) },
        data: { ...(cm?.data ?? {}), [DATA_KEY]: JSON.stringify(next) },
      };
      try {
        if (cm) await this.client.request("PUT", this.path(), { body });
        else await this.client.request("POST", this.path(false), { body });
        return next;
      } catch (e) {
        const status = (e as { status?: number }).status;
        if ((status === 409 || status === 404) && attempt < 5) continue;
        throw e;
      }
    }
  }

  /** Validates and stores a new silence; an existing id (active or expired) is refused, never overwritten. */
  async add(input: SilenceInput, now: number, opts: SilenceOptions = {}): Promise<Silence> {
    const silence = createSilence(input, now, opts);
    await this.update((list) => withSilenceAdded(list, silence), now);
    return silence;
  }

  /** Expires the active silence whose id is exactly `id` (no prefixes); returns it (empty when none). */
  async expire(id: string, now: number): Promise<Silence[]> {
    const exact = checkExpireId(id);
    let expired: Silence[] = [];
    await this.update((list) => {
      expired = list.filter((s) => s.id === exact && s.endsAt > now);
      return list.map((s) => (expired.includes(s) ? expireSilence(s, now) : s));
    }, now);
    return expired.map((s) => expireSilence(s, now));
  }
}

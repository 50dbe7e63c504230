// Silences live in the cluster — ConfigMap `<LEADER_LEASE_NAME>-silences` beside the Lease — so the
// CLI on any node, the MQTT command topic and whichever controller leads all see the same list, and
// it survives failover. Writes use the ConfigMap's resourceVersion (optimistic concurrency).
import type { KubeClient } from "../kube/client.ts";
import { ConfigMapDocument } from "../kube/configmap-document.ts";
import { createSilence, expireSilence, pruneSilences, type Silence, type SilenceInput } from "./silence.ts";

const DATA_KEY = "silences.json";
/** Expired silences stay listed (the audit trail) this long before they are pruned. */
export const SILENCE_RETENTION_MS = 7 * 24 * 3_600_000;

export class SilenceStore {
  private readonly doc: ConfigMapDocument;

  constructor(client: KubeClient, namespace: string, name: string) {
    this.doc = new ConfigMapDocument(client, namespace, name);
  }

  async list(): Promise<Silence[]> {
    const current = await this.doc.read();
    return JSON.parse(current?.data[DATA_KEY] ?? "[]") as Silence[];
  }

  /** Read-modify-write, applied again to a fresh read when another writer got there first (409). */
  async update(fn: (current: Silence[]) => Silence[], now: number): Promise<Silence[]> {
    let next: Silence[] = [];
    await this.doc.update((data) => {
      next = pruneSilences(fn(JSON.parse(data?.[DATA_KEY] ?? "[]") as Silence[]), now, SILENCE_RETENTION_MS);
      return { ...data, [DATA_KEY]: JSON.stringify(next) };
    });
    return next;
  }

  async add(input: SilenceInput, now: number): Promise<Silence> {
    const silence = createSilence(input, now);
    await this.update((list) => [...list.filter((s) => s.id !== silence.id), silence], now);
    return silence;
  }

  /** Expires the silences whose id starts with `idPrefix`; returns them (empty when none matched). */
  async expire(idPrefix: string, now: number): Promise<Silence[]> {
    let expired: Silence[] = [];
    await this.update((list) => {
      expired = list.filter((s) => s.id.startsWith(idPrefix) && s.endsAt > now);
      return list.map((s) => (expired.includes(s) ? expireSilence(s, now) : s));
    }, now);
    return expired.map((s) => expireSilence(s, now));
  }
}

// Silences live in the cluster — ConfigMap `<LEADER_LEASE_NAME>-silences` beside the Lease — so the
// CLI on any node, the MQTT command topic and whichever controller leads all see the same list, and
// it survives failover. Writes use the ConfigMap's resourceVersion (optimistic concurrency).
import type { KubeClient } from "../kube/client.ts";
import { ConfigMapDocument } from "../kube/configmap-document.ts";
import {
  checkExpireId,
  createSilence,
  expireSilence,
  pruneSilences,
  withSilenceAdded,
  type Silence,
  type SilenceInput,
  type SilenceOptions,
} from "./silence.ts";

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

// One informer per resource, started and stopped together, with aggregate sync state and stats.
import type { KubeClient } from "./client.ts";
import { Informer, type InformerOptions, type InformerStats } from "./informer.ts";
import type { ResourceRef } from "./types.ts";

export class InformerSet {
  readonly informers = new Map<string, Informer>();

  constructor(private readonly client: KubeClient) {}

  static keyOf(ref: ResourceRef): string {
    return `${ref.group || "core"}/${ref.version}/${ref.plural}`;
  }

  /** Adds (and starts) an informer for ref; the same ref twice returns the existing one. */
  add(ref: ResourceRef, opts: InformerOptions = {}): Informer {
    const key = InformerSet.keyOf(ref);
    const existing = this.informers.get(key);
    if (existing) return existing;
    const informer = new Informer(this.client, ref, opts);
    this.informers.set(key, informer);
    informer.start();
    return informer;
  }

  get(ref: ResourceRef): Informer | undefined {
    return this.informers.get(InformerSet.keyOf(ref));
  }

  allSynced(): boolean {
    return this.informers.size > 0 && [...this.informers.values()].every((i) => i.synced);
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stats(): InformerStats & { informers: number; synced: number } {
    const total = { events: 0, restarts: 0, relists: 0, malformed: 0, handlerErrors: 0, informers: 0, synced: 0 };
    for (const i of this.informers.values()) {
      total.informers++;
      if (i.synced) total.synced++;
      for (const k of ["events", "restarts", "relists", "malformed", "handlerErrors"] as const) total[k] += i.stats[k];
    }
    return total;
  }

  /** Latest lastEventAt over all informers (ms epoch), undefined when none received anything. */
  lastEventAt(): number | undefined {
    let last: number | undefined;
    for (const i of this.informers.values()) if (i.lastEventAt && (!last || i.lastEventAt > last)) last = i.lastEventAt;
    return last;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

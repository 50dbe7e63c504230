// Leadership handover: what the previous leader published (its logged firing set and alerting
// state, in the ConfigMap beside the Lease) is the truth a new leader starts its term from, and
// what the current leader publishes after each write cycle for whoever comes next. Lines this node
// wrote after its own last successful publish (the API went away before it could publish them) are
// in the log too, so they are laid over the published set: their resolve is still owed.
import type { StateStore } from "../store/state-store.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { AlertingRuntime, AlertingSnapshot } from "./alerting-runtime.ts";
import type { SharedLoggedState, SharedState } from "./shared-state.ts";

/** state.db key: the write-cycle time of this node's last successful publish (ms). */
const PUBLISHED_AT = "handover.publishedAt";

export class Handover {
  private seeded = false;

  constructor(
    private readonly shared: SharedLoggedState,
    private readonly store: StateStore,
    private readonly alerting: AlertingRuntime,
  ) {}

  /** A new term began: seed again before logging or alerting anything. */
  newTerm(): void {
    this.seeded = false;
  }

  get isSeeded(): boolean {
    return this.seeded;
  }

  /** Once per term, before the new leader logs or alerts anything. True when it seeded just now. */
  async seed(): Promise<boolean> {
    if (this.seeded) return false;
    this.adopt(await this.shared.load());
    this.seeded = true;
    return true;
  }

  /**
   * Publishes the logged firing set and the alerting state (written only when they changed), as of
   * the write cycle at `now`. `signal` cuts the write off when this leader's renew deadline passes.
   */
  async publish(now: number, signal?: AbortSignal): Promise<void> {
    await this.shared.publish(this.firingLogged(), this.alerting.snapshot(), signal);
    this.store.setKv(PUBLISHED_AT, String(now));
  }

  /**
   * What the previous leader published is the truth about what is firing in the log; this node's
   * own memory of an earlier term may be stale (another leader may have resolved those since) —
   * except for what it logged after its last publish, which no other leader could know about.
   */
  private adopt(shared: SharedState | null): void {
    if (!shared) return; // first leader ever: only the local state exists
    this.alerting.adopt(shared.alerting as AlertingSnapshot | undefined);
    const publishedAt = Number(this.store.getKv(PUBLISHED_AT) ?? 0);
    const unpublished = (key: string) => (this.store.getLogged(key)?.loggedAt ?? -Infinity) > publishedAt;
    for (const [key, entry] of this.store.loadLogged()) {
      if (entry.status === "firing" && !shared.logged.has(key) && !unpublished(key)) this.store.deleteLogged(key);
    }
    for (const [key, entry] of shared.logged) {
      if (unpublished(key)) continue; // this node's later line (firing or resolved) is the newer word
      if (this.store.getLogged(key)?.status !== "firing")
        this.store.setLogged(key, { anomaly: entry.anomaly, status: "firing", loggedAt: entry.loggedAt });
    }
  }

  private firingLogged(): Map<string, { anomaly: Anomaly; loggedAt: number }> {
    const out = new Map<string, { anomaly: Anomaly; loggedAt: number }>();
    for (const [key, e] of this.store.loadLogged()) if (e.status === "firing") out.set(key, { anomaly: e.anomaly, loggedAt: e.loggedAt });
    return out;
  }
}

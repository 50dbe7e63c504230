// Leadership handover: what the previous leader published (its logged firing set and alerting
// state, in the ConfigMap beside the Lease) is the truth a new leader starts its term from, and
// what the current leader publishes after each write cycle for whoever comes next.
import type { StateStore } from "../store/state-store.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { AlertingRuntime, AlertingSnapshot } from "./alerting-runtime.ts";
import type { SharedLoggedState, SharedState } from "./shared-state.ts";

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

  /** Once per term, before the new leader logs or alerts anything. */
  async seed(): Promise<void> {
    if (this.seeded) return;
    this.adopt(await this.shared.load());
    this.seeded = true;
  }

  /** Publishes the logged firing set and the alerting state (written only when they changed). */
  async publish(): Promise<void> {
    await this.shared.publish(this.firingLogged(), this.alerting.snapshot());
  }

  /**
   * What the previous leader published is the truth about what is firing in the log; this node's
   * own memory of an earlier term may be stale (another leader may have resolved those since).
   */
  private adopt(shared: SharedState | null): void {
    if (!shared) return; // first leader ever: only the local state exists
    this.alerting.adopt(shared.alerting as AlertingSnapshot | undefined);
    for (const [key, entry] of this.store.loadLogged()) if (entry.status === "firing" && !shared.logged.has(key)) this.store.deleteLogged(key);
    for (const [key, entry] of shared.logged) {
      if (this.store.getLogged(key)?.status !== "firing") this.store.setLogged(key, { anomaly: entry.anomaly, status: "firing", loggedAt: entry.loggedAt });
    }
  }

  private firingLogged(): Map<string, { anomaly: Anomaly; loggedAt: number }> {
    const out = new Map<string, { anomaly: Anomaly; loggedAt: number }>();
    for (const [key, e] of this.store.loadLogged()) if (e.status === "firing") out.set(key, { anomaly: e.anomaly, loggedAt: e.loggedAt });
    return out;
  }
}

// The acting controller's periodic output: the write cycle (decide and append cleaned_events.log lines,
// persist, publish the shared state), the alert cycle (incidents and notifications) and, at shutdown,
// the last lines decided and written.
import type { Config } from "../config/load.ts";
import type { Collector } from "../diagnosis/collector.ts";
import type { ApiOutageLog } from "../kube/outage.ts";
import type { Logger } from "../log.ts";
import type { StateStore } from "../store/state-store.ts";
import type { AlertingRuntime } from "./alerting-runtime.ts";
import type { Caches } from "./evaluator.ts";
import type { Leadership } from "./leadership.ts";
import { activeSet, type LogOutput, ownActiveSet } from "./log-output.ts";

export interface OutputParts {
  config: Config;
  logger: Logger;
  now: () => number;
  store: StateStore;
  log: LogOutput;
  collector: Collector;
  alerting: AlertingRuntime;
  caches: Caches;
  outage: ApiOutageLog;
  leadership: Leadership;
  /** Every informer has synced: the active set is complete. */
  synced: () => boolean;
  /** stop() has begun: it writes the last lines itself. */
  stopped: () => boolean;
  /** Before deciding: withdraw an API outage that a later successful call contradicts. */
  withdrawContradictedOutage: () => void;
  /** After every write cycle, so the gauges show what is still pending now. */
  afterWrite: () => void;
}

export class OutputCycles {
  private writing = false;

  constructor(private readonly parts: OutputParts) {}

  /**
   * Decides what to log from the desired (active) and logged sets, appends the lines, then
   * persists. Only the acting controller logs. Before every informer has synced only its own
   * anomalies (API server, log writer) are decided: the rest of the active set is incomplete and
   * would look like everything resolved.
   */
  async writeCycle(): Promise<void> {
    const { store, log, leadership } = this.parts;
    if (this.writing) return;
    this.writing = true;
    try {
      const now = this.parts.now();
      if (!leadership.acting) {
        store.flush();
        return;
      }
      // The shared state may be out of reach (the API went away right after this controller took the
      // Lease): it still reports its own anomalies — the outage first of all — while its Lease holds.
      let seeded = true;
      try {
        await leadership.seedFromSharedState();
      } catch (e) {
        seeded = false;
        if (!this.parts.outage.failed("shared-state", e)) {
          this.parts.logger.warn("cannot load the shared state; logging only this controller's own anomalies until it can", { error: String(e) });
        }
      }
      if (this.parts.stopped()) return; // stop() writes the last lines itself
      this.parts.withdrawContradictedOutage();
      if (!leadership.acting) return; // the renew deadline passed while the shared state loaded
      // Queued writes (handover seeds, bookmarks) first: the logged set read below must be the committed one.
      store.flush();
      const logged = log.loggedView();
      // The collector's desired set is current at once; the cleaner's view lags until its next clean().
      const active = seeded ? activeSet(this.parts.collector, logged, this.parts.synced()) : ownActiveSet(this.parts.collector, logged);
      if (active) log.decide(active, logged, now, this.parts.config.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION"));
      log.flush(now);
      store.flush();
      if (seeded) await leadership.publish(now);
    } catch (e) {
      if (!this.parts.outage.failed("shared-state", e)) this.parts.logger.error("write cycle failed; will retry", { error: String(e) });
    } finally {
      this.writing = false;
      this.parts.afterWrite();
    }
  }

  /** Incidents and notifications from the active set, every DIAGNOSIS_ALERT_DISPATCH_INTERVAL. */
  async alertCycle(): Promise<void> {
    const { alerting, leadership } = this.parts;
    if (alerting.busy || !leadership.acting) return;
    alerting.busy = true;
    try {
      let seeded = true;
      try {
        await leadership.seedFromSharedState();
      } catch {
        seeded = false; // said by the write cycle; alert on what this controller alone can know
      }
      if (this.parts.stopped()) return;
      const logged = this.parts.log.loggedView();
      const active = seeded ? activeSet(this.parts.collector, logged, this.parts.synced()) : ownActiveSet(this.parts.collector, logged);
      if (!active) return;
      if (!leadership.acting) return;
      const submitted = await alerting.tick(active, this.parts.caches, this.parts.now(), () => leadership.acting);
      if (submitted > 0 && !this.parts.stopped()) this.parts.store.flush(); // the incident ids behind those notifications must survive a crash
    } catch (e) {
      this.parts.logger.error("alert cycle failed; will retry", { error: String(e) });
    } finally {
      alerting.busy = false;
    }
  }

  /** Without election at shutdown: decide what is still undecided, as a last write cycle would. */
  decideLast(): void {
    if (!this.parts.synced()) return;
    try {
      const logged = this.parts.log.loggedView();
      this.parts.log.decide(this.parts.collector.desired(), logged, this.parts.now(), this.parts.config.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION"));
    } catch (e) {
      this.parts.logger.error("cannot decide the last lines at shutdown; they are decided at the next start", { error: String(e) });
    }
  }

  /** Synchronous last words: lines already decided are written, queued state committed, state.db closed. Safe to call twice. */
  finalFlush(): void {
    try {
      this.parts.log.flush(this.parts.now());
    } catch (e) {
      this.parts.logger.error("final write of cleaned_events.log failed; lines stay pending in state.db", { error: String(e) });
    }
    try {
      this.parts.store.close();
    } catch (e) {
      this.parts.logger.error("cannot commit the last state changes", { error: String(e) });
    }
  }
}

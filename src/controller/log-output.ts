// The controller's side of cleaned_events.log: what the log says (committed lines plus those still
// pending in state.db), deciding the next lines, appending them, and the LogWriteFailing anomaly
// while the file cannot be written. The durability itself is the writer's (src/diagnosis/log-writer.ts).
import type { Collector } from "../diagnosis/collector.ts";
import type { LogWriter } from "../diagnosis/log-writer.ts";
import { reconcile, type LoggedEntry } from "../diagnosis/reconcile.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { StateStore } from "../store/state-store.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { API_SOURCE, LOG_SOURCE, logWriteFailing } from "./external-anomalies.ts";

export class LogOutput {
  constructor(
    private readonly store: StateStore,
    readonly writer: LogWriter,
    private readonly collector: Collector,
    private readonly metrics: ControllerMetrics,
    /** Names the LogWriteFailing anomaly (this controller). */
    private readonly identity: string,
    private readonly onLogged?: (line: Record<string, unknown>) => void,
  ) {}

  /** The logged set as it will be once everything pending is written: what reconcile compares against. */
  loggedView(): Map<string, LoggedEntry> {
    const logged = this.store.loadLogged();
    for (const [key, e] of this.writer.queue.latestByKey()) logged.set(key, e);
    return logged;
  }

  /**
   * Queues the difference between `active` and `logged`, committed to state.db before the file is
   * touched (the lines become "logged" only once fsync'd). Throws when state.db cannot take them;
   * nothing is lost then — the next cycle decides the same lines again.
   */
  decide(active: ReadonlyMap<string, Anomaly>, logged: ReadonlyMap<string, LoggedEntry>, now: number, cleanedRetentionMs: number): void {
    const result = reconcile(active, logged, now, cleanedRetentionMs);
    this.writer.enqueue(result.lines, now);
    for (const key of result.removed) this.store.deleteLogged(key);
  }

  /** Appends what is pending; the counters follow what reached the disk. Never throws. */
  flush(now: number): void {
    const flushed = this.writer.flush(now);
    for (const line of flushed.lines) this.onLogged?.(line as unknown as Record<string, unknown>);
    this.metrics.logLinesWritten.inc(flushed.lines.length);
    if (flushed.error) this.metrics.logWriteErrors.inc();
    this.observeWriter(now);
  }

  /** The /readyz "degraded" reason while the file cannot be written. */
  degradedReason(): string | undefined {
    const f = this.writer.failing;
    return f ? `cleaned_events.log not writable: ${f.error.code ?? f.error.message}; ${this.writer.pendingCount} line(s) pending` : undefined;
  }

  // LogWriteFailing fires while the last append failed, through the same collector as every anomaly.
  private observeWriter(now: number): void {
    const f = this.writer.failing;
    if (!!f === this.collector.hasSource(LOG_SOURCE)) return; // only transitions: one raw record per streak
    const detail = f ? `${f.error.code ?? "error"}: ${f.error.message}` : "";
    this.collector.observe(LOG_SOURCE, f ? [logWriteFailing(this.identity, this.writer.path, detail, f.since)] : [], now);
  }
}

/**
 * What a leader that could not load the shared state yet (the API went away right after it took the
 * Lease) may decide: only the controller's own anomalies (API server, log writer) are added, and
 * everything it logged as firing stays firing. Other anomalies wait for the previous leader's
 * logged set, without which they could repeat or falsely resolve its lines.
 */
export function ownActiveSet(collector: Collector, logged: ReadonlyMap<string, LoggedEntry>): Map<string, Anomaly> | undefined {
  if (!collector.hasSource(API_SOURCE) && !collector.hasSource(LOG_SOURCE)) return undefined;
  const partial = new Map<string, Anomaly>();
  for (const [key, e] of logged) if (e.status === "firing") partial.set(key, e.anomaly);
  for (const source of [API_SOURCE, LOG_SOURCE]) for (const [key, a] of collector.fromSource(source)) partial.set(key, a);
  return partial;
}

/**
 * What to reconcile and alert on. Before every informer has synced the active set is incomplete, so
 * only the controller's own anomalies (API server, log writer) may be added; everything already
 * logged as firing is kept firing rather than resolved by mistake. Undefined: nothing to do yet.
 */
export function activeSet(collector: Collector, logged: ReadonlyMap<string, LoggedEntry>, synced: boolean): Map<string, Anomaly> | undefined {
  const desired = collector.desired();
  if (synced) return desired;
  if (!collector.hasSource(API_SOURCE) && !collector.hasSource(LOG_SOURCE)) return undefined;
  const partial = new Map<string, Anomaly>();
  for (const [key, e] of logged) if (e.status === "firing") partial.set(key, e.anomaly);
  for (const [key, a] of desired) partial.set(key, a);
  return partial;
}

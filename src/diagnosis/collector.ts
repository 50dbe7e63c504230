// Turns "what each object yields now" into firing/resolved transitions per anomaly key.
// Several sources (objects) can yield the same key — two Event objects about one Pod both say
// Pod/ns/name/BackOff — so the key is active while at least one source still yields it, and
// resolves only when the last one stops (or is deleted). Pure state machine: `now` is passed in.
import { anomalyKey, type Anomaly } from "../model/anomaly.ts";

export type TransitionType = "firing" | "resolved";

export interface Transition {
  type: TransitionType;
  key: string;
  anomaly: Anomaly;
  at: number;
}

export interface ActiveAnomaly {
  key: string;
  /** The first anomaly seen for this key: what gets logged and alerted (stable across re-evaluations). */
  anomaly: Anomaly;
  /** The most recent anomaly seen for this key (messages may carry changing counts). */
  latest: Anomaly;
  firstSeen: number;
  lastSeen: number;
  /** Observations of this key since it began firing. */
  count: number;
}

/** Where raw observations and transitions go (the Cleaner implements it). */
export interface ObservationSink {
  record(anomaly: Anomaly, now: number): void;
  resolve(anomaly: Anomaly, now: number): void;
}

export class Collector {
  /** sourceKey -> (anomaly key -> anomaly) as last observed from that source. */
  private readonly bySource = new Map<string, Map<string, Anomaly>>();
  /** anomaly key -> number of sources currently yielding it. */
  private readonly refs = new Map<string, number>();
  private readonly activeByKey = new Map<string, ActiveAnomaly>();

  constructor(
    private readonly sink?: ObservationSink,
    private readonly onTransition?: (t: Transition) => void,
  ) {}

  /**
   * Records everything `sourceKey` (e.g. "Pod/ns/name") yields now; anything it yielded before and
   * not now is withdrawn. Returns the transitions this caused, in order.
   */
  observe(sourceKey: string, anomalies: readonly Anomaly[], now: number): Transition[] {
    const out: Transition[] = [];
    const previous = this.bySource.get(sourceKey);
    const current = new Map<string, Anomaly>();
    for (const a of anomalies) current.set(anomalyKey(a), a); // a source yielding a key twice counts once

    for (const [key, a] of current) {
      this.sink?.record(a, now);
      if (!previous?.has(key)) this.acquire(key, a, now, out);
      const entry = this.activeByKey.get(key)!;
      entry.lastSeen = now;
      entry.latest = a;
      entry.count++;
    }
    if (previous) {
      for (const [key, a] of previous) if (!current.has(key)) this.release(key, a, now, out);
    }
    if (current.size) this.bySource.set(sourceKey, current);
    else this.bySource.delete(sourceKey); // keeps memory proportional to sources with anomalies
    return this.emit(out);
  }

  /** The object behind `sourceKey` was deleted: withdraw everything it yielded. */
  forget(sourceKey: string, now: number): Transition[] {
    const previous = this.bySource.get(sourceKey);
    if (!previous) return [];
    this.bySource.delete(sourceKey);
    const out: Transition[] = [];
    for (const [key, a] of previous) this.release(key, a, now, out);
    return this.emit(out);
  }

  active(): ReadonlyMap<string, ActiveAnomaly> {
    return this.activeByKey;
  }

  /** key -> anomaly to log: the desired set for reconcile(). */
  desired(): Map<string, Anomaly> {
    const out = new Map<string, Anomaly>();
    for (const [key, e] of this.activeByKey) out.set(key, e.anomaly);
    return out;
  }

  get activeCount(): number {
    return this.activeByKey.size;
  }

  /** What `sourceKey` currently yields (key -> anomaly), empty when nothing. */
  fromSource(sourceKey: string): ReadonlyMap<string, Anomaly> {
    return this.bySource.get(sourceKey) ?? new Map();
  }

  /** Whether `sourceKey` currently yields at least one anomaly. */
  hasSource(sourceKey: string): boolean {
    return this.bySource.has(sourceKey);
  }

  /** Sources currently yielding at least one anomaly. */
  get sourceCount(): number {
    return this.bySource.size;
  }

  /** Active keys per reason, for neurocontroller_anomalies_active{reason}. */
  activeByReason(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.activeByKey.values()) out.set(e.anomaly.reason, (out.get(e.anomaly.reason) ?? 0) + 1);
    return out;
  }

  private acquire(key: string, a: Anomaly, now: number, out: Transition[]): void {
    const n = (this.refs.get(key) ?? 0) + 1;
    this.refs.set(key, n);
    if (n === 1) {
      this.activeByKey.set(key, { key, anomaly: a, latest: a, firstSeen: now, lastSeen: now, count: 0 });
      out.push({ type: "firing", key, anomaly: a, at: now });
    }
  }

  private release(key: string, a: Anomaly, now: number, out: Transition[]): void {
    const n = (this.refs.get(key) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(key, n);
      return;
    }
    this.refs.delete(key);
    const entry = this.activeByKey.get(key);
    this.activeByKey.delete(key);
    const anomaly = entry?.anomaly ?? a;
    this.sink?.resolve(anomaly, now);
    out.push({ type: "resolved", key, anomaly, at: now });
  }

  private emit(out: Transition[]): Transition[] {
    if (this.onTransition) for (const t of out) this.onTransition(t);
    return out;
  }
}

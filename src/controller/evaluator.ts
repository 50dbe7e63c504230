// Runs every plugin's rules over the informer caches and feeds the results to the collector.
// Keeps the per-object rule memory, re-evaluates dependents (Service after its EndpointSlice), and
// knows which objects time alone can change: rules report "my answer may change at T"
// (RuleContext.recheckAt) and the periodic tick re-evaluates only the objects that are due, so its
// cost follows the few objects inside a duration window, not the size of the cluster.
import type { KubeObject } from "../kube/types.ts";
import { objectKey } from "../kube/types.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { CacheView } from "../kube/objects.ts";
import type { RuleContext, WatcherPlugin } from "../watchers/types.ts";
import type { RuleSettings } from "../watchers/settings.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { Logger } from "../log.ts";

export interface AnomalySink {
  observe(sourceKey: string, anomalies: Anomaly[], now: number): unknown;
  forget(sourceKey: string, now: number): unknown;
}

/** Caches keyed by kind, then by "namespace/name". The informers own and fill them. */
export class Caches implements CacheView {
  readonly byKind = new Map<string, Map<string, KubeObject>>();

  register(kind: string, cache: Map<string, KubeObject>): void {
    this.byKind.set(kind, cache);
  }
  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.byKind.get(kind)?.get(namespace ? `${namespace}/${name}` : name);
  }
  *list(kind: string, namespace?: string): Iterable<KubeObject> {
    const cache = this.byKind.get(kind);
    if (!cache) return;
    for (const obj of cache.values()) if (namespace === undefined || obj.metadata.namespace === namespace) yield obj;
  }
}

export const sourceKeyOf = (kind: string, obj: KubeObject) => `${kind}/${objectKey(obj)}`;

/** An object whose rules asked to be re-evaluated at `due` (ms) without a new event. */
interface Due {
  kind: string;
  cacheKey: string;
  due: number;
}

export interface TickStats {
  /** Objects re-evaluated by this tick. */
  evaluated: number;
  /** Objects waiting for a later tick. */
  waiting: number;
}

/** A rule that throws on a malformed object: counted by kind and logged; the other rules go on. */
export function ruleErrorReporter(metrics: Pick<ControllerMetrics, "ruleErrors">, logger: Logger) {
  return (kind: string, obj: KubeObject, err: unknown): void => {
    metrics.ruleErrors.inc({ kind });
    logger.warn("rule failed on malformed object", {
      kind,
      object: `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`,
      error: String(err),
    });
  };
}

export class Evaluator {
  /** Per-object rule memory; only objects whose rules remember something have an entry. */
  private readonly memos = new Map<string, Record<string, unknown>>();
  private readonly pluginByKind: Map<string, WatcherPlugin>;
  /** sourceKey -> when time alone may change that object's anomalies. */
  private readonly due = new Map<string, Due>();
  /** Earliest recheck reported by the evaluation in progress. */
  private pendingDue = Infinity;
  private readonly recheckAt = (at: number) => {
    if (at < this.pendingDue) this.pendingDue = at;
  };
  errors = 0;
  /** RuleContext.oneShot: set by scan's single pass. */
  oneShot = false;
  /** Rule evaluations since start (every object, every cause): what the tick optimisation saves shows here. */
  evaluations = 0;

  constructor(
    plugins: WatcherPlugin[],
    private readonly settings: RuleSettings,
    readonly caches: Caches,
    private readonly sink: AnomalySink,
    private readonly onRuleError: (kind: string, obj: KubeObject, err: unknown) => void = () => {},
    /** RuleContext.loggedSince: what the log says is already firing, and since when. */
    private readonly loggedSince?: RuleContext["loggedSince"],
  ) {
    this.pluginByKind = new Map();
    for (const p of plugins) for (const r of p.resources) this.pluginByKind.set(r.kind, p);
  }

  /** An informer event for an object of `kind` (the served resource's kind, e.g. EndpointSlice). */
  onEvent(kind: string, type: "ADDED" | "MODIFIED" | "DELETED", obj: KubeObject, now: number): void {
    const plugin = this.pluginByKind.get(kind);
    if (!plugin) return;
    if (type === "DELETED") this.forget(kind, obj, now);
    else this.evaluate(kind, plugin, obj, now);
    for (const dep of plugin.affects?.(obj) ?? []) {
      const target = this.caches.get(dep.kind, dep.namespace, dep.name);
      const depPlugin = this.pluginByKind.get(dep.kind);
      if (target && depPlugin) this.evaluate(dep.kind, depPlugin, target, now);
    }
  }

  /**
   * The periodic tick: re-evaluates the objects whose rules said time may change them by `now`
   * (a duration reached, a window slid past), and every object of a plugin that does not report
   * its time dependence. Everything else can only change with a watch event, which evaluates it.
   */
  evaluateDue(now: number): TickStats {
    let evaluated = 0;
    for (const [kind, cache] of this.caches.byKind) {
      const plugin = this.pluginByKind.get(kind);
      if (!plugin || plugin.reportsTimeDependence) continue;
      for (const obj of cache.values()) this.evaluate(kind, plugin, obj, now), evaluated++;
    }
    // Collected first: evaluating an object updates (or removes) its entry while we iterate.
    const ready: Due[] = [];
    for (const d of this.due.values()) if (d.due <= now) ready.push(d);
    for (const d of ready) {
      const plugin = this.pluginByKind.get(d.kind);
      const obj = this.caches.byKind.get(d.kind)?.get(d.cacheKey);
      if (!plugin || !obj) {
        this.due.delete(`${d.kind}/${d.cacheKey}`); // gone without a DELETED (cache replaced): nothing to re-check
        continue;
      }
      this.evaluate(d.kind, plugin, obj, now);
      evaluated++;
    }
    return { evaluated, waiting: this.due.size };
  }

  /** Re-evaluates every cached object: `scan`'s single pass. */
  evaluateAll(now: number): void {
    for (const [kind, cache] of this.caches.byKind) {
      const plugin = this.pluginByKind.get(kind);
      if (!plugin) continue;
      for (const obj of cache.values()) this.evaluate(kind, plugin, obj, now);
    }
  }

  /** Objects that vanished from a cache without a DELETED event (relist) are forgotten by the informer's synthetic DELETED. */
  private evaluate(kind: string, plugin: WatcherPlugin, obj: KubeObject, now: number): void {
    const cacheKey = objectKey(obj);
    const key = `${kind}/${cacheKey}`;
    const memo = this.memos.get(key) ?? {};
    const ctx: RuleContext = {
      now,
      settings: this.settings,
      cache: this.caches,
      memo,
      recheckAt: this.recheckAt,
      loggedSince: this.loggedSince,
      oneShot: this.oneShot,
    };
    this.pendingDue = Infinity;
    this.evaluations++;
    let anomalies: Anomaly[];
    try {
      anomalies = plugin.evaluate(obj, ctx);
    } catch (err) {
      // A malformed object must not stop the controller: count it, keep the previous state.
      this.errors++;
      if (hasKeys(memo)) this.memos.set(key, memo); // what the rule remembered before it threw is kept, as before
      this.due.delete(key); // re-tried when the object changes, not every tick
      this.onRuleError(kind, obj, err);
      return;
    }
    if (hasKeys(memo)) this.memos.set(key, memo);
    else this.memos.delete(key);
    // A recheck at or before `now` means "on the next tick".
    if (this.pendingDue !== Infinity) this.due.set(key, { kind, cacheKey, due: this.pendingDue });
    else this.due.delete(key);
    this.sink.observe(key, anomalies, now);
  }

  private forget(kind: string, obj: KubeObject, now: number): void {
    const key = sourceKeyOf(kind, obj);
    this.memos.delete(key);
    this.due.delete(key);
    this.sink.forget(key, now);
  }

  get memoCount(): number {
    return this.memos.size;
  }

  /** Objects waiting for a tick to re-evaluate them. */
  get dueCount(): number {
    return this.due.size;
  }
}

function hasKeys(o: Record<string, unknown>): boolean {
  for (const _ in o) return true;
  return false;
}

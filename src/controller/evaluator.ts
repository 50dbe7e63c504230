// Runs every plugin's rules over the informer caches and feeds the results to the collector.
// Keeps the per-object rule memory, and re-evaluates dependents (Service after its EndpointSlice).
import type { Config } from "../config/load.ts";
import type { KubeObject } from "../kube/types.ts";
import { objectKey } from "../kube/types.ts";
import type { Anomaly, CacheView, WatcherPlugin } from "../watchers/types.ts";

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

export class Evaluator {
  private readonly memos = new Map<string, Record<string, unknown>>();
  private readonly pluginByKind: Map<string, WatcherPlugin>;
  errors = 0;

  constructor(
    private readonly plugins: WatcherPlugin[],
    private readonly config: Config,
    readonly caches: Caches,
    private readonly sink: AnomalySink,
    private readonly onRuleError: (kind: string, obj: KubeObject, err: unknown) => void = () => {},
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

  /** Re-evaluates every cached object, so duration rules fire and clear without new events. */
  evaluateAll(now: number): void {
    for (const [kind, cache] of this.caches.byKind) {
      const plugin = this.pluginByKind.get(kind);
      if (!plugin) continue;
      for (const obj of cache.values()) this.evaluate(kind, plugin, obj, now);
    }
  }

  /** Objects that vanished from a cache without a DELETED event (relist) are forgotten by the informer's synthetic DELETED. */
  private evaluate(kind: string, plugin: WatcherPlugin, obj: KubeObject, now: number): void {
    const key = sourceKeyOf(kind, obj);
    let memo = this.memos.get(key);
    if (!memo) this.memos.set(key, (memo = {}));
    let anomalies: Anomaly[];
    try {
      anomalies = plugin.evaluate(obj, { now, config: this.config, cache: this.caches, memo });
    } catch (err) {
      // A malformed object must not stop the controller: count it, keep the previous state.
      this.errors++;
      this.onRuleError(kind, obj, err);
      return;
    }
    this.sink.observe(key, anomalies, now);
  }

  private forget(kind: string, obj: KubeObject, now: number): void {
    const key = sourceKeyOf(kind, obj);
    this.memos.delete(key);
    this.sink.forget(key, now);
  }

  get memoCount(): number {
    return this.memos.size;
  }
}

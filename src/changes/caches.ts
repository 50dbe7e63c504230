// Informer caches that feed change tracking. The controller's own caches report through a CacheObserver
// (src/controller/observed-cache.ts) before they trim metadata.managedFields, which names the field manager.
// StubCache: ConfigMaps, Secrets and HPAs are watched only for change tracking, so their cache keeps
// metadata alone: a Secret's data is hashed on arrival and dropped, and never stored.
import type { KubeObject } from "../kube/types.ts";
import type { ChangeTracker } from "./tracker.ts";

/** What a cache tells the tracker; errors are the tracker's problem, never the informer's. */
export interface CacheObserver {
  set(obj: KubeObject): void;
  delete(obj: KubeObject): void;
}

export function observerFor(tracker: ChangeTracker, kind: string, synced: () => boolean, onError: (e: unknown) => void): CacheObserver {
  return {
    set: (obj) => {
      try {
        tracker.observe(kind, obj, synced());
      } catch (e) {
        onError(e);
      }
    },
    delete: (obj) => {
      try {
        tracker.removed(kind, obj);
      } catch (e) {
        onError(e);
      }
    },
  };
}

export class StubCache extends Map<string, KubeObject> {
  observer?: CacheObserver;

  override set(key: string, obj: KubeObject): this {
    this.observer?.set(obj);
    const m = obj.metadata;
    return super.set(key, { metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion } } as KubeObject);
  }

  override delete(key: string): boolean {
    const old = super.get(key);
    const had = super.delete(key);
    if (had && old) this.observer?.delete(old);
    return had;
  }
}

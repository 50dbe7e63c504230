// The controller's informer caches with change tracking: each object is shown to the tracker before the
// cache trims metadata.managedFields (which names the field manager), and each deletion too (docs/changes.md).
import type { CacheObserver } from "../changes/caches.ts";
import type { KubeObject } from "../kube/types.ts";
import { TrimmedCache } from "./cache-trim.ts";

export class ObservedCache extends TrimmedCache {
  constructor(private readonly observer?: CacheObserver) {
    super();
  }

  override set(key: string, obj: KubeObject): this {
    this.observer?.set(obj);
    return super.set(key, obj);
  }

  override delete(key: string): boolean {
    const old = super.get(key);
    const had = super.delete(key);
    if (had && old) this.observer?.delete(old);
    return had;
  }
}

// What the informer caches keep per object: everything rules, incident correlation and topology read,
// minus what real API servers send with every object and no code here reads — metadata.managedFields
// (server-side apply bookkeeping, often the largest part of a Pod) and the kubectl
// last-applied-configuration annotation (a second copy of the whole object). client-go's TransformFunc.
import type { KubeObject } from "../kube/types.ts";

export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** Drops the unread fields in place (the object was just parsed for us) and returns it. */
export function trimForCache(obj: KubeObject): KubeObject {
  const m = obj.metadata;
  if (!m) return obj;
  if (m.managedFields !== undefined) delete m.managedFields;
  if (m.annotations && LAST_APPLIED in m.annotations) delete m.annotations[LAST_APPLIED];
  return obj;
}

/**
 * An informer cache that trims every object it stores. Every way into the cache (list, relist,
 * watch) goes through set(), so no untrimmed object is kept, and handlers see the trimmed one.
 */
export class TrimmedCache extends Map<string, KubeObject> {
  override set(key: string, obj: KubeObject): this {
    return super.set(key, trimForCache(obj));
  }
}

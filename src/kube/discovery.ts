// Which resources this API server serves (e.g. EndpointSlices on K3s ≥ 1.21, Endpoints on older ones).
import { KubeApiError, type KubeClient } from "./client.ts";
import type { ResourceRef } from "./types.ts";

export interface ServedResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

interface ResourceList {
  resources?: ServedResource[];
}

/** groupVersion ("v1", "apps/v1") → its resources, or null when the group/version is not served (404). */
const caches = new WeakMap<KubeClient, Map<string, Promise<ServedResource[] | null>>>();

function groupVersion(ref: Pick<ResourceRef, "group" | "version">): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

/** The resources of one group/version (cached per client); null when the server does not serve it. */
export function servedIn(client: KubeClient, group: string, version: string): Promise<ServedResource[] | null> {
  let cache = caches.get(client);
  if (!cache) {
    cache = new Map();
    caches.set(client, cache);
  }
  const gv = groupVersion({ group, version });
  let hit = cache.get(gv);
  if (!hit) {
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    hit = client.request<ResourceList>("GET", path).then(
      (list) => (list?.resources ?? []).filter((r) => !r.name.includes("/")),
      (e) => {
        if (e instanceof KubeApiError && e.status === 404) return null;
        cache.delete(gv); // transient failures are not remembered
        throw e;
      },
    );
    cache.set(gv, hit);
  }
  return hit;
}

/**
 * Served resources for the group/versions given (default: core v1), keyed "group/version/plural"
 * ("v1/pods", "apps/v1/deployments"); group/versions that are not served contribute nothing.
 */
export async function servedResources(
  client: KubeClient,
  groupVersions: Pick<ResourceRef, "group" | "version">[] = [{ group: "", version: "v1" }],
): Promise<Map<string, ServedResource>> {
  const out = new Map<string, ServedResource>();
  for (const gv of groupVersions) {
    const list = await servedIn(client, gv.group, gv.version);
    for (const r of list ?? []) out.set(`${groupVersion(gv)}/${r.name}`, r);
  }
  return out;
}

export async function isServed(client: KubeClient, ref: ResourceRef): Promise<boolean> {
  const list = await servedIn(client, ref.group, ref.version);
  return !!list?.some((r) => r.name === ref.plural);
}

/** The first candidate the server serves, or null. Transport errors propagate (retry later). */
export async function chooseResource(client: KubeClient, candidates: ResourceRef[]): Promise<ResourceRef | null> {
  for (const ref of candidates) if (await isServed(client, ref)) return ref;
  return null;
}

/** Forget cached discovery (e.g. after the API server was upgraded). */
export function clearDiscoveryCache(client: KubeClient): void {
  caches.delete(client);
}

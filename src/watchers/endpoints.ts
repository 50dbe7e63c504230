// Endpoints / EndpointSlices raise nothing themselves: the Service rule (service.ts) reads them from the
// cache. This plugin makes the runtime watch them and re-evaluate the Service whenever they change.
import type { KubeObject } from "../kube/types.ts";
import type { CacheView, WatcherPlugin } from "./types.ts";
import { creationTime, lastWriteTime, parseTime, ref } from "./util.ts";

const KIND = "Endpoints";
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const LAST_CHANGE = "endpoints.kubernetes.io/last-change-trigger-time";

export interface EndpointReadiness {
  /** Distinct endpoints known for the Service. */
  total: number;
  ready: number;
  /** Latest last-change-trigger-time annotation: when the endpoint set last changed, if stated. */
  lastChange?: number;
  /**
   * For a one-shot judgement (scan): the latest recorded write of the endpoint objects (managedFields),
   * else their creation when they record no writes at all. The current readiness has held at least since.
   */
  lastWrite?: number;
  source: "EndpointSlice" | "Endpoints";
}

/** lastWrite of one endpoint object: its managedFields' latest time, else creationTimestamp if it records none. */
function writtenAt(obj: KubeObject | undefined): number | undefined {
  if (!obj) return undefined;
  return Array.isArray(obj.metadata.managedFields) ? lastWriteTime(obj) : creationTime(obj);
}

export function isEndpointSlice(obj: KubeObject): boolean {
  // List items carry no `kind`; addressType is a required EndpointSlice field.
  return obj.kind === "EndpointSlice" || typeof obj.addressType === "string";
}

function hasAny(items: Iterable<KubeObject>): boolean {
  for (const _ of items) return true;
  return false;
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null };
  targetRef?: { kind?: string; name?: string };
}

/**
 * Readiness of a Service's backends: from EndpointSlices when the cache holds any (the API serves
 * them), else from the core Endpoints object. In slices `conditions.ready` unset means ready.
 */
export function endpointReadiness(namespace: string, service: string, cache: CacheView): EndpointReadiness {
  if (hasAny(cache.list("EndpointSlice"))) {
    // Dual-stack Services have one slice per address family: count each backend once.
    const ready = new Set<string>();
    const all = new Set<string>();
    let lastChange: number | undefined;
    let lastWrite: number | undefined;
    for (const slice of cache.list("EndpointSlice", namespace)) {
      if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== service) continue;
      lastChange = latest(lastChange, parseTime(slice.metadata.annotations?.[LAST_CHANGE]));
      lastWrite = latest(lastWrite, writtenAt(slice));
      for (const ep of (slice.endpoints as SliceEndpoint[] | null) ?? []) {
        const id = ep.targetRef?.name ? `${ep.targetRef.kind}/${ep.targetRef.name}` : (ep.addresses ?? []).join(",");
        all.add(id);
        if (ep.conditions?.ready !== false) ready.add(id);
      }
    }
    return { total: all.size, ready: ready.size, lastChange, lastWrite, source: "EndpointSlice" };
  }
  const ep = cache.get("Endpoints", namespace, service);
  let ready = 0;
  let notReady = 0;
  for (const subset of (ep?.subsets as { addresses?: unknown[]; notReadyAddresses?: unknown[] }[] | undefined) ?? []) {
    ready += subset.addresses?.length ?? 0;
    notReady += subset.notReadyAddresses?.length ?? 0;
  }
  const lastChange = parseTime(ep?.metadata.annotations?.[LAST_CHANGE]);
  return { total: ready + notReady, ready, lastChange, lastWrite: writtenAt(ep), source: "Endpoints" };
}

export const endpointsPlugin: WatcherPlugin = {
  kind: KIND,
  // EndpointSlices first: core Endpoints are deprecated since 1.33 and truncated at 1000 addresses.
  resources: [ref("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"), ref("", "v1", "endpoints", KIND)],
  evaluate: () => [],
  reportsTimeDependence: true,
  affects(obj) {
    const service = isEndpointSlice(obj) ? obj.metadata.labels?.[SERVICE_NAME_LABEL] : obj.metadata.name;
    return service ? [{ kind: "Service", namespace: obj.metadata.namespace ?? "", name: service }] : [];
  },
};

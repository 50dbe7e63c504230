// Heap held by the informer caches for the bench cluster (100 nodes, 3,000 pods, 300 Deployments,
// ReplicaSets, Services, EndpointSlices), parsed from JSON as the client does, with and without
// trimming (src/controller/cache-trim.ts). The simulator's objects carry no managedFields, so each
// object gets what a real API server adds: managedFields entries (kubectl/controller/kubelet) and,
// on the objects people apply, kubectl's last-applied-configuration annotation.
//   bun bench/cache-memory.ts   → one JSON line (MiB of JS heap after a full GC)
import { heapStats } from "bun:jsc";
import { trimForCache } from "../src/controller/cache-trim.ts";
import type { KubeObject } from "../src/kube/types.ts";
import { objectKey } from "../src/kube/types.ts";
import { seedHealthyCluster } from "../src/sim/kit.ts";
import { SimStore } from "../src/sim/store.ts";

const store = new SimStore();
seedHealthyCluster(store, { nodes: 100, deployments: 300, replicasPerDeployment: 10, namespaces: ["default", "shop", "data"] });
const plurals = ["nodes", "pods", "deployments", "replicasets", "services", "endpointslices"];

/** FieldsV1 shaped like the API server's: one key per field set, nested, with empty objects as leaves. */
function fieldsOf(o: unknown, depth = 0): unknown {
  if (Array.isArray(o))
    return Object.fromEntries(o.slice(0, 4).map((x, i) => [`k:{"name":"${(x as { name?: string })?.name ?? i}"}`, fieldsOf(x, depth + 1)]));
  if (o && typeof o === "object" && depth < 6) return Object.fromEntries(Object.entries(o).map(([k, v]) => [`f:${k}`, fieldsOf(v, depth + 1)]));
  return {};
}
function realistic(o: KubeObject, plural: string): KubeObject {
  const x = structuredClone(o);
  const time = x.metadata.creationTimestamp ?? "2026-01-01T00:00:00Z";
  const entry = (manager: string, operation: string, part: unknown, subresource?: string) => ({
    manager,
    operation,
    apiVersion: x.apiVersion ?? "v1",
    time,
    fieldsType: "FieldsV1",
    fieldsV1: fieldsOf(part),
    ...(subresource ? { subresource } : {}),
  });
  x.metadata.managedFields = [
    entry(plural === "pods" || plural === "replicasets" ? "kube-controller-manager" : "kubectl-client-side-apply", "Update", {
      metadata: x.metadata,
      spec: x.spec,
    }),
    ...(x.status ? [entry(plural === "pods" ? "kubelet" : "k3s", "Update", { status: x.status }, "status")] : []),
  ];
  if (plural === "deployments" || plural === "services") {
    const { metadata, spec } = x;
    x.metadata.annotations = {
      ...(x.metadata.annotations ?? {}),
      "kubectl.kubernetes.io/last-applied-configuration":
        JSON.stringify({
          apiVersion: x.apiVersion,
          kind: x.kind,
          metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels },
          spec,
        }) + "\n",
    };
  }
  return x;
}
const wire = plurals.flatMap((p) => store.list(p).map((o) => JSON.stringify(realistic(o, p))));
const bytes = wire.reduce((a, l) => a + l.length, 0);

function heapMiB(): number {
  Bun.gc(true);
  Bun.gc(true);
  return heapStats().heapSize / 1048576;
}
function cacheHeap(trim: boolean): number {
  const before = heapMiB();
  const cache = new Map<string, KubeObject>();
  for (const line of wire) {
    const o = JSON.parse(line) as KubeObject;
    cache.set(objectKey(o) + o.kind, trim ? trimForCache(o) : o);
  }
  const after = heapMiB();
  if (cache.size !== wire.length) throw new Error("lost objects");
  return after - before;
}
const full = cacheHeap(false);
const trimmed = cacheHeap(true);
console.log(
  JSON.stringify({
    objects: wire.length,
    wireMiB: +(bytes / 1048576).toFixed(1),
    heapUntrimmedMiB: +full.toFixed(1),
    heapTrimmedMiB: +trimmed.toFixed(1),
    savedMiB: +(full - trimmed).toFixed(1),
  }),
);

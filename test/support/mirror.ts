// Replays a SimStore's writes onto a real kube-apiserver over HTTP, so the scenario builders in src/sim/scenarios.ts
// (seedHealthyCluster, crashLoopPod, nodeNotReady, …) drive the real server unchanged: one set of end-to-end tests,
// two servers. Each write becomes what a client (and the kubelet / controllers that do not run here) would send:
// POST, then the status through /status; PUT with the real object's resourceVersion; DELETE with grace 0.
// Server-assigned identity differs (uid, clusterIP): the mirror maps it. Anything refused is kept in `errors`.
import type { KubeObject } from "../../src/kube/types.ts";
import { RESOURCES, apiVersionOf, type SimResource } from "../../src/sim/resources.ts";
import type { SimStore } from "../../src/sim/store.ts";
import type { StoredEvent } from "../../src/sim/history.ts";
import { waitFor } from "../../testkit/wait.ts";

export interface MirrorTarget {
  url: string;
  certs: { ca: string; cert: string; key: string };
}

/** 1.20 serves these groups in an older version only; the controller falls back on them by discovery. */
const VERSION_ON_REAL: Record<string, string> = { policy: "v1beta1" };
/** Not replayed: discovery.k8s.io/v1 does not exist in 1.20 (its v1beta1 schema differs); Endpoints carry the same facts. */
const SKIP = new Set(["endpointslices"]);

export class StoreMirror {
  readonly errors: string[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly uids = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    readonly store: SimStore,
    private readonly target: MirrorTarget,
  ) {
    for (const res of RESOURCES) {
      if (SKIP.has(res.plural)) continue;
      this.unsubscribe.push(store.subscribe(res, (ev) => this.enqueue(res, ev)));
    }
  }

  /** Every write so far reached the real server (or failed into `errors`). */
  async idle(timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.pending === 0, { timeoutMs, message: () => `mirror idle (${this.pending} pending; errors ${this.errors.join("; ")})` });
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }

  private enqueue(res: SimResource, ev: StoredEvent): void {
    const object = structuredClone(ev.object);
    // Whether anything but status changed: a status-only write (kubelet, controllers) touches only /status.
    const strip = (o?: KubeObject) => o && JSON.stringify({ ...o, status: undefined, metadata: { ...o.metadata, resourceVersion: undefined } });
    const mainChanged = ev.type !== "MODIFIED" || strip(ev.prev) !== strip(ev.object);
    this.pending++;
    this.queue = this.queue
      .then(() => this.apply(res, ev.type, object, mainChanged))
      .catch((e) => void this.errors.push(`${ev.type} ${res.plural} ${object.metadata.namespace ?? ""}/${object.metadata.name}: ${e}`))
      .finally(() => void this.pending--);
  }

  private path(res: SimResource, ns: string | undefined, name?: string): string {
    const version = VERSION_ON_REAL[res.group] ?? res.version;
    const base = res.group ? `/apis/${res.group}/${version}` : "/api/v1";
    return `${base}${res.namespaced ? `/namespaces/${ns ?? "default"}` : ""}/${res.plural}${name ? `/${name}` : ""}`;
  }

  /** One request; while the API server is down (a restart test) the write waits for it, as a kubelet's would. */
  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return waitFor(
      async () => {
        const r = await fetch(this.target.url + path, {
          method,
          headers: body === undefined ? {} : { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          tls: this.target.certs,
        } as RequestInit).catch(() => undefined);
        if (!r || r.status === 503) return undefined;
        const text = await r.text();
        return { status: r.status, body: text ? JSON.parse(text) : undefined };
      },
      { timeoutMs: 120_000, intervalMs: 100, message: `${method} ${path} (API server reachable)` },
    );
  }

  private async must(method: string, path: string, body: unknown, ok: number[]): Promise<any> {
    const r = await this.call(method, path, body);
    if (!ok.includes(r.status)) throw new Error(`${method} ${path} → ${r.status} ${r.body?.message ?? JSON.stringify(r.body)}`);
    return r.body;
  }

  /** The local object as this server should hold it: server-owned metadata dropped, references to local uids mapped. */
  private translate(res: SimResource, o: KubeObject, current?: KubeObject): KubeObject {
    const out = structuredClone(o) as any;
    const version = VERSION_ON_REAL[res.group];
    if (version) out.apiVersion = `${res.group}/${version}`;
    else out.apiVersion = apiVersionOf(res);
    for (const k of ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "deletionTimestamp"]) delete out.metadata[k];
    if (current) {
      out.metadata.uid = current.metadata.uid;
      out.metadata.resourceVersion = current.metadata.resourceVersion;
    }
    const mapUid = (u?: string) => (u && this.uids.get(u)) || u;
    for (const ref of out.metadata.ownerReferences ?? []) ref.uid = mapUid(ref.uid);
    if (out.involvedObject?.uid) out.involvedObject.uid = mapUid(out.involvedObject.uid);
    for (const subset of out.subsets ?? []) {
      for (const a of [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])])
        if (a.targetRef?.uid) a.targetRef.uid = mapUid(a.targetRef.uid);
    }
    // Fields the server defaulted or an admission plugin added (a pod's tolerations) are kept: some may not be removed.
    if (current && (current as any).spec && out.spec) out.spec = { ...(current as any).spec, ...out.spec };
    if (res.plural === "services" && out.spec) {
      // clusterIP is allocated from this server's range and immutable afterwards.
      if (current) {
        out.spec.clusterIP = (current as any).spec.clusterIP;
        out.spec.clusterIPs = (current as any).spec.clusterIPs;
      } else if (out.spec.clusterIP !== "None") {
        delete out.spec.clusterIP;
        delete out.spec.clusterIPs;
      }
    }
    return out;
  }

  private async writeStatus(res: SimResource, local: KubeObject, current: KubeObject): Promise<void> {
    if (!res.subresources.includes("status") || local.status === undefined) return;
    const ns = local.metadata.namespace;
    await this.must("PUT", `${this.path(res, ns, local.metadata.name)}/status`, { ...current, status: this.translate(res, local).status }, [200]);
  }

  private async ensureNamespace(ns: string | undefined): Promise<void> {
    if (!ns) return;
    const r = await this.call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    if (r.status !== 201 && r.status !== 409) throw new Error(`create namespace ${ns}: ${r.status}`);
  }

  private async apply(res: SimResource, type: string, o: KubeObject, mainChanged: boolean): Promise<void> {
    const ns = res.namespaced ? (o.metadata.namespace ?? "default") : undefined;
    const name = o.metadata.name;
    if (type === "DELETED") {
      // Background propagation, as kubectl sends: batch/v1 Jobs default to orphaning, which adds the `orphan` finalizer
      // that only the garbage collector (kube-controller-manager, not running here) removes.
      const opts = { gracePeriodSeconds: 0, propagationPolicy: "Background" };
      await this.must("DELETE", `${this.path(res, ns, name)}?gracePeriodSeconds=0`, opts, [200, 202, 404]);
      return;
    }
    const got = await this.call("GET", this.path(res, ns, name));
    let current: KubeObject;
    if (got.status === 404) {
      let created = await this.call("POST", this.path(res, ns), this.translate(res, o));
      if (created.status === 404 && res.namespaced) {
        await this.ensureNamespace(ns);
        created = await this.call("POST", this.path(res, ns), this.translate(res, o));
      }
      if (created.status !== 201) throw new Error(`POST ${this.path(res, ns)} → ${created.status} ${created.body?.message}`);
      current = created.body;
    } else if (mainChanged) {
      current = await this.must("PUT", this.path(res, ns, name), this.translate(res, o, got.body), [200]);
    } else {
      current = got.body;
    }
    if (o.metadata.uid) this.uids.set(o.metadata.uid, current.metadata.uid!);
    await this.writeStatus(res, o, current);
  }
}

// The simulator's etcd + registry: one global monotonic resourceVersion, per-resource object maps and
// watch history, synchronous fan-out to watchers (so a replay followed by a subscribe can never miss one).
import type { KubeObject } from "../kube/types.ts";
import { EventRing, type StoredEvent, type StoredEventType } from "./history.ts";
import { mustResource, resourceForObject, resourceKey, type SimResource, apiVersionOf } from "./resources.ts";
import { alreadyExists, conflict, invalid, notFound } from "./status.ts";

export interface StoreOptions {
  historyLimit?: number;
  /** Clock for creationTimestamp and scenario timestamps (ms since epoch); injectable for the demo/tests. */
  now?: () => number;
  initialResourceVersion?: number;
}

/** How an update treats status: the real API ignores status on the main resource and vice versa. */
export type UpdateMode = "all" | "main" | "status";

export interface UpdateOptions {
  mode?: UpdateMode;
  /** Skip the optimistic-concurrency check even if metadata.resourceVersion is set. */
  force?: boolean;
}

export type StoreListener = (ev: StoredEvent) => void;
type ResArg = string | SimResource;

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function bodyWithoutMeta(o: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

export class SimStore {
  private rv: number;
  private objects = new Map<string, Map<string, KubeObject>>();
  /** Each resource's keys in order, dropped when one is added or removed (peekAll). */
  private sortedKeys = new Map<string, string[]>();
  private rings = new Map<string, EventRing>();
  private listeners = new Map<string, Set<StoreListener>>();
  private readonly historyLimit: number;
  private readonly clock: () => number;
  /** Floor for resources whose ring is created after a compaction. */
  private compactedAt = 0;

  constructor(opts: StoreOptions = {}) {
    this.historyLimit = opts.historyLimit ?? 10000;
    this.clock = opts.now ?? Date.now;
    this.rv = opts.initialResourceVersion ?? 1000;
  }

  resourceVersion(): string {
    return String(this.rv);
  }

  /** RFC 3339 seconds precision, the format metav1.Time serialises to. */
  timestamp(offsetMs = 0): string {
    return new Date(this.clock() + offsetMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  nowMs(): number {
    return this.clock();
  }

  resolve(res: ResArg): SimResource {
    return typeof res === "string" ? mustResource(res) : res;
  }

  private bucket(res: SimResource): Map<string, KubeObject> {
    const k = resourceKey(res);
    let m = this.objects.get(k);
    if (!m) this.objects.set(k, (m = new Map()));
    return m;
  }

  ring(res: SimResource): EventRing {
    const k = resourceKey(res);
    let ring = this.rings.get(k);
    if (!ring) this.rings.set(k, (ring = new EventRing(this.historyLimit, this.compactedAt)));
    return ring;
  }

  subscribe(res: SimResource, fn: StoreListener): () => void {
    const k = resourceKey(res);
    let set = this.listeners.get(k);
    if (!set) this.listeners.set(k, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  private key(res: SimResource, ns: string | undefined, name: string): string {
    return res.namespaced ? `${ns ?? "default"}/${name}` : name;
  }

  private record(res: SimResource, type: StoredEventType, object: KubeObject, prev?: KubeObject): void {
    const ev: StoredEvent = { rv: this.rv, type, object, prev };
    this.ring(res).push(ev);
    const set = this.listeners.get(resourceKey(res));
    if (!set) return;
    for (const fn of set) {
      try {
        fn(ev);
      } catch {
        // A broken watcher must not break the write path.
      }
    }
  }

  /** Forget all history: watches from any RV before now get 410 Expired. */
  compact(): void {
    this.compactedAt = this.rv;
    for (const ring of this.rings.values()) ring.compact(this.rv);
  }

  /** Whether a read at `rv` falls before the last compaction (etcd's ErrCompacted: a list's continue token expires). */
  compactedPast(rv: number): boolean {
    return rv < this.compactedAt;
  }

  /** Oldest RV a watch on this resource can still resume from. */
  historyFloor(res: SimResource): number {
    return this.rings.get(resourceKey(res))?.floor ?? this.compactedAt;
  }

  // ---- reads (clones, safe to mutate) ----

  get(res: ResArg, ns: string | undefined, name: string): KubeObject | undefined {
    return clone(this.peek(this.resolve(res), ns, name));
  }

  list(res: ResArg, ns?: string): KubeObject[] {
    return this.peekAll(this.resolve(res), ns).map(clone);
  }

  /** Internal object (do not mutate): used by the HTTP layer to serialise without copying. */
  peek(res: SimResource, ns: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(resourceKey(res))?.get(this.key(res, ns, name));
  }

  /** Internal objects in etcd key order (namespace/name), as the real API lists them; `after`: only keys past it. */
  peekAll(res: SimResource, ns?: string, after?: string): KubeObject[] {
    const m = this.objects.get(resourceKey(res));
    if (!m) return [];
    // The key order is kept between calls (only a create or delete changes it): each page of a paginated list
    // of 30,000 pods sorted them all again, so the simulator, not the client, set the pace of a cold start.
    const rk = resourceKey(res);
    let keys = this.sortedKeys.get(rk);
    if (!keys) this.sortedKeys.set(rk, (keys = [...m.keys()].sort()));
    let i = 0;
    if (after !== undefined) {
      let hi = keys.length;
      while (i < hi) {
        const mid = (i + hi) >> 1;
        if (keys[mid]! <= after) i = mid + 1;
        else hi = mid;
      }
    }
    const out: KubeObject[] = [];
    for (; i < keys.length; i++) {
      const o = m.get(keys[i]!)!;
      if (!ns || !res.namespaced || o.metadata.namespace === ns) out.push(o);
    }
    return out;
  }

  count(res: ResArg): number {
    return this.objects.get(resourceKey(this.resolve(res)))?.size ?? 0;
  }

  // ---- writes ----

  create(input: KubeObject): KubeObject {
    const res = resourceForObject(input);
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(res);
    obj.metadata ??= { name: "" };
    const meta = obj.metadata;
    if (res.namespaced) meta.namespace ||= "default";
    else delete meta.namespace;
    if (!meta.name && meta.generateName) {
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      meta.name = `${meta.generateName}${suffix}`;
    }
    this.validateName(res, meta.name);
    const bucket = this.bucket(res);
    const key = this.key(res, meta.namespace, meta.name);
    if (bucket.has(key)) throw alreadyExists(res.plural, res.group, meta.name);
    this.rv++;
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = this.timestamp();
    meta.resourceVersion = String(this.rv);
    meta.generation = 1;
    delete meta.deletionTimestamp;
    bucket.set(key, obj);
    this.sortedKeys.delete(resourceKey(res));
    this.record(res, "ADDED", obj);
    return clone(obj);
  }

  private validateName(res: SimResource, name: string): void {
    if (!name) {
      throw invalid(res.kind, res.group, "", [
        { reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" },
      ]);
    }
    if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
      throw invalid(res.kind, res.group, name, [
        {
          reason: "FieldValueInvalid",
          message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
          field: "metadata.name",
        },
      ]);
    }
  }

  /** Replace an object. A set metadata.resourceVersion must match (optimistic concurrency), else 409. */
  update(input: KubeObject, opts: UpdateOptions = {}): KubeObject {
    const res = resourceForObject(input);
    const ns = res.namespaced ? input.metadata.namespace || "default" : undefined;
    const name = input.metadata?.name;
    const cur = this.peek(res, ns, name);
    if (!cur) throw notFound(res.plural, res.group, name);
    const want = input.metadata.resourceVersion;
    if (!opts.force && want && want !== cur.metadata.resourceVersion) throw conflict(res.plural, res.group, name);
    if (input.metadata.uid && input.metadata.uid !== cur.metadata.uid) {
      throw conflict(
        res.plural,
        res.group,
        name,
        `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${cur.metadata.uid}`,
      );
    }
    const mode = opts.mode ?? "all";
    let next: KubeObject;
    if (mode === "status") {
      next = clone(cur);
      next.status = clone(input.status);
    } else {
      next = clone(input);
      if (mode === "main" && res.subresources.includes("status")) next.status = clone(cur.status);
      if (next.status === undefined) delete next.status;
    }
    next.kind = res.kind;
    next.apiVersion = apiVersionOf(res);
    const meta = next.metadata;
    // Identity and server-owned fields cannot be changed by a client.
    meta.name = cur.metadata.name;
    if (res.namespaced) meta.namespace = cur.metadata.namespace;
    meta.uid = cur.metadata.uid;
    meta.creationTimestamp = cur.metadata.creationTimestamp;
    meta.generation = cur.metadata.generation;
    meta.resourceVersion = cur.metadata.resourceVersion;
    if (cur.metadata.deletionTimestamp) meta.deletionTimestamp = cur.metadata.deletionTimestamp;
    if (bodyWithoutMeta(next) !== bodyWithoutMeta(cur)) meta.generation = (cur.metadata.generation ?? 0) + 1;
    // A no-op write keeps the RV and emits nothing, as etcd3's GuaranteedUpdate does.
    if (JSON.stringify(next) === JSON.stringify(cur)) return clone(cur);
    this.rv++;
    meta.resourceVersion = String(this.rv);
    this.bucket(res).set(this.key(res, ns, name), next);
    this.record(res, "MODIFIED", next, cur);
    return clone(next);
  }

  /** Create, or replace unconditionally when it exists. */
  upsert(input: KubeObject): KubeObject {
    const res = resourceForObject(input);
    if (!this.peek(res, input.metadata.namespace || "default", input.metadata.name)) return this.create(input);
    const copy = clone(input);
    delete copy.metadata.resourceVersion;
    return this.update(copy);
  }

  /** Read-modify-write: fn edits a copy (or returns a replacement). */
  mutate(res: ResArg, ns: string | undefined, name: string, fn: (o: KubeObject) => KubeObject | void): KubeObject {
    const r = this.resolve(res);
    const cur = this.peek(r, ns, name);
    if (!cur) throw notFound(r.plural, r.group, name);
    const copy = clone(cur);
    const next = fn(copy) ?? copy;
    return this.update(next, { force: true });
  }

  /** Convenience for scenarios: fn edits status in place (created if missing). */
  patchStatus(
    res: ResArg,
    ns: string | undefined,
    name: string,
    fn: (status: Record<string, any>, obj: KubeObject) => Record<string, any> | void,
  ): KubeObject {
    return this.mutate(res, ns, name, (o) => {
      o.status ??= {};
      const s = fn(o.status, o);
      if (s) o.status = s;
    });
  }

  delete(res: ResArg, ns: string | undefined, name: string, preconditions?: { resourceVersion?: string; uid?: string }): KubeObject {
    const r = this.resolve(res);
    const cur = this.peek(r, ns, name);
    if (!cur) throw notFound(r.plural, r.group, name);
    if (preconditions?.uid && preconditions.uid !== cur.metadata.uid) {
      throw conflict(
        r.plural,
        r.group,
        name,
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${cur.metadata.uid}`,
      );
    }
    if (preconditions?.resourceVersion && preconditions.resourceVersion !== cur.metadata.resourceVersion) {
      throw conflict(
        r.plural,
        r.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`,
      );
    }
    this.rv++;
    const gone = clone(cur);
    gone.metadata.resourceVersion = String(this.rv);
    this.bucket(r).delete(this.key(r, ns, name));
    this.sortedKeys.delete(resourceKey(r));
    this.record(r, "DELETED", gone, cur);
    return clone(gone);
  }
}

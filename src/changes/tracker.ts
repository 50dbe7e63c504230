// Turns what the informers see into ChangeRecords: each tracked object's essence is kept (small), and a
// new version is diffed against it. It sees objects before the informer cache trims them, so the newest
// metadata.managedFields entry names the field manager (kubectl, helm, k3s) and its operation. Users come
// from the audit webhook: an audit event that arrives first waits (bounded) for its watch event, one that
// arrives later attributes the stored change.
import { hashString } from "../model/fingerprint.ts";
import type { KubeObject } from "../kube/types.ts";
import type { ChangeStore } from "../store/change-store.ts";
import { createdLines, diffEssence } from "./diff.ts";
import { essenceOf, isTracked, type Essence } from "./essence.ts";
import type { ChangeRecord } from "../model/change.ts";

/** An audit event worth keeping, already filtered and validated (audit-events.ts). */
export interface AuditedWrite {
  time: number;
  user: string;
  verb: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Audit-only acts on Pods, recorded as changes of their own (Pods are not diffed). */
const POD_ACTS = new Set(["exec", "attach", "portforward", "evicted"]);

/** How far apart an audit event and the watch event of the same write may be. */
export const ATTRIBUTION_WINDOW_MS = 60_000;
/** Audit events waiting for their watch event (oldest dropped beyond). */
export const PENDING_AUDIT_MAX = 1000;

interface ManagedField {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
}

/** The field manager and operation of the newest write to the object's spec/metadata (status writes excluded). */
export function managerOf(obj: KubeObject): { manager?: string; operation?: string } {
  const fields = (obj.metadata as { managedFields?: ManagedField[] }).managedFields;
  if (!Array.isArray(fields)) return {};
  let best: ManagedField | undefined;
  for (const f of fields) {
    if (!f || typeof f !== "object" || f.subresource === "status") continue;
    if (!best || String(f.time ?? "") >= String(best.time ?? "")) best = f;
  }
  if (!best?.manager) return {};
  return { manager: String(best.manager).slice(0, 128), operation: best.operation ? String(best.operation).slice(0, 32) : undefined };
}

const refKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** The change verbs an audit verb can have produced (a create is never attributed to the update after it). */
export function changeVerbsOf(auditVerb: string): readonly string[] {
  if (auditVerb === "create") return ["created"];
  if (auditVerb === "delete") return ["deleted"];
  if (auditVerb === "scaled") return ["scaled"];
  return ["updated", "scaled", "cordoned", "uncordoned"];
}

/** Our own state and silence ConfigMaps change on every write cycle: not changes anyone needs told about. */
const isOwnState = (kind: string, obj: KubeObject) =>
  kind === "ConfigMap" && obj.metadata.labels?.["app.kubernetes.io/name"] === "neurocontroller" && /-(state|silences)$/.test(obj.metadata.name);

export class ChangeTracker {
  private readonly essences = new Map<string, Essence>();
  private readonly pending = new Map<string, AuditedWrite>();

  constructor(
    private readonly store: ChangeStore,
    private readonly now: () => number = Date.now,
    /** Told about every change recorded (for logs and metrics). */
    private readonly onChange: (c: ChangeRecord) => void = () => {},
  ) {}

  /** Objects whose essence is kept (for the retained-size gauge). */
  get size(): number {
    return this.essences.size;
  }

  get pendingAudit(): number {
    return this.pending.size;
  }

  /** A new or updated version of an object; `synced`: the informer's first list is done (a first sight is then a creation). */
  observe(kind: string, obj: KubeObject, synced: boolean): ChangeRecord | undefined {
    if (!isTracked(kind) || !obj?.metadata?.name || isOwnState(kind, obj)) return undefined;
    const essence = essenceOf(kind, obj);
    if (!essence) return undefined;
    const namespace = obj.metadata.namespace ?? "";
    const key = refKey(kind, namespace, obj.metadata.name);
    const before = this.essences.get(key);
    this.essences.set(key, essence);
    const secret = kind === "Secret";
    if (!before) {
      if (!synced || kind === "Node") return undefined;
      return this.record(kind, obj, "created", createdLines(essence, secret));
    }
    const d = diffEssence(before, essence, secret);
    return d ? this.record(kind, obj, d.verb, d.lines) : undefined;
  }

  /** An object deleted (its last known version). */
  removed(kind: string, obj: KubeObject): ChangeRecord | undefined {
    if (!isTracked(kind) || !obj?.metadata?.name) return undefined;
    const key = refKey(kind, obj.metadata.namespace ?? "", obj.metadata.name);
    if (!this.essences.delete(key)) return undefined;
    return this.record(kind, obj, "deleted", []);
  }

  /** An audit event: attributes the matching change (stored or to come), or is recorded itself (exec, attach, port-forward, eviction). */
  audited(w: AuditedWrite): void {
    if (POD_ACTS.has(w.verb)) {
      const id = hashString(`audit:${w.verb}:${refKey(w.kind, w.namespace, w.name)}:${w.user}:${w.time}`);
      const rec: ChangeRecord = { id, time: w.time, kind: w.kind, namespace: w.namespace, name: w.name, verb: w.verb, lines: [], user: w.user };
      if (this.store.append(rec)) this.onChange(rec);
      return;
    }
    if (this.store.attribute(w.kind, w.namespace, w.name, w.time, ATTRIBUTION_WINDOW_MS, changeVerbsOf(w.verb), w.user)) return;
    const key = refKey(w.kind, w.namespace, w.name);
    this.pending.delete(key);
    this.pending.set(key, w);
    while (this.pending.size > PENDING_AUDIT_MAX) this.pending.delete(this.pending.keys().next().value as string);
  }

  /** Forgets pending audit events too old to match anything. */
  expire(): void {
    const cutoff = this.now() - ATTRIBUTION_WINDOW_MS;
    for (const [k, w] of this.pending) if (w.time < cutoff) this.pending.delete(k);
  }

  private record(kind: string, obj: KubeObject, verb: string, lines: string[]): ChangeRecord {
    const namespace = obj.metadata.namespace ?? "";
    const name = obj.metadata.name;
    const time = this.now();
    const { manager, operation } = managerOf(obj);
    const key = refKey(kind, namespace, name);
    const audit = this.pending.get(key);
    const matches = audit && Math.abs(audit.time - time) <= ATTRIBUTION_WINDOW_MS && changeVerbsOf(audit.verb).includes(verb);
    const user = matches ? audit.user : undefined;
    if (user) this.pending.delete(key);
    const id = hashString(`${key}@${obj.metadata.resourceVersion ?? time}:${verb}:${lines.join("|")}`);
    const rec: ChangeRecord = { id, time, kind, namespace, name, verb, lines, manager, operation, user };
    for (const k of ["manager", "operation", "user"] as const) if (rec[k] === undefined) delete rec[k];
    if (this.store.append(rec)) this.onChange(rec);
    return rec;
  }
}

// Correlates the active anomalies into incidents over the topology graph (topology.ts):
// anomalies whose objects are connected (Pod -> ReplicaSet -> Deployment -> Service, Pod -> unhealthy
// Node) form one incident, its members ordered root cause first. A crash-looping Deployment whose
// Service lost its endpoints is one incident, [Pod crash, Deployment unavailable, Endpoints empty];
// a NotReady node is the root of the anomalies of the Pods on it, which it inhibits.
//
// Pure: correlate(previous state, active anomalies, cache, now) -> (next state, changes). The
// runtime calls it once per tick with the collector's desired() set and persists the state (plain
// JSON) so incident ids survive restarts. Identity is kept by membership: each new group of
// anomalies takes over the previous incident it shares the most members with.
import type { CacheView } from "../kube/objects.ts";
import { SEVERITY_RANK, type Anomaly } from "../model/anomaly.ts";
import { fingerprint, hashString } from "../model/fingerprint.ts";
import type { Incident, IncidentChange, IncidentMember, IncidentScope } from "../model/incident.ts";
import { noteHostCause } from "./host-cause.ts";
import { causalLayer, isWorkloadKind, linksOf, nodeOfPod, refKey, subjectOf, workloadFullyDown, type ObjectRef } from "./topology.ts";

/** Open incidents by id. Plain JSON: persist it as is. */
export interface IncidentState {
  incidents: Record<string, Incident>;
}

export const emptyIncidentState = (): IncidentState => ({ incidents: {} });

/** Root of an incident: its first member. */
export const rootOf = (i: Incident): IncidentMember => i.members[0]!;

// ---------- grouping (union-find over object keys) ----------

class DisjointSet {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p === x) return x;
    p = this.find(p);
    this.parent.set(x, p);
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // biome-ignore lint/complexity/useMathMinMax: ra and rb are strings (object keys); Math.min/max would compare NaN
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
}

interface Grouped {
  /** Component -> its anomaly keys. */
  components: Map<string, string[]>;
  /** Anomaly key -> objects linked to it (for scope). */
  links: Map<string, ObjectRef[]>;
}

function group(active: ReadonlyMap<string, Anomaly>, cache: CacheView, prev: IncidentState): Grouped {
  const unhealthyNodes = new Set<string>();
  // A host problem under a node (power, heat, disk, clock) makes it a cause for its Pods; a silent agent does not.
  const causes = (a: Anomaly) => a.kind === "Node" || (a.kind === "Host" && a.reason !== "HostUnreported");
  for (const a of active.values()) if (causes(a) && SEVERITY_RANK[a.severity] >= SEVERITY_RANK.warning) unhealthyNodes.add(a.name);
  const sets = new DisjointSet();
  const links = new Map<string, ObjectRef[]>();
  for (const [key, a] of active) {
    const subject = refKey(subjectOf(a));
    const linked = linksOf(a, cache, unhealthyNodes);
    links.set(key, linked);
    for (const l of linked) sets.union(subject, refKey(l));
  }
  // Membership is sticky: what was correlated stays together while it is still firing, even when the
  // link that joined it clears (a node back Ready must not split its crash-looping pods into new incidents).
  for (const inc of Object.values(prev.incidents)) {
    let first: string | undefined;
    for (const m of inc.members) {
      const a = active.get(m.key);
      if (!a) continue;
      const subject = refKey(subjectOf(a));
      if (first === undefined) first = subject;
      else sets.union(first, subject);
    }
  }
  const components = new Map<string, string[]>();
  for (const [key, a] of active) {
    const root = sets.find(refKey(subjectOf(a)));
    const list = components.get(root);
    if (list) list.push(key);
    else components.set(root, [key]);
  }
  return { components, links };
}

// ---------- ordering, inhibition, scope ----------

const eventMs = (a: Anomaly) => {
  const t = Date.parse(a.eventTime);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
};

/** Root cause first: causal layer, then most severe, then earliest, then key (deterministic). */
function sortByCause(members: IncidentMember[]): IncidentMember[] {
  const decorated = members.map((m) => ({
    m,
    layer: causalLayer(subjectOf(m.anomaly).kind),
    rank: SEVERITY_RANK[m.anomaly.severity],
    t: eventMs(m.anomaly),
  }));
  decorated.sort((x, y) => x.layer - y.layer || y.rank - x.rank || x.t - y.t || (x.m.key < y.m.key ? -1 : x.m.key > y.m.key ? 1 : 0));
  return decorated.map((d) => d.m);
}

/** Pods on a node with a critical anomaly in the same incident are inhibited by it. */
function markInhibited(members: IncidentMember[], cache: CacheView): void {
  const nodeRoots = new Map<string, string>();
  for (const m of members) {
    if (m.anomaly.kind === "Node" && m.anomaly.severity === "critical" && !nodeRoots.has(m.anomaly.name)) nodeRoots.set(m.anomaly.name, m.key);
  }
  for (const m of members) {
    delete m.inhibitedBy;
    if (subjectOf(m.anomaly).kind !== "Pod") continue;
    const root = nodeRoots.get(nodeOfPod(m.anomaly, cache));
    if (root) m.inhibitedBy = root;
  }
}

function scopeOf(members: IncidentMember[], links: Map<string, ObjectRef[]>, cache: CacheView): IncidentScope {
  const pods = new Set<string>();
  const nodes = new Set<string>();
  const namespaces = new Set<string>();
  const workloads = new Map<string, ObjectRef>();
  for (const m of members) {
    const subject = subjectOf(m.anomaly);
    if (subject.kind === "Pod") pods.add(refKey(subject));
    if (subject.kind === "Node") nodes.add(subject.name);
    if (m.anomaly.node) nodes.add(m.anomaly.node);
    if (m.anomaly.namespace && subject.kind !== "Node") namespaces.add(m.anomaly.namespace);
    for (const r of [subject, ...(links.get(m.key) ?? [])]) if (isWorkloadKind(r.kind)) workloads.set(refKey(r), r);
  }
  const workloadsDown = [...workloads].filter(([, r]) => workloadFullyDown(r, cache)).map(([k]) => k);
  return { pods: pods.size, nodes: [...nodes].sort(), namespaces: [...namespaces].sort(), workloadsDown: workloadsDown.sort() };
}

// ---------- identity across ticks ----------

/** Pairs each component with the previous incident it shares the most members with (each used once). */
function matchPrevious(components: string[][], prev: IncidentState): Map<number, Incident> {
  const owner = new Map<string, string>();
  for (const inc of Object.values(prev.incidents)) for (const m of inc.members) owner.set(m.key, inc.id);
  const pairs: { comp: number; inc: Incident; overlap: number }[] = [];
  components.forEach((keys, comp) => {
    const counts = new Map<string, number>();
    for (const k of keys) {
      const id = owner.get(k);
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, overlap] of counts) pairs.push({ comp, inc: prev.incidents[id]!, overlap });
  });
  pairs.sort((a, b) => b.overlap - a.overlap || a.inc.openedAt - b.inc.openedAt || (a.inc.id < b.inc.id ? -1 : 1));
  const out = new Map<number, Incident>();
  const used = new Set<string>();
  for (const p of pairs) {
    if (out.has(p.comp) || used.has(p.inc.id)) continue;
    out.set(p.comp, p.inc);
    used.add(p.inc.id);
  }
  return out;
}

const signature = (i: Incident) => JSON.stringify([i.members.map((m) => [m.key, m.inhibitedBy ?? ""]), i.scope]);

/** A short stable incident id: root fingerprint + opening time. */
export function incidentId(rootFingerprint: string, openedAt: number): string {
  return hashString(`${rootFingerprint}@${openedAt}`).slice(0, 12);
}

/**
 * One correlation pass. `active` is every anomaly firing now (key -> anomaly, e.g. the collector's
 * desired()). Returns the next state and what changed: incidents opened, updated (members joined or
 * left, root or inhibition or scope changed) and resolved (no member left active, or merged).
 */
export function correlate(
  prev: IncidentState,
  active: ReadonlyMap<string, Anomaly>,
  cache: CacheView,
  now: number,
): { state: IncidentState; changes: IncidentChange[] } {
  const { components: byRoot, links } = group(active, cache, prev);
  // Deterministic processing order whatever the map's insertion order.
  const components = [...byRoot.values()].map((keys) => keys.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const matched = matchPrevious(components, prev);
  const next: IncidentState = { incidents: {} };
  const changes: IncidentChange[] = [];
  const holder = new Map<string, string>(); // anomaly key -> incident id now holding it

  components.forEach((keys, idx) => {
    const before = matched.get(idx);
    const joinedAtOf = new Map(before?.members.map((m) => [m.key, m.joinedAt]) ?? []);
    const members = sortByCause(
      keys.map((key) => {
        const anomaly = active.get(key)!;
        return { key, fingerprint: fingerprint(anomaly), anomaly, joinedAt: joinedAtOf.get(key) ?? now };
      }),
    );
    markInhibited(members, cache);
    noteHostCause(members, cache);
    const scope = scopeOf(members, links, cache);
    const id = before?.id ?? incidentId(members[0]!.fingerprint, now);
    const incident: Incident = { id, status: "open", openedAt: before?.openedAt ?? now, updatedAt: before?.updatedAt ?? now, members, scope };
    if (before?.trigger) incident.trigger = before.trigger; // named once, when it opened (docs/changes.md)
    for (const k of keys) holder.set(k, id);
    if (!before) {
      changes.push({ type: "opened", incident, joined: [...keys], left: [] });
    } else {
      const joined = keys.filter((k) => !joinedAtOf.has(k));
      const kept = new Set(keys);
      const left = before.members.map((m) => m.key).filter((k) => !kept.has(k));
      if (joined.length || left.length || signature(before) !== signature(incident)) {
        incident.updatedAt = now;
        changes.push({ type: "updated", incident, joined, left });
      }
    }
    next.incidents[id] = incident;
  });

  for (const inc of Object.values(prev.incidents)) {
    if (next.incidents[inc.id]) continue;
    // Its anomalies all resolved — or the survivors now belong to another incident (a merge).
    const votes = new Map<string, number>();
    for (const m of inc.members) {
      const h = holder.get(m.key);
      if (h) votes.set(h, (votes.get(h) ?? 0) + 1);
    }
    const mergedInto = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
    const resolved: Incident = { ...inc, status: "resolved", updatedAt: now, resolvedAt: now, ...(mergedInto ? { mergedInto } : {}) };
    changes.push({ type: "resolved", incident: resolved, joined: [], left: inc.members.map((m) => m.key) });
  }
  return { state: next, changes };
}

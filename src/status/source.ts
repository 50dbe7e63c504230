// Where the status view's inputs come from in a running controller: the leader's incidents (a standby
// correlates what it sees itself, with the same pure function, since only the leader keeps incidents),
// the informers' Node objects, host snapshots, the action history, silences and recent notifications.
import { hostname } from "node:os";
import type { Silence } from "../alerting/silence.ts";
import { correlate, emptyIncidentState } from "../correlation/incidents.ts";
import type { CacheView } from "../kube/objects.ts";
import type { KubeObject } from "../kube/types.ts";
import type { ActionRecord } from "../model/action.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { Incident } from "../model/incident.ts";
import type { HostSnapshot } from "./hosts.ts";
import { buildStatusView, type RecentAlert, type StatusView } from "./view-model.ts";

export interface StatusParts {
  clusterId: string;
  /** This controller's node / identity. */
  node: string;
  now: () => number;
  isLeader: () => boolean;
  /** The Lease holder ("" when unknown). */
  leader: () => string;
  /** The informers have listed everything once (before, "no Node" means "not known yet"). */
  synced: () => boolean;
  leaderIncidents: () => Incident[];
  active: () => ReadonlyMap<string, Anomaly>;
  cache: CacheView;
  actions: () => ActionRecord[];
  silences: () => readonly Silence[];
  lastAlerts: () => readonly RecentAlert[];
}

export const RECENT_ACTIONS = 20;

/** What statusParts reads of the controller runtime (structural, so this module does not import it). */
export interface StatusRuntime {
  readonly alerting: {
    snapshot(): { incidents: { incidents: Record<string, Incident> } };
    readonly knownSilences: readonly Silence[];
    readonly recent: { all(): readonly RecentAlert[] };
  };
  readonly collector: { desired(): ReadonlyMap<string, Anomaly> };
  readonly caches: CacheView;
  readonly actions: { readonly store: { list(q: { limit: number }): ActionRecord[] } };
  readonly synced: boolean;
}

export function statusParts(
  config: { str(key: "CLUSTER_ID" | "LEADER_IDENTITY"): string },
  runtime: StatusRuntime,
  leadership: { readonly acting: boolean; readonly elector?: { readonly leader: string } },
  now: () => number,
): StatusParts {
  return {
    clusterId: config.str("CLUSTER_ID"),
    node: config.str("LEADER_IDENTITY") || hostname(),
    now,
    isLeader: () => leadership.acting,
    leader: () => leadership.elector?.leader ?? "",
    synced: () => runtime.synced,
    leaderIncidents: () => Object.values(runtime.alerting.snapshot().incidents.incidents),
    active: () => runtime.collector.desired(),
    cache: runtime.caches,
    actions: () => runtime.actions.store.list({ limit: RECENT_ACTIONS }),
    silences: () => runtime.alerting.knownSilences,
    lastAlerts: () => runtime.alerting.recent.all(),
  };
}

export function currentStatus(parts: StatusParts, hosts: ReadonlyMap<string, HostSnapshot>): StatusView {
  const now = parts.now();
  const leading = parts.isLeader();
  const incidents = leading
    ? parts.leaderIncidents()
    : Object.values(correlate(emptyIncidentState(), parts.active(), parts.cache, now).state.incidents);
  return buildStatusView({
    clusterId: parts.clusterId,
    node: parts.node,
    role: leading ? "leader" : "standby",
    leader: leading ? parts.node : parts.leader(),
    now,
    incidents,
    nodes: parts.cache.list("Node") as Iterable<KubeObject>,
    hosts,
    actions: parts.actions(),
    silences: parts.silences(),
    lastAlerts: leading ? parts.lastAlerts() : [],
  });
}

// The status view-model: one plain-JSON picture of the cluster shared by the status page (HTML and
// /api/v1/status), Home Assistant discovery and `neurocontroller status`. Pure: built from what the
// runtime knows (incidents, node objects, host snapshots, actions, silences, last alerts) and a clock.
// Nothing secret is in its inputs (no configuration values), so nothing secret can reach its output.
import { formatMatchers, isActive, type Silence } from "../alerting/silence.ts";
import { findCondition } from "../kube/objects.ts";
import type { KubeObject } from "../kube/types.ts";
import type { ActionRecord } from "../model/action.ts";
import { actionTargetText } from "../model/action.ts";
import type { AlertGroupData } from "../model/alert.ts";
import { SEVERITY_RANK, type Severity } from "../model/anomaly.ts";
import type { Incident } from "../model/incident.ts";
import type { HostSnapshot } from "./hosts.ts";

export const STATUS_VIEW_VERSION = 1;
const MAX_LISTED = 50;

export type Verdict = "ok" | "warning" | "critical";

export interface ChainLink {
  kind: string;
  namespace: string;
  name: string;
  node: string;
  reason: string;
  severity: Severity;
  message: string;
  /** Suppressed by the root cause (its notification is inhibited). */
  inhibited: boolean;
}

export interface IncidentView {
  id: string;
  title: string;
  severity: Severity;
  openedAt: string;
  updatedAt: string;
  /** Root cause first. */
  chain: ChainLink[];
  nodes: string[];
  namespaces: string[];
  pods: number;
  workloadsDown: string[];
  trigger?: { summary: string; time: string; actor?: string };
}

export interface HostView {
  time: string;
  temperatureCelsius: number | null;
  underVoltageNow: boolean | null;
  throttledNow: boolean | null;
  rootFsUsedPercent: number | null;
  rootFsReadOnly: boolean | null;
}

export interface NodeView {
  name: string;
  ready: boolean;
  /** Why not Ready (the condition's reason and message), "" when Ready. */
  readyDetail: string;
  unschedulable: boolean;
  host: HostView | null;
}

export interface ActionView {
  time: string;
  source: string;
  mode: string;
  step: string;
  outcome: string;
  target: string;
  summary: string;
}

export interface SilenceView {
  id: string;
  matchers: string;
  active: boolean;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export interface AlertView {
  incidentId: string;
  title: string;
  level: string;
  status: string;
  time: string;
  trigger?: string;
}

export interface StatusView {
  v: number;
  generatedAt: string;
  clusterId: string;
  /** The node answering (status pages run on every node). */
  node: string;
  role: "leader" | "standby";
  /** The controller holding the Lease, when known. */
  leader: string;
  verdict: Verdict;
  summary: string;
  incidents: IncidentView[];
  nodes: NodeView[];
  actions: ActionView[];
  silences: SilenceView[];
  lastAlerts: AlertView[];
}

export interface RecentAlert {
  at: number;
  payload: AlertGroupData;
}

export interface StatusInputs {
  clusterId: string;
  node: string;
  role: "leader" | "standby";
  leader: string;
  now: number;
  incidents: readonly Incident[];
  nodes: Iterable<KubeObject>;
  hosts: ReadonlyMap<string, HostSnapshot>;
  actions: readonly ActionRecord[];
  silences: readonly Silence[];
  /** Notifications the pipeline decided, with when (ms); newest last. */
  lastAlerts: readonly RecentAlert[];
}

const iso = (ms: number) => new Date(Number.isFinite(ms) ? ms : 0).toISOString();

export function incidentSeverity(i: Incident): Severity {
  let worst: Severity = "info";
  for (const m of i.members) if (SEVERITY_RANK[m.anomaly.severity] > SEVERITY_RANK[worst]) worst = m.anomaly.severity;
  return worst;
}

function incidentTitle(i: Incident): string {
  const root = i.members[0]?.anomaly;
  if (!root) return "incident";
  const obj = root.namespace ? `${root.kind} ${root.namespace}/${root.name}` : `${root.kind} ${root.name}`;
  const more = i.members.length > 1 ? ` (+${i.members.length - 1} related)` : "";
  return `${root.reason} on ${obj}${more}`;
}

export function incidentView(i: Incident): IncidentView {
  return {
    id: i.id,
    title: incidentTitle(i),
    severity: incidentSeverity(i),
    openedAt: iso(i.openedAt),
    updatedAt: iso(i.updatedAt),
    chain: i.members.slice(0, MAX_LISTED).map((m) => ({
      kind: m.anomaly.kind,
      namespace: m.anomaly.namespace,
      name: m.anomaly.name,
      node: m.anomaly.node,
      reason: m.anomaly.reason,
      severity: m.anomaly.severity,
      message: m.anomaly.message,
      inhibited: m.inhibitedBy !== undefined,
    })),
    nodes: i.scope.nodes,
    namespaces: i.scope.namespaces,
    pods: i.scope.pods,
    workloadsDown: i.scope.workloadsDown,
    ...(i.trigger ? { trigger: { summary: i.trigger.summary, time: i.trigger.time, ...(i.trigger.actor ? { actor: i.trigger.actor } : {}) } } : {}),
  };
}

export function hostView(h: HostSnapshot): HostView {
  return {
    time: h.time,
    temperatureCelsius: h.temperature?.celsius ?? null,
    underVoltageNow: h.throttled ? h.throttled.underVoltageNow : null,
    throttledNow: h.throttled ? h.throttled.throttledNow || h.throttled.freqCappedNow : null,
    rootFsUsedPercent: h.rootFs?.usedPercent ?? null,
    rootFsReadOnly: h.rootFs?.readOnly ?? null,
  };
}

export function nodeView(obj: KubeObject, hosts: ReadonlyMap<string, HostSnapshot>): NodeView {
  const name = obj.metadata.name;
  const ready = findCondition(obj, "Ready");
  const isReady = ready?.status === "True";
  const spec = (obj as { spec?: { unschedulable?: boolean } }).spec;
  const host = hosts.get(name);
  return {
    name,
    ready: isReady,
    readyDetail: isReady ? "" : [ready?.reason, ready?.message].filter(Boolean).join(": ") || "no Ready condition",
    unschedulable: spec?.unschedulable === true,
    host: host ? hostView(host) : null,
  };
}

function verdictOf(incidents: readonly IncidentView[], nodes: readonly NodeView[]): { verdict: Verdict; summary: string } {
  const critical = incidents.filter((i) => i.severity === "critical").length;
  const notReady = nodes.filter((n) => !n.ready).length;
  const parts: string[] = [];
  if (incidents.length)
    parts.push(`${incidents.length} open incident${incidents.length === 1 ? "" : "s"}${critical ? ` (${critical} critical)` : ""}`);
  if (notReady) parts.push(`${notReady} of ${nodes.length} node${nodes.length === 1 ? "" : "s"} not Ready`);
  if (critical) return { verdict: "critical", summary: parts.join(", ") };
  if (parts.length) return { verdict: "warning", summary: parts.join(", ") };
  return { verdict: "ok", summary: `All healthy: ${nodes.length} node${nodes.length === 1 ? "" : "s"} Ready, no open incident` };
}

export function buildStatusView(input: StatusInputs): StatusView {
  const severityOrder = (a: IncidentView, b: IncidentView) =>
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.openedAt.localeCompare(b.openedAt) || a.id.localeCompare(b.id);
  const incidents = input.incidents
    .filter((i) => i.status === "open" && i.members.length > 0)
    .map(incidentView)
    .sort(severityOrder)
    .slice(0, MAX_LISTED);
  const nodes = [...input.nodes].map((n) => nodeView(n, input.hosts)).sort((a, b) => a.name.localeCompare(b.name));
  const { verdict, summary } = verdictOf(incidents, nodes);
  return {
    v: STATUS_VIEW_VERSION,
    generatedAt: iso(input.now),
    clusterId: input.clusterId,
    node: input.node,
    role: input.role,
    leader: input.leader,
    verdict,
    summary,
    incidents,
    nodes,
    actions: input.actions
      .slice(-20)
      .reverse()
      .map((a) => ({
        time: a.time,
        source: a.source,
        mode: a.mode,
        step: a.step,
        outcome: a.outcome,
        target: actionTargetText(a.target),
        summary: a.summary,
      })),
    silences: input.silences
      .filter((s) => s.endsAt > input.now)
      .slice(0, MAX_LISTED)
      .map((s) => ({
        id: s.id,
        matchers: formatMatchers(s.matchers),
        active: isActive(s, input.now),
        startsAt: iso(s.startsAt),
        endsAt: iso(s.endsAt),
        createdBy: s.createdBy,
        comment: s.comment,
      })),
    lastAlerts: input.lastAlerts
      .slice(-10)
      .reverse()
      .map(({ at, payload: g }) => ({
        incidentId: g.incidentId,
        title: g.title,
        level: g.level,
        status: g.status,
        time: iso(at),
        ...(g.trigger ? { trigger: g.trigger.summary } : {}),
      })),
  };
}

/** The parts of a view that change what people see (generatedAt left out): equal keys, nothing to send. */
export function viewKey(v: StatusView): string {
  return JSON.stringify({ ...v, generatedAt: "" });
}

// `neurocontroller status` reads the same view-model as the page: from the controller's own HTTP
// endpoint (NEURO_HTTP_ADDR, or --url for another node's page) with WEB_TOKEN when set. The answer is
// input from outside this process: size-bounded and checked with zod before it is printed.
import { parseJsonAt, z, type RejectSink } from "../boundary/reject.ts";
import { termText } from "../boundary/terminal.ts";
import type { StatusView } from "./view-model.ts";

export const STATUS_VIEW_MAX_BYTES = 4 * 1024 * 1024;
const s = z.string().max(8192);

const viewSchema = z.object({
  v: z.literal(1),
  generatedAt: s,
  clusterId: s,
  node: s,
  role: z.enum(["leader", "standby"]),
  leader: s,
  verdict: z.enum(["ok", "warning", "critical"]),
  summary: s,
  incidents: z
    .array(
      z.object({
        id: s,
        title: s,
        severity: z.enum(["info", "warning", "critical"]),
        openedAt: s,
        updatedAt: s,
        chain: z.array(z.object({ kind: s, namespace: s, name: s, node: s, reason: s, severity: s, message: s, inhibited: z.boolean() })).max(1000),
        nodes: z.array(s).max(1000),
        namespaces: z.array(s).max(1000),
        pods: z.number(),
        workloadsDown: z.array(s).max(1000),
        trigger: z.object({ summary: s, time: s, actor: s.optional() }).optional(),
      }),
    )
    .max(1000),
  nodes: z
    .array(
      z.object({
        name: s,
        ready: z.boolean(),
        readyDetail: s,
        unschedulable: z.boolean(),
        host: z
          .object({
            time: s,
            temperatureCelsius: z.number().nullable(),
            underVoltageNow: z.boolean().nullable(),
            throttledNow: z.boolean().nullable(),
            rootFsUsedPercent: z.number().nullable(),
            rootFsReadOnly: z.boolean().nullable(),
          })
          .nullable(),
      }),
    )
    .max(10_000),
  actions: z.array(z.object({ time: s, source: s, mode: s, step: s, outcome: s, target: s, summary: s })).max(1000),
  silences: z.array(z.object({ id: s, matchers: s, active: z.boolean(), startsAt: s, endsAt: s, createdBy: s, comment: s })).max(1000),
  lastAlerts: z.array(z.object({ incidentId: s, title: s, level: s, status: s, time: s, trigger: s.optional() })).max(1000),
});

/** GET <base>/api/v1/status; undefined when nothing answers (no controller here), an Error when it answered wrongly. */
export async function fetchStatusView(base: string, token: string, sink: RejectSink, timeoutMs = 2000): Promise<StatusView | Error | undefined> {
  let res: Response;
  try {
    res = await fetch(new URL("/api/v1/status", base), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
  } catch {
    return undefined;
  }
  if (res.status === 404) return undefined; // a controller without the page (WEB_ENABLED=false)
  if (!res.ok) return new Error(`${base}/api/v1/status answered ${res.status}: ${termText((await res.text()).slice(0, 300))}`);
  const body = new Uint8Array(await res.arrayBuffer());
  const parsed = parseJsonAt(viewSchema, body, { source: "http.status-view", sink, maxBytes: STATUS_VIEW_MAX_BYTES });
  return parsed.ok ? (parsed.value as StatusView) : new Error(`${base}/api/v1/status: unexpected answer: ${parsed.reason}`);
}

/** The view as terminal lines (every field through termText). */
export function statusLines(v: StatusView): string[] {
  const t = termText;
  const out = [
    `cluster ${t(v.clusterId)}: ${t(v.verdict).toUpperCase()} — ${t(v.summary)} (from ${t(v.node)}, ${t(v.role)}${v.leader ? `, leader ${t(v.leader)}` : ""})`,
  ];
  out.push(`open incidents: ${v.incidents.length}`);
  for (const i of v.incidents) {
    out.push(`  ${t(i.id)} [${t(i.severity)}] ${t(i.title)} — open since ${t(i.openedAt)}`);
    i.chain.forEach((l, n) => {
      const obj = l.namespace ? `${l.kind} ${l.namespace}/${l.name}` : `${l.kind} ${l.name}`;
      out.push(`    ${n === 0 ? "root cause" : "  then    "} ${t(l.reason)} on ${t(obj)}${l.inhibited ? " (suppressed)" : ""}`);
    });
    if (i.trigger) out.push(`    likely trigger: ${t(i.trigger.summary)}`);
  }
  out.push(`nodes: ${v.nodes.length}`);
  for (const n of v.nodes) {
    const h = n.host;
    const host = h
      ? ` temp ${h.temperatureCelsius ?? "n/a"}°C, under-voltage ${h.underVoltageNow ?? "n/a"}, throttled ${h.throttledNow ?? "n/a"}, root fs ${h.rootFsUsedPercent ?? "n/a"}%`
      : "";
    out.push(`  ${t(n.name)} ${n.ready ? "Ready" : `NotReady (${t(n.readyDetail)})`}${n.unschedulable ? " cordoned" : ""}${host}`);
  }
  if (v.actions.length)
    out.push("recent actions:", ...v.actions.map((a) => `  ${t(a.time)} ${t(a.outcome)} ${t(a.summary)} (${t(a.source)}, ${t(a.mode)})`));
  if (v.silences.length) out.push("silences:", ...v.silences.map((s) => `  ${t(s.id)} ${t(s.matchers)} until ${t(s.endsAt)} by ${t(s.createdBy)}`));
  if (v.lastAlerts.length) out.push("last alerts:", ...v.lastAlerts.map((a) => `  ${t(a.time)} ${t(a.status)} [${t(a.level)}] ${t(a.title)}`));
  return out;
}

// AlertGroupData → subject, text and HTML bodies. Every value from the cluster (names, messages —
// attacker-influenced: anyone who can create a pod chooses its name) is HTML-escaped.
import { actionEmailSubject, actionFacts } from "./action-message.ts";
import type { AlertGroupData } from "./types.ts";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const SEVERITY_RANK: Record<string, number> = { critical: 3, warning: 2, info: 1 };
const SEVERITY_COLOUR: Record<string, string> = { critical: "#d32f2f", warning: "#f57c00", info: "#1976d2" };

export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The most severe alert's severity (what the subject leads with). */
export function topSeverity(g: AlertGroupData): string {
  let best = "info";
  for (const a of g.alerts) if ((SEVERITY_RANK[a.severity] ?? 0) > (SEVERITY_RANK[best] ?? 0)) best = a.severity;
  return best;
}

const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, " ").trim();

/** `[CRITICAL][prod] 3 alerts: web crash-looping` or `[RESOLVED][prod] 3 alerts: …`, at most 200 chars. */
export function emailSubject(g: AlertGroupData): string {
  if (g.action) return actionEmailSubject(g, g.action);
  const count = Math.max(g.alertCount, g.alerts.length);
  const tag = g.status === "resolved" ? "RESOLVED" : topSeverity(g).toUpperCase();
  const subject = oneLine(`[${tag}][${g.clusterId}] ${count} alert${count === 1 ? "" : "s"}: ${g.title}`);
  return subject.length > 200 ? `${subject.slice(0, 199)}…` : subject;
}

/** Caps a body at this many alert rows: a 1,000-alert storm should not become a 1 MB mail. */
export const EMAIL_MAX_ALERT_ROWS = 200;

export function renderEmail(g: AlertGroupData): RenderedEmail {
  if (g.action) return renderActionEmail(g, g.action);
  const count = Math.max(g.alertCount, g.alerts.length);
  const shown = g.alerts.slice(0, EMAIL_MAX_ALERT_ROWS);
  const hidden = count - shown.length;
  const status = g.status === "resolved" ? "RESOLVED" : "FIRING";
  const summary: [string, string][] = [
    ["Cluster", g.clusterId],
    ["Level", g.level],
    ["Status", status],
    ["Alerts", String(count)],
    ["Nodes", g.nodeList.join(", ") || "-"],
    ["Namespaces", g.namespaceList.join(", ") || "-"],
    ["Incident", g.incidentId],
    ...(g.trigger?.summary ? ([["Trigger", `likely: ${g.trigger.summary}`]] as [string, string][]) : []),
  ];

  const text = [
    `${status} [${g.level}] ${oneLine(g.title)}`,
    "",
    ...summary.map(([k, v]) => `${(k + ":").padEnd(12)}${oneLine(v)}`),
    "",
    ...shown.map((a) => {
      const object = a.namespace ? `${a.namespace}/${a.name}` : a.name;
      return `- ${String(a.severity).toUpperCase()} ${a.kind} ${object}${a.node ? ` on ${a.node}` : ""}: ${a.reason} - ${oneLine(a.message)} (${a.time})`;
    }),
    ...(hidden > 0 ? [`…and ${hidden} more alerts`] : []),
    "",
    `fingerprint ${g.fingerprint} · sent by NeuroController`,
    "",
  ].join("\n");

  const row = (cells: string[], tag = "td") =>
    `<tr>${cells.map((c) => `<${tag} style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:left">${c}</${tag}>`).join("")}</tr>`;
  const colour = g.status === "resolved" ? "#2e7d32" : (SEVERITY_COLOUR[topSeverity(g)] ?? "#555");
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;font-size:14px;color:#222">
<h2 style="color:${colour};margin:0 0 12px">${escapeHtml(status)} [${escapeHtml(g.level)}] ${escapeHtml(g.title)}</h2>
<table style="border-collapse:collapse;margin-bottom:16px">
${summary.map(([k, v]) => row([`<b>${escapeHtml(k)}</b>`, escapeHtml(v)])).join("\n")}
</table>
<table style="border-collapse:collapse">
${row(["Severity", "Kind", "Object", "Node", "Reason", "Message", "Time"], "th")}
${shown
  .map((a) =>
    row([
      `<span style="color:${SEVERITY_COLOUR[a.severity] ?? "#555"}">${escapeHtml(String(a.severity).toUpperCase())}</span>`,
      escapeHtml(a.kind),
      escapeHtml(a.namespace ? `${a.namespace}/${a.name}` : a.name),
      escapeHtml(a.node || "-"),
      escapeHtml(a.reason),
      escapeHtml(a.message),
      escapeHtml(a.time),
    ]),
  )
  .join("\n")}
</table>
${hidden > 0 ? `<p>…and ${hidden} more alerts</p>` : ""}
<p style="color:#777;font-size:12px">fingerprint ${escapeHtml(g.fingerprint)} · sent by NeuroController</p>
</body></html>
`;
  return { subject: emailSubject(g), text, html };
}

/** An action of ours (docs/actions.md): its summary and facts, no alert table. */
function renderActionEmail(g: AlertGroupData, a: NonNullable<AlertGroupData["action"]>): RenderedEmail {
  const f = actionFacts(g, a);
  const text = [f.heading, "", ...f.rows.map(([k, v]) => `${(k + ":").padEnd(10)}${oneLine(v)}`), "", "sent by NeuroController", ""].join("\n");
  const rows = f.rows.map(
    ([k, v]) => `<tr><td style="padding:4px 8px"><b>${escapeHtml(k)}</b></td><td style="padding:4px 8px">${escapeHtml(v)}</td></tr>`,
  );
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 12px">${escapeHtml(f.heading)}</h2>
<table style="border-collapse:collapse">
${rows.join("\n")}
</table>
<p style="color:#777;font-size:12px">sent by NeuroController</p>
</body></html>
`;
  return { subject: emailSubject(g), text, html };
}

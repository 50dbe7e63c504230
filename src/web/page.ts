// The status page's HTML, rendered on the server (works without JavaScript); the same renderer makes the
// fragment each Server-Sent Event carries, so the live page and the first render never differ. One
// self-contained document: inline CSS and script (allowed by hash in the Content-Security-Policy), no
// fonts, no CDN. Every value is escaped here and nowhere else.
import { createHash } from "node:crypto";
import type { IncidentView, NodeView, StatusView, Verdict } from "../status/view-model.ts";

export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const VERDICT_TEXT: Record<Verdict, string> = { ok: "Healthy", warning: "Degraded", critical: "Critical" };

const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#111;--muted:#4a4a4a;--line:#d0d0d0;--card:#f5f5f5;
--ok:#0b6b2b;--ok-bg:#e3f5e8;--warn:#7a4a00;--warn-bg:#fff1d6;--crit:#9b1111;--crit-bg:#fde4e4;--link:#0645ad}
@media (prefers-color-scheme:dark){:root{--bg:#111;--fg:#f2f2f2;--muted:#c4c4c4;--line:#444;--card:#1d1d1d;
--ok:#8fe0a6;--ok-bg:#123b1f;--warn:#ffd27a;--warn-bg:#3d2c05;--crit:#ffb0b0;--crit-bg:#4a1212;--link:#9cc3ff}}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header,main,footer{max-width:64rem;margin:0 auto;padding:0.75rem 1rem}header{padding-bottom:0}main{padding-top:0}
h1{font-size:1.35rem;margin:0.25rem 0}h2{font-size:1.15rem;margin:1.25rem 0 0.5rem;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:0 0 0.35rem}
.verdict{border-radius:0.5rem;padding:0.75rem 1rem;font-weight:600;border:2px solid currentColor}
.v-ok{color:var(--ok);background:var(--ok-bg)}.v-warning{color:var(--warn);background:var(--warn-bg)}.v-critical{color:var(--crit);background:var(--crit-bg)}
.badge{display:inline-block;border-radius:0.25rem;padding:0 0.4rem;font-size:0.85rem;font-weight:600;border:1px solid currentColor}
.s-critical{color:var(--crit);background:var(--crit-bg)}.s-warning{color:var(--warn);background:var(--warn-bg)}.s-info{color:var(--muted)}
.incident{background:var(--card);border:1px solid var(--line);border-radius:0.5rem;padding:0.75rem;margin:0.5rem 0}
.chain{margin:0.25rem 0 0.25rem 1.25rem;padding:0}.chain li{margin:0.2rem 0}.muted{color:var(--muted)}
.trigger{margin:0.35rem 0 0;padding:0.35rem 0.5rem;border-left:3px solid var(--warn)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:0.35rem 0.4rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600}.empty{color:var(--muted);font-style:italic}code{font-size:0.9em;word-break:break-all}
.scroll{overflow-x:auto}a{color:var(--link)}
@media (max-width:40rem){body{font-size:15px}th,td{padding:0.3rem 0.25rem}.hide-narrow{display:none}}
`;

/** Replaces the page's content with each `status` event's server-rendered fragment. */
const SCRIPT = `(function(){var live=document.getElementById("live");if(!window.EventSource||!live)return;
var es=new EventSource("/api/v1/events");
es.addEventListener("status",function(e){var d=JSON.parse(e.data);document.getElementById("content").innerHTML=d.html;
document.title=d.title;document.body.setAttribute("data-verdict",d.verdict);
live.textContent="Live: updated "+new Date(d.generatedAt).toLocaleTimeString();});
es.onopen=function(){live.textContent="Live: connected";};
es.onerror=function(){live.textContent="Live updates interrupted; reconnecting…";};})();`;

const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;

/** Allows exactly this page's inline style and script, and connections to this server only. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const when = (isoTime: string) => `<time datetime="${esc(isoTime)}">${esc(isoTime.replace("T", " ").replace(/\.\d+Z$/, "Z"))}</time>`;

function incidentHtml(i: IncidentView): string {
  const chain = i.chain
    .map((l, n) => {
      const obj = l.namespace ? `${l.kind} ${l.namespace}/${l.name}` : `${l.kind} ${l.name}`;
      const role = n === 0 ? "<strong>root cause</strong> · " : "";
      const inhibited = l.inhibited ? ' <span class="muted">(suppressed by the root cause)</span>' : "";
      return `<li>${role}<span class="badge s-${esc(l.severity)}">${esc(l.severity)}</span> ${esc(l.reason)} on <code>${esc(obj)}</code>${l.node ? ` <span class="muted">node ${esc(l.node)}</span>` : ""}: ${esc(l.message)}${inhibited}</li>`;
    })
    .join("");
  const trigger = i.trigger
    ? `<p class="trigger"><strong>Likely trigger:</strong> ${esc(i.trigger.summary)}${i.trigger.actor ? ` <span class="muted">(by ${esc(i.trigger.actor)})</span>` : ""}</p>`
    : "";
  const scope = [
    i.nodes.length ? `nodes ${i.nodes.map(esc).join(", ")}` : "",
    i.namespaces.length ? `namespaces ${i.namespaces.map(esc).join(", ")}` : "",
    i.pods ? `${i.pods} pod${i.pods === 1 ? "" : "s"}` : "",
    i.workloadsDown.length ? `down: ${i.workloadsDown.map(esc).join(", ")}` : "",
  ].filter(Boolean);
  return `<article class="incident" aria-labelledby="inc-${esc(i.id)}" data-incident="${esc(i.id)}">
<h3 id="inc-${esc(i.id)}"><span class="badge s-${esc(i.severity)}">${esc(i.severity)}</span> ${esc(i.title)}</h3>
<p class="muted">Incident <code>${esc(i.id)}</code> · open since ${when(i.openedAt)}${scope.length ? ` · ${scope.join(" · ")}` : ""}</p>
<ol class="chain" aria-label="Root-cause chain, root cause first">${chain}</ol>${trigger}</article>`;
}

const yesNo = (v: boolean | null, yes: string, no: string) => (v === null ? '<span class="muted">n/a</span>' : v ? yes : no);

function nodeRow(n: NodeView): string {
  const h = n.host;
  const ready = n.ready
    ? '<span class="badge s-info">Ready</span>'
    : `<span class="badge s-critical">Not Ready</span> <span class="muted">${esc(n.readyDetail)}</span>`;
  const cordon = n.unschedulable ? ' <span class="badge s-warning">cordoned</span>' : "";
  const temp = h?.temperatureCelsius != null ? `${esc(h.temperatureCelsius.toFixed(1))} °C` : '<span class="muted">n/a</span>';
  const power = h
    ? [
        yesNo(h.underVoltageNow, '<span class="badge s-critical">under-voltage</span>', "ok"),
        h.throttledNow ? '<span class="badge s-warning">throttled</span>' : "",
      ].join(" ")
    : '<span class="muted">n/a</span>';
  const disk =
    h?.rootFsUsedPercent != null
      ? `${esc(h.rootFsUsedPercent.toFixed(0))} %${h.rootFsReadOnly ? ' <span class="badge s-critical">read-only</span>' : ""}`
      : '<span class="muted">n/a</span>';
  return `<tr><th scope="row">${esc(n.name)}</th><td>${ready}${cordon}</td><td>${temp}</td><td>${power}</td><td>${disk}</td></tr>`;
}

function section(id: string, title: string, body: string): string {
  return `<section aria-labelledby="${id}"><h2 id="${id}">${title}</h2>${body}</section>`;
}

const table = (caption: string, head: string[], rows: string[], empty: string) =>
  rows.length
    ? `<div class="scroll"><table><caption class="muted">${esc(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`
    : `<p class="empty">${esc(empty)}</p>`;

/** The page's changing part: the verdict and every section (what each live update replaces). */
export function renderContent(v: StatusView): string {
  const verdict = `<p class="verdict v-${v.verdict}" role="status" id="verdict"><span>${VERDICT_TEXT[v.verdict]}:</span> ${esc(v.summary)}</p>`;
  const standby =
    v.role === "standby"
      ? `<p class="muted">This node is standing by${v.leader ? `; the leader is <strong>${esc(v.leader)}</strong>` : ""}. Incidents are as this node sees them; alerts and actions are the leader's.</p>`
      : "";
  const incidents = v.incidents.length ? v.incidents.map(incidentHtml).join("") : '<p class="empty">No open incident.</p>';
  const nodes = table(
    "Nodes and their host health (n/a: not measured on that node)",
    ["Node", "Ready", "SoC temp.", "Power", "Root fs"],
    v.nodes.map(nodeRow),
    "No node known yet.",
  );
  const actions = table(
    "Healing, SLO and operator actions, newest first",
    ["Time", "Action", "Outcome", '<span class="hide-narrow">Target</span>'],
    v.actions.map(
      (a) =>
        `<tr><td>${when(a.time)}</td><td>${esc(a.summary)} <span class="muted">(${esc(a.source)}, ${esc(a.mode)})</span></td><td>${esc(a.outcome)}</td><td class="hide-narrow"><code>${esc(a.target)}</code></td></tr>`,
    ),
    "No action recorded.",
  );
  const silences = table(
    "Silences (read-only here; manage them with neurocontroller silence)",
    ["Matchers", "Until", "By", '<span class="hide-narrow">Comment</span>'],
    v.silences.map(
      (s) =>
        `<tr><td><code>${esc(s.matchers)}</code>${s.active ? "" : ' <span class="muted">(not started)</span>'}</td><td>${when(s.endsAt)}</td><td>${esc(s.createdBy)}</td><td class="hide-narrow">${esc(s.comment)}</td></tr>`,
    ),
    "No silence.",
  );
  const alerts = table(
    "Notifications decided by the alert pipeline, newest first",
    ["Time", "Alert", "Level"],
    v.lastAlerts.map(
      (a) =>
        `<tr><td>${when(a.time)}</td><td><span class="badge ${a.status === "resolved" ? "s-info" : "s-warning"}">${esc(a.status)}</span> ${esc(a.title)}${a.trigger ? `<br><span class="muted">Likely trigger: ${esc(a.trigger)}</span>` : ""}</td><td>${esc(a.level)}</td></tr>`,
    ),
    "No alert yet.",
  );
  return [
    verdict,
    standby,
    section("h-incidents", `Open incidents (${v.incidents.length})`, incidents),
    section("h-nodes", `Nodes (${v.nodes.length})`, nodes),
    section("h-actions", "Recent actions", actions),
    section("h-silences", "Silences", silences),
    section("h-alerts", "Last alerts", alerts),
    `<p class="muted">Cluster <strong>${esc(v.clusterId)}</strong> · page served by ${esc(v.node)} (${esc(v.role)}) · ${when(v.generatedAt)}</p>`,
  ]
    .filter(Boolean)
    .join("\n");
}

export const pageTitle = (v: StatusView) => `${VERDICT_TEXT[v.verdict]} · ${v.clusterId} · NeuroController`;

export function renderPage(v: StatusView): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(pageTitle(v))}</title><link rel="icon" href="data:,">
<noscript><meta http-equiv="refresh" content="30"></noscript>
<style>${STYLE}</style></head>
<body data-verdict="${v.verdict}"><header><h1>NeuroController · ${esc(v.clusterId)}</h1>
<p class="muted" id="live" aria-live="polite">Updated when loaded (reload to refresh).</p></header>
<main id="content">${renderContent(v)}</main>
<script>${SCRIPT}</script></body></html>`;
}

/** The 401 page of a browser without the token: a form that sends it once (GET /?token=…), then a cookie. */
export function renderLogin(wrong: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Token required · NeuroController</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><main><h1>NeuroController status</h1>
${wrong ? '<p class="verdict v-critical" role="alert">That token is not right.</p>' : ""}
<form method="get" action="/"><p><label for="token">Access token (WEB_TOKEN)</label><br>
<input id="token" name="token" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Open the status page</button></p></form></main></body></html>`;
}

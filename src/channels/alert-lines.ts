// One readable terminal line per alert (the `alerts` and `status` commands), coloured on a TTY.
import type { AlertGroupData } from "./types.ts";

const ANSI = { red: "\x1b[31m", yellow: "\x1b[33m", blue: "\x1b[34m", green: "\x1b[32m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" };
const SEVERITY_COLOUR: Record<string, string> = { critical: ANSI.red, warning: ANSI.yellow, info: ANSI.blue };

const paint = (on: boolean, colour: string, text: string) => (on ? `${colour}${text}${ANSI.reset}` : text);
const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

/** `12:00:05Z FIRING   [strict] CRITICAL Pod shop/web-1 @pi-1 CrashLoopBackOff: Back-off … (incident inc-1, cluster pi-lab)` */
export function alertLines(g: AlertGroupData, colour: boolean): string[] {
  const resolved = g.status === "resolved";
  const status = paint(colour, resolved ? ANSI.green : ANSI.bold, (resolved ? "RESOLVED" : "FIRING").padEnd(8));
  const tail = paint(colour, ANSI.dim, `(incident ${g.incidentId}, cluster ${g.clusterId})`);
  const lines = g.alerts.map((a) => {
    const sev = paint(colour, resolved ? ANSI.green : (SEVERITY_COLOUR[a.severity] ?? ""), String(a.severity).toUpperCase().padEnd(8));
    const object = a.namespace ? `${a.namespace}/${a.name}` : a.name;
    return `${a.time} ${status} [${g.level}] ${sev} ${a.kind} ${object}${a.node ? ` @${a.node}` : ""} ${a.reason}: ${oneLine(a.message)} ${tail}`;
  });
  const hidden = g.alertCount - g.alerts.length;
  if (hidden > 0) lines.push(`${status} [${g.level}] …and ${hidden} more alerts ${tail}`);
  if (lines.length === 0) lines.push(`${status} [${g.level}] ${oneLine(g.title)} ${tail}`);
  return lines;
}

/** A one-line summary of an open incident (retained state). */
export function incidentLine(g: AlertGroupData, colour: boolean): string {
  const count = Math.max(g.alertCount, g.alerts.length);
  const nodes = g.nodeList.length ? ` nodes: ${g.nodeList.join(",")}` : "";
  return `${paint(colour, ANSI.bold, g.incidentId)} [${g.level}] ${oneLine(g.title)} — ${count} alert${count === 1 ? "" : "s"}${nodes}`;
}

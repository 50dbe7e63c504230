// One readable terminal line per alert (the `alerts` and `status` commands), coloured on a TTY.
import { termText } from "../boundary/terminal.ts";
import type { AlertGroupData } from "./types.ts";

const ANSI = { red: "\x1b[31m", yellow: "\x1b[33m", blue: "\x1b[34m", green: "\x1b[32m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" };
const SEVERITY_COLOUR: Record<string, string> = { critical: ANSI.red, warning: ANSI.yellow, info: ANSI.blue };

const paint = (on: boolean, colour: string, text: string) => (on ? `${colour}${text}${ANSI.reset}` : text);
/** Printable single-line text from any field (payloads come from the broker: nothing is trusted to be a string). */
const oneLine = (s: unknown) => termText(s).replace(/\s+/g, " ").trim();
const list = <T>(v: T[] | undefined): T[] => (Array.isArray(v) ? v : []);

/** `12:00:05Z FIRING   [strict] CRITICAL Pod shop/web-1 @pi-1 CrashLoopBackOff: Back-off … (incident inc-1, cluster pi-lab)` */
export function alertLines(g: AlertGroupData, colour: boolean): string[] {
  const resolved = g.status === "resolved";
  const status = paint(colour, resolved ? ANSI.green : ANSI.bold, (resolved ? "RESOLVED" : "FIRING").padEnd(8));
  const tail = paint(colour, ANSI.dim, `(incident ${oneLine(g.incidentId)}, cluster ${oneLine(g.clusterId)})`);
  const level = oneLine(g.level);
  const alerts = list(g.alerts).filter((a) => a && typeof a === "object");
  const lines = alerts.map((a) => {
    const severity = oneLine(a.severity);
    const sev = paint(colour, resolved ? ANSI.green : (SEVERITY_COLOUR[severity] ?? ""), severity.toUpperCase().padEnd(8));
    const object = a.namespace ? `${oneLine(a.namespace)}/${oneLine(a.name)}` : oneLine(a.name);
    return `${oneLine(a.time)} ${status} [${level}] ${sev} ${oneLine(a.kind)} ${object}${a.node ? ` @${oneLine(a.node)}` : ""} ${oneLine(a.reason)}: ${oneLine(a.message)} ${tail}`;
  });
  const hidden = Number(g.alertCount) - alerts.length;
  if (hidden > 0) lines.push(`${status} [${level}] …and ${hidden} more alerts ${tail}`);
  if (lines.length === 0) lines.push(`${status} [${level}] ${oneLine(g.title)} ${tail}`);
  return lines;
}

/** A one-line summary of an open incident (retained state). */
export function incidentLine(g: AlertGroupData, colour: boolean): string {
  const count = Math.max(Number(g.alertCount) || 0, list(g.alerts).length);
  const nodes = list(g.nodeList).length ? ` nodes: ${list(g.nodeList).map(oneLine).join(",")}` : "";
  const trigger = g.trigger && typeof g.trigger === "object" && g.trigger.summary ? `\n    likely trigger: ${oneLine(g.trigger.summary)}` : "";
  return `${paint(colour, ANSI.bold, oneLine(g.incidentId))} [${oneLine(g.level)}] ${oneLine(g.title)} — ${count} alert${count === 1 ? "" : "s"}${nodes}${trigger}`;
}

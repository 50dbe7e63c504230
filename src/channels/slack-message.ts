// AlertGroupData → a Slack Block Kit message that always fits Slack's limits
// (test/fixtures/spec/slack/block-kit-limits.json): the seed posted two blocks per alert and broke at
// 24 alerts (50-block limit); here the number of blocks is bounded whatever the alert count, and
// every text is cut to its field's maximum.
import type { AlertGroupData, AlertItem } from "./types.ts";
import { actionFacts } from "./action-message.ts";

/** Slack's documented limits for messages (mirrors the spec file; the tests check they agree). */
export const SLACK_LIMITS: Readonly<
  Record<"maxBlocks" | "sectionText" | "fieldsPerSection" | "fieldText" | "headerText" | "contextElements" | "fallbackText", number>
> = {
  maxBlocks: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  /** Not a Block Kit limit: a long fallback text is useless in a notification preview. */
  fallbackText: 3000,
};

export interface SlackBlock {
  type: "header" | "section" | "divider" | "context";
  text?: { type: "plain_text" | "mrkdwn"; text: string; emoji?: boolean };
  fields?: { type: "mrkdwn"; text: string }[];
  elements?: { type: "mrkdwn"; text: string }[];
}

export interface SlackMessage {
  /** Plain-text fallback: shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: SlackBlock[];
}

/** Cuts to `max` UTF-16 units with an ellipsis, never splitting a surrogate pair or an &entity;. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]{0,4}$/, "");
  return `${cut}…`;
}

/** Slack mrkdwn treats &, < and > as control characters (links, mentions); everything else is literal. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const md = (text: string, max: number) => truncate(escapeMrkdwn(text), max);

const SEVERITY_ICON: Record<string, string> = { critical: ":red_circle:", warning: ":large_orange_circle:", info: ":large_blue_circle:" };

function statusWord(g: AlertGroupData): string {
  return g.status === "resolved" ? "RESOLVED" : "FIRING";
}

/** "web, api, db and 12 more" within `max` characters. */
export function listSummary(items: readonly string[], max: number): string {
  if (items.length === 0) return "-";
  const shown: string[] = [];
  for (const item of items) {
    const rest = items.length - shown.length - 1;
    const candidate = [...shown, item].join(", ") + (rest > 0 ? ` and ${rest} more` : "");
    if (candidate.length > max) break;
    shown.push(item);
  }
  const more = items.length - shown.length;
  if (shown.length === 0) return truncate(`${items.length} items`, max);
  return shown.join(", ") + (more > 0 ? ` and ${more} more` : "");
}

function alertSection(a: AlertItem, resolved: boolean): SlackBlock {
  const icon = resolved ? ":white_check_mark:" : (SEVERITY_ICON[a.severity] ?? ":white_circle:");
  const object = a.namespace ? `${a.namespace}/${a.name}` : a.name;
  // Budget the free-text message last so the identifying part is never cut away.
  const head = `${icon} *${escapeMrkdwn(String(a.severity).toUpperCase())}* ${md(a.kind, 100)} \`${md(object, 400)}\`${a.node ? ` on ${md(a.node, 200)}` : ""}\n*${md(a.reason, 200)}* · ${md(a.time, 40)}\n`;
  const text = head + md(a.message, SLACK_LIMITS.sectionText - head.length);
  return { type: "section", text: { type: "mrkdwn", text: truncate(text, SLACK_LIMITS.sectionText) } };
}

function overflowSection(hidden: readonly AlertItem[], hiddenCount: number): SlackBlock {
  // Counting hidden alerts by reason tells the reader what they are without listing them.
  const byReason = new Map<string, number>();
  for (const a of hidden) byReason.set(a.reason, (byReason.get(a.reason) ?? 0) + 1);
  const parts = [...byReason].sort((x, y) => y[1] - x[1]).map(([r, n]) => `${escapeMrkdwn(r)} ×${n}`);
  const head = `…and ${hiddenCount} more alert${hiddenCount === 1 ? "" : "s"}`;
  const text = parts.length ? `${head}: ${listSummary(parts, SLACK_LIMITS.sectionText - head.length - 2)}` : head;
  return { type: "section", text: { type: "mrkdwn", text: truncate(text, SLACK_LIMITS.sectionText) } };
}

/** An action of ours (docs/actions.md): its summary as the header, the facts as fields. */
function renderActionSlack(g: AlertGroupData, a: NonNullable<AlertGroupData["action"]>): SlackMessage {
  const f = actionFacts(g, a);
  const fields = f.rows
    .slice(0, SLACK_LIMITS.fieldsPerSection)
    .map(([label, value]) => ({ type: "mrkdwn" as const, text: truncate(`*${label}*\n${escapeMrkdwn(value)}`, SLACK_LIMITS.fieldText) }));
  return {
    text: truncate(f.heading, SLACK_LIMITS.fallbackText),
    blocks: [
      { type: "header", text: { type: "plain_text", text: truncate(f.heading, SLACK_LIMITS.headerText), emoji: true } },
      { type: "section", fields },
    ],
  };
}

/** The plain-text line used as `text` fallback (and by the email subject's style). */
export function fallbackText(g: AlertGroupData): string {
  const count = Math.max(g.alertCount, g.alerts.length);
  return truncate(
    `${statusWord(g)} [${g.level}] ${g.title} — ${count} alert${count === 1 ? "" : "s"} in cluster ${g.clusterId}`,
    SLACK_LIMITS.fallbackText,
  );
}

export function renderSlackMessage(g: AlertGroupData): SlackMessage {
  if (g.action) return renderActionSlack(g, g.action);
  const resolved = g.status === "resolved";
  const count = Math.max(g.alertCount, g.alerts.length);
  const header = truncate(`${resolved ? "✅" : "🚨"} ${statusWord(g)} [${g.level.toUpperCase()}] ${g.title}`, SLACK_LIMITS.headerText);
  const field = (label: string, value: string) => ({ type: "mrkdwn" as const, text: truncate(`*${label}*\n${value}`, SLACK_LIMITS.fieldText) });
  const listMax = SLACK_LIMITS.fieldText - 20;
  const fields = [
    field("Cluster", md(g.clusterId, 200)),
    field("Level", md(g.level, 50)),
    field("Status", statusWord(g)),
    field("Alerts", String(count)),
    field(`Nodes (${g.nodeList.length})`, escapeMrkdwn(listSummary(g.nodeList, listMax / 2))),
    field(`Namespaces (${g.namespaceList.length})`, escapeMrkdwn(listSummary(g.namespaceList, listMax / 2))),
  ].slice(0, SLACK_LIMITS.fieldsPerSection);
  const context: SlackBlock = {
    type: "context",
    elements: [{ type: "mrkdwn", text: md(`incident ${g.incidentId} · fingerprint ${g.fingerprint} · NeuroController`, SLACK_LIMITS.sectionText) }],
  };
  const blocks: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: header, emoji: true } },
    { type: "section", fields },
    ...(g.trigger?.summary
      ? [
          {
            type: "section" as const,
            text: { type: "mrkdwn" as const, text: truncate(`*Likely trigger*\n${md(g.trigger.summary, 2000)}`, SLACK_LIMITS.sectionText) },
          },
        ]
      : []),
    { type: "divider" },
  ];
  // Alert sections fill what is left after the fixed blocks; when they do not all fit, the last
  // slot becomes the "…and N more" summary.
  const slots = SLACK_LIMITS.maxBlocks - blocks.length - 1;
  const fitsAll = g.alerts.length <= slots && count <= g.alerts.length;
  const shown = fitsAll ? g.alerts : g.alerts.slice(0, slots - 1);
  for (const a of shown) blocks.push(alertSection(a, resolved));
  if (!fitsAll) blocks.push(overflowSection(g.alerts.slice(shown.length), count - shown.length));
  blocks.push(context);
  return { text: fallbackText(g), blocks };
}

// How Slack and email render a notification that announces one of our actions (AlertGroupData.action):
// the action's one-sentence summary, what it was done to, the outcome and why — not an alert table.
import { actionTargetText, type ActionRecord } from "../model/action.ts";
import type { AlertGroupData } from "./types.ts";

const OUTCOME_ICON: Record<ActionRecord["outcome"], string> = { planned: "📝", done: "🔧", waiting: "⏳", refused: "⛔", failed: "❌" };
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, " ").trim();
const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export interface ActionFacts {
  heading: string;
  rows: [string, string][];
}

export function actionFacts(g: AlertGroupData, a: ActionRecord): ActionFacts {
  return {
    heading: cut(oneLine(`${OUTCOME_ICON[a.outcome]} ${a.mode === "dry-run" ? "[DRY-RUN] " : ""}${a.summary}`), 150),
    rows: [
      ["Cluster", g.clusterId],
      ["Action", `${a.source} ${a.step}`],
      ["Target", actionTargetText(a.target)],
      ["Outcome", a.outcome],
      ["Mode", a.mode],
      ["Why", a.reason],
      ["Time", a.time],
      ["Id", a.id],
    ],
  };
}

export function actionEmailSubject(g: AlertGroupData, a: ActionRecord): string {
  return cut(oneLine(`[ACTION][${g.clusterId}] ${a.mode === "dry-run" ? "[dry-run] " : ""}${a.summary}`), 200);
}

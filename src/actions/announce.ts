// Actions as notifications: every ActionRecord goes to the MQTT channel (published on <prefix>/actions),
// and one marked `announce` also to Slack and email as its own notification (AlertGroupData.action set).
// They go through the outbox like alerts: persisted before any send, retried, and deduplicated by their
// deterministic ids ("action:<record id>:<channel>"), so each action is delivered once, across restarts.
import type { ActionRecord } from "../model/action.ts";
import type { AlertGroupData, Channel, Notification } from "../model/alert.ts";

export function actionPayload(record: ActionRecord, clusterId: string): AlertGroupData {
  const node = record.target.kind === "Node" ? [record.target.name] : typeof record.detail?.node === "string" ? [record.detail.node] : [];
  return {
    title: record.summary,
    nodeList: node,
    namespaceList: record.target.namespace ? [record.target.namespace] : [],
    alertCount: 0,
    alerts: [],
    clusterId,
    level: record.outcome === "refused" || record.outcome === "failed" ? "strict" : "light",
    status: "firing",
    incidentId: `action:${record.id}`,
    fingerprint: `action:${record.id}`,
    action: record,
  };
}

export function actionNotifications(record: ActionRecord, clusterId: string, channels: readonly Channel[], now: number): Notification[] {
  const payload = actionPayload(record, clusterId);
  return channels
    .filter((ch) => ch === "mqtt" || record.announce === true)
    .map((channel) => ({ id: `action:${record.id}:${channel}`, channel, level: payload.level, payload, createdAt: now }));
}

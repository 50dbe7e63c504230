// AlertGroupData / Notification builders for channel tests.
import type { AlertGroupData, AlertItem, ChannelName, Notification } from "../../src/channels/types.ts";

export function alertItem(i: number, over: Partial<AlertItem> = {}): AlertItem {
  return {
    kind: "Pod",
    name: `web-7d9f-${i}`,
    namespace: i % 2 ? "shop" : "default",
    node: `pi-${i % 3}`,
    severity: i % 5 === 0 ? "critical" : "warning",
    reason: i % 2 ? "CrashLoopBackOff" : "NotReady",
    message: `Back-off restarting failed container web in pod web-7d9f-${i}`,
    time: new Date(Date.UTC(2025, 0, 1, 12, 0, i % 60)).toISOString(),
    ...over,
  };
}

export function alertGroup(count: number, over: Partial<AlertGroupData> = {}): AlertGroupData {
  const alerts = Array.from({ length: count }, (_, i) => alertItem(i));
  return {
    title: `web crash-looping (${count})`,
    nodeList: [...new Set(alerts.map((a) => a.node))],
    namespaceList: [...new Set(alerts.map((a) => a.namespace))],
    alertCount: count,
    alerts,
    clusterId: "pi-lab",
    level: "strict",
    status: "firing",
    incidentId: "inc-1",
    fingerprint: "fp-1",
    ...over,
  };
}

export function notification(channel: ChannelName, id: string, group: AlertGroupData = alertGroup(1)): Notification {
  return { id, channel, level: group.level, payload: group, createdAt: Date.UTC(2025, 0, 1, 12) };
}

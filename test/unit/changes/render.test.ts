// The likely trigger in every rendering (Slack, email, `status`) and the HPA diff.
import { describe, expect, test } from "bun:test";
import { diffEssence } from "../../../src/changes/diff.ts";
import { essenceOf } from "../../../src/changes/essence.ts";
import { incidentLine } from "../../../src/channels/alert-lines.ts";
import { renderEmail } from "../../../src/channels/email-template.ts";
import { renderSlackMessage } from "../../../src/channels/slack-message.ts";
import type { AlertGroupData } from "../../../src/model/alert.ts";

const SUMMARY = "Started 2 min after Deployment web was updated by kube-admin (kubectl): image web:1.4 → web:1.5";
const group = (trigger?: AlertGroupData["trigger"]): AlertGroupData => ({
  title: "[STRICT] CrashLoopBackOff on Pod shop/web-1",
  nodeList: ["pi-1"],
  namespaceList: ["shop"],
  alertCount: 1,
  alerts: [
    { kind: "Pod", name: "web-1", namespace: "shop", node: "pi-1", severity: "critical", reason: "CrashLoopBackOff", message: "m", time: "t" },
  ],
  clusterId: "c",
  level: "strict",
  status: "firing",
  incidentId: "i1",
  fingerprint: "f",
  ...(trigger ? { trigger } : {}),
});
const trigger = {
  summary: SUMMARY,
  time: "2026-12-04T10:00:00Z",
  kind: "Deployment",
  namespace: "shop",
  name: "web",
  actor: "kube-admin (kubectl)",
  relation: "owner",
};

describe("likely trigger rendering", () => {
  test("Slack, email and the status line show it; without one they show nothing of it", () => {
    expect(JSON.stringify(renderSlackMessage(group(trigger)))).toContain(
      "*Likely trigger*\\nStarted 2 min after Deployment web was updated by kube-admin (kubectl)",
    );
    expect(JSON.stringify(renderSlackMessage(group()))).not.toContain("Likely trigger");
    const mail = renderEmail(group(trigger));
    expect(mail.text).toContain(`Trigger:    likely: ${SUMMARY}`);
    expect(mail.html).toContain("<b>Trigger</b>");
    expect(renderEmail(group()).text).not.toContain("Trigger:");
    expect(incidentLine(group(trigger), false)).toContain(`likely trigger: ${SUMMARY}`);
    expect(incidentLine(group(), false)).not.toContain("likely trigger");
  });

  test("an HPA change: bounds and target, not its status", () => {
    const hpa = (max: number, current: number) => ({
      metadata: { name: "web", namespace: "shop" },
      spec: { minReplicas: 1, maxReplicas: max, scaleTargetRef: { kind: "Deployment", name: "web" } },
      status: { currentReplicas: current },
    });
    const a = essenceOf("HorizontalPodAutoscaler", hpa(5, 1))!;
    expect(diffEssence(a, essenceOf("HorizontalPodAutoscaler", hpa(5, 3))!)).toBeUndefined();
    expect(diffEssence(a, essenceOf("HorizontalPodAutoscaler", hpa(10, 3))!)).toEqual({ verb: "updated", lines: ["maxReplicas 5 → 10"] });
  });
});

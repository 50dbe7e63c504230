import { describe, expect, test } from "bun:test";
import { alertingConfig, enabledChannels } from "../../../src/alerting/config.ts";
import { assess } from "../../../src/alerting/pipeline.ts";
import { channelsFor, decideLevel, DEFAULT_LEVEL_RULES } from "../../../src/alerting/levels.ts";
import { createSilence } from "../../../src/alerting/silence.ts";
import { Config, ConfigError } from "../../../src/config/load.ts";
import { correlate, emptyIncidentState } from "../../../src/correlation/incidents.ts";
import type { Incident } from "../../../src/model/incident.ts";
import type { Anomaly } from "../../../src/model/anomaly.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { memCache, T0 } from "../../support/fixtures.ts";
import { activeOf, anomaly, app, deployUnready, node, nodeDown, podCrash, testConfig } from "./helpers.ts";

function incidentOf(objects: KubeObject[], ...anomalies: Anomaly[]): Incident {
  const { changes } = correlate(emptyIncidentState(), activeOf(...anomalies), memCache(objects), T0);
  expect(changes).toHaveLength(1);
  return changes[0]!.incident;
}
const levelOf = (i: Incident, rules = DEFAULT_LEVEL_RULES) => decideLevel(i, i.members, rules);

describe("levels", () => {
  test("channels per level: light Slack+MQTT, strict and high-risk add email", () => {
    expect(channelsFor("light").sort()).toEqual(["mqtt", "slack"]);
    expect(channelsFor("strict").sort()).toEqual(["email", "mqtt", "slack"]);
    expect(channelsFor("high-risk").sort()).toEqual(["email", "mqtt", "slack"]);
  });

  test("warning/info on a few Pods is light", () => {
    const i = incidentOf(app("web"), podCrash("web-1"), podCrash("web-2", "pi-1", { severity: "info", reason: "Other" }));
    expect(levelOf(i).level).toBe("light");
  });

  test("a critical anomaly is strict", () => {
    const i = incidentOf(
      app("web"),
      anomaly({ kind: "Deployment", name: "web", node: "", reason: "ProgressDeadlineExceeded", severity: "critical" }),
    );
    expect(levelOf(i)).toEqual({ level: "strict", because: "critical ProgressDeadlineExceeded on Deployment web" });
  });

  test("the seed's strict rule: UnreadyReplicaRatio is strict at least, reporting the actual ratio", () => {
    const ratio = deployUnready("web", { severity: "warning", message: "2 of 3 replicas unready (67%, threshold 60%) for 12s" });
    const i = incidentOf(app("web", { ready: 1 }), ratio);
    const d = levelOf(i);
    expect(d.level).toBe("strict");
    expect(d.because).toContain("2 of 3 replicas unready (67%");
  });

  test("ALERT_LEVEL_STRICT_SEVERITY=warning makes warnings strict", () => {
    const i = incidentOf(app("web"), podCrash("web-1"));
    expect(levelOf(i, { ...DEFAULT_LEVEL_RULES, strictSeverity: "warning" }).level).toBe("strict");
  });

  test("critical on a Node is high-risk; removing Node from ALERT_LEVEL_HIGH_RISK_KINDS makes it strict", () => {
    const i = incidentOf([node("pi-1", { ready: "False" })], nodeDown("pi-1"));
    expect(levelOf(i)).toEqual({ level: "high-risk", because: "critical NodeNotReady on Node pi-1" });
    expect(levelOf(i, { ...DEFAULT_LEVEL_RULES, highRiskKinds: ["Cluster"] }).level).toBe("strict");
  });

  test("ALERT_LEVEL_HIGH_RISK_MIN_PODS Pods in one incident is high-risk", () => {
    const pods = Array.from({ length: 5 }, (_, i) => podCrash(`web-${i + 1}`));
    const i = incidentOf(app("web", { pods: 6, ready: 1 }), ...pods);
    expect(levelOf(i)).toEqual({ level: "high-risk", because: "5 Pods affected" });
    expect(levelOf(i, { ...DEFAULT_LEVEL_RULES, highRiskMinPods: 6 }).level).toBe("light");
  });

  test("a whole Deployment with no ready replica is high-risk (ALERT_LEVEL_HIGH_RISK_WORKLOAD_DOWN)", () => {
    const i = incidentOf(app("web", { ready: 0 }), podCrash("web-1"));
    expect(levelOf(i).level).toBe("high-risk");
    expect(levelOf(i, { ...DEFAULT_LEVEL_RULES, highRiskWorkloadDown: false }).level).toBe("light");
  });

  test("silenced anomalies do not escalate", () => {
    const i = incidentOf(
      app("web"),
      podCrash("web-1"),
      anomaly({ kind: "Deployment", name: "web", node: "", reason: "ProgressDeadlineExceeded", severity: "critical" }),
    );
    const silence = createSilence({ matchers: "kind=Deployment", duration: "1h", createdBy: "ops", comment: "rollout in progress" }, T0);
    expect(assess(i, [], T0, testConfig()).level.level).toBe("strict");
    expect(assess(i, [silence], T0, testConfig()).level.level).toBe("light");
  });
});

describe("alerting config", () => {
  test("reads the keys with their defaults", () => {
    const cfg = alertingConfig(Config.with(), ["slack"]);
    expect(cfg.groupWaitMs).toBe(30_000);
    expect(cfg.groupIntervalMs).toBe(300_000);
    expect(cfg.repeatIntervalMs).toBe(4 * 3_600_000);
    expect(cfg.levels).toEqual(DEFAULT_LEVEL_RULES);
    expect(cfg.budgets.slack).toEqual({ capacity: 1, refillEveryMs: 5000 });
    expect(cfg.budgets.email).toEqual({ capacity: 20, refillEveryMs: 180_000 });
    expect(cfg.budgets.mqtt).toEqual({ capacity: 60, refillEveryMs: 1000 });
  });

  test("overrides, and a bad severity names the key", () => {
    const cfg = alertingConfig(
      Config.with({
        ALERT_GROUP_WAIT: "10s",
        ALERT_LEVEL_STRICT_SEVERITY: "Warning",
        ALERT_LEVEL_HIGH_RISK_KINDS: "Node",
        SLACK_ALERT_DISPATCH_INTERVAL: "1m",
      }),
      [],
    );
    expect(cfg.groupWaitMs).toBe(10_000);
    expect(cfg.levels.strictSeverity).toBe("warning");
    expect(cfg.levels.highRiskKinds).toEqual(["Node"]);
    expect(cfg.budgets.slack.refillEveryMs).toBe(60_000);
    expect(() => alertingConfig(Config.with({ ALERT_LEVEL_STRICT_SEVERITY: "loud" }), [])).toThrow(ConfigError);
    expect(() => alertingConfig(Config.with({ ALERT_LEVEL_STRICT_SEVERITY: "loud" }), [])).toThrow(
      /ALERT_LEVEL_STRICT_SEVERITY="loud": expected info, warning or critical/,
    );
  });

  test("enabled channels need their flag and their essentials", () => {
    expect(enabledChannels(Config.with())).toEqual([]);
    const all = Config.with({
      SLACK_WEBHOOK_URL: "https://hooks.example/x",
      MAIL_SMTP_HOST: "smtp",
      MAIL_FROM: "a@b",
      MAIL_TO: "c@d",
      MQTT_URL: "mqtt://localhost",
    });
    expect(enabledChannels(all)).toEqual(["slack", "email", "mqtt"]);
  });
});

// The alerting settings, read once from the configuration (keys declared in src/config/schema.ts,
// group "alerting", plus the seed's SLACK_ALERT_DISPATCH_INTERVAL and the channels' enable keys).
import { ConfigError, type Config } from "../config/load.ts";
import type { Severity } from "../model/anomaly.ts";
import { DEFAULT_LEVEL_RULES, type LevelRules } from "./levels.ts";
import type { BucketSpec } from "./throttle.ts";
import type { Channel } from "../model/alert.ts";

export interface GroupTimings {
  /** ALERT_GROUP_WAIT */
  groupWaitMs: number;
  /** ALERT_GROUP_INTERVAL */
  groupIntervalMs: number;
  /** ALERT_REPEAT_INTERVAL */
  repeatIntervalMs: number;
}

export interface AlertingConfig extends GroupTimings {
  clusterId: string;
  levels: LevelRules;
  /** Per-channel rate budgets (token buckets). */
  budgets: Record<Channel, BucketSpec>;
  /** Channels that are configured and enabled; notifications are made for these only. */
  enabled: Channel[];
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

export const DEFAULT_ALERTING: AlertingConfig = {
  clusterId: "default",
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * MINUTE,
  repeatIntervalMs: 4 * HOUR,
  levels: DEFAULT_LEVEL_RULES,
  budgets: {
    slack: { capacity: 1, refillEveryMs: 5_000 },
    email: { capacity: 20, refillEveryMs: HOUR / 20 },
    mqtt: { capacity: 60, refillEveryMs: MINUTE / 60 },
  },
  enabled: ["slack", "email", "mqtt"],
};

/** Channels whose enable flag is on and whose essentials are set. */
export function enabledChannels(cfg: Config): Channel[] {
  const out: Channel[] = [];
  if (cfg.bool("ENABLE_SLACK_ALERT") && cfg.str("SLACK_WEBHOOK_URL")) out.push("slack");
  if (cfg.bool("ENABLE_EMAIL_ALERT") && cfg.str("MAIL_SMTP_HOST") && cfg.str("MAIL_FROM") && cfg.list("MAIL_TO").length > 0) out.push("email");
  if (cfg.bool("ENABLE_MQTT_ALERT") && cfg.str("MQTT_URL")) out.push("mqtt");
  return out;
}

const SEVERITIES: Severity[] = ["info", "warning", "critical"];

export function alertingConfig(cfg: Config, enabled: Channel[] = enabledChannels(cfg)): AlertingConfig {
  const strict = cfg.str("ALERT_LEVEL_STRICT_SEVERITY").trim().toLowerCase() as Severity;
  if (!SEVERITIES.includes(strict)) {
    throw new ConfigError([
      `ALERT_LEVEL_STRICT_SEVERITY=${JSON.stringify(cfg.str("ALERT_LEVEL_STRICT_SEVERITY"))}: expected info, warning or critical`,
    ]);
  }
  const emailPerHour = cfg.num("ALERT_EMAIL_MAX_PER_HOUR");
  const mqttPerMinute = cfg.num("ALERT_MQTT_MAX_PER_MINUTE");
  return {
    clusterId: cfg.str("CLUSTER_ID"),
    groupWaitMs: cfg.ms("ALERT_GROUP_WAIT"),
    groupIntervalMs: cfg.ms("ALERT_GROUP_INTERVAL"),
    repeatIntervalMs: cfg.ms("ALERT_REPEAT_INTERVAL"),
    levels: {
      strictSeverity: strict,
      highRiskKinds: cfg.list("ALERT_LEVEL_HIGH_RISK_KINDS"),
      highRiskMinPods: cfg.num("ALERT_LEVEL_HIGH_RISK_MIN_PODS"),
      highRiskWorkloadDown: cfg.bool("ALERT_LEVEL_HIGH_RISK_WORKLOAD_DOWN"),
    },
    budgets: {
      // The seed's key: the minimum time between two Slack messages, i.e. a bucket of one.
      slack: { capacity: 1, refillEveryMs: cfg.ms("SLACK_ALERT_DISPATCH_INTERVAL") },
      email: { capacity: emailPerHour, refillEveryMs: HOUR / emailPerHour },
      mqtt: { capacity: mqttPerMinute, refillEveryMs: MINUTE / mqttPerMinute },
    },
    enabled,
  };
}

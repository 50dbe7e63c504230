// Building the channels and the dispatcher from Config. A channel whose ENABLE_* key is true but whose
// essential keys are empty stays off (the seed's behaviour); malformed values fail start-up with a
// ConfigError naming the key.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { Config, ConfigError } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { Outbox } from "../store/outbox.ts";
import { Dispatcher, type DispatcherHooks } from "./dispatcher.ts";
import { EmailChannel, SMTP_SECURITY_VALUES, type SmtpSecurity } from "./email.ts";
import type { MqttConnectionOptions } from "./mqtt-connection.ts";
import { defaultTopicPrefix } from "./mqtt-topics.ts";
import { MqttChannel } from "./mqtt.ts";
import { SlackChannel } from "./slack.ts";
import type { Channel } from "./types.ts";

const MQTT_SCHEMES = ["mqtt:", "mqtts:", "ws:", "wss:", "tcp:", "ssl:"];

export function topicPrefixFromConfig(cfg: Config): string {
  return cfg.str("MQTT_TOPIC_PREFIX").trim() || defaultTopicPrefix(cfg.str("CLUSTER_ID"));
}

/** Everything wrong with the channel keys (empty when fine); check-config can print these. */
export function channelConfigProblems(cfg: Config): string[] {
  const problems: string[] = [];
  const tls = cfg.str("MAIL_SMTP_TLS").trim().toLowerCase();
  if (!SMTP_SECURITY_VALUES.includes(tls as SmtpSecurity)) problems.push(`MAIL_SMTP_TLS=${JSON.stringify(cfg.str("MAIL_SMTP_TLS"))}: expected starttls, tls or none`);
  for (const key of ["MAIL_SMTP_CA_FILE", "MQTT_CA_FILE"] as const) {
    const file = cfg.str(key);
    if (file && !existsSync(file)) problems.push(`${key}=${file}: file not found`);
  }
  const url = cfg.str("MQTT_URL").trim();
  if (url) {
    let ok = false;
    try {
      ok = MQTT_SCHEMES.includes(new URL(url).protocol);
    } catch {}
    // The URL may embed credentials: never echo it.
    if (!ok) problems.push("MQTT_URL: expected a broker URL such as mqtt://host:1883 or mqtts://host:8883");
  }
  if (cfg.str("MQTT_TOPIC_PREFIX").match(/[+#]/)) problems.push(`MQTT_TOPIC_PREFIX=${JSON.stringify(cfg.str("MQTT_TOPIC_PREFIX"))}: must not contain + or #`);
  return problems;
}

export function mqttOptionsFromConfig(cfg: Config, opts: { announceStatus: boolean; clientIdSuffix?: string; logger?: Logger }): MqttConnectionOptions {
  const cluster = cfg.str("CLUSTER_ID");
  const base = cfg.str("MQTT_CLIENT_ID").trim() || `neurocontroller-${cluster}-${hostname()}`;
  return {
    url: cfg.str("MQTT_URL").trim(),
    prefix: topicPrefixFromConfig(cfg),
    username: cfg.str("MQTT_USERNAME") || undefined,
    password: cfg.str("MQTT_PASSWORD") || undefined,
    caFile: cfg.str("MQTT_CA_FILE") || undefined,
    clientId: opts.clientIdSuffix ? `${base}-${opts.clientIdSuffix}` : base,
    announceStatus: opts.announceStatus,
    reconnectMaxMs: cfg.ms("MQTT_RECONNECT_MAX"),
    logger: opts.logger,
  };
}

export const slackEnabled = (cfg: Config) => cfg.bool("ENABLE_SLACK_ALERT") && cfg.str("SLACK_WEBHOOK_URL") !== "";
export const emailEnabled = (cfg: Config) =>
  cfg.bool("ENABLE_EMAIL_ALERT") && cfg.str("MAIL_SMTP_HOST") !== "" && cfg.str("MAIL_FROM") !== "" && cfg.list("MAIL_TO").length > 0;
export const mqttEnabled = (cfg: Config) => cfg.bool("ENABLE_MQTT_ALERT") && cfg.str("MQTT_URL").trim() !== "";

/** The enabled channels. Throws ConfigError for malformed channel keys. The MQTT channel connects at once. */
export function channelsFromConfig(cfg: Config, opts: { logger?: Logger } = {}): Channel[] {
  const problems = channelConfigProblems(cfg);
  if (problems.length) throw new ConfigError(problems);
  const timeoutMs = cfg.ms("ALERT_SEND_TIMEOUT");
  const channels: Channel[] = [];
  if (slackEnabled(cfg)) channels.push(new SlackChannel({ webhookUrl: cfg.str("SLACK_WEBHOOK_URL"), timeoutMs }));
  if (emailEnabled(cfg)) {
    channels.push(
      new EmailChannel({
        host: cfg.str("MAIL_SMTP_HOST"),
        port: cfg.num("MAIL_SMTP_PORT"),
        security: cfg.str("MAIL_SMTP_TLS").trim().toLowerCase() as SmtpSecurity,
        username: cfg.str("MAIL_USERNAME") || undefined,
        password: cfg.str("MAIL_PASSWORD") || undefined,
        caFile: cfg.str("MAIL_SMTP_CA_FILE") || undefined,
        from: cfg.str("MAIL_FROM"),
        to: cfg.list("MAIL_TO"),
        timeoutMs,
        logger: opts.logger,
      }),
    );
  }
  if (mqttEnabled(cfg)) channels.push(new MqttChannel(mqttOptionsFromConfig(cfg, { announceStatus: true, logger: opts.logger })));
  return channels;
}

export function dispatcherFromConfig(cfg: Config, outbox: Outbox, channels: Channel[], opts: { hooks?: DispatcherHooks; logger?: Logger } = {}): Dispatcher {
  return new Dispatcher({
    outbox,
    channels,
    sendTimeoutMs: cfg.ms("ALERT_SEND_TIMEOUT"),
    minBackoffMs: cfg.ms("ALERT_RETRY_MIN_BACKOFF"),
    maxBackoffMs: cfg.ms("ALERT_RETRY_MAX_BACKOFF"),
    hooks: opts.hooks,
    logger: opts.logger,
  });
}

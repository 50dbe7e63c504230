// Building the channels and the dispatcher from Config. A channel whose ENABLE_* key is true but whose
// essential keys are empty stays off (the seed's behaviour); malformed values fail start-up with a
// ConfigError naming the key.
import { existsSync } from "node:fs";
import { type Config, ConfigError } from "../config/load.ts";
import type { MqttConnectionOptions } from "../mqtt/connection.ts";
import type { Logger } from "../log.ts";
import type { Outbox } from "../store/outbox.ts";
import { Dispatcher, type DispatcherHooks } from "./dispatcher.ts";
import { EmailChannel, SMTP_SECURITY_VALUES, type SmtpSecurity } from "./email.ts";
import { mqttOptionsFromConfig } from "../mqtt/options.ts";
import { COMMAND_KEY_MIN_LENGTH } from "../mqtt/signed-command.ts";
import { MqttChannel } from "./mqtt.ts";
import { SlackChannel } from "./slack.ts";
import { RetryableError, type Channel, type ChannelName } from "./types.ts";

const MQTT_SCHEMES = ["mqtt:", "mqtts:", "ws:", "wss:", "tcp:", "ssl:"];

export { mqttOptionsFromConfig, topicPrefixFromConfig } from "../mqtt/options.ts";

/** Everything wrong with each channel's keys (no entry when fine). */
export function channelProblems(cfg: Config): Partial<Record<ChannelName, string[]>> {
  const out: Partial<Record<ChannelName, string[]>> = {};
  const add = (ch: ChannelName, p: string) => {
    out[ch] = [...(out[ch] ?? []), p];
  };
  const tls = cfg.str("MAIL_SMTP_TLS").trim().toLowerCase();
  if (!SMTP_SECURITY_VALUES.includes(tls as SmtpSecurity))
    add("email", `MAIL_SMTP_TLS=${JSON.stringify(cfg.str("MAIL_SMTP_TLS"))}: expected starttls, tls or none`);
  for (const [key, ch] of [
    ["MAIL_SMTP_CA_FILE", "email"],
    ["MQTT_CA_FILE", "mqtt"],
  ] as const) {
    const file = cfg.str(key);
    if (file && !existsSync(file)) add(ch, `${key}=${file}: file not found`);
  }
  const url = cfg.str("MQTT_URL").trim();
  if (url) {
    let ok = false;
    try {
      ok = MQTT_SCHEMES.includes(new URL(url).protocol);
    } catch {}
    // The URL may embed credentials: never echo it.
    if (!ok) add("mqtt", "MQTT_URL: expected a broker URL such as mqtt://host:1883 or mqtts://host:8883");
  }
  for (const key of ["MQTT_COMMAND_KEY", "MQTT_COMMAND_KEY_PREVIOUS"] as const) {
    const length = cfg.str(key).length;
    // The key itself is never echoed.
    if (length > 0 && length < COMMAND_KEY_MIN_LENGTH)
      add("mqtt", `${key}: at least ${COMMAND_KEY_MIN_LENGTH} characters (32 random bytes recommended)`);
  }
  if (cfg.str("MQTT_TOPIC_PREFIX").match(/[+#]/))
    add("mqtt", `MQTT_TOPIC_PREFIX=${JSON.stringify(cfg.str("MQTT_TOPIC_PREFIX"))}: must not contain + or #`);
  return out;
}

/** Everything wrong with the channel keys (empty when fine); check-config can print these. */
export function channelConfigProblems(cfg: Config): string[] {
  return Object.values(channelProblems(cfg)).flat();
}

export const slackEnabled = (cfg: Config) => cfg.bool("ENABLE_SLACK_ALERT") && cfg.str("SLACK_WEBHOOK_URL") !== "";
export const emailEnabled = (cfg: Config) =>
  cfg.bool("ENABLE_EMAIL_ALERT") && cfg.str("MAIL_SMTP_HOST") !== "" && cfg.str("MAIL_FROM") !== "" && cfg.list("MAIL_TO").length > 0;
export const mqttEnabled = (cfg: Config) => cfg.bool("ENABLE_MQTT_ALERT") && cfg.str("MQTT_URL").trim() !== "";

/** The enabled channels. Throws ConfigError for malformed channel keys. The MQTT channel connects at once. */
export function channelsFromConfig(cfg: Config, opts: { logger?: Logger; onHandlerError?: MqttConnectionOptions["onHandlerError"] } = {}): Channel[] {
  const built = buildChannels(cfg, opts);
  if (built.failed.length) throw new ConfigError(built.failed.map((f) => `${f.channel}: ${f.reason}`));
  return built.channels;
}

export interface FailedChannel {
  channel: ChannelName;
  reason: string;
}

/**
 * Each enabled channel built on its own: one whose settings are invalid (a bad URL, an unreadable CA
 * file…) is reported in `failed` and does not stop the others. Reasons never contain secret values.
 */
export function buildChannels(
  cfg: Config,
  opts: { logger?: Logger; onHandlerError?: MqttConnectionOptions["onHandlerError"] } = {},
): { channels: Channel[]; failed: FailedChannel[] } {
  const problems = channelProblems(cfg);
  const channels: Channel[] = [];
  const failed: FailedChannel[] = [];
  const attempt = (name: ChannelName, enabled: boolean, make: () => Channel) => {
    if (!enabled) return;
    if (problems[name]?.length) return void failed.push({ channel: name, reason: problems[name]!.join("; ") });
    try {
      channels.push(make());
    } catch (e) {
      failed.push({ channel: name, reason: (e as Error).message ?? String(e) });
    }
  };
  const timeoutMs = cfg.ms("ALERT_SEND_TIMEOUT");
  attempt("slack", slackEnabled(cfg), () => new SlackChannel({ webhookUrl: cfg.str("SLACK_WEBHOOK_URL"), timeoutMs }));
  attempt(
    "email",
    emailEnabled(cfg),
    () =>
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
  attempt(
    "mqtt",
    mqttEnabled(cfg),
    () => new MqttChannel(mqttOptionsFromConfig(cfg, { announceStatus: true, logger: opts.logger, onHandlerError: opts.onHandlerError })),
  );
  return { channels, failed };
}

/**
 * Stands in for a channel that could not be started: its notifications stay in the outbox and are
 * retried with backoff (so nothing is lost), and are delivered once a restart with fixed settings
 * brings the real channel up.
 */
export class UnavailableChannel implements Channel {
  constructor(
    readonly name: ChannelName,
    readonly reason: string,
  ) {}

  async send(): Promise<void> {
    throw new RetryableError(`${this.name} channel not started: ${this.reason}`);
  }

  async close(): Promise<void> {}
}

export function dispatcherFromConfig(
  cfg: Config,
  outbox: Outbox,
  channels: Channel[],
  opts: { hooks?: DispatcherHooks; logger?: Logger } = {},
): Dispatcher {
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

// MQTT settings read from Config in one place: the broker connection (URL, credentials, CA,
// client id, reconnect bound), the topic prefix, and the command-signing keys.
import { hostname } from "node:os";
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { MqttConnectionOptions } from "./connection.ts";
import { topicPrefix } from "./topics.ts";

export function topicPrefixFromConfig(cfg: Config): string {
  return topicPrefix(cfg.str("MQTT_TOPIC_PREFIX"), cfg.str("CLUSTER_ID"));
}

export interface MqttOptionsRequest {
  /** Retained online/offline + Last Will on <prefix>/status: the controller's alert connection only. */
  announceStatus: boolean;
  /** Appended to the client id (client ids must be unique on the broker). */
  clientIdSuffix?: string;
  /** Replaces the configured/default client id entirely (the agent: one per node and process). */
  clientId?: string;
  logger?: Logger;
  onHandlerError?: MqttConnectionOptions["onHandlerError"];
}

export function mqttOptionsFromConfig(cfg: Config, opts: MqttOptionsRequest): MqttConnectionOptions {
  const cluster = cfg.str("CLUSTER_ID");
  const base = cfg.str("MQTT_CLIENT_ID").trim() || `neurocontroller-${cluster}-${hostname()}`;
  return {
    url: cfg.str("MQTT_URL").trim(),
    prefix: topicPrefixFromConfig(cfg),
    username: cfg.str("MQTT_USERNAME") || undefined,
    password: cfg.str("MQTT_PASSWORD") || undefined,
    caFile: cfg.str("MQTT_CA_FILE") || undefined,
    clientId: opts.clientId ?? (opts.clientIdSuffix ? `${base}-${opts.clientIdSuffix}` : base),
    announceStatus: opts.announceStatus,
    reconnectMaxMs: cfg.ms("MQTT_RECONNECT_MAX"),
    logger: opts.logger,
    onHandlerError: opts.onHandlerError,
  };
}

/** A unique client id suffix for one-shot CLI connections. */
export const cliClientIdSuffix = (what: string) => `${what}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;

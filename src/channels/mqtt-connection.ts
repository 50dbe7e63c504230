// One mqtt.js client with the controller's conventions: retained online/offline on <prefix>/status
// with a Last Will, reconnect with doubling (jittered) delays, QoS 1 publishes that resolve on
// PUBACK, and topic handlers for subscribers (the silence command topic, the `alerts` CLI).
import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { redact, silentLogger, type Logger } from "../log.ts";
import { mqttTopics, topicMatches, type MqttTopics } from "./mqtt-topics.ts";
import { RetryableError } from "./types.ts";

export interface MqttConnectionOptions {
  url: string;
  prefix: string;
  username?: string;
  password?: string;
  ca?: string;
  caFile?: string;
  clientId?: string;
  /** Publish retained "online" on connect and register "offline" as Last Will (the controller does; CLIs do not). */
  announceStatus?: boolean;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  logger?: Logger;
  /** Counts an exception caught in a topic handler (logged as JSON; the message is skipped for that handler). */
  onHandlerError?: (topic: string, error: unknown) => void;
}

export type MessageHandler = (topic: string, payload: Buffer, retained: boolean) => void;

export class MqttConnection {
  readonly client: MqttClient;
  readonly topics: MqttTopics;
  private readonly handlers = new Set<{ filter: string; handler: MessageHandler }>();
  /** Publishes waiting for PUBACK: dropped (and removed from mqtt.js's resend store) when the link closes. */
  private readonly inFlight = new Set<(why: string) => void>();
  private readonly log: Logger;
  private readonly secrets: string[];
  private nextDelay: number;

  constructor(private readonly opts: MqttConnectionOptions) {
    this.topics = mqttTopics(opts.prefix);
    this.log = (opts.logger ?? silentLogger).child({ channel: "mqtt" });
    this.secrets = [opts.password ?? ""].filter(Boolean);
    const min = opts.reconnectMinMs ?? 1000;
    this.nextDelay = min;
    const ca = opts.ca ?? (opts.caFile ? readFileSync(opts.caFile, "utf8") : undefined);
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: opts.clientId,
      username: opts.username || undefined,
      password: opts.password || undefined,
      ca,
      clean: true,
      reconnectPeriod: min,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      resubscribe: true,
      will: opts.announceStatus ? { topic: this.topics.status, payload: Buffer.from("offline"), qos: 1, retain: true } : undefined,
    };
    this.client = mqtt.connect(opts.url, options);
    this.client.on("connect", () => {
      this.nextDelay = min;
      this.client.options.reconnectPeriod = min;
      this.log.info("connected to the MQTT broker", { url: this.safeUrl() });
      if (opts.announceStatus) this.client.publish(this.topics.status, "online", { qos: 1, retain: true });
    });
    this.client.on("close", () => {
      for (const drop of [...this.inFlight]) drop("mqtt: connection lost before PUBACK");
      // mqtt.js reconnects after options.reconnectPeriod; doubling it here spaces out attempts while
      // the broker stays down, and jitter keeps many Pis from reconnecting in lock-step.
      const max = opts.reconnectMaxMs ?? 30_000;
      this.nextDelay = Math.min(max, this.nextDelay * 2);
      this.client.options.reconnectPeriod = Math.round(this.nextDelay * (0.75 + Math.random() * 0.25));
    });
    this.client.on("error", (e) => this.log.warn("MQTT connection problem", { url: this.safeUrl(), error: redact(e.message, this.secrets) }));
    this.client.on("message", (topic, payload, packet) => {
      for (const { filter, handler } of this.handlers) {
        if (!topicMatches(filter, topic)) continue;
        try {
          handler(topic, payload, packet.retain);
        } catch (e) {
          this.log.error("MQTT message handler failed; message skipped", { topic, bytes: payload.length, error: e });
          try {
            this.opts.onHandlerError?.(topic, e);
          } catch {}
        }
      }
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** The URL without credentials, for logs. */
  safeUrl(): string {
    try {
      const u = new URL(this.opts.url);
      u.username = "";
      u.password = "";
      return u.toString();
    } catch {
      return "<invalid url>";
    }
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.client.off("connect", ok), reject(new Error(`mqtt: not connected to ${this.safeUrl()} within ${timeoutMs} ms`))), timeoutMs);
      const ok = () => (clearTimeout(timer), resolve());
      this.client.once("connect", ok);
    });
  }

  /**
   * QoS 1 publish resolving on PUBACK. Fails fast (RetryableError) when disconnected instead of letting
   * mqtt.js queue in memory: the outbox is the queue, and a second, in-memory copy would be a duplicate.
   */
  publish(topic: string, payload: string | Buffer, opts: { retain?: boolean; properties?: Record<string, string> } = {}, signal?: AbortSignal): Promise<void> {
    if (!this.client.connected) return Promise.reject(new RetryableError(`mqtt: not connected to ${this.safeUrl()}`));
    if (signal?.aborted) return Promise.reject(new RetryableError("mqtt: aborted"));
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = () => {
        done = true;
        this.inFlight.delete(drop);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAck = (err?: Error) => {
        if (done) return;
        finish();
        if (err) reject(new RetryableError(`mqtt publish to ${topic}: ${redact(err.message, this.secrets)}`));
        else resolve();
      };
      const drop = (why: string) => {
        if (done) return;
        finish();
        // Without this mqtt.js would resend the message after reconnecting while the outbox also
        // retries it: two copies.
        for (const [id, entry] of Object.entries(this.client.outgoing)) if (entry.cb === onAck) this.client.removeOutgoingMessage(Number(id));
        reject(new RetryableError(why));
      };
      const onAbort = () => drop("mqtt: no PUBACK before the send timeout or shutdown");
      this.inFlight.add(drop);
      signal?.addEventListener("abort", onAbort, { once: true });
      const userProperties = opts.properties;
      this.client.publish(topic, payload, { qos: 1, retain: opts.retain ?? false, properties: userProperties ? { userProperties } : undefined }, onAck);
    });
  }

  /** Registers `handler` for `filter` and subscribes (QoS 1); resubscribed automatically after reconnects. Returns an unsubscribe function. */
  async subscribe(filter: string, handler: MessageHandler): Promise<() => Promise<void>> {
    const entry = { filter, handler };
    this.handlers.add(entry);
    await this.client.subscribeAsync(filter, { qos: 1 });
    return async () => {
      this.handlers.delete(entry);
      if (![...this.handlers].some((h) => h.filter === filter)) await this.client.unsubscribeAsync(filter).catch(() => {});
    };
  }

  /** Graceful: announces "offline" (the Last Will only fires on an unexpected disconnect), then disconnects. */
  async close(): Promise<void> {
    if (this.opts.announceStatus && this.client.connected) {
      await this.publish(this.topics.status, "offline", { retain: true }).catch(() => {});
    }
    await this.client.endAsync(!this.client.connected).catch(() => {});
  }
}

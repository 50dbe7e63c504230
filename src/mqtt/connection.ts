// The one MQTT connection factory of the project (controller channels, trace bridge, agent, CLIs):
// TLS (MQTT_CA_FILE), username/password, retained online/offline on <prefix>/status with a Last Will
// (controller only), reconnect with doubling (jittered) delays, QoS 1 publishes that resolve on
// PUBACK, and topic handlers that can never take the connection down: an exception or a rejected
// promise in a handler is caught, logged as JSON and reported to onHandlerError (counted).
// `mqtt.connect` is called here and nowhere else.
import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { redact, silentLogger, type Logger } from "../log.ts";
import { RetryableError } from "../model/delivery.ts";
import { mqttTopics, topicMatches, type MqttTopics } from "./topics.ts";

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
  /** Called (after logging) for every exception a message handler throws or rejects with. */
  onHandlerError?: (filter: string, error: unknown) => void;
}

/** A handler may be async: its rejection is caught like a thrown exception. */
export type MessageHandler = (topic: string, payload: Buffer, retained: boolean) => unknown;

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
      // mqtt-packet otherwise pre-builds one 2-byte Buffer for every packet id (65,536 of them) on the
      // first write: 6.2 MiB of JS heap in each process (a heap snapshot of the steady controller held
      // 65,536 of its 65,696 Uint8Arrays there). Without it, a packet id costs one 2-byte buffer per write.
      writeCache: false,
    };
    const address = brokerAddress(opts.url);
    this.client = mqtt.connect({
      ...address,
      ...options,
      username: options.username ?? address.username,
      password: options.password ?? address.password,
    });
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
          const done = handler(topic, payload, packet.retain);
          if (done instanceof Promise) done.catch((e) => this.handlerFailed(filter, topic, e));
        } catch (e) {
          this.handlerFailed(filter, topic, e);
        }
      }
    });
  }

  private handlerFailed(filter: string, topic: string, e: unknown): void {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    this.log.error("MQTT message handler failed", { topic, error: redact(error, this.secrets) });
    try {
      this.opts.onHandlerError?.(filter, e);
    } catch {}
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
      const timer = setTimeout(
        () => (this.client.off("connect", ok), reject(new Error(`mqtt: not connected to ${this.safeUrl()} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const ok = () => (clearTimeout(timer), resolve());
      this.client.once("connect", ok);
    });
  }

  /**
   * QoS 1 publish resolving on PUBACK. Fails fast (RetryableError) when disconnected instead of letting
   * mqtt.js queue in memory: the outbox is the queue, and a second, in-memory copy would be a duplicate.
   */
  publish(
    topic: string,
    payload: string | Buffer,
    opts: { retain?: boolean; properties?: Record<string, string> } = {},
    signal?: AbortSignal,
  ): Promise<void> {
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
      this.client.publish(
        topic,
        payload,
        { qos: 1, retain: opts.retain ?? false, properties: userProperties ? { userProperties } : undefined },
        onAck,
      );
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

  /**
   * Graceful: announces "offline" (the Last Will only fires on an unexpected disconnect), then
   * disconnects. Bounded: after `timeoutMs` the socket is closed without waiting for the broker.
   */
  async close(timeoutMs = 3000): Promise<void> {
    const graceful = (async () => {
      if (this.opts.announceStatus && this.client.connected) {
        await this.publish(this.topics.status, "offline", { retain: true }, AbortSignal.timeout(timeoutMs)).catch(() => {});
      }
      await this.client.endAsync(!this.client.connected).catch(() => {});
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), timeoutMs)));
    const outcome = await Promise.race([graceful.then(() => "done" as const), late]);
    clearTimeout(timer);
    if (outcome === "late") await this.client.endAsync(true).catch(() => {});
  }
}

/**
 * The broker URL as mqtt.js options, parsed with the WHATWG URL parser: given a string, mqtt.js
 * uses Node's deprecated url.parse(), which prints a DeprecationWarning on every CLI run.
 */
function brokerAddress(url: string): IClientOptions {
  const u = new URL(url);
  const address: IClientOptions = {
    protocol: u.protocol.replace(/:$/, "") as IClientOptions["protocol"],
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    hostname: u.hostname.replace(/^\[(.*)\]$/, "$1"),
  };
  if (u.protocol.startsWith("ws")) address.path = `${u.pathname}${u.search}`;
  if (u.port) address.port = Number(u.port);
  if (u.username) address.username = decodeURIComponent(u.username);
  if (u.password) address.password = decodeURIComponent(u.password);
  return address;
}

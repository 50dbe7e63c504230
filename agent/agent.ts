// The agent daemon's wiring: BPF probe ↔ trace pool ↔ span assembler ↔ MQTT publisher, plus the
// two bind transports. Every moving part has a timer here and nothing else owns one, so stop()
// is complete: timers cleared, bindings ended and flushed, programs detached, socket removed.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import mqtt, { type MqttClient } from "mqtt";
import type { Config } from "../src/config/load.ts";
import { silentLogger, type Logger } from "../src/log.ts";
import { defaultTopicPrefix, topicSafe } from "../src/channels/mqtt-topics.ts";
import { applyBindMessage, startBindServer } from "./bind-server.ts";
import { SyscallProbe, type ProbeOptions } from "./loader.ts";
import { TracePool } from "./pool.ts";
import { SpanAssembler, SpanPublisher } from "./spans.ts";
import { hostArch } from "./syscalls/index.ts";

export interface AgentOptions {
  node: string;
  /** Topic prefix, e.g. neurocontroller/<cluster>. */
  prefix: string;
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  mqttCaFile?: string;
  /** Empty: no Unix-socket bind server. */
  socketPath: string;
  socketMode: number;
  slowThresholdNs: number;
  bindTtlMs: number;
  bindTtlMaxMs: number;
  poolMax: number;
  inherit: boolean;
  flushIntervalMs: number;
  queueMax: number;
  ringbufBytes: number;
  log?: Logger;
  /** Extra loader options (tests: btfCustomPath). */
  probe?: Partial<ProbeOptions>;
}

export function agentOptionsFromConfig(cfg: Config, log?: Logger): AgentOptions {
  const node = topicSafe(cfg.str("AGENT_NODE_NAME") || hostname());
  return {
    node,
    prefix: (cfg.str("MQTT_TOPIC_PREFIX") || defaultTopicPrefix(cfg.str("CLUSTER_ID"))).replace(/\/+$/, ""),
    mqttUrl: cfg.str("MQTT_URL"),
    mqttUsername: cfg.str("MQTT_USERNAME") || undefined,
    mqttPassword: cfg.str("MQTT_PASSWORD") || undefined,
    mqttCaFile: cfg.str("MQTT_CA_FILE") || undefined,
    socketPath: cfg.str("AGENT_SOCKET_PATH"),
    socketMode: parseInt(cfg.str("AGENT_SOCKET_MODE"), 8) || 0o660,
    slowThresholdNs: cfg.ms("AGENT_SLOW_SYSCALL") * 1e6,
    bindTtlMs: cfg.ms("AGENT_BIND_TTL"),
    bindTtlMaxMs: cfg.ms("AGENT_BIND_TTL_MAX"),
    poolMax: cfg.num("AGENT_POOL_MAX"),
    inherit: cfg.bool("AGENT_INHERIT_CHILDREN"),
    flushIntervalMs: cfg.ms("AGENT_FLUSH_INTERVAL"),
    queueMax: cfg.num("AGENT_QUEUE_MAX"),
    ringbufBytes: cfg.num("AGENT_RINGBUF_SIZE"),
    log,
  };
}

export class Agent {
  readonly pool: TracePool;
  readonly publisher: SpanPublisher;
  readonly assembler: SpanAssembler;
  readonly topics: { spans: string; bind: string };
  private timers: ReturnType<typeof setInterval>[] = [];
  private bindServer: { stop(): void } | undefined;
  private flushQueued = false;
  private stopped = false;

  private constructor(
    readonly probe: SyscallProbe,
    readonly mqtt: MqttClient,
    private readonly opts: AgentOptions,
    private readonly log: Logger,
  ) {
    this.topics = { spans: `${opts.prefix}/spans/${opts.node}`, bind: `${opts.prefix}/trace/bind/${opts.node}` };
    this.pool = new TracePool({
      sink: probe,
      maxBindings: opts.poolMax,
      defaultTtlMs: opts.bindTtlMs,
      maxTtlMs: opts.bindTtlMaxMs,
      onEnd: (b, reason) => {
        log.debug("binding ended", { traceId: b.traceId, id: b.id, reason });
        this.flushSoon(); // a finished request's spans should not wait a whole interval
      },
    });
    this.assembler = new SpanAssembler((id) => this.pool.lookup(id), hostArch());
    this.publisher = new SpanPublisher(mqtt, {
      topic: this.topics.spans,
      node: opts.node,
      arch: hostArch(),
      maxQueued: opts.queueMax,
      kernelDrops: () => probe.drops(),
      orphanEvents: () => this.assembler.orphanEvents,
    });
  }

  /** Loads the probe first (the step most likely to fail, with the clearest error), then connects. */
  static async start(opts: AgentOptions): Promise<Agent> {
    const log = (opts.log ?? silentLogger).child({ component: "agent" });
    let agent: Agent | undefined;
    const probe = await SyscallProbe.open({
      slowThresholdNs: opts.slowThresholdNs,
      inherit: opts.inherit,
      ringbufBytes: opts.ringbufBytes,
      mountTracefs: true,
      consumeIntervalMs: 50,
      onSlow: (e) => agent?.assembler.addSlow(e),
      ...opts.probe,
    });
    const client = mqtt.connect(opts.mqttUrl, {
      clientId: `neurocontroller-agent-${opts.node}-${process.pid}`,
      username: opts.mqttUsername,
      password: opts.mqttPassword,
      ca: opts.mqttCaFile ? readFileSync(opts.mqttCaFile) : undefined,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    agent = new Agent(probe, client, opts, log);
    agent.wire();
    return agent;
  }

  private wire(): void {
    const { opts, log } = this;
    this.mqtt.on("connect", () => {
      log.info("connected to the broker", { url: opts.mqttUrl });
      this.mqtt.subscribe(this.topics.bind, { qos: 1 });
    });
    this.mqtt.on("error", (e) => log.warn("mqtt error", { error: e.message }));
    this.mqtt.on("message", (topic, payload) => {
      if (topic !== this.topics.bind) return;
      let msg: unknown;
      try {
        msg = JSON.parse(payload.toString());
      } catch {
        return log.warn("bind message is not JSON", { topic });
      }
      const r = applyBindMessage(this.pool, msg);
      if (!r.ok) log.warn("bind message rejected", { error: r.error });
    });
    if (opts.socketPath) {
      this.bindServer = startBindServer(this.pool, { path: opts.socketPath, mode: opts.socketMode, stats: () => this.stats() });
      log.info("bind socket listening", { path: opts.socketPath });
    }
    this.timers.push(setInterval(() => this.flush(), opts.flushIntervalMs));
    this.timers.push(setInterval(() => this.pool.sweep(), Math.min(opts.flushIntervalMs, 1000)));
  }

  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setTimeout(() => {
      this.flushQueued = false;
      this.flush();
    }, 0);
  }

  /** Moves everything the kernel collected into span batches. */
  flush(): void {
    if (this.stopped) return;
    this.probe.consume(); // slow events first, so they join their aggregate in this batch
    this.assembler.addAggregates(this.probe.drainAggregates());
    const spans = this.assembler.take();
    if (spans.length) this.publisher.enqueue(spans);
  }

  stats() {
    return {
      node: this.opts.node,
      bindings: this.pool.size,
      pool: this.pool.stats,
      kernelDrops: this.probe.drops(),
      slowEventsIn: this.probe.eventsIn,
      orphanEvents: this.assembler.orphanEvents,
      publisher: { ...this.publisher.stats, queued: this.publisher.queued },
      mqttConnected: this.mqtt.connected,
      rssBytes: process.memoryUsage().rss,
    };
  }

  /** Ends all bindings, publishes what is left (briefly waiting for the broker), detaches. */
  async stop(opts: { drainMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.bindServer?.stop();
    this.pool.clear();
    this.flush();
    this.stopped = true;
    this.probe.close();
    const deadline = Date.now() + (opts.drainMs ?? 2000);
    while (this.publisher.queued > 0 && this.mqtt.connected && Date.now() < deadline) await Bun.sleep(20);
    await this.mqtt.endAsync();
  }
}

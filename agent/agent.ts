// The agent daemon's wiring: BPF probe ↔ trace pool ↔ span assembler ↔ MQTT publisher, plus the
// two bind transports. Every moving part has a timer here and nothing else owns one, so stop()
// is complete: timers cleared, bindings ended and flushed, programs detached, socket removed.
import { hostname } from "node:os";
import type { MqttClient } from "mqtt";
import { parseJsonAt, z } from "../src/boundary/reject.ts";
import type { Config } from "../src/config/load.ts";
import { silentLogger, type Logger } from "../src/log.ts";
import { MqttConnection } from "../src/mqtt/connection.ts";
import { mqttOptionsFromConfig } from "../src/mqtt/options.ts";
import { topicSafe } from "../src/mqtt/topics.ts";
import { applyBindMessage, BIND_MESSAGE_MAX_BYTES, startBindServer } from "./bind-server.ts";
import { SyscallProbe, type ProbeOptions } from "./loader.ts";
import { TracePool } from "./pool.ts";
import { SpanAssembler, SpanPublisher } from "./spans.ts";
import { hostArch } from "./syscalls/index.ts";
import { HostHealthPublisher, type HostHealthOptions } from "./host-health.ts";

export interface AgentOptions {
  node: string;
  /** Topic prefix, e.g. neurocontroller/<cluster>. */
  prefix: string;
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  mqttCaFile?: string;
  mqttReconnectMaxMs?: number;
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
  /** Host health (docs/host-health.md); undefined: not collected. */
  hostHealth?: Omit<HostHealthOptions, "node">;
}

export function agentOptionsFromConfig(cfg: Config, log?: Logger): AgentOptions {
  const node = topicSafe(cfg.str("AGENT_NODE_NAME") || hostname());
  const mqtt = mqttOptionsFromConfig(cfg, { announceStatus: false });
  return {
    node,
    prefix: mqtt.prefix,
    mqttUrl: mqtt.url,
    mqttUsername: mqtt.username,
    mqttPassword: mqtt.password,
    mqttCaFile: mqtt.caFile,
    mqttReconnectMaxMs: mqtt.reconnectMaxMs,
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
    hostHealth: hostHealthOptionsFromConfig(cfg),
    log,
  };
}

export function hostHealthOptionsFromConfig(cfg: Config): Omit<HostHealthOptions, "node"> | undefined {
  return cfg.bool("HOST_HEALTH_ENABLE") ? { root: cfg.str("NEURO_HOST_ROOT"), intervalMs: cfg.ms("HOST_HEALTH_INTERVAL") } : undefined;
}

export class Agent {
  readonly pool: TracePool;
  readonly publisher: SpanPublisher;
  readonly assembler: SpanAssembler;
  readonly topics: { spans: string; bind: string };
  /** Bind messages refused (size, JSON, shape) or rejected by the pool; handler exceptions caught. */
  readonly inputStats = { bindRefused: 0, handlerErrors: 0 };
  private timers: ReturnType<typeof setInterval>[] = [];
  private bindServer: { stop(): void } | undefined;
  /** Host health snapshots on <prefix>/hosts/<node>, when enabled. */
  readonly hostHealth: HostHealthPublisher | undefined;
  private flushQueued = false;
  private stopped = false;

  readonly mqtt: MqttClient;

  private constructor(
    readonly probe: SyscallProbe,
    readonly connection: MqttConnection,
    private readonly opts: AgentOptions,
    private readonly log: Logger,
  ) {
    this.mqtt = connection.client;
    this.topics = { spans: connection.topics.spans(opts.node), bind: connection.topics.traceBind(opts.node) };
    this.pool = new TracePool({
      sink: probe,
      maxBindings: opts.poolMax,
      defaultTtlMs: opts.bindTtlMs,
      maxTtlMs: opts.bindTtlMaxMs,
      onEnd: (b, reason) => {
        log.debug("binding ended", { traceId: b.traceId, spanId: b.spanId, id: b.id, reason }); // trace.id/span.id in the ECS line
        this.flushSoon(); // a finished request's spans should not wait a whole interval
      },
    });
    this.assembler = new SpanAssembler((id) => this.pool.lookup(id), hostArch());
    this.publisher = new SpanPublisher(this.mqtt, {
      topic: this.topics.spans,
      node: opts.node,
      arch: hostArch(),
      maxQueued: opts.queueMax,
      kernelDrops: () => probe.drops(),
      orphanEvents: () => this.assembler.orphanEvents,
    });
    this.hostHealth = opts.hostHealth ? new HostHealthPublisher(connection, { ...opts.hostHealth, node: opts.node }, log) : undefined;
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
    const connection = new MqttConnection({
      url: opts.mqttUrl,
      prefix: opts.prefix,
      clientId: `neurocontroller-agent-${opts.node}-${process.pid}`,
      username: opts.mqttUsername,
      password: opts.mqttPassword,
      caFile: opts.mqttCaFile,
      reconnectMaxMs: opts.mqttReconnectMaxMs,
      connectTimeoutMs: 10_000,
      logger: log,
      onHandlerError: () => agent && agent.inputStats.handlerErrors++,
    });
    agent = new Agent(probe, connection, opts, log);
    agent.wire();
    return agent;
  }

  private wire(): void {
    const { opts, log } = this;
    const refused = (reason: string) => {
      // Counted always; logged for the first refusals only (a flood must not flood the journal).
      if (this.inputStats.bindRefused++ < 20) log.warn("bind message refused", { topic: this.topics.bind, reason: reason.slice(0, 300) });
    };
    this.connection
      .subscribe(this.topics.bind, (_topic, payload) => {
        const m = parseJsonAt(z.unknown(), payload, {
          source: "mqtt.trace-bind",
          sink: { reject: (_s, reason) => refused(reason) },
          maxBytes: BIND_MESSAGE_MAX_BYTES,
        });
        if (!m.ok) return;
        const r = applyBindMessage(this.pool, m.value);
        if (!r.ok) refused(r.error);
      })
      .catch((e) => log.warn("cannot subscribe to the bind topic", { error: String(e) }));
    if (opts.socketPath) {
      this.bindServer = startBindServer(this.pool, { path: opts.socketPath, mode: opts.socketMode, stats: () => this.stats() });
      log.info("bind socket listening", { path: opts.socketPath });
    }
    this.timers.push(setInterval(() => this.flush(), opts.flushIntervalMs));
    this.timers.push(setInterval(() => this.pool.sweep(), Math.min(opts.flushIntervalMs, 1000)));
    this.hostHealth?.start();
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
      input: { ...this.inputStats },
      hostHealth: this.hostHealth ? { ...this.hostHealth.stats } : null,
      rssBytes: process.memoryUsage().rss,
    };
  }

  /** Ends all bindings, publishes what is left (briefly waiting for the broker), detaches. */
  async stop(opts: { drainMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.bindServer?.stop();
    await this.hostHealth?.stop();
    this.pool.clear();
    this.flush();
    this.stopped = true;
    this.probe.close();
    const deadline = Date.now() + (opts.drainMs ?? 2000);
    while (this.publisher.queued > 0 && this.mqtt.connected && Date.now() < deadline) await Bun.sleep(20);
    await this.connection.close();
  }
}

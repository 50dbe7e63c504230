// Controller side of the trace bridge: subscribes to <prefix>/spans/+, aggregates, and exports
// on a timer to Elastic APM and/or OTLP (each optional). Export failures are logged and counted;
// the batch is not retried (syscall spans are diagnostic data; a backlog would only grow).
// Every batch is checked (size, schema, node = the topic's <node>) before it is aggregated; refusals
// are counted by source, and an exception in the handler is caught and counted, never fatal.
import type { MqttClient } from "mqtt";
import { IGNORE_REJECTS, type RejectSink } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import { silentLogger, type Logger } from "../log.ts";
import { MqttConnection } from "../mqtt/connection.ts";
import { mqttOptionsFromConfig } from "../mqtt/options.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { TraceAggregator, type AggregatedSpan } from "./aggregate.ts";
import { syscallLatencyAnomalies } from "./alert.ts";
import { exportToApm, type ApmTarget } from "./apm.ts";
import { exportToOtlp, parseHeaderList, type OtlpTarget } from "./otlp.ts";
import { parseSpanBatch, type SpanBatch } from "./types.ts";

/** Slow spans logged per export (the rest are still counted and alerted; a flood must not flood the log). */
const SLOW_SPAN_LOG_MAX = 10;

export interface TraceBridgeOptions {
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  mqttCaFile?: string;
  mqttClientId?: string;
  mqttReconnectMaxMs?: number;
  prefix: string;
  apm?: ApmTarget;
  otlp?: OtlpTarget;
  exportIntervalMs: number;
  maxTraces: number;
  alertThresholdNs: number;
  /** Receives SyscallLatencyHigh anomalies after every export (wire into the alert pipeline). */
  onAnomalies?: (a: Anomaly[]) => void;
  log?: Logger;
  /** Where refused batches are counted (the controller's malformed-input counter). */
  rejects?: RejectSink;
  /** Exceptions caught in the message handler (counted by the controller). */
  onHandlerError?: (filter: string, error: unknown) => void;
  /** Every accepted batch (the OTLP intake joins its syscall spans to services by trace id). */
  onBatch?: (batch: SpanBatch) => void;
}

export function traceBridgeOptionsFromConfig(cfg: Config, log?: Logger): TraceBridgeOptions | undefined {
  if (!cfg.bool("TRACE_ENABLE") || !cfg.str("MQTT_URL")) return undefined;
  const apmUrl = cfg.str("TRACE_APM_SERVER_URL");
  const otlp = cfg.str("TRACE_OTLP_ENDPOINT");
  const mqtt = mqttOptionsFromConfig(cfg, { announceStatus: false, clientIdSuffix: "trace" });
  return {
    mqttUrl: mqtt.url,
    mqttUsername: mqtt.username,
    mqttPassword: mqtt.password,
    mqttCaFile: mqtt.caFile,
    mqttClientId: mqtt.clientId,
    mqttReconnectMaxMs: mqtt.reconnectMaxMs,
    prefix: mqtt.prefix,
    apm: apmUrl
      ? { serverUrl: apmUrl, secretToken: cfg.str("TRACE_APM_SECRET_TOKEN") || undefined, apiKey: cfg.str("TRACE_APM_API_KEY") || undefined }
      : undefined,
    otlp: otlp ? { endpoint: otlp, headers: parseHeaderList(cfg.list("TRACE_OTLP_HEADERS")) } : undefined,
    exportIntervalMs: cfg.ms("TRACE_EXPORT_INTERVAL"),
    maxTraces: cfg.num("TRACE_MAX_TRACES"),
    alertThresholdNs: cfg.ms("TRACE_ALERT_SYSCALL_LATENCY") * 1e6,
    log,
  };
}

export class TraceBridge {
  readonly aggregator: TraceAggregator;
  readonly connection: MqttConnection;
  readonly stats = { batches: 0, invalid: 0, exports: 0, apmErrors: 0, otlpErrors: 0, spansExported: 0 };
  private timer: ReturnType<typeof setInterval>;
  private exporting: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: TraceBridgeOptions) {
    this.log = (opts.log ?? silentLogger).child({ component: "trace-bridge" });
    this.aggregator = new TraceAggregator(opts.maxTraces);
    this.connection = new MqttConnection({
      url: opts.mqttUrl,
      prefix: opts.prefix,
      username: opts.mqttUsername,
      password: opts.mqttPassword,
      caFile: opts.mqttCaFile,
      clientId: opts.mqttClientId,
      reconnectMaxMs: opts.mqttReconnectMaxMs,
      logger: this.log,
      onHandlerError: opts.onHandlerError,
    });
    const rejects = opts.rejects ?? IGNORE_REJECTS;
    const counted: RejectSink = { reject: (source, reason, payload) => (this.stats.invalid++, rejects.reject(source, reason, payload)) };
    const topics = this.connection.topics;
    this.connection
      .subscribe(topics.spansAll, (topic, payload) => {
        const batch = parseSpanBatch(payload, { sink: counted, topicNode: topics.nodeOf(topic) ?? "" });
        if (!batch) return;
        this.stats.batches++;
        this.opts.onBatch?.(batch);
        if (this.aggregator.ingest(batch)) void this.exportNow();
      })
      .catch((e) => this.log.warn("cannot subscribe to the span topics", { error: String(e) }));
    this.timer = setInterval(() => void this.exportNow(), opts.exportIntervalMs);
  }

  /** The underlying mqtt.js client (tests check `connected`). */
  get client(): MqttClient {
    return this.connection.client;
  }

  /** Exports everything pending (serialised: one export at a time; a failing export never blocks the next). */
  exportNow(): Promise<void> {
    this.exporting = this.exporting
      .then(() => this.exportOnce(this.aggregator.take()))
      .catch((e) => this.log.error("span export failed", { error: String(e) }));
    return this.exporting;
  }

  /** One line per slow span, carrying its trace.id/span.id so Kibana links the log to the trace (first few per export). */
  private logSlowSpans(spans: AggregatedSpan[]): void {
    const threshold = this.opts.alertThresholdNs;
    if (!(threshold > 0)) return;
    let logged = 0;
    for (const s of spans) {
      if (s.maxNs < threshold || logged++ >= SLOW_SPAN_LOG_MAX) continue;
      const ms = Math.round(s.maxNs / 1e4) / 100;
      this.log.info("slow syscall in a traced span", {
        traceId: s.traceId,
        spanId: s.parentId,
        tracedService: s.service,
        syscall: s.syscall,
        maxMs: ms,
        node: s.node,
      });
    }
  }

  private async exportOnce(spans: AggregatedSpan[]): Promise<void> {
    if (!spans.length) return;
    this.stats.exports++;
    const signal = AbortSignal.timeout(10_000);
    const jobs: Promise<unknown>[] = [];
    if (this.opts.apm)
      jobs.push(
        exportToApm(this.opts.apm, spans, signal).catch(
          (e) => (this.stats.apmErrors++, this.log.warn("APM export failed", { error: (e as Error).message })),
        ),
      );
    if (this.opts.otlp)
      jobs.push(
        exportToOtlp(this.opts.otlp, spans, signal).catch(
          (e) => (this.stats.otlpErrors++, this.log.warn("OTLP export failed", { error: (e as Error).message })),
        ),
      );
    await Promise.all(jobs);
    this.stats.spansExported += spans.length;
    this.logSlowSpans(spans);
    const anomalies = syscallLatencyAnomalies(spans, this.opts.alertThresholdNs);
    if (anomalies.length) this.opts.onAnomalies?.(anomalies);
  }

  /** Stops: the last export is bounded by its own timeouts (10 s), the disconnect by the connection's. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.exportNow();
    await this.connection.close();
  }
}

// Controller side of the trace bridge: subscribes to <prefix>/spans/+, aggregates, and exports
// on a timer to Elastic APM and/or OTLP (each optional). Export failures are logged and counted;
// the batch is not retried (syscall spans are diagnostic data; a backlog would only grow).
import mqtt, { type MqttClient } from "mqtt";
import { readFileSync } from "node:fs";
import type { Config } from "../config/load.ts";
import { defaultTopicPrefix } from "../channels/mqtt-topics.ts";
import { silentLogger, type Logger } from "../log.ts";
import type { Anomaly } from "../watchers/types.ts";
import { TraceAggregator, type AggregatedSpan } from "./aggregate.ts";
import { syscallLatencyAnomalies } from "./alert.ts";
import { exportToApm, type ApmTarget } from "./apm.ts";
import { exportToOtlp, parseHeaderList, type OtlpTarget } from "./otlp.ts";
import { parseSpanBatch } from "./types.ts";

export interface TraceBridgeOptions {
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  mqttCaFile?: string;
  prefix: string;
  apm?: ApmTarget;
  otlp?: OtlpTarget;
  exportIntervalMs: number;
  maxTraces: number;
  alertThresholdNs: number;
  /** Receives SyscallLatencyHigh anomalies after every export (wire into the alert pipeline). */
  onAnomalies?: (a: Anomaly[]) => void;
  /** Counts an exception caught in the message handler (the message is skipped). */
  onHandlerError?: (error: unknown) => void;
  log?: Logger;
}

export function traceBridgeOptionsFromConfig(cfg: Config, log?: Logger): TraceBridgeOptions | undefined {
  if (!cfg.bool("TRACE_ENABLE") || !cfg.str("MQTT_URL")) return undefined;
  const apmUrl = cfg.str("TRACE_APM_SERVER_URL");
  const otlp = cfg.str("TRACE_OTLP_ENDPOINT");
  return {
    mqttUrl: cfg.str("MQTT_URL"),
    mqttUsername: cfg.str("MQTT_USERNAME") || undefined,
    mqttPassword: cfg.str("MQTT_PASSWORD") || undefined,
    mqttCaFile: cfg.str("MQTT_CA_FILE") || undefined,
    prefix: (cfg.str("MQTT_TOPIC_PREFIX") || defaultTopicPrefix(cfg.str("CLUSTER_ID"))).replace(/\/+$/, ""),
    apm: apmUrl ? { serverUrl: apmUrl, secretToken: cfg.str("TRACE_APM_SECRET_TOKEN") || undefined, apiKey: cfg.str("TRACE_APM_API_KEY") || undefined } : undefined,
    otlp: otlp ? { endpoint: otlp, headers: parseHeaderList(cfg.list("TRACE_OTLP_HEADERS")) } : undefined,
    exportIntervalMs: cfg.ms("TRACE_EXPORT_INTERVAL"),
    maxTraces: cfg.num("TRACE_MAX_TRACES"),
    alertThresholdNs: cfg.ms("TRACE_ALERT_SYSCALL_LATENCY") * 1e6,
    log,
  };
}

export class TraceBridge {
  readonly aggregator: TraceAggregator;
  readonly client: MqttClient;
  readonly stats = { batches: 0, invalid: 0, exports: 0, apmErrors: 0, otlpErrors: 0, spansExported: 0, handlerErrors: 0 };
  private timer: ReturnType<typeof setInterval>;
  private exporting: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: TraceBridgeOptions) {
    this.log = (opts.log ?? silentLogger).child({ component: "trace-bridge" });
    this.aggregator = new TraceAggregator(opts.maxTraces);
    const filter = `${opts.prefix}/spans/+`;
    this.client = mqtt.connect(opts.mqttUrl, {
      username: opts.mqttUsername,
      password: opts.mqttPassword,
      ca: opts.mqttCaFile ? readFileSync(opts.mqttCaFile) : undefined,
      reconnectPeriod: 1000,
    });
    this.client.on("connect", () => this.client.subscribe(filter, { qos: 1 }));
    this.client.on("error", (e) => this.log.warn("mqtt error", { error: e.message }));
    this.client.on("message", (topic, payload) => {
      // Whatever a message does to the parser or the aggregator, it must not escape into mqtt.js
      // (an uncaught exception there stops later messages and can wedge shutdown).
      try {
        const batch = parseSpanBatch(payload);
        if (!batch) {
          this.stats.invalid++;
          return;
        }
        this.stats.batches++;
        if (this.aggregator.ingest(batch)) void this.exportNow();
      } catch (e) {
        this.stats.handlerErrors++;
        this.log.error("span message handler failed; message skipped", { topic, bytes: payload.length, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        try {
          this.opts.onHandlerError?.(e);
        } catch {}
      }
    });
    this.timer = setInterval(() => void this.exportNow(), opts.exportIntervalMs);
  }

  /** Exports everything pending (serialised: one export at a time). */
  exportNow(): Promise<void> {
    this.exporting = this.exporting.then(() => this.exportOnce(this.aggregator.take()));
    return this.exporting;
  }

  private async exportOnce(spans: AggregatedSpan[]): Promise<void> {
    if (!spans.length) return;
    this.stats.exports++;
    const signal = AbortSignal.timeout(10_000);
    const jobs: Promise<unknown>[] = [];
    if (this.opts.apm)
      jobs.push(exportToApm(this.opts.apm, spans, signal).catch((e) => (this.stats.apmErrors++, this.log.warn("APM export failed", { error: (e as Error).message }))));
    if (this.opts.otlp)
      jobs.push(exportToOtlp(this.opts.otlp, spans, signal).catch((e) => (this.stats.otlpErrors++, this.log.warn("OTLP export failed", { error: (e as Error).message }))));
    await Promise.all(jobs);
    this.stats.spansExported += spans.length;
    const anomalies = syscallLatencyAnomalies(spans, this.opts.alertThresholdNs);
    if (anomalies.length) this.opts.onAnomalies?.(anomalies);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.exportNow();
    await this.client.endAsync();
  }
}

// An OTLP load generator for tests and benches: server spans with a chosen latency and error profile
// per service, built with the real OpenTelemetry JS SDK and sent by its real OTLP/HTTP exporters
// (protobuf or JSON), so what the controller receives is exactly what an instrumented app sends.
//
//   await sendOtlpTraffic({ url: `${base}/v1/traces`, services: [{ service: "web", namespace: "shop",
//     deployment: "web", requests: 500, latencyMs: profile({ p50: 40, p99: 400 }), errorRatio: 0.02 }] });
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";

export interface ServiceTraffic {
  service: string;
  namespace?: string;
  deployment?: string;
  /** Server spans to send. */
  requests: number;
  /** The i-th request's latency in ms (a number: every request takes that long). */
  latencyMs: number | ((i: number) => number);
  /** Fraction of requests with status ERROR, spread evenly (deterministic). Default 0. */
  errorRatio?: number;
  /** Child spans (kind INTERNAL) per request, which the intake must not count as requests. Default 0. */
  childSpans?: number;
}

export interface OtlpTrafficOptions {
  /** Full URL of the receiver, e.g. http://127.0.0.1:9873/v1/traces. */
  url: string;
  services: ServiceTraffic[];
  format?: "protobuf" | "json";
  /** Sent as Authorization: Bearer <token>. */
  token?: string;
  gzip?: boolean;
  /** When the last request of each service ends (epoch ms, default now); requests are spread over `spreadMs` before it. */
  endTimeMs?: number;
  spreadMs?: number;
  /** Spans per export request (default 512). */
  batchSize?: number;
}

export interface OtlpTrafficResult {
  /** Export requests the exporter reported as succeeded / failed. */
  exported: number;
  failed: number;
  spans: number;
  errors: string[];
  /** The trace ids of each service's requests, in order (to join other data, e.g. syscall spans, to them). */
  traceIds: Record<string, string[]>;
}

/**
 * A latency profile whose nearest-rank quantiles are about the given ones: the 99 % fastest requests spread
 * evenly between p50/2 and p50 ×2 … up to p99, the slowest 1 % between p99 and p99 × 1.5. Deterministic.
 */
export function profile(p: { p50: number; p99: number }): (i: number) => number {
  return (i) => {
    const u = ((i * 0.6180339887498949) % 1) as number; // evenly spread, no clustering
    if (u < 0.5) return p.p50 * (0.5 + u);
    if (u < 0.99) return p.p50 + ((u - 0.5) / 0.49) * (p.p99 - p.p50);
    return p.p99 * (1 + (u - 0.99) * 50);
  };
}

/** Builds the spans with the SDK (explicit start and end times), then exports them in batches. */
export async function sendOtlpTraffic(opts: OtlpTrafficOptions): Promise<OtlpTrafficResult> {
  const result: OtlpTrafficResult = { exported: 0, failed: 0, spans: 0, errors: [], traceIds: {} };
  const endTimeMs = opts.endTimeMs ?? Date.now();
  const spreadMs = opts.spreadMs ?? 1000;
  const batchSize = opts.batchSize ?? 512;
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const config = { url: opts.url, headers, timeoutMillis: 10_000, ...(opts.gzip ? { compression: "gzip" as never } : {}) };
  const exporter: SpanExporter = opts.format === "json" ? new JsonExporter(config) : new ProtoExporter(config);
  try {
    for (const svc of opts.services) {
      const spans = buildSpans(svc, endTimeMs, spreadMs);
      result.spans += spans.length;
      result.traceIds[svc.service] = spans.filter((s) => s.kind === SpanKind.SERVER).map((s) => s.spanContext().traceId);
      for (let at = 0; at < spans.length; at += batchSize) {
        const r = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans.slice(at, at + batchSize), resolve));
        if (r.code === 0) result.exported++;
        else {
          result.failed++;
          result.errors.push(String(r.error?.message ?? r.error));
        }
      }
    }
  } finally {
    await exporter.shutdown();
  }
  return result;
}

function buildSpans(svc: ServiceTraffic, endTimeMs: number, spreadMs: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const attributes: Record<string, string> = { "service.name": svc.service };
  if (svc.namespace) attributes["k8s.namespace.name"] = svc.namespace;
  if (svc.deployment) attributes["k8s.deployment.name"] = svc.deployment;
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(attributes), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer("neurocontroller-testkit");
  const ratio = svc.errorRatio ?? 0;
  for (let i = 0; i < svc.requests; i++) {
    const latency = typeof svc.latencyMs === "number" ? svc.latencyMs : svc.latencyMs(i);
    const end = endTimeMs - (svc.requests > 1 ? Math.round(((svc.requests - 1 - i) / (svc.requests - 1)) * spreadMs) : 0);
    const start = end - latency;
    const span = tracer.startSpan("GET /", { kind: SpanKind.SERVER, startTime: start });
    for (let c = 0; c < (svc.childSpans ?? 0); c++) {
      const ctx = { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, traceFlags: 1 };
      const child = tracer.startSpan("db", { kind: SpanKind.INTERNAL, startTime: start }, trace.setSpanContext(context.active(), ctx));
      child.end(start + latency / 2);
    }
    if (Math.floor((i + 1) * ratio) > Math.floor(i * ratio)) span.setStatus({ code: SpanStatusCode.ERROR, message: "injected" });
    span.end(end);
  }
  return memory.getFinishedSpans();
}

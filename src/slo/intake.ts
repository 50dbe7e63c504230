// POST /v1/traces: the OTLP/HTTP trace receiver (docs/otlp.md). Any OpenTelemetry SDK or Collector
// can send here; entry spans (SERVER, or roots) feed the per-service RED windows, every span's trace id
// feeds the syscall join. Off the loopback a bearer token is required. The body is bounded before and
// after gzip decompression (413); structure errors answer 400; each refusal is counted by result and
// in neurocontroller_malformed_input_total{source="otlp"}. Nothing of a request outlives it except the
// counters and histograms.
import { gunzipSync } from "node:zlib";
import { parseAt, type RejectSink } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import type { Counter, Gauge, Registry } from "../http/metrics.ts";
import { BodyTooLarge, bearerMatches, type HttpRoute, isLoopback, readBoundedBody, type RequestInfo } from "../http/routes.ts";
import type { SpanBatch } from "../trace/types.ts";
import {
  type DecodedRequest,
  decodeJson,
  decodeProtobuf,
  encodeProtobufResponse,
  encodeProtobufStatus,
  jsonResponse,
  otlpJsonRequestSchema,
} from "./otlp-decode.ts";
import { RedWindows } from "./red.ts";
import { SyscallJoin } from "./syscall-join.ts";

export const OTLP_SOURCE = "otlp";
export const OTLP_TRACES_PATH = "/v1/traces";

export interface OtlpIntakeOptions {
  /** Required of peers off the loopback; "" = loopback only. */
  token: string;
  maxBodyBytes: number;
  slotMs: number;
  windowMs: number;
  maxServices: number;
  rejects: RejectSink;
  /** Where the intake's counters and gauges are registered (the controller's /metrics). */
  registry: Registry;
  /** Receive time (tests inject one); span end times ahead of it by more than MAX_CLOCK_SKEW_MS are clamped to it. */
  clock?: () => number;
}

/**
 * A sender's clock may run ahead a little; a span "ending" further in the future than this is counted
 * as ending now, so a wrong clock (or a hostile sender) cannot push a service's windows ahead of time and
 * make every real span look too old.
 */
export const MAX_CLOCK_SKEW_MS = 60_000;

type Result = "ok" | "partial" | "malformed" | "too_large" | "unauthorized" | "unsupported_media_type" | "method_not_allowed" | "busy";

/** Requests decoded at once; more are answered 429 (OTLP senders retry it after Retry-After). */
export const MAX_IN_FLIGHT = 4;

// google.rpc.Code values used in error bodies.
const INVALID_ARGUMENT = 3;
const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;

export class OtlpIntake {
  /** RED figures of the services' entry spans (the contract the SLO policies read). */
  readonly red: RedWindows;
  /** The agent's syscall latency of traced requests, per service (see syscall-join.ts for what one observation is). */
  readonly syscalls: RedWindows;
  readonly join: SyscallJoin;
  private readonly requests: Counter;
  private readonly spans: Counter;
  private readonly gauges: { services: Gauge; buckets: Gauge };
  private readonly evictions: Counter;
  private inFlight = 0;
  private readonly syscallSpans: Counter;

  constructor(private readonly opts: OtlpIntakeOptions) {
    const windows = { slotMs: opts.slotMs, windowMs: opts.windowMs, maxServices: opts.maxServices };
    this.red = new RedWindows(windows);
    this.syscalls = new RedWindows(windows);
    this.join = new SyscallJoin(this.syscalls, { clock: opts.clock });
    const r = opts.registry;
    this.requests = r.counter("neurocontroller_otlp_requests_total", "OTLP/HTTP trace requests on /v1/traces, per result.", ["result"]);
    this.spans = r.counter(
      "neurocontroller_otlp_spans_total",
      "Spans received over OTLP, per outcome: recorded (entry spans in the RED windows), other (non-entry spans: trace id only), rejected (invalid).",
      ["outcome"],
    );
    this.syscallSpans = r.counter(
      "neurocontroller_otlp_syscall_spans_total",
      "Agent syscall spans joined to an OTLP service by trace id (joined), or dropped while waiting for their trace's entry span (dropped).",
      ["outcome"],
    );
    this.evictions = r.counter(
      "neurocontroller_otlp_red_evictions_total",
      "Services evicted from the RED windows (requests or syscalls) to make room for a new one.",
    );
    this.gauges = {
      services: r.gauge("neurocontroller_otlp_red_services", "Services with RED windows (bounded by SLO_OTLP_MAX_SERVICES)."),
      buckets: r.gauge(
        "neurocontroller_otlp_red_retained_buckets",
        "Time slots holding a latency histogram, request and syscall windows together (bounded).",
      ),
    };
  }

  /** The route to register on the HTTP server. */
  route(): HttpRoute {
    return { path: OTLP_TRACES_PATH, handle: (req, info) => this.handle(req, info) };
  }

  /** Agent span batches (the trace bridge) join the OTLP services by trace id. */
  syscallBatch(batch: SpanBatch): void {
    this.join.syscallSpans(batch.spans);
    this.publishGauges();
  }

  async handle(req: Request, info: RequestInfo): Promise<Response> {
    const json = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase() === "application/json";
    if (req.method !== "POST") return this.refuse("method_not_allowed", 405, "only POST is accepted on /v1/traces", json, 0, { allow: "POST" });
    const denied = this.authenticate(req, info, json);
    if (denied) return denied;
    const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json" && type !== "application/x-protobuf")
      return this.refuse(
        "unsupported_media_type",
        415,
        `unsupported content type ${JSON.stringify(type)}: send application/x-protobuf or application/json`,
        json,
        0,
      );
    const encoding = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
    if (encoding !== "identity" && encoding !== "gzip")
      return this.refuse("unsupported_media_type", 415, `unsupported content encoding ${JSON.stringify(encoding)}: send gzip or none`, json, 0);
    // Memory is bounded by requests in flight × SLO_OTLP_MAX_BODY (a few copies each while decoding).
    if (this.inFlight >= MAX_IN_FLIGHT)
      return this.refuse("busy", 429, `more than ${MAX_IN_FLIGHT} OTLP requests in flight: retry later`, json, RESOURCE_EXHAUSTED, {
        "retry-after": "1",
      });
    this.inFlight++;
    try {
      return await this.ingest(req, json, encoding);
    } finally {
      this.inFlight--;
    }
  }

  private async ingest(req: Request, json: boolean, encoding: string): Promise<Response> {
    let body: Uint8Array;
    try {
      body = await readBoundedBody(req, this.opts.maxBodyBytes);
      if (encoding === "gzip") body = gunzipSync(body, { maxOutputLength: this.opts.maxBodyBytes });
    } catch (e) {
      if (e instanceof BodyTooLarge || e instanceof RangeError) {
        const reason = `request body larger than ${this.opts.maxBodyBytes} bytes (SLO_OTLP_MAX_BODY)${encoding === "gzip" ? " after decompression" : ""}`;
        this.opts.rejects.reject(OTLP_SOURCE, reason);
        return this.refuse("too_large", 413, reason, json, RESOURCE_EXHAUSTED);
      }
      return this.malformed(`cannot read the body: ${(e as Error).message}`, json);
    }
    let decoded: DecodedRequest;
    if (json) {
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder().decode(body));
      } catch (e) {
        return this.malformed(`not JSON: ${(e as Error).message}`, json, body);
      }
      const parsed = parseAt(otlpJsonRequestSchema, value, OTLP_SOURCE, this.opts.rejects);
      if (!parsed.ok) return this.refuse("malformed", 400, `not an OTLP ExportTraceServiceRequest: ${parsed.reason}`, json, INVALID_ARGUMENT);
      decoded = decodeJson(parsed.value);
    } else {
      try {
        decoded = decodeProtobuf(body);
      } catch (e) {
        return this.malformed(`not an OTLP ExportTraceServiceRequest in protobuf: ${(e as Error).message}`, json, body);
      }
    }
    return this.accept(decoded, json);
  }

  private accept(decoded: DecodedRequest, json: boolean): Response {
    let recorded = 0;
    const now = (this.opts.clock ?? Date.now)();
    for (const s of decoded.spans) {
      if (!s.entry) continue;
      this.red.record(s.service, s.durationMs, s.error, s.endTimeMs > now + MAX_CLOCK_SKEW_MS ? now : s.endTimeMs);
      this.join.entrySpan(s.traceId, s.service);
      recorded++;
    }
    this.spans.inc({ outcome: "recorded" }, recorded);
    this.spans.inc({ outcome: "other" }, decoded.spans.length - recorded);
    if (decoded.rejected) {
      this.spans.inc({ outcome: "rejected" }, decoded.rejected);
      this.opts.rejects.reject(OTLP_SOURCE, `${decoded.rejected} span(s) rejected: ${decoded.firstRejection}`);
    }
    this.requests.inc({ result: decoded.rejected ? "partial" : "ok" });
    this.publishGauges();
    const message = decoded.rejected ? `${decoded.rejected} span(s) rejected: ${decoded.firstRejection}` : "";
    if (json) return Response.json(jsonResponse(decoded.rejected, message));
    return new Response(encodeProtobufResponse(decoded.rejected, message), { headers: { "content-type": "application/x-protobuf" } });
  }

  private authenticate(req: Request, info: RequestInfo, json: boolean): Response | undefined {
    if (isLoopback(info.remoteAddress)) return undefined;
    if (!this.opts.token) {
      this.opts.rejects.reject(OTLP_SOURCE, `request from ${info.remoteAddress || "an unknown peer"} refused: no SLO_OTLP_TOKEN is configured`);
      return this.refuse(
        "unauthorized",
        403,
        "OTLP intake accepts only loopback peers until SLO_OTLP_TOKEN is set on the controller",
        json,
        PERMISSION_DENIED,
      );
    }
    if (bearerMatches(req, this.opts.token)) return undefined;
    this.opts.rejects.reject(OTLP_SOURCE, `request from ${info.remoteAddress || "an unknown peer"} refused: missing or wrong bearer token`);
    return this.refuse("unauthorized", 401, "missing or wrong bearer token (Authorization: Bearer <SLO_OTLP_TOKEN>)", json, UNAUTHENTICATED, {
      "www-authenticate": 'Bearer realm="otlp"',
    });
  }

  private malformed(reason: string, json: boolean, body?: Uint8Array): Response {
    this.opts.rejects.reject(OTLP_SOURCE, reason, body);
    return this.refuse("malformed", 400, reason, json, INVALID_ARGUMENT);
  }

  /** Counts the result and answers with a google.rpc.Status in the request's encoding. */
  private refuse(result: Result, status: number, message: string, json: boolean, code: number, headers: Record<string, string> = {}): Response {
    this.requests.inc({ result });
    if (json || code === 0) return Response.json({ code, message }, { status, headers });
    return new Response(encodeProtobufStatus(code, message), { status, headers: { "content-type": "application/x-protobuf", ...headers } });
  }

  private publishGauges(): void {
    this.syscallSpans.advanceTo(this.join.stats.joined, { outcome: "joined" });
    this.syscallSpans.advanceTo(this.join.stats.pendingDropped, { outcome: "dropped" });
    this.gauges.services.set(this.red.services().length);
    this.gauges.buckets.set(this.red.retainedBuckets() + this.syscalls.retainedBuckets());
    this.evictions.advanceTo(this.red.evictions + this.syscalls.evictions);
  }
}

/** The intake from the configuration, or undefined when SLO_OTLP_ENABLED is off. */
export function otlpIntakeFromConfig(cfg: Config, registry: Registry, rejects: RejectSink): OtlpIntake | undefined {
  if (!cfg.bool("SLO_OTLP_ENABLED")) return undefined;
  return new OtlpIntake({
    token: cfg.str("SLO_OTLP_TOKEN"),
    maxBodyBytes: cfg.num("SLO_OTLP_MAX_BODY"),
    slotMs: cfg.ms("SLO_OTLP_SLOT"),
    windowMs: cfg.ms("SLO_OTLP_WINDOW"),
    maxServices: cfg.num("SLO_OTLP_MAX_SERVICES"),
    rejects,
    registry,
  });
}

// OTLP/HTTP trace requests (ExportTraceServiceRequest) in both encodings the specification allows,
// reduced to what the RED windows need: per span its trace id, service (resource attributes), whether
// it is a server-side entry span, its status and its times. Protobuf is decoded by protobufjs with a
// message subset written from the OTLP specification's field numbers (unknown fields — events, links,
// span attributes — are skipped by the decoder, which also keeps decoding cheap). JSON is checked with
// zod. A request whose structure is wrong is refused whole (400); a single span with an invalid id or
// times is dropped and counted as rejected (the response's partial_success).
import protobuf from "protobufjs/light.js";
import { z } from "../boundary/reject.ts";
import type { ServiceKey } from "./red.ts";

/** Span.SpanKind values. */
export const SPAN_KIND = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** Status.StatusCode.ERROR */
export const STATUS_ERROR = 2;
/** Longest attribute value kept (service, namespace and deployment names). */
export const MAX_NAME_LENGTH = 253;

/** One span of a request, as the intake uses it. */
export interface DecodedSpan {
  /** 32 lowercase hex digits. */
  traceId: string;
  service: ServiceKey;
  /** Kind SERVER, or a root span that is not a CLIENT or PRODUCER (a request entering the service). */
  entry: boolean;
  error: boolean;
  durationMs: number;
  endTimeMs: number;
}

export interface DecodedRequest {
  spans: DecodedSpan[];
  /** Spans dropped for an invalid trace id or times, with the first reason. */
  rejected: number;
  firstRejection?: string;
}

// The subset of opentelemetry/proto (collector/trace/v1, trace/v1, resource/v1, common/v1) read here.
const root = protobuf.Root.fromJSON({
  nested: {
    otlp: {
      nested: {
        AnyValue: { fields: { stringValue: { type: "string", id: 1 } } },
        KeyValue: { fields: { key: { type: "string", id: 1 }, value: { type: "AnyValue", id: 2 } } },
        Resource: { fields: { attributes: { rule: "repeated", type: "KeyValue", id: 1 } } },
        Status: { fields: { code: { type: "int32", id: 3 } } },
        Span: {
          fields: {
            traceId: { type: "bytes", id: 1 },
            parentSpanId: { type: "bytes", id: 4 },
            kind: { type: "int32", id: 6 },
            startTimeUnixNano: { type: "fixed64", id: 7 },
            endTimeUnixNano: { type: "fixed64", id: 8 },
            status: { type: "Status", id: 15 },
          },
        },
        ScopeSpans: { fields: { spans: { rule: "repeated", type: "Span", id: 2 } } },
        ResourceSpans: { fields: { resource: { type: "Resource", id: 1 }, scopeSpans: { rule: "repeated", type: "ScopeSpans", id: 2 } } },
        ExportTraceServiceRequest: { fields: { resourceSpans: { rule: "repeated", type: "ResourceSpans", id: 1 } } },
        ExportTracePartialSuccess: { fields: { rejectedSpans: { type: "int64", id: 1 }, errorMessage: { type: "string", id: 2 } } },
        ExportTraceServiceResponse: { fields: { partialSuccess: { type: "ExportTracePartialSuccess", id: 1 } } },
        // google.rpc.Status: the body of an OTLP/HTTP error response.
        RpcStatus: { fields: { code: { type: "int32", id: 1 }, message: { type: "string", id: 2 } } },
      },
    },
  },
});
const RequestType = root.lookupType("otlp.ExportTraceServiceRequest");
const ResponseType = root.lookupType("otlp.ExportTraceServiceResponse");
const RpcStatusType = root.lookupType("otlp.RpcStatus");

/** Fixed64 as protobufjs gives it: a Long (with the long package), or a plain number. */
type Fixed64 = number | { toNumber(): number; toString(): string } | null | undefined;

interface RawSpan {
  traceId: string;
  root: boolean;
  kind: number;
  start: bigint | undefined;
  end: bigint | undefined;
  statusCode: number;
}

interface RawResourceSpans {
  attributes: Map<string, string>;
  spans: RawSpan[];
}

/** Decodes an application/x-protobuf body; throws with the decoder's reason when it is not one. */
export function decodeProtobuf(body: Uint8Array): DecodedRequest {
  // biome-ignore lint/suspicious/noExplicitAny: protobufjs messages are untyped
  const msg = RequestType.decode(body) as any;
  const groups: RawResourceSpans[] = [];
  for (const rs of msg.resourceSpans ?? []) {
    const attributes = new Map<string, string>();
    for (const kv of rs.resource?.attributes ?? []) if (typeof kv.value?.stringValue === "string") attributes.set(kv.key, kv.value.stringValue);
    const spans: RawSpan[] = [];
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        spans.push({
          traceId: Buffer.from(s.traceId ?? []).toString("hex"),
          root: !s.parentSpanId?.length,
          kind: s.kind ?? 0,
          start: fixed64(s.startTimeUnixNano),
          end: fixed64(s.endTimeUnixNano),
          statusCode: s.status?.code ?? 0,
        });
    groups.push({ attributes, spans });
  }
  return reduce(groups);
}

function fixed64(v: Fixed64): bigint | undefined {
  if (v === null || v === undefined) return undefined;
  return BigInt(typeof v === "number" ? Math.trunc(v) : v.toString());
}

// OTLP/JSON (the protobuf JSON mapping with hex ids and integer enums): 64-bit integers may be
// strings or numbers (a number of nanoseconds is past 2^53 and has lost its last digits: harmless here).
const uint64 = z.union([
  z.string().regex(/^\d{1,20}$/, "expected decimal nanoseconds"),
  z
    .number()
    .nonnegative()
    .max(2 ** 64),
]);
const toBigInt = (v: string | number | undefined) => (v === undefined ? undefined : BigInt(typeof v === "number" ? Math.trunc(v) : v));
const anyValue = z.object({ stringValue: z.string().optional() }).nullish();
const keyValue = z.object({ key: z.string(), value: anyValue });
const jsonSpan = z.object({
  traceId: z.string().max(64).optional(),
  parentSpanId: z.string().max(64).optional(),
  kind: z.number().int().optional(),
  startTimeUnixNano: uint64.optional(),
  endTimeUnixNano: uint64.optional(),
  status: z.object({ code: z.number().int().optional() }).nullish(),
});
export const otlpJsonRequestSchema = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes: z.array(keyValue).optional() }).nullish(),
        scopeSpans: z.array(z.object({ spans: z.array(jsonSpan).optional() })).optional(),
      }),
    )
    .optional(),
});

/** Reduces an already schema-checked OTLP/JSON request. */
export function decodeJson(req: z.output<typeof otlpJsonRequestSchema>): DecodedRequest {
  const groups: RawResourceSpans[] = (req.resourceSpans ?? []).map((rs) => {
    const attributes = new Map<string, string>();
    for (const kv of rs.resource?.attributes ?? []) if (typeof kv.value?.stringValue === "string") attributes.set(kv.key, kv.value.stringValue);
    const spans = (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: (s.traceId ?? "").toLowerCase(),
        root: !s.parentSpanId,
        kind: s.kind ?? 0,
        start: toBigInt(s.startTimeUnixNano),
        end: toBigInt(s.endTimeUnixNano),
        statusCode: s.status?.code ?? 0,
      })),
    );
    return { attributes, spans };
  });
  return reduce(groups);
}

const HEX32 = /^[0-9a-f]{32}$/;
const MAX_SPAN_NS = 86_400_000_000_000n;

function reduce(groups: RawResourceSpans[]): DecodedRequest {
  const out: DecodedRequest = { spans: [], rejected: 0 };
  const reject = (reason: string) => {
    out.rejected++;
    out.firstRejection ??= reason;
  };
  for (const g of groups) {
    const service = serviceKeyOf(g.attributes);
    for (const s of g.spans) {
      if (!service) {
        reject("resource without a usable service.name");
        continue;
      }
      if (!HEX32.test(s.traceId) || /^0+$/.test(s.traceId)) {
        reject("span with an invalid trace id (expected 16 bytes, not all zero)");
        continue;
      }
      if (s.start === undefined || s.end === undefined || s.start <= 0n || s.end < s.start || s.end - s.start > MAX_SPAN_NS) {
        reject("span without valid start and end times (end before start, missing, or longer than a day)");
        continue;
      }
      out.spans.push({
        traceId: s.traceId,
        service,
        entry: s.kind === SPAN_KIND.SERVER || (s.root && s.kind !== SPAN_KIND.CLIENT && s.kind !== SPAN_KIND.PRODUCER),
        error: s.statusCode === STATUS_ERROR,
        durationMs: Number(s.end - s.start) / 1e6,
        endTimeMs: Number(s.end / 1_000_000n),
      });
    }
  }
  return out;
}

const LABEL = /^[\x21-\x7e]+$/;

/** service.name, k8s.namespace.name and k8s.deployment.name; undefined without a printable service.name. */
export function serviceKeyOf(attributes: Map<string, string>): ServiceKey | undefined {
  const clean = (v: string | undefined) => (v !== undefined && v.length <= MAX_NAME_LENGTH && LABEL.test(v) && !v.includes("/") ? v : undefined);
  const service = clean(attributes.get("service.name"));
  if (!service) return undefined;
  const key: ServiceKey = { service, namespace: clean(attributes.get("k8s.namespace.name")) ?? "" };
  const deployment = clean(attributes.get("k8s.deployment.name"));
  if (deployment) key.deployment = deployment;
  return key;
}

/** The ExportTraceServiceResponse, protobuf-encoded. */
export function encodeProtobufResponse(rejected: number, message: string): Uint8Array<ArrayBuffer> {
  const body = rejected > 0 ? { partialSuccess: { rejectedSpans: rejected, errorMessage: message } } : {};
  return new Uint8Array(ResponseType.encode(ResponseType.create(body)).finish());
}

/** The ExportTraceServiceResponse in OTLP/JSON. */
export function jsonResponse(rejected: number, message: string): Record<string, unknown> {
  return rejected > 0 ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {};
}

/** A google.rpc.Status, protobuf-encoded (the body of an OTLP/HTTP error answer). */
export function encodeProtobufStatus(code: number, message: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(RpcStatusType.encode(RpcStatusType.create({ code, message })).finish());
}

/** Decodes a response (tests and the load generator read partial_success with it). */
export function decodeProtobufResponse(body: Uint8Array): { rejectedSpans: number; errorMessage: string } {
  // biome-ignore lint/suspicious/noExplicitAny: protobufjs messages are untyped
  const msg = ResponseType.decode(body) as any;
  const ps = msg.partialSuccess;
  return { rejectedSpans: ps ? Number(ps.rejectedSpans?.toString() ?? 0) : 0, errorMessage: ps?.errorMessage ?? "" };
}

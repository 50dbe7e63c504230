// OTLP/HTTP JSON export (ExportTraceServiceRequest): resourceSpans per service, one scope
// (this agent), spans with hex trace/span ids and nanosecond timestamps as decimal strings —
// the JSON mapping of the protobuf (64-bit integers as strings, ids as hex, not base64).
import { VERSION } from "../version.ts";
import { byService, newSpanId, type AggregatedSpan } from "./aggregate.ts";

const SPAN_KIND_INTERNAL = 1;
const STATUS_ERROR = 2;

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number };
const attr = (key: string, v: string | number) => ({
  key,
  value: (typeof v === "string" ? { stringValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) as AnyValue,
});

function spansOf(s: AggregatedSpan): object[] {
  const base = [attr("syscall.name", s.syscall), attr("syscall.nr", s.nr), attr("process.pid", s.pid)];
  const out: object[] = [
    {
      traceId: s.traceId,
      spanId: newSpanId(),
      parentSpanId: s.parentId,
      name: `syscall ${s.syscall}`,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: s.startUnixNano,
      endTimeUnixNano: s.endUnixNano,
      attributes: [
        ...base,
        attr("syscall.count", s.count),
        attr("syscall.total_ns", s.totalNs),
        attr("syscall.max_ns", s.maxNs),
        attr("syscall.threads", s.threads),
      ],
    },
  ];
  for (const o of s.slow) {
    out.push({
      traceId: s.traceId,
      spanId: newSpanId(),
      parentSpanId: s.parentId,
      name: `syscall ${s.syscall} (slow)`,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: o.startUnixNano,
      endTimeUnixNano: (BigInt(o.startUnixNano) + BigInt(o.durNs)).toString(),
      attributes: [...base, attr("thread.id", o.tid), attr("syscall.ret", o.ret)],
      ...(o.ret < 0 ? { status: { code: STATUS_ERROR, message: `errno ${-o.ret}` } } : {}),
    });
  }
  return out;
}

export function toOtlpRequest(spans: AggregatedSpan[]): { resourceSpans: object[] } {
  const resourceSpans: object[] = [];
  for (const [service, list] of byService(spans)) {
    // One resource per (service, node): host.name is a resource attribute in OTel semantics.
    const nodes = new Map<string, AggregatedSpan[]>();
    for (const s of list) nodes.set(s.node, [...(nodes.get(s.node) ?? []), s]);
    for (const [node, items] of nodes) {
      resourceSpans.push({
        resource: { attributes: [attr("service.name", service), attr("host.name", node)] },
        scopeSpans: [{ scope: { name: "neurocontroller.ebpf", version: VERSION }, spans: items.flatMap(spansOf) }],
      });
    }
  }
  return { resourceSpans };
}

export interface OtlpTarget {
  endpoint: string;
  headers?: Record<string, string>;
}

export function otlpTracesUrl(endpoint: string): string {
  const e = endpoint.replace(/\/+$/, "");
  return e.endsWith("/v1/traces") ? e : `${e}/v1/traces`;
}

/** Parses TRACE_OTLP_HEADERS entries ("name=value"). */
export function parseHeaderList(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf("=");
    if (i > 0) out[item.slice(0, i).trim().toLowerCase()] = item.slice(i + 1).trim();
  }
  return out;
}

export async function exportToOtlp(target: OtlpTarget, spans: AggregatedSpan[], signal?: AbortSignal): Promise<void> {
  const res = await fetch(otlpTracesUrl(target.endpoint), {
    method: "POST",
    headers: { ...target.headers, "content-type": "application/json" },
    body: JSON.stringify(toOtlpRequest(spans)),
    signal,
  });
  if (!res.ok) throw new Error(`OTLP endpoint answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

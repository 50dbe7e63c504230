// Elastic APM intake v2: one NDJSON request per service — a `metadata` line, then one `span` line
// per (syscall, process) aggregate and one per slow outlier. parent_id is the application's span
// and transaction_id its transaction, so Kibana draws the syscalls inside the request's waterfall.
// Aggregates use APM's `composite` (count/sum) — the form APM agents use for compressed spans.
import { VERSION } from "../version.ts";
import { byService, newSpanId, type AggregatedSpan } from "./aggregate.ts";

export const APM_AGENT_NAME = "neurocontroller-ebpf";

const usFromNano = (ns: string) => Number(BigInt(ns) / 1000n);
const ms = (ns: number) => ns / 1e6;

export function apmSpanLines(s: AggregatedSpan): object[] {
  const common = {
    trace_id: s.traceId,
    parent_id: s.parentId,
    transaction_id: s.transactionId ?? s.parentId,
    type: "syscall",
    subtype: s.syscall,
    sync: true,
    otel: { attributes: { "syscall.name": s.syscall, "syscall.nr": s.nr, "process.pid": s.pid, "host.name": s.node } },
  };
  const gross = Math.max(0, Number(BigInt(s.endUnixNano) - BigInt(s.startUnixNano)));
  const lines: object[] = [
    {
      span: {
        ...common,
        id: newSpanId(),
        name: `syscall ${s.syscall}`,
        timestamp: usFromNano(s.startUnixNano),
        // A composite's duration is gross (first start to last end); a single call's is its own.
        duration: ms(s.count >= 2 ? Math.max(gross, s.maxNs) : s.totalNs),
        ...(s.count >= 2 ? { composite: { compression_strategy: "exact_match", count: s.count, sum: ms(s.totalNs) } } : {}),
        otel: {
          attributes: {
            ...common.otel.attributes,
            "syscall.count": s.count,
            "syscall.total_ns": s.totalNs,
            "syscall.max_ns": s.maxNs,
            "syscall.threads": s.threads,
          },
        },
      },
    },
  ];
  for (const o of s.slow) {
    lines.push({
      span: {
        ...common,
        id: newSpanId(),
        name: `syscall ${s.syscall} (slow)`,
        timestamp: usFromNano(o.startUnixNano),
        duration: ms(o.durNs),
        outcome: o.ret < 0 ? "failure" : "success",
        otel: { attributes: { ...common.otel.attributes, "thread.id": o.tid, "syscall.ret": o.ret } },
      },
    });
  }
  return lines;
}

/** NDJSON bodies, one per service. */
export function toApmNdjson(spans: AggregatedSpan[]): { service: string; body: string }[] {
  const out: { service: string; body: string }[] = [];
  for (const [service, list] of byService(spans)) {
    const metadata = {
      metadata: {
        service: { name: service, agent: { name: APM_AGENT_NAME, version: VERSION } },
        system: { detected_hostname: list[0]!.node },
      },
    };
    const lines = [metadata, ...list.flatMap(apmSpanLines)];
    out.push({ service, body: lines.map((l) => JSON.stringify(l)).join("\n") + "\n" });
  }
  return out;
}

export interface ApmTarget {
  serverUrl: string;
  secretToken?: string;
  apiKey?: string;
}

/** POSTs each service's NDJSON to <server>/intake/v2/events; throws with the server's answer on failure. */
export async function exportToApm(target: ApmTarget, spans: AggregatedSpan[], signal?: AbortSignal): Promise<number> {
  let sent = 0;
  const url = `${target.serverUrl.replace(/\/+$/, "")}/intake/v2/events`;
  const headers: Record<string, string> = { "content-type": "application/x-ndjson" };
  if (target.apiKey) headers.authorization = `ApiKey ${target.apiKey}`;
  else if (target.secretToken) headers.authorization = `Bearer ${target.secretToken}`;
  for (const { body } of toApmNdjson(spans)) {
    const res = await fetch(url, { method: "POST", headers, body, signal });
    if (!res.ok) throw new Error(`APM server answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    sent++;
  }
  return sent;
}

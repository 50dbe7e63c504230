// Alert hook: a syscall at least `thresholdNs` long in a service's traced requests becomes one
// anomaly per (service, syscall) — pure, so the alerting pipeline (dedup, grouping, throttling)
// decides what reaches people. The lead wires the returned anomalies into the pipeline.
import type { Anomaly } from "../model/anomaly.ts";
import type { AggregatedSpan } from "./aggregate.ts";

export const SYSCALL_LATENCY_REASON = "SyscallLatencyHigh";

const fmtMs = (ns: number) => `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : 1)} ms`;

export function syscallLatencyAnomalies(spans: AggregatedSpan[], thresholdNs: number, now = Date.now()): Anomaly[] {
  if (!(thresholdNs > 0)) return [];
  const worst = new Map<string, AggregatedSpan>();
  for (const s of spans) {
    if (s.maxNs < thresholdNs) continue;
    const k = `${s.service}/${s.syscall}`;
    const cur = worst.get(k);
    if (!cur || s.maxNs > cur.maxNs) worst.set(k, s);
  }
  return [...worst.values()].map((s) => {
    const startMs = Number(BigInt(s.startUnixNano) / 1_000_000n);
    return {
      kind: "Service",
      namespace: "",
      name: s.service,
      node: s.node,
      reason: SYSCALL_LATENCY_REASON,
      severity: s.maxNs >= 10 * thresholdNs ? "critical" : "warning",
      category: "Latency",
      message:
        `${s.service}: syscall ${s.syscall} took ${fmtMs(s.maxNs)} (threshold ${fmtMs(thresholdNs)}) in trace ${s.traceId} ` +
        `on ${s.node} (pid ${s.pid}; ${s.count} calls, ${fmtMs(s.totalNs)} in total). Check the disk/network/lock the call waits on.`,
      eventTime: new Date(startMs > 0 ? startMs : now).toISOString(),
    };
  });
}

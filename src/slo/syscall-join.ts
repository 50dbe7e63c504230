// Joins the agent's syscall spans (trace bridge, <prefix>/spans/<node>) to the OTLP services by trace
// id, so an objective can be about the syscall latency of a service's requests. Both directions are
// bounded: the trace id → service index keeps the most recent maxTraces entry spans, and syscall
// spans that arrive before their trace's entry span (the agent publishes every second, an SDK's batch
// processor every few seconds) wait in a small pending buffer, oldest dropped first and counted.
//
// One observation per syscall span = one syscall name within one traced request: its longest single
// call (maxNs). So syscalls.query(service).quantile(0.99) is "the p99 of the worst call of a syscall
// within a request", and requests counts (request, syscall) pairs.
import type { SyscallSpan } from "../trace/types.ts";
import type { RedWindows, ServiceKey } from "./red.ts";

export interface SyscallJoinOptions {
  /** Trace ids remembered with their service (default 4096). */
  maxTraces?: number;
  /** Traces whose syscall spans wait for their entry span (default 1024). */
  maxPendingTraces?: number;
  /** Syscall observations kept per pending trace (default 32; more are counted as dropped). */
  maxPendingPerTrace?: number;
  /** Receive time: an end time more than a minute ahead of it counts as now (a wrong agent clock). */
  clock?: () => number;
}

interface Pending {
  durationsMs: number[];
  endTimeMs: number;
}

export class SyscallJoin {
  readonly stats = { joined: 0, pendingDropped: 0 };
  private readonly traces = new Map<string, ServiceKey>();
  private readonly pending = new Map<string, Pending>();
  private readonly maxTraces: number;
  private readonly maxPendingTraces: number;
  private readonly maxPendingPerTrace: number;
  private readonly clock: () => number;

  constructor(
    private readonly syscalls: RedWindows,
    opts: SyscallJoinOptions = {},
  ) {
    this.maxTraces = Math.max(1, opts.maxTraces ?? 4096);
    this.maxPendingTraces = Math.max(1, opts.maxPendingTraces ?? 1024);
    this.maxPendingPerTrace = Math.max(1, opts.maxPendingPerTrace ?? 32);
    this.clock = opts.clock ?? Date.now;
  }

  /** An OTLP entry span: remember its trace's service, and record syscall spans that waited for it. */
  entrySpan(traceId: string, service: ServiceKey): void {
    if (!this.traces.has(traceId) && this.traces.size >= this.maxTraces) this.traces.delete(this.traces.keys().next().value as string);
    this.traces.set(traceId, service);
    const waiting = this.pending.get(traceId);
    if (!waiting) return;
    this.pending.delete(traceId);
    for (const d of waiting.durationsMs) this.syscalls.record(service, d, false, waiting.endTimeMs);
    this.stats.joined += waiting.durationsMs.length;
  }

  /** Syscall spans from an agent batch: recorded under their trace's service, or kept until it is known. */
  syscallSpans(spans: readonly SyscallSpan[]): void {
    const now = this.clock();
    for (const s of spans) {
      const durationMs = s.maxNs / 1e6;
      const ended = Number(BigInt(s.endUnixNano) / 1_000_000n);
      const endTimeMs = ended > now + 60_000 ? now : ended;
      const service = this.traces.get(s.traceId);
      if (service) {
        this.syscalls.record(service, durationMs, false, endTimeMs);
        this.stats.joined++;
        continue;
      }
      let waiting = this.pending.get(s.traceId);
      if (!waiting) {
        if (this.pending.size >= this.maxPendingTraces) {
          const [oldest, dropped] = this.pending.entries().next().value as [string, Pending];
          this.pending.delete(oldest);
          this.stats.pendingDropped += dropped.durationsMs.length;
        }
        waiting = { durationsMs: [], endTimeMs };
        this.pending.set(s.traceId, waiting);
      }
      if (waiting.durationsMs.length >= this.maxPendingPerTrace) {
        this.stats.pendingDropped++;
        continue;
      }
      waiting.durationsMs.push(durationMs);
      waiting.endTimeMs = Math.max(waiting.endTimeMs, endTimeMs);
    }
  }

  /** Entries held (for the bounded-memory gauge and tests). */
  get size(): { traces: number; pendingTraces: number } {
    return { traces: this.traces.size, pendingTraces: this.pending.size };
  }
}

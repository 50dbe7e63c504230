// Controller side: merges span batches from every agent into one record per
// (trace, parent span, service, node, pid, syscall) until the next export. Bounded: past
// maxTraces distinct traces the caller is told to export early (it never silently drops).
import type { SlowSyscall, SpanBatch, SyscallSpan } from "./types.ts";

export interface AggregatedSpan extends SyscallSpan {
  node: string;
}

export interface AgentHealth {
  node: string;
  lastSeq: number;
  /** Sequence gaps seen (batches lost between agent and controller). */
  gaps: number;
  drops: SpanBatch["drops"];
  lastSeen: number;
}

const key = (node: string, s: SyscallSpan) => `${s.traceId}/${s.parentId}/${node}/${s.pid}/${s.nr}`;
const minStr = (a: string, b: string) => (BigInt(a) < BigInt(b) ? a : b);
const maxStr = (a: string, b: string) => (BigInt(a) > BigInt(b) ? a : b);

export class TraceAggregator {
  private pending = new Map<string, AggregatedSpan>();
  private traces = new Set<string>();
  readonly agents = new Map<string, AgentHealth>();

  constructor(private readonly maxTraces = 5000) {}

  /** Adds a batch; returns true when the pending set is full and should be exported now. */
  ingest(batch: SpanBatch, now = Date.now()): boolean {
    const h = this.agents.get(batch.node);
    if (h && batch.seq > h.lastSeq + 1) h.gaps += batch.seq - h.lastSeq - 1;
    this.agents.set(batch.node, { node: batch.node, lastSeq: batch.seq, gaps: h?.gaps ?? 0, drops: batch.drops, lastSeen: now });
    const node = batch.node;
    for (const s of batch.spans) {
      const k = key(node, s);
      const cur = this.pending.get(k);
      if (!cur) {
        // pending and traces are cleared together: a key already pending has its trace counted.
        this.traces.add(s.traceId);
        this.pending.set(k, aggregated(s, node));
        continue;
      }
      cur.count += s.count;
      cur.totalNs += s.totalNs;
      cur.maxNs = Math.max(cur.maxNs, s.maxNs);
      cur.threads = Math.max(cur.threads, s.threads);
      cur.startUnixNano = minStr(cur.startUnixNano, s.startUnixNano);
      cur.endUnixNano = maxStr(cur.endUnixNano, s.endUnixNano);
      cur.slow = mergeSlow(cur.slow, s.slow);
    }
    return this.traces.size >= this.maxTraces;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Everything since the last take, grouped by nothing (exporters group as their format needs). */
  take(): AggregatedSpan[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    this.traces.clear();
    return out;
  }
}

/**
 * The pending record of a span seen first: its fields copied by name (one object of one shape — the
 * spread `{ ...s }` went through the generic property copy, per span of every batch). `slow` is shared,
 * not copied: mergeSlow never changes an array, it returns a new one.
 */
function aggregated(s: SyscallSpan, node: string): AggregatedSpan {
  const a: AggregatedSpan = {
    traceId: s.traceId,
    parentId: s.parentId,
    service: s.service,
    pid: s.pid,
    threads: s.threads,
    syscall: s.syscall,
    nr: s.nr,
    count: s.count,
    totalNs: s.totalNs,
    maxNs: s.maxNs,
    startUnixNano: s.startUnixNano,
    endUnixNano: s.endUnixNano,
    slow: s.slow,
    node,
  };
  if (s.transactionId !== undefined) a.transactionId = s.transactionId;
  return a;
}

function mergeSlow(a: SlowSyscall[], b: SlowSyscall[]): SlowSyscall[] {
  return [...a, ...b].sort((x, y) => y.durNs - x.durNs).slice(0, 16);
}

/** Groups spans by service (APM metadata and OTLP resources are per service). */
export function byService<T extends { service: string }>(spans: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const s of spans) {
    const list = m.get(s.service) ?? [];
    list.push(s);
    m.set(s.service, list);
  }
  return m;
}

/** A random 8-byte span id in lowercase hex. */
export function newSpanId(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  if (b.every((x) => x === 0)) b[7] = 1;
  return Buffer.from(b).toString("hex");
}

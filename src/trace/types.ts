// The span batch an agent publishes on <prefix>/spans/<node> (QoS 1) — a documented contract
// (agent/README.md). Times are Unix-epoch nanoseconds as decimal strings (JSON numbers lose
// precision past 2^53), durations are plain nanosecond numbers.

export const SPAN_BATCH_VERSION = 1;

/** One syscall that took at least AGENT_SLOW_SYSCALL, individually. */
export interface SlowSyscall {
  tid: number;
  startUnixNano: string;
  durNs: number;
  /** Return value (negative errno on failure). */
  ret: number;
}

/** Totals of one syscall within one binding (one request of one traced process) since the last batch. */
export interface SyscallSpan {
  /** W3C trace id, 32 lowercase hex. */
  traceId: string;
  /** The application's span (or transaction) id these syscalls happened under, 16 hex. */
  parentId: string;
  /** APM transaction id when the application gave one (Elastic needs it to place spans); else parentId. */
  transactionId?: string;
  service: string;
  /** Bound process (or thread) id. */
  pid: number;
  /** Distinct threads that made the calls. */
  threads: number;
  syscall: string;
  nr: number;
  count: number;
  totalNs: number;
  maxNs: number;
  /** Entry of the first call and exit of the last call in this batch. */
  startUnixNano: string;
  endUnixNano: string;
  /** Longest individual calls over the threshold (at most 16 per span, longest first). */
  slow: SlowSyscall[];
}

export interface AgentDrops {
  /** Batches the agent discarded because the broker was unreachable and its queue was full (cumulative). */
  batches: number;
  /** In-kernel drop counters (cumulative): ring buffer full, aggregate/start/pool maps full. */
  ringbuf: number;
  aggFull: number;
  startFull: number;
  poolFull: number;
  /** Slow events whose binding was already gone (cumulative). */
  orphanEvents: number;
}

export interface SpanBatch {
  v: typeof SPAN_BATCH_VERSION;
  node: string;
  arch: string;
  /** Per-agent sequence number (gaps = dropped batches). */
  seq: number;
  sentAt: string;
  drops: AgentDrops;
  spans: SyscallSpan[];
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
export const isTraceId = (s: unknown): s is string => typeof s === "string" && HEX32.test(s) && !/^0+$/.test(s);
export const isSpanId = (s: unknown): s is string => typeof s === "string" && HEX16.test(s) && !/^0+$/.test(s);

/** Parses and checks a batch from the wire; undefined when it is not one. */
export function parseSpanBatch(payload: Uint8Array | string): SpanBatch | undefined {
  try {
    const b = JSON.parse(typeof payload === "string" ? payload : new TextDecoder().decode(payload)) as SpanBatch;
    if (b?.v !== SPAN_BATCH_VERSION || typeof b.node !== "string" || !Array.isArray(b.spans)) return undefined;
    b.spans = b.spans.filter((s) => isTraceId(s.traceId) && isSpanId(s.parentId) && typeof s.syscall === "string" && Number.isFinite(s.totalNs));
    return b;
  } catch {
    return undefined;
  }
}

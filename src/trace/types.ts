// The span batch an agent publishes on <prefix>/spans/<node> (QoS 1) — a documented contract
// (agent/README.md). Times are Unix-epoch nanoseconds as decimal strings (JSON numbers lose
// precision past 2^53), durations are plain nanosecond numbers.

import { IGNORE_REJECTS, parseAt, parseJsonAt, z, type RejectSink } from "../boundary/reject.ts";

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

/** A batch is at most 500 spans of at most 16 slow calls each (agent/spans.ts); this leaves room. */
export const SPAN_BATCH_MAX_BYTES = 2 * 1024 * 1024;
export const SPAN_BATCH_MAX_SPANS = 2000;

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const nanos = z.number().finite().nonnegative();
/** Decimal nanoseconds since the epoch (the aggregator compares them as BigInt). */
const unixNano = z.string().regex(/^\d{1,20}$/, "expected decimal nanoseconds");
const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, "expected printable ASCII without spaces");

const slowSchema = z.object({ tid: count, startUnixNano: unixNano, durNs: nanos, ret: z.number().int() });
const spanSchema = z.object({
  traceId: z.string().refine(isTraceId, "expected 32 lowercase hex digits, not all zero"),
  parentId: z.string().refine(isSpanId, "expected 16 lowercase hex digits, not all zero"),
  transactionId: z.string().refine(isSpanId, "expected 16 lowercase hex digits, not all zero").optional(),
  service: label(128),
  pid: count,
  threads: count,
  syscall: z.string().regex(/^[a-z0-9_]{1,64}$/, "expected a syscall name"),
  nr: z.number().int().min(0).max(4095),
  count: count,
  totalNs: nanos,
  maxNs: nanos,
  startUnixNano: unixNano,
  endUnixNano: unixNano,
  slow: z.array(slowSchema).max(16),
});
export const spanBatchSchema = z.object({
  v: z.literal(SPAN_BATCH_VERSION),
  node: label(253),
  arch: label(32),
  seq: count,
  sentAt: z.string().max(64),
  drops: z.object({ batches: count, ringbuf: count, aggFull: count, startFull: count, poolFull: count, orphanEvents: count }),
  spans: z.array(spanSchema).max(SPAN_BATCH_MAX_SPANS),
});

export const SPAN_BATCH_SOURCE = "mqtt.span-batch";

/**
 * Parses and checks a batch from the wire (size, JSON, schema, and — given the topic's `<node>` —
 * that the batch speaks for the node whose topic it came on); undefined when it is not one.
 * Refusals go to `sink` (counted by source, logged once).
 */
export function parseSpanBatch(payload: Uint8Array | string, opts: { sink?: RejectSink; topicNode?: string } = {}): SpanBatch | undefined {
  const sink = opts.sink ?? IGNORE_REJECTS;
  // Size and JSON first; then the usual batch is checked by hand (fast-batch.ts), anything else by the schema.
  const json = parseJsonAt(z.unknown(), payload, { source: SPAN_BATCH_SOURCE, sink, maxBytes: SPAN_BATCH_MAX_BYTES });
  if (!json.ok) return undefined;
  const fast = canonicalSpanBatch(json.value);
  const r = fast ? { ok: true as const, value: fast } : parseAt(spanBatchSchema, json.value, SPAN_BATCH_SOURCE, sink);
  if (!r.ok) return undefined;
  if (opts.topicNode !== undefined && r.value.node !== opts.topicNode) {
    sink.reject(
      SPAN_BATCH_SOURCE,
      `batch for node ${JSON.stringify(r.value.node)} published on the topic of node ${JSON.stringify(opts.topicNode)}`,
      payload,
    );
    return undefined;
  }
  return r.value as SpanBatch;
}

// The span intake's fast lane: a batch exactly as agents publish it (agent/spans.ts) is checked by hand
// — the same rules as spanBatchSchema (above), field by field — and returned as parsed, without the
// object zod builds for each of up to 2,000 spans (~5× the cost of JSON.parse on a 500-span batch). It
// is stricter, never looser: anything unusual (an extra key, a number where text is expected) returns
// null and takes the schema, which accepts or refuses it with its reason. The schema stays the contract.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isNanos = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
const UNIX_NANO = /^\d{1,20}$/;
const isUnixNano = (v: unknown) => typeof v === "string" && UNIX_NANO.test(v);
const LABEL = /^[\x21-\x7e]+$/;
const isLabel = (v: unknown, max: number) => typeof v === "string" && v.length >= 1 && v.length <= max && LABEL.test(v);
const SYSCALL = /^[a-z0-9_]{1,64}$/;

/** Only these keys (z.object strips others: a batch with more takes the schema, which does that). */
function onlyKeys(o: Obj, allowed: Set<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}
const BATCH_KEYS = new Set(["v", "node", "arch", "seq", "sentAt", "drops", "spans"]);
const DROP_KEYS = ["batches", "ringbuf", "aggFull", "startFull", "poolFull", "orphanEvents"];
const DROP_KEY_SET = new Set(DROP_KEYS);
const SPAN_KEYS = new Set([
  "traceId",
  "parentId",
  "transactionId",
  "service",
  "pid",
  "threads",
  "syscall",
  "nr",
  "count",
  "totalNs",
  "maxNs",
  "startUnixNano",
  "endUnixNano",
  "slow",
]);
const SLOW_KEYS = new Set(["tid", "startUnixNano", "durNs", "ret"]);

function slowOk(s: unknown): boolean {
  return isObj(s) && onlyKeys(s, SLOW_KEYS) && isCount(s.tid) && isUnixNano(s.startUnixNano) && isNanos(s.durNs) && Number.isSafeInteger(s.ret);
}

function spanOk(s: unknown): boolean {
  if (!isObj(s) || !onlyKeys(s, SPAN_KEYS)) return false;
  if (!isTraceId(s.traceId) || !isSpanId(s.parentId) || !(s.transactionId === undefined || isSpanId(s.transactionId))) return false;
  if (!isLabel(s.service, 128) || !isCount(s.pid) || !isCount(s.threads) || typeof s.syscall !== "string" || !SYSCALL.test(s.syscall)) return false;
  if (!Number.isSafeInteger(s.nr) || (s.nr as number) < 0 || (s.nr as number) > 4095) return false;
  if (!isCount(s.count) || !isNanos(s.totalNs) || !isNanos(s.maxNs) || !isUnixNano(s.startUnixNano) || !isUnixNano(s.endUnixNano)) return false;
  const slow = s.slow;
  if (!Array.isArray(slow) || slow.length > 16) return false;
  for (const x of slow) if (!slowOk(x)) return false;
  return true;
}

/** `v` itself when spanBatchSchema would accept it unchanged; null when it must go through the schema. */
export function canonicalSpanBatch(v: unknown): SpanBatch | null {
  if (!isObj(v) || !onlyKeys(v, BATCH_KEYS) || v.v !== SPAN_BATCH_VERSION) return null;
  if (!isLabel(v.node, 253) || !isLabel(v.arch, 32) || !isCount(v.seq) || typeof v.sentAt !== "string" || v.sentAt.length > 64) return null;
  const d = v.drops;
  if (!isObj(d) || !onlyKeys(d, DROP_KEY_SET) || !DROP_KEYS.every((k) => isCount(d[k]))) return null;
  const spans = v.spans;
  if (!Array.isArray(spans) || spans.length > SPAN_BATCH_MAX_SPANS) return null;
  for (const s of spans) if (!spanOk(s)) return null;
  return v as unknown as SpanBatch;
}

// The trace pool: which pid/tid currently works for which trace. Mirrored into the BPF `pool`
// map (the in-kernel filter); this side holds what the kernel does not need (trace/span ids,
// service, expiry). Bindings are short-lived by design: a TTL bounds the damage of a forgotten
// unbind or of a pid reused by an unrelated process, and a size bound keeps memory fixed.
import { isSpanId, isTraceId } from "../src/trace/types.ts";

export interface BindRequest {
  /** Whole process (all threads). Exactly one of pid / tid. */
  pid?: number;
  /** One thread only (plus the threads/processes it starts, when inheritance is on). */
  tid?: number;
  traceId: string;
  spanId: string;
  transactionId?: string;
  service?: string;
  ttlMs?: number;
}

export interface Binding {
  bindId: number;
  id: number;
  processWide: boolean;
  traceId: string;
  spanId: string;
  transactionId?: string;
  service: string;
  createdAt: number;
  expiresAt: number;
}

export type EndReason = "unbind" | "expired" | "evicted" | "replaced";

/** Where bindings go in the kernel (SyscallProbe in production, a fake in unit tests). */
export interface PoolSink {
  poolSet(id: number, bindId: number, processWide: boolean): boolean;
  poolDelete(id: number): void;
  /** Entries including those the kernel added at fork, so inherited ones are removed with their binding. */
  poolEntries(): { id: number; bindId: number }[];
}

export class BindError extends Error {}

export interface PoolOptions {
  sink: PoolSink;
  maxBindings: number;
  defaultTtlMs: number;
  maxTtlMs: number;
  /** How long an ended binding still resolves late kernel records to its trace. */
  graceMs?: number;
  clock?: () => number;
  onEnd?: (b: Binding, reason: EndReason) => void;
}

export class TracePool {
  private readonly byId = new Map<number, Binding>();
  private readonly byBind = new Map<number, Binding>();
  private readonly ended = new Map<number, { b: Binding; until: number }>();
  private nextBindId = 1;
  readonly stats = { bound: 0, unbound: 0, expired: 0, evicted: 0, rejected: 0 };
  private readonly clock: () => number;

  constructor(private readonly opts: PoolOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.byId.size;
  }

  bind(req: BindRequest): Binding {
    const now = this.clock();
    const processWide = req.pid !== undefined;
    const id = req.pid ?? req.tid;
    try {
      if ((req.pid === undefined) === (req.tid === undefined)) throw new BindError("give exactly one of pid or tid");
      if (!Number.isInteger(id) || id! <= 0 || id! > 0x3fffffff) throw new BindError(`pid/tid must be a positive integer, not ${id}`);
      if (!isTraceId(req.traceId)) throw new BindError("traceId must be 32 lowercase hex digits (W3C trace-id), not all zero");
      if (!isSpanId(req.spanId)) throw new BindError("spanId must be 16 lowercase hex digits (W3C parent-id), not all zero");
      if (req.transactionId !== undefined && !isSpanId(req.transactionId)) throw new BindError("transactionId must be 16 lowercase hex digits");
      if (req.ttlMs !== undefined && !(Number.isFinite(req.ttlMs) && req.ttlMs > 0)) throw new BindError("ttlMs must be a positive number");
    } catch (e) {
      this.stats.rejected++;
      throw e;
    }
    const old = this.byId.get(id!);
    if (old) this.end(old, "replaced");
    while (this.byId.size >= this.opts.maxBindings) this.evictOne();
    const ttl = Math.min(req.ttlMs ?? this.opts.defaultTtlMs, this.opts.maxTtlMs);
    const b: Binding = {
      bindId: this.takeBindId(),
      id: id!,
      processWide,
      traceId: req.traceId,
      spanId: req.spanId,
      transactionId: req.transactionId,
      service: req.service || "unknown",
      createdAt: now,
      expiresAt: now + ttl,
    };
    if (!this.opts.sink.poolSet(b.id, b.bindId, processWide)) {
      this.stats.rejected++;
      throw new BindError("the kernel pool map is full");
    }
    this.byId.set(b.id, b);
    this.byBind.set(b.bindId, b);
    this.stats.bound++;
    return b;
  }

  /** Ends the binding of a pid/tid, or every binding of a trace; returns how many ended. */
  unbind(sel: { pid?: number; tid?: number; traceId?: string }): number {
    const id = sel.pid ?? sel.tid;
    const victims =
      id !== undefined ? [this.byId.get(id)].filter((b): b is Binding => !!b) : [...this.byId.values()].filter((b) => b.traceId === sel.traceId);
    for (const b of victims) this.end(b, "unbind");
    return victims.length;
  }

  /** Ends expired bindings and forgets ended ones past their grace; call periodically. */
  sweep(): void {
    const now = this.clock();
    for (const b of [...this.byId.values()]) if (b.expiresAt <= now) this.end(b, "expired");
    for (const [k, e] of this.ended) if (e.until <= now) this.ended.delete(k);
  }

  /** The binding (active or recently ended) a kernel record refers to. */
  lookup(bindId: number): Binding | undefined {
    return this.byBind.get(bindId) ?? this.ended.get(bindId)?.b;
  }

  active(): Binding[] {
    return [...this.byId.values()];
  }

  /** Ends every binding (shutdown). */
  clear(): void {
    for (const b of [...this.byId.values()]) this.end(b, "unbind");
  }

  /** u32 ids that wrap past 2^32-1 back to 1 (0 is never used). */
  private takeBindId(): number {
    const id = this.nextBindId;
    this.nextBindId = (id % 0xffff_fffe) + 1;
    return id;
  }

  private evictOne(): void {
    let victim: Binding | undefined;
    for (const b of this.byId.values()) if (!victim || b.expiresAt < victim.expiresAt) victim = b;
    if (victim) this.end(victim, "evicted");
  }

  private end(b: Binding, reason: EndReason): void {
    this.byId.delete(b.id);
    this.byBind.delete(b.bindId);
    // Kernel first, so no new records start for it; then the entries children inherited.
    this.opts.sink.poolDelete(b.id);
    for (const e of this.opts.sink.poolEntries()) if (e.bindId === b.bindId) this.opts.sink.poolDelete(e.id);
    this.ended.set(b.bindId, { b, until: this.clock() + (this.opts.graceMs ?? 10_000) });
    // Bounded even under a bind storm: the oldest ended binding goes first (Map keeps insertion order).
    if (this.ended.size > 4 * this.opts.maxBindings) this.ended.delete(this.ended.keys().next().value!);
    if (reason === "expired") this.stats.expired++;
    else if (reason === "evicted") this.stats.evicted++;
    else this.stats.unbound++;
    this.opts.onEnd?.(b, reason);
  }
}

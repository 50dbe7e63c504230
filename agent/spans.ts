// Turns kernel records (drained aggregates + slow events) into per-trace syscall spans, and
// publishes them as batches on <prefix>/spans/<node> with QoS 1. While the broker is away,
// batches wait in a bounded queue; the oldest are dropped past the bound and the count travels
// in every later batch, so the controller can report the loss.
import type { AggRecord, SlowEvent } from "./loader.ts";
import { monoToUnixNano } from "./loader.ts";
import type { Binding } from "./pool.ts";
import { syscallName, type Arch } from "./syscalls/index.ts";
import { SPAN_BATCH_VERSION, type AgentDrops, type SlowSyscall, type SpanBatch, type SyscallSpan } from "../src/trace/types.ts";

const MAX_SLOW_PER_SPAN = 16;

interface Acc {
  span: SyscallSpan;
  tids: Set<number>;
  first: bigint;
  last: bigint;
}

/** Collects records between two flushes, keyed by (binding, syscall). */
export class SpanAssembler {
  private acc = new Map<string, Acc>();
  orphanEvents = 0;

  constructor(
    private readonly lookup: (bindId: number) => Binding | undefined,
    private readonly arch: Arch,
  ) {}

  private slot(b: Binding, nr: number): Acc {
    const key = `${b.bindId}/${nr}`;
    let a = this.acc.get(key);
    if (!a) {
      a = {
        span: {
          traceId: b.traceId,
          parentId: b.spanId,
          transactionId: b.transactionId,
          service: b.service,
          pid: b.id,
          threads: 0,
          syscall: syscallName(nr, this.arch),
          nr,
          count: 0,
          totalNs: 0,
          maxNs: 0,
          startUnixNano: "0",
          endUnixNano: "0",
          slow: [],
        },
        tids: new Set(),
        first: 0n,
        last: 0n,
      };
      this.acc.set(key, a);
    }
    return a;
  }

  addAggregates(records: AggRecord[]): void {
    for (const r of records) {
      const b = this.lookup(r.bindId);
      if (!b) continue; // binding ended past its grace: nobody to attribute it to
      const a = this.slot(b, r.nr);
      a.span.count += r.count;
      a.span.totalNs += r.totalNs;
      a.span.maxNs = Math.max(a.span.maxNs, r.maxNs);
      a.tids.add(r.tid);
      if (a.first === 0n || r.firstNs < a.first) a.first = r.firstNs;
      if (r.lastNs > a.last) a.last = r.lastNs;
    }
  }

  addSlow(e: SlowEvent): void {
    const b = this.lookup(e.bindId);
    if (!b) {
      this.orphanEvents++;
      return;
    }
    const slow = this.slot(b, e.nr).span.slow;
    const item: SlowSyscall = { tid: e.tid, startUnixNano: monoToUnixNano(e.startNs).toString(), durNs: e.durNs, ret: e.ret };
    // Keep the longest few: an outlier list must not grow with a pathological process.
    if (slow.length < MAX_SLOW_PER_SPAN) slow.push(item);
    else if (e.durNs > slow[slow.length - 1]!.durNs) slow[slow.length - 1] = item;
    slow.sort((x, y) => y.durNs - x.durNs);
  }

  /** Spans since the last take (slow events whose aggregate is not drained yet wait for it). */
  take(): SyscallSpan[] {
    const out: SyscallSpan[] = [];
    for (const [key, a] of this.acc) {
      if (a.span.count === 0) continue;
      a.span.threads = a.tids.size;
      a.span.startUnixNano = monoToUnixNano(a.first).toString();
      a.span.endUnixNano = monoToUnixNano(a.last).toString();
      out.push(a.span);
      this.acc.delete(key);
    }
    return out;
  }
}

/** The slice of an mqtt.js client the publisher needs (a fake in unit tests). */
export interface MqttLike {
  connected: boolean;
  publish(topic: string, payload: string, opts: { qos: 1 }, cb: (err?: Error) => void): unknown;
  on(event: "connect", fn: () => void): unknown;
}

export interface PublisherOptions {
  topic: string;
  node: string;
  arch: string;
  maxQueued: number;
  /** Unacknowledged batches in flight at once (mosquitto's own queue is limited too). */
  maxInFlight?: number;
  /** Largest span count per batch; larger flushes are split. */
  maxSpansPerBatch?: number;
  kernelDrops: () => Omit<AgentDrops, "batches" | "orphanEvents">;
  orphanEvents: () => number;
}

export class SpanPublisher {
  private queue: SyscallSpan[][] = [];
  private inFlight = 0;
  private seq = 0;
  readonly stats = { published: 0, acked: 0, droppedBatches: 0, failed: 0 };

  constructor(
    private readonly client: MqttLike,
    private readonly opts: PublisherOptions,
  ) {
    client.on("connect", () => this.pump());
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues spans (split into batches) and sends what the broker can take now. */
  enqueue(spans: SyscallSpan[]): void {
    const per = this.opts.maxSpansPerBatch ?? 500;
    for (let i = 0; i < spans.length; i += per) this.queue.push(spans.slice(i, i + per));
    while (this.queue.length > this.opts.maxQueued) {
      this.queue.shift();
      this.stats.droppedBatches++;
    }
    this.pump();
  }

  private pump(): void {
    const max = this.opts.maxInFlight ?? 8;
    while (this.client.connected && this.inFlight < max && this.queue.length) {
      const spans = this.queue.shift()!;
      const batch: SpanBatch = {
        v: SPAN_BATCH_VERSION,
        node: this.opts.node,
        arch: this.opts.arch,
        seq: ++this.seq,
        sentAt: new Date().toISOString(),
        drops: { batches: this.stats.droppedBatches, orphanEvents: this.opts.orphanEvents(), ...this.opts.kernelDrops() },
        spans,
      };
      this.inFlight++;
      this.stats.published++;
      this.client.publish(this.opts.topic, JSON.stringify(batch), { qos: 1 }, (err) => {
        this.inFlight--;
        if (err) {
          // Not acknowledged (connection lost): put it back at the front, keeping the bound.
          this.stats.failed++;
          this.queue.unshift(spans);
          if (this.queue.length > this.opts.maxQueued) {
            this.queue.pop();
            this.stats.droppedBatches++;
          }
        } else this.stats.acked++;
        this.pump();
      });
    }
  }
}

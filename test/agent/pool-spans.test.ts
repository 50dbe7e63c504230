// Trace pool (TTL, bounds, eviction, kernel sync incl. inherited entries) with an injected clock
// and a fake kernel map; the publisher's bounded queue against a real mosquitto that starts late.
import { describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { BindError, TracePool, type PoolSink } from "../../agent/pool.ts";
import { SpanPublisher } from "../../agent/spans.ts";
import { syscallName, syscallNumber } from "../../agent/syscalls/index.ts";
import { explainBpfError, missingBpfCaps, PRIVILEGE_HELP, TRACEFS_HELP } from "../../agent/preflight.ts";
import { unifiedTable } from "../../agent/syscalls/generate.ts";
import type { SyscallSpan } from "../../src/trace/types.ts";
import { parseSpanBatch, type SpanBatch } from "../../src/trace/types.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const S = "00f067aa0ba902b7";

class FakeSink implements PoolSink {
  map = new Map<number, { bindId: number; flags: number }>();
  poolSet(id: number, bindId: number, pw: boolean) {
    this.map.set(id, { bindId, flags: pw ? 1 : 0 });
    return true;
  }
  poolDelete(id: number) {
    this.map.delete(id);
  }
  poolEntries() {
    return [...this.map].map(([id, v]) => ({ id, bindId: v.bindId }));
  }
}

function pool(max = 3) {
  let now = 1_000_000;
  const sink = new FakeSink();
  const ended: string[] = [];
  const p = new TracePool({
    sink,
    maxBindings: max,
    defaultTtlMs: 1000,
    maxTtlMs: 5000,
    graceMs: 500,
    clock: () => now,
    onEnd: (b, r) => ended.push(`${b.id}:${r}`),
  });
  return { p, sink, ended, tick: (ms: number) => (now += ms) };
}

describe("TracePool", () => {
  test("bind/unbind mirror into the kernel map, inherited children go with their binding", () => {
    const { p, sink, ended } = pool();
    const b = p.bind({ pid: 10, traceId: T, spanId: S, service: "svc" });
    expect(sink.map.get(10)).toEqual({ bindId: b.bindId, flags: 1 });
    sink.map.set(11, { bindId: b.bindId, flags: 3 }); // what sched_process_fork adds in-kernel
    expect(p.bind({ tid: 20, traceId: T, spanId: S }).processWide).toBe(false);
    expect(p.unbind({ traceId: T })).toBe(2);
    expect(sink.map.size).toBe(0);
    expect(ended.sort()).toEqual(["10:unbind", "20:unbind"]);
    expect(p.lookup(b.bindId)?.traceId).toBe(T); // still resolvable for late records (grace)
  });

  test("TTL: default, capped by the maximum, expiry ends the binding; grace then forgets it", () => {
    const { p, ended, tick } = pool();
    const a = p.bind({ pid: 1, traceId: T, spanId: S });
    const c = p.bind({ pid: 2, traceId: T, spanId: S, ttlMs: 60_000 });
    expect(c.expiresAt - c.createdAt).toBe(5000);
    tick(1000);
    p.sweep();
    expect(ended).toEqual(["1:expired"]);
    expect(p.stats.expired).toBe(1);
    tick(600);
    p.sweep();
    expect(p.lookup(a.bindId)).toBeUndefined();
    expect(p.lookup(c.bindId)).toBeDefined();
  });

  test("bounded: the binding closest to expiry is evicted and counted; rebinding replaces", () => {
    const { p, ended } = pool(2);
    p.bind({ pid: 1, traceId: T, spanId: S, ttlMs: 100 });
    p.bind({ pid: 2, traceId: T, spanId: S, ttlMs: 3000 });
    p.bind({ pid: 3, traceId: T, spanId: S });
    expect(p.size).toBe(2);
    expect(p.stats.evicted).toBe(1);
    expect(ended).toEqual(["1:evicted"]);
    p.bind({ pid: 3, traceId: "0af7651916cd43dd8448eb211c80319c", spanId: S });
    expect(ended).toEqual(["1:evicted", "3:replaced"]);
  });

  test("rejects malformed requests with a reason and counts them", () => {
    const { p } = pool();
    expect(() => p.bind({ traceId: T, spanId: S })).toThrow(BindError);
    expect(() => p.bind({ pid: 1, tid: 1, traceId: T, spanId: S })).toThrow("exactly one");
    expect(() => p.bind({ pid: -1, traceId: T, spanId: S })).toThrow("positive");
    expect(() => p.bind({ pid: 1, traceId: T.toUpperCase(), spanId: S })).toThrow("traceId");
    expect(() => p.bind({ pid: 1, traceId: "0".repeat(32), spanId: S })).toThrow("traceId");
    expect(() => p.bind({ pid: 1, traceId: T, spanId: S, ttlMs: 0 })).toThrow("ttlMs");
    expect(p.stats.rejected).toBe(6);
  });
});

describe("syscall tables and error messages", () => {
  test("numbers differ per architecture", () => {
    expect([syscallName(0, "x86_64"), syscallName(1, "x86_64"), syscallName(230, "x86_64")]).toEqual(["read", "write", "clock_nanosleep"]);
    expect([syscallName(63, "aarch64"), syscallName(64, "aarch64"), syscallName(115, "aarch64"), syscallName(101, "aarch64")]).toEqual([
      "read",
      "write",
      "clock_nanosleep",
      "nanosleep",
    ]);
    expect(syscallNumber("openat", "aarch64")).toBe(56);
    expect(syscallNumber("openat", "x86_64")).toBe(257);
    expect(syscallName(9999, "x86_64")).toBe("syscall_9999");
    expect(syscallNumber("", "x86_64")).toBeUndefined();
  });

  test("424 and up come from the one unified table (same numbers on every architecture since Linux 5.1)", () => {
    for (const arch of ["x86_64", "aarch64"] as const) {
      expect([syscallName(424, arch), syscallName(435, arch), syscallName(441, arch)]).toEqual(["pidfd_send_signal", "clone3", "epoll_pwait2"]);
      expect(syscallName(380, arch)).toBe("syscall_380"); // the unassigned gap below 424
    }
    expect(syscallName(334, "x86_64")).toBe("rseq");
    expect(syscallName(293, "aarch64")).toBe("rseq");
    const x = new Map([
      [1, "write"],
      [435, "clone3"],
    ]);
    expect(
      unifiedTable([
        x,
        new Map([
          [64, "write"],
          [435, "clone3"],
        ]),
      ]),
    ).toEqual(new Map([[435, "clone3"]]));
    expect(() => unifiedTable([x, new Map([[435, "other"]])])).toThrow("435");
  });

  test("errors name the capability, the package or the mount", () => {
    expect(PRIVILEGE_HELP).toContain("CAP_BPF");
    expect(PRIVILEGE_HELP).toContain("CAP_PERFMON");
    const bit = (...n: number[]) => n.reduce((m, c) => m | (1n << BigInt(c)), 0n);
    expect(missingBpfCaps(bit())).toEqual(["CAP_BPF", "CAP_PERFMON"]);
    expect(missingBpfCaps(bit(39))).toEqual(["CAP_PERFMON"]);
    expect(missingBpfCaps(bit(39, 38))).toEqual([]);
    expect(missingBpfCaps(bit(21))).toEqual([]); // CAP_SYS_ADMIN covers both (kernels < 5.8)
    expect(TRACEFS_HELP).toContain("mount -t tracefs nodev /sys/kernel/tracing");
    expect(explainBpfError("load", -38).message).toContain("qemu-user");
  });
});

const span = (i: number): SyscallSpan => ({
  traceId: T,
  parentId: S,
  service: "s",
  pid: 1,
  threads: 1,
  syscall: "read",
  nr: 0,
  count: i,
  totalNs: i,
  maxNs: i,
  startUnixNano: "1",
  endUnixNano: "2",
  slow: [],
});

describe("SpanPublisher", () => {
  test("queues while the broker is down (bounded, drops counted), delivers QoS 1 when it comes up", async () => {
    const broker = await TestMosquitto.start();
    await broker.stop();
    const client = mqtt.connect(broker.url, { username: broker.username, password: broker.password, reconnectPeriod: 100 });
    const pub = new SpanPublisher(client, {
      topic: "p/spans/n1",
      node: "n1",
      arch: "x86_64",
      maxQueued: 3,
      maxSpansPerBatch: 1,
      kernelDrops: () => ({ ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0 }),
      orphanEvents: () => 0,
    });
    pub.enqueue([span(1), span(2), span(3), span(4), span(5)]); // 5 batches of 1 into a queue of 3
    expect(pub.queued).toBe(3);
    expect(pub.stats.droppedBatches).toBe(2);
    await broker.resume();
    const got: SpanBatch[] = [];
    const sub = mqtt.connect(broker.url, { username: broker.username, password: broker.password });
    sub.on("message", (_t, p) => got.push(parseSpanBatch(p)!));
    await new Promise<void>((r) => sub.on("connect", () => sub.subscribe("p/spans/+", { qos: 1 }, () => r())));
    // The publisher may have flushed before the subscriber joined: send one more to see the counters.
    await waitFor(() => pub.queued === 0 && pub.stats.acked >= 3, { message: "queued batches acknowledged" });
    pub.enqueue([span(6)]);
    await waitFor(() => got.some((b) => b.spans[0]!.count === 6), { message: "batch after reconnect" });
    const last = got.find((b) => b.spans[0]!.count === 6)!;
    expect(last.drops.batches).toBe(2); // the loss is reported downstream
    expect(last.seq).toBe(4); // seq counts sent batches: 3 queued + this one
    await client.endAsync();
    await sub.endAsync();
    await broker.dispose();
  });
});

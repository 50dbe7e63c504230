// End to end with real eBPF and a real mosquitto: a child bound to a trace does known syscalls
// (a pipe read blocked ~60 ms by a forked writer, a 30 ms nanosleep); the spans received over
// MQTT carry its trace id, the right syscall names and latencies; an unbound twin produces nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../agent/agent.ts";
import { TraceAgentClient } from "../../agent/client.ts";
import { parseSpanBatch, type SpanBatch, type SyscallSpan } from "../../src/trace/types.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { ebpfUnavailable, syscallChild } from "./helpers.ts";

const skip = ebpfUnavailable();
if (skip) console.log(`[skip] agent e2e: ${skip}`);

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const TRACE2 = "0af7651916cd43dd8448eb211c80319c";
const SPAN2 = "b7ad6b7169203331";

describe.skipIf(!!skip)("agent over real eBPF and mosquitto", () => {
  let broker: TestMosquitto;
  let agent: Agent;
  let sub: mqtt.MqttClient;
  const batches: SpanBatch[] = [];
  const socketPath = join(mkdtempSync(join(tmpdir(), "neuro-agent-")), "agent.sock");
  const prefix = "neurocontroller/test";

  beforeAll(async () => {
    broker = await TestMosquitto.start();
    sub = mqtt.connect(broker.url, { username: broker.username, password: broker.password });
    sub.on("message", (_t, p) => {
      const b = parseSpanBatch(p);
      if (b) batches.push(b);
    });
    await new Promise<void>((r) => sub.on("connect", () => sub.subscribe(`${prefix}/spans/+`, { qos: 1 }, () => r())));
    agent = await Agent.start({
      node: "node-a",
      prefix,
      mqttUrl: broker.url,
      mqttUsername: broker.username,
      mqttPassword: broker.password,
      socketPath,
      socketMode: 0o600,
      slowThresholdNs: 20e6,
      bindTtlMs: 30_000,
      bindTtlMaxMs: 60_000,
      poolMax: 64,
      inherit: true,
      flushIntervalMs: 200,
      queueMax: 100,
      ringbufBytes: 64 * 1024,
    });
    await waitFor(() => agent.mqtt.connected, { message: "agent connected to mosquitto" });
  });

  afterAll(async () => {
    await agent?.stop();
    await sub?.endAsync();
    await broker?.dispose();
  });

  const spansOf = (traceId: string): SyscallSpan[] => batches.flatMap((b) => b.spans).filter((s) => s.traceId === traceId);
  const total = (traceId: string, name: string) => {
    const list = spansOf(traceId).filter((s) => s.syscall === name);
    return { count: list.reduce((n, s) => n + s.count, 0), maxNs: Math.max(0, ...list.map((s) => s.maxNs)), slow: list.flatMap((s) => s.slow) };
  };

  test("bound child (unix-socket binding): right trace, syscall names and latencies; unbound twin: nothing", async () => {
    const bound = syscallChild(60, 30);
    const unbound = syscallChild(60, 30);
    await waitFor(() => bound.output().includes("ready") && unbound.output().includes("ready"), { message: "children ready" });
    const client = new TraceAgentClient({ socketPath });
    expect(await client.bind({ pid: bound.pid, traceId: TRACE, spanId: SPAN, service: "checkout", ttlMs: 20_000 })).toBe(true);
    bound.go();
    unbound.go();
    await waitFor(() => bound.output().includes("done") && unbound.output().includes("done"), { message: "children did their syscalls" });
    expect(await client.unbind({ pid: bound.pid })).toBe(true);
    await waitFor(() => total(TRACE, "clock_nanosleep").count >= 2 && total(TRACE, "read").maxNs >= 40e6, {
      message: () => `spans of ${TRACE} (got ${JSON.stringify(spansOf(TRACE).map((s) => [s.syscall, s.count, s.maxNs]))})`,
    });
    const read = total(TRACE, "read");
    const sleep = total(TRACE, "clock_nanosleep");
    expect(read.maxNs).toBeGreaterThanOrEqual(40e6); // the 60 ms pipe wait
    expect(read.maxNs).toBeLessThan(5e9);
    expect(sleep.maxNs).toBeGreaterThanOrEqual(20e6); // 30 ms in the parent, 60 ms in the forked writer
    // Slow outliers (≥ 20 ms) come with timestamps near now.
    const slowRead = read.slow.find((o) => o.durNs >= 40e6);
    expect(slowRead).toBeDefined();
    const at = Number(BigInt(slowRead!.startUnixNano) / 1_000_000n);
    expect(Math.abs(at - Date.now())).toBeLessThan(60_000);
    // The forked writer inherited the binding in-kernel: its 60 ms sleep (the parent sleeps 30 ms) is there,
    // besides the parent's (the two may land in different batches, so count across them).
    expect(sleep.maxNs).toBeGreaterThanOrEqual(45e6);
    expect(sleep.count).toBeGreaterThanOrEqual(2);
    expect(spansOf(TRACE).every((s) => s.parentId === SPAN && s.service === "checkout")).toBe(true);
    // The unbound twin did the same syscalls: nothing of it anywhere.
    expect(batches.flatMap((b) => b.spans).some((s) => s.pid === unbound.pid)).toBe(false);
    expect(batches.every((b) => b.node === "node-a" && b.drops.ringbuf === 0)).toBe(true);
    // After unbind, the kernel pool is empty (inherited entries removed with the binding).
    expect(agent.probe.poolEntries()).toEqual([]);
    bound.go();
    unbound.go();
    await Promise.all([bound.proc.exited, unbound.proc.exited]);
  });

  test("binding over MQTT <prefix>/trace/bind/<node>", async () => {
    const child = syscallChild(50, 25);
    await waitFor(() => child.output().includes("ready"), { message: "child ready" });
    const pub = mqtt.connect(broker.url, { username: broker.username, password: broker.password });
    await new Promise((r) => pub.on("connect", r));
    await pub.publishAsync(
      `${prefix}/trace/bind/node-a`,
      JSON.stringify({ action: "bind", pid: child.pid, traceId: TRACE2, spanId: SPAN2, service: "api" }),
      { qos: 1 },
    );
    await waitFor(() => agent.pool.active().some((b) => b.traceId === TRACE2), { message: "MQTT binding applied" });
    child.go();
    await waitFor(() => child.output().includes("done"), { message: "child done" });
    await pub.publishAsync(`${prefix}/trace/bind/node-a`, JSON.stringify({ action: "unbind", traceId: TRACE2 }), { qos: 1 });
    await waitFor(() => total(TRACE2, "read").maxNs >= 35e6, { message: () => `read span of ${TRACE2}: ${JSON.stringify(total(TRACE2, "read"))}` });
    expect(spansOf(TRACE2).every((s) => s.service === "api" && s.parentId === SPAN2)).toBe(true);
    await pub.endAsync();
    child.go();
    await child.proc.exited;
  });

  test("bad binding requests are rejected with a reason", async () => {
    const client = new TraceAgentClient({ socketPath });
    expect(await client.bind({ pid: 1, traceId: "xyz", spanId: SPAN })).toBe(false);
    expect(client.lastError).toContain("traceId");
    expect(await client.bind({ pid: 1, traceId: TRACE, spanId: "0000000000000000" })).toBe(false);
    expect(client.lastError).toContain("spanId");
  });
});

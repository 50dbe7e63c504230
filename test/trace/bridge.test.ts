// Controller side end to end: span batches on a real mosquitto → TraceBridge → APM + OTLP
// receivers, plus the latency alert hook (pure function and through the bridge).
import { afterAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { Anomaly } from "../../src/model/anomaly.ts";
import { syscallLatencyAnomalies, SYSCALL_LATENCY_REASON } from "../../src/trace/alert.ts";
import { TraceBridge } from "../../src/trace/bridge.ts";
import { SPAN_BATCH_VERSION, type SpanBatch } from "../../src/trace/types.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { SAMPLE } from "./sample.ts";

describe("syscallLatencyAnomalies", () => {
  test("one anomaly per (service, syscall) over the threshold, worst first; 0 disables", () => {
    const a = syscallLatencyAnomalies(SAMPLE, 50e6, 0);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({
      kind: "Service",
      name: "checkout",
      node: "pi-1",
      reason: SYSCALL_LATENCY_REASON,
      severity: "warning",
      category: "Latency",
    });
    expect(a[0]!.message).toContain("read took 61.0 ms");
    expect(syscallLatencyAnomalies(SAMPLE, 5e6, 0).find((x) => x.name === "checkout" && x.message.includes("read"))!.severity).toBe("critical");
    expect(syscallLatencyAnomalies(SAMPLE, 0)).toEqual([]);
  });
});

describe("TraceBridge", () => {
  const hits: { path: string; body: string }[] = [];
  const receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      hits.push({ path: new URL(req.url).pathname, body: await req.text() });
      return new Response(null, { status: 202 });
    },
  });
  afterAll(() => receiver.stop(true));

  test("subscribes, merges batches per trace/syscall, exports to both, raises the latency alert", async () => {
    const broker = await TestMosquitto.start();
    const anomalies: Anomaly[] = [];
    const base = `http://127.0.0.1:${receiver.port}`;
    const bridge = new TraceBridge({
      mqttUrl: broker.url,
      mqttUsername: broker.username,
      mqttPassword: broker.password,
      prefix: "nc/c1",
      apm: { serverUrl: base },
      otlp: { endpoint: base },
      exportIntervalMs: 60_000,
      maxTraces: 100,
      alertThresholdNs: 50e6,
      onAnomalies: (a) => anomalies.push(...a),
    });
    await waitFor(() => bridge.client.connected, { message: "bridge connected" });
    const pub = mqtt.connect(broker.url, { username: broker.username, password: broker.password });
    await new Promise((r) => pub.on("connect", r));
    const drops = { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 };
    const batch = (seq: number): SpanBatch => ({
      v: SPAN_BATCH_VERSION,
      node: "pi-1",
      arch: "aarch64",
      seq,
      sentAt: new Date().toISOString(),
      drops,
      spans: SAMPLE.slice(0, 2),
    });
    // The subscription is asynchronous: publish until the first batch is seen.
    await waitFor(async () => (await pub.publishAsync("nc/c1/spans/pi-1", JSON.stringify(batch(1)), { qos: 1 }), bridge.stats.batches >= 1), {
      message: "bridge received a batch",
    });
    await pub.publishAsync("nc/c1/spans/pi-1", JSON.stringify(batch(5)), { qos: 1 });
    await pub.publishAsync("nc/c1/spans/pi-1", "not json", { qos: 1 });
    await waitFor(() => bridge.stats.batches >= 2 && bridge.stats.invalid === 1, { message: "second batch and invalid counted" });
    const before = bridge.aggregator.agents.get("pi-1")!;
    expect(before.gaps).toBeGreaterThanOrEqual(3); // seq 1 → 5 (extra publishes of 1 while waiting do not count as gaps)
    const pending = bridge.aggregator.size;
    expect(pending).toBe(2); // merged, not duplicated
    await bridge.exportNow();
    expect(hits.filter((h) => h.path === "/intake/v2/events")).toHaveLength(1);
    const otlp = JSON.parse(hits.find((h) => h.path === "/v1/traces")!.body);
    const read = otlp.resourceSpans[0].scopeSpans[0].spans.find((s: { name: string }) => s.name === "syscall read");
    const count = Number(read.attributes.find((a: { key: string }) => a.key === "syscall.count").value.intValue);
    expect(count % 12).toBe(0);
    expect(count).toBeGreaterThanOrEqual(24);
    expect(anomalies.map((a) => `${a.name}/${a.reason}`)).toEqual(["checkout/SyscallLatencyHigh"]);
    await pub.endAsync();
    await bridge.close();
    await broker.dispose();
  });
});

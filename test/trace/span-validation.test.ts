// Issue 10 item 3: a malformed span batch must neither crash the trace bridge nor block its shutdown;
// every batch is checked (size, schema, node = the topic's <node>) and refusals are counted by
// source; any exception in an MQTT message handler is caught, logged as JSON and counted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import { createLogger } from "../../src/log.ts";
import { MqttConnection } from "../../src/mqtt/connection.ts";
import { TraceBridge } from "../../src/trace/bridge.ts";
import { parseSpanBatch, SPAN_BATCH_VERSION, type SpanBatch } from "../../src/trace/types.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { SAMPLE } from "./sample.ts";

const drops = { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 };
const spans = SAMPLE.slice(0, 2).map(({ node: _node, ...s }) => s);
const batch = (over: Partial<SpanBatch> = {}, seq = 1): SpanBatch => ({
  v: SPAN_BATCH_VERSION,
  node: "pi-1",
  arch: "aarch64",
  seq,
  sentAt: "2026-01-01T00:00:00Z",
  drops,
  spans,
  ...over,
});

describe("parseSpanBatch", () => {
  const refusals = (payload: unknown, topicNode?: string) => {
    const seen: { source: string; reason: string }[] = [];
    const b = parseSpanBatch(typeof payload === "string" ? payload : JSON.stringify(payload), {
      sink: { reject: (source, reason) => seen.push({ source, reason }) },
      topicNode,
    });
    return { b, seen };
  };

  test("a valid batch passes; every malformed variant is refused with its reason and counted", () => {
    expect(refusals(batch(), "pi-1").b?.spans).toHaveLength(2);
    const { slow: _slow, ...noSlow } = spans[0]!;
    const cases: [string, unknown][] = [
      ["spans.0.slow", batch({ spans: [noSlow as never] })],
      ["spans.0.startUnixNano", batch({ spans: [{ ...spans[0]!, startUnixNano: "soon" }] })],
      ["spans.0.totalNs", batch({ spans: [{ ...spans[0]!, totalNs: "5" as never }] })],
      ["spans.0.service", batch({ spans: [{ ...spans[0]!, service: "a b\u001b[2J" }] })],
      ["spans.0.traceId", batch({ spans: [{ ...spans[0]!, traceId: "0".repeat(32) }] })],
      ["spans.0.slow.0.durNs", batch({ spans: [{ ...spans[0]!, slow: [{ tid: 1, startUnixNano: "1", durNs: -1, ret: 0 }] }] })],
      ["drops", batch({ drops: undefined as never })],
      ["node", batch({ node: 7 as never })],
      ["spans", { ...batch(), spans: Array.from({ length: 2001 }, () => spans[1]) }],
      ["not JSON", "{"],
      ["exceeds the limit", `"${"x".repeat(3 * 1024 * 1024)}"`],
    ];
    for (const [why, payload] of cases) {
      const r = refusals(payload, "pi-1");
      expect({ why, b: r.b }).toEqual({ why, b: undefined });
      expect(r.seen).toHaveLength(1);
      expect(r.seen[0]!.source).toBe("mqtt.span-batch");
      expect(r.seen[0]!.reason).toContain(why);
    }
  });

  test("a batch must speak for the node of the topic it came on", () => {
    const r = refusals(batch({ node: "pi-2" }), "pi-1");
    expect(r.b).toBeUndefined();
    expect(r.seen[0]!.reason).toContain('batch for node "pi-2" published on the topic of node "pi-1"');
  });
});

describe("trace bridge and MQTT handlers under malformed input (real mosquitto)", () => {
  let broker: TestMosquitto;
  let pub: MqttClient;
  beforeAll(async () => {
    broker = await TestMosquitto.start();
    pub = await mqtt.connectAsync(broker.url, { username: broker.username, password: broker.password });
  });
  afterAll(async () => {
    await pub.endAsync(true);
    await broker.dispose();
  });

  test("malformed and forged batches are refused and counted; later batches still arrive; close() completes", async () => {
    const refused: string[] = [];
    const bridge = new TraceBridge({
      mqttUrl: broker.url,
      mqttUsername: broker.username,
      mqttPassword: broker.password,
      prefix: "nc/v1",
      exportIntervalMs: 60_000,
      maxTraces: 100,
      alertThresholdNs: 50e6,
      rejects: { reject: (source, reason) => refused.push(`${source}: ${reason}`) },
    });
    await waitFor(async () => (await pub.publishAsync("nc/v1/spans/pi-1", JSON.stringify(batch()), { qos: 1 }), bridge.stats.batches >= 1), {
      message: "bridge receives",
    });
    const { slow: _slow, ...noSlow } = spans[0]!;
    await pub.publishAsync("nc/v1/spans/pi-1", JSON.stringify(batch({ spans: [noSlow as never] }, 2)), { qos: 1 });
    await pub.publishAsync("nc/v1/spans/pi-1", JSON.stringify(batch({ node: "pi-9" }, 3)), { qos: 1 });
    await pub.publishAsync("nc/v1/spans/pi-1", JSON.stringify(batch({}, 4)), { qos: 1 });
    await waitFor(() => bridge.aggregator.agents.get("pi-1")?.lastSeq === 4, { message: "the batch after the malformed ones is ingested" });
    expect(bridge.stats.invalid).toBe(2);
    expect(refused.some((r) => r.startsWith("mqtt.span-batch: spans.0.slow"))).toBe(true);
    expect(refused.some((r) => r.includes('"pi-9"'))).toBe(true);
    expect(bridge.aggregator.agents.has("pi-9")).toBe(false);
    await bridge.close();
    expect(bridge.client.connected).toBe(false);
  });

  test("an exception (thrown or rejected) in any message handler is caught, logged as JSON and counted", async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const conn = new MqttConnection({
      url: broker.url,
      prefix: "nc/h1",
      username: broker.username,
      password: broker.password,
      logger: createLogger({ write: (l) => lines.push(l) }),
      onHandlerError: (filter, e) => errors.push(`${filter} ${String(e)}`),
    });
    await conn.waitConnected();
    const got: string[] = [];
    await conn.subscribe("nc/h1/a", () => {
      throw new TypeError("glob.replace is not a function");
    });
    await conn.subscribe("nc/h1/b", async () => {
      throw new Error("async boom");
    });
    await conn.subscribe("nc/h1/c", (t) => void got.push(t));
    await pub.publishAsync("nc/h1/a", "x", { qos: 1 });
    await pub.publishAsync("nc/h1/b", "x", { qos: 1 });
    await pub.publishAsync("nc/h1/c", "x", { qos: 1 });
    await waitFor(() => got.includes("nc/h1/c") && errors.length === 2, {
      message: () => `later messages delivered, both errors counted: ${JSON.stringify({ got, errors })}`,
    });
    expect(errors.sort()).toEqual(["nc/h1/a TypeError: glob.replace is not a function", "nc/h1/b Error: async boom"]);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.message === "MQTT message handler failed");
    expect(logged.map((l) => l.error.message).sort()).toEqual(["Error: async boom", "TypeError: glob.replace is not a function"]);
    await conn.close();
  });
});

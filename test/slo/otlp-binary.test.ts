// The controller process (the compiled binary when it is built) receives OTLP/HTTP from the real SDK
// exporter on its HTTP endpoint: entry spans are counted in /metrics, the agent's syscall spans (over a
// real mosquitto, through the trace bridge) join them by trace id, and malformed, oversize and
// unauthenticated requests are refused and counted. The planted token never appears in its output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import type { Simulator } from "../../src/sim/index.ts";
import { ControllerProcess, FLAVORS, freePort } from "../support/controller.ts";
import type { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { startStack, type Stack } from "../support/stack.ts";
import type { TestMosquitto } from "../../testkit/mosquitto.ts";
import { sendOtlpTraffic } from "../../testkit/otlp-load.ts";
import { waitFor } from "../../testkit/wait.ts";

const flavor = FLAVORS.at(-1)!;
const TOKEN = "otlp-binary-planted-token-93c1";
const prefix = "neurocontroller/otlp-e2e";
let stack: Stack;
let sim: Simulator;
let broker: TestMosquitto;
let pub: TestSubscriber;
let ctl: ControllerProcess;
let port: number;
const local = () => `http://127.0.0.1:${port}`;
const external = (() => {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
})();

async function metric(series: string): Promise<number> {
  const text = await (await fetch(`${local()}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(" ").pop()) : 0;
}

beforeAll(async () => {
  stack = await startStack({ seed: { nodes: 1, deployments: 1, replicasPerDeployment: 1 }, subscribe: [`${prefix}/status`] });
  ({ sim, broker, sub: pub } = stack);
  port = await freePort();
  ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), {
    LEADER_ELECTION: "false",
    ...broker.clientEnv,
    MQTT_TOPIC_PREFIX: prefix,
    NEURO_HTTP_ADDR: `0.0.0.0:${port}`,
    SLO_OTLP_TOKEN: TOKEN,
    SLO_OTLP_MAX_BODY: "64KiB",
    TRACE_EXPORT_INTERVAL: "200ms",
  });
  await waitFor(async () => (await fetch(`${local()}/readyz`).catch(() => undefined))?.status === 200, {
    timeoutMs: 30_000,
    message: () => `controller ready (stderr: ${ctl.stderr.slice(-1500)})`,
  });
});
afterAll(async () => {
  await ctl?.stop();
  await stack?.stop();
});

function syscallBatch(seq: number, traceIds: string[]) {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    v: 1,
    node: "pi-1",
    arch: "aarch64",
    seq,
    sentAt: new Date().toISOString(),
    drops: { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 },
    spans: traceIds.map((traceId) => ({
      traceId,
      parentId: "00f067aa0ba902b7",
      service: "checkout",
      pid: 4242,
      threads: 1,
      syscall: "read",
      nr: 63,
      count: 2,
      totalNs: 3_000_000,
      maxNs: 2_000_000,
      startUnixNano: now.toString(),
      endUnixNano: (now + 3_000_000n).toString(),
      slow: [],
    })),
  });
}

describe(`OTLP intake on the controller's HTTP endpoint (${flavor})`, () => {
  test("SDK protobuf export → entry spans counted; agent syscall spans join by trace id", async () => {
    const sent = await sendOtlpTraffic({
      url: `${local()}/v1/traces`,
      format: "protobuf",
      services: [{ service: "checkout", namespace: "shop", deployment: "checkout", requests: 50, latencyMs: 30, errorRatio: 0.1, childSpans: 1 }],
    });
    expect(sent.failed).toBe(0);
    expect(await metric('neurocontroller_otlp_spans_total{outcome="recorded"}')).toBe(50);
    expect(await metric('neurocontroller_otlp_spans_total{outcome="other"}')).toBe(50);
    expect(await metric("neurocontroller_otlp_red_services")).toBe(1);
    // The bridge subscribes once the controller leads: publish until the join is counted.
    const traces = sent.traceIds.checkout!.slice(0, 5);
    let seq = 0;
    await waitFor(
      async () => {
        await pub.client.publishAsync(`${prefix}/spans/pi-1`, syscallBatch(++seq, traces), { qos: 1 });
        return (await metric('neurocontroller_otlp_syscall_spans_total{outcome="joined"}')) >= 5;
      },
      { timeoutMs: 20_000, intervalMs: 300, message: "syscall spans joined to checkout" },
    );
  });

  test("malformed → 400 and oversize → 413, counted as malformed input from otlp", async () => {
    const before = await metric('neurocontroller_malformed_input_total{source="otlp"}');
    const bad = await fetch(`${local()}/v1/traces`, { method: "POST", body: "]]", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    const big = await fetch(`${local()}/v1/traces`, {
      method: "POST",
      body: new Uint8Array(65 * 1024),
      headers: { "content-type": "application/x-protobuf" },
    });
    expect(big.status).toBe(413);
    expect(await metric('neurocontroller_malformed_input_total{source="otlp"}')).toBe(before + 2);
    expect(await metric('neurocontroller_otlp_requests_total{result="malformed"}')).toBe(1);
    expect(await metric('neurocontroller_otlp_requests_total{result="too_large"}')).toBe(1);
  });

  test("off the loopback: no token → 401, counted; the SDK with the token is accepted", async () => {
    if (!external) {
      console.warn("skipped: this machine has no non-loopback IPv4 address");
      return;
    }
    const res = await fetch(`http://${external}:${port}/v1/traces`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(401);
    expect(await metric('neurocontroller_otlp_requests_total{result="unauthorized"}')).toBe(1);
    const sent = await sendOtlpTraffic({
      url: `http://${external}:${port}/v1/traces`,
      format: "json",
      token: TOKEN,
      services: [{ service: "edge", namespace: "iot", requests: 20, latencyMs: 5 }],
    });
    expect(sent.failed).toBe(0);
    expect(await metric("neurocontroller_otlp_red_services")).toBe(2);
    expect(ctl.stderr).not.toContain(TOKEN);
  });
});

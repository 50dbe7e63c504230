// Agent spans reach the controller over a real mosquitto; a slow syscall becomes a SyscallLatencyHigh
// anomaly in cleaned_events.log (and the alert pipeline), which resolves once it is no longer seen.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { ControllerProcess } from "../support/controller.ts";
import type { TestMosquitto } from "../../testkit/mosquitto.ts";
import type { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { startStack, type Stack } from "../support/stack.ts";
import { waitFor } from "../../testkit/wait.ts";

let stack: Stack;
let sim: Simulator;
let broker: TestMosquitto;
let pub: TestSubscriber;
let ctl: ControllerProcess;
const prefix = "neurocontroller/trace-e2e";

beforeAll(async () => {
  stack = await startStack({ seed: { nodes: 1, deployments: 1, replicasPerDeployment: 1 }, subscribe: [`${prefix}/alerts`] });
  ({ sim, broker, sub: pub } = stack);
});
afterAll(async () => {
  await ctl?.stop();
  await stack?.stop();
});

function batch(seq: number, maxNs: number) {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    v: 1,
    node: "pi-1",
    arch: "aarch64",
    seq,
    sentAt: new Date().toISOString(),
    drops: { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 },
    spans: [
      {
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        parentId: "00f067aa0ba902b7",
        service: "checkout",
        pid: 4242,
        threads: 1,
        syscall: "fsync",
        nr: 82,
        count: 3,
        totalNs: maxNs + 2_000_000,
        maxNs,
        startUnixNano: now.toString(),
        endUnixNano: (now + BigInt(maxNs)).toString(),
        slow: [{ tid: 4242, startUnixNano: now.toString(), durNs: maxNs, ret: 0 }],
      },
    ],
  });
}

test("a 1.5 s fsync in a traced request fires SyscallLatencyHigh for the service, then resolves", async () => {
  ctl = await ControllerProcess.start("source", sim.kubeconfig(), {
    LEADER_ELECTION: "false",
    ...broker.clientEnv,
    MQTT_TOPIC_PREFIX: prefix,
    TRACE_EXPORT_INTERVAL: "200ms",
    TRACE_ALERT_SYSCALL_LATENCY: "1s",
    RULE_EVENT_MAX_AGE: "2s",
    DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
    ALERT_GROUP_WAIT: "200ms",
  });
  await ctl.ready();
  // the bridge subscribes once the controller leads; publish until the anomaly is logged
  let seq = 0;
  const fired = await waitFor(
    async () => {
      await pub.client.publishAsync(`${prefix}/spans/pi-1`, batch(++seq, 1_500_000_000), { qos: 1 });
      return ctl.lines().find((l) => l.reason === "SyscallLatencyHigh" && l.status === "firing");
    },
    { timeoutMs: 20_000, intervalMs: 300, message: "SyscallLatencyHigh logged" },
  );
  expect(fired).toMatchObject({ kind: "Service", name: "checkout", node: "pi-1", severity: "warning", category: "Latency" });
  expect(fired.message).toContain("fsync took 1500 ms");
  await waitFor(() => pub.on(`${prefix}/alerts`).some((m) => m.payload.includes("SyscallLatencyHigh")), { message: "latency alert on MQTT" });
  // healthy traffic only: the anomaly ages out and resolves
  await pub.client.publishAsync(`${prefix}/spans/pi-1`, batch(++seq, 2_000_000), { qos: 1 });
  await ctl.line({ reason: "SyscallLatencyHigh", status: "resolved" });
  // malformed span batches are counted, never fatal
  await pub.client.publishAsync(`${prefix}/spans/pi-1`, "{oops", { qos: 1 });
  expect((await fetch(`${ctl.url}/healthz`)).status).toBe(200);
});

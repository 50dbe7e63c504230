// Broker least privilege with the ACL the Ansible role ships (rendered from its template) on a real
// mosquitto, and operator commands with authority end to end: a node cannot publish as another node
// or send a command, a reader cannot send a command, an unsigned silence command reaches the
// controller but is refused and audited, and the CLI's signed command is stored with its signer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import type { Simulator } from "../../src/sim/index.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { crashLoopPod } from "../../src/sim/injectors.ts";
import { seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";
import { renderBrokerAcl } from "../support/broker-acl.ts";
import { command, ControllerProcess, FLAVORS } from "../support/controller.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";

const prefix = "neurocontroller/acl-test";
const COMMAND_KEY = "acl-test-command-key-0123456789abcdef";
const accounts = {
  "pi-1": "node-1-pass",
  "pi-2": "node-2-pass",
  dashboard: "reader-pass",
  ops: "operator-pass",
} as const;
type Account = keyof typeof accounts | "neurocontroller";

describe("broker least privilege (shipped ACL, real mosquitto)", () => {
  let broker: TestMosquitto;
  let sim: Simulator;
  let seeded: SeededCluster;
  let ctl: ControllerProcess | undefined;
  const clients: MqttClient[] = [];

  const connect = async (name: Account): Promise<MqttClient> => {
    const password = name === "neurocontroller" ? broker.password : accounts[name];
    const c = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      username: name,
      password,
      clientId: `acl-${name}-${Math.random().toString(16).slice(2)}`,
    });
    clients.push(c);
    return c;
  };
  /** QoS 1 over MQTT 5: mosquitto answers a refused publish with reason code 135 (not authorized). */
  const publish = (c: MqttClient, topic: string, payload = "{}") =>
    c.publishAsync(topic, payload, { qos: 1 }).then(
      () => "accepted",
      (e: { code?: number }) => (e.code === 135 ? "denied" : `error ${String(e)}`),
    );

  beforeAll(async () => {
    const acl = renderBrokerAcl({
      prefix,
      controller: "neurocontroller",
      agentSecret: "set",
      readers: [{ name: "dashboard", password: accounts.dashboard }],
      operators: [{ name: "ops", password: accounts.ops }],
    });
    broker = await TestMosquitto.start({
      username: "neurocontroller",
      users: Object.entries(accounts).map(([name, password]) => ({ name, password })),
      acl,
    });
    sim = await startSimulator({ tls: true });
    seeded = seedHealthyCluster(sim.store, { nodes: 1, deployments: 1, replicasPerDeployment: 1 });
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await ctl?.stop();
    await sim?.stop();
    await broker?.dispose();
  });

  test("a node publishes only its own spans/hosts topics; nobody but an operator publishes a command", async () => {
    const controller = await connect("neurocontroller");
    const seen: string[] = [];
    controller.on("message", (t) => seen.push(t));
    await controller.subscribeAsync([`${prefix}/spans/+`, `${prefix}/hosts/+`], { qos: 1 });
    const node1 = await connect("pi-1");
    expect(await publish(node1, `${prefix}/spans/pi-1`)).toBe("accepted");
    expect(await publish(node1, `${prefix}/hosts/pi-1`)).toBe("accepted");
    await waitFor(() => seen.includes(`${prefix}/spans/pi-1`) && seen.includes(`${prefix}/hosts/pi-1`), {
      message: "the controller reads the node's topics",
    });
    expect(await publish(node1, `${prefix}/spans/pi-2`)).toBe("denied");
    expect(await publish(node1, `${prefix}/hosts/pi-2`)).toBe("denied");
    expect(await publish(node1, `${prefix}/silences/set`)).toBe("denied");
    expect(await publish(node1, `${prefix}/alerts`)).toBe("denied");
    expect(await publish(node1, `${prefix}/incidents/x`)).toBe("denied");
    const reader = await connect("dashboard");
    expect(await publish(reader, `${prefix}/silences/set`)).toBe("denied");
    expect(await publish(reader, `${prefix}/alerts`)).toBe("denied");
    expect(await publish(reader, `${prefix}/spans/pi-1`)).toBe("denied");
    expect(await publish(controller, `${prefix}/spans/pi-1`)).toBe("denied");
    const ops = await connect("ops");
    expect(await publish(ops, `${prefix}/silences/set`, "not a command")).toBe("accepted");
    expect(await publish(ops, `${prefix}/spans/pi-1`)).toBe("denied");
  });

  test("Home Assistant discovery: the controller writes its own entities' configs and states, nobody else's", async () => {
    const controller = await connect("neurocontroller");
    const reader = await connect("dashboard");
    const seen: string[] = [];
    reader.on("message", (t) => seen.push(t));
    await reader.subscribeAsync(["homeassistant/+/neurocontroller_default/+/config", `${prefix}/ha/#`], { qos: 1 });
    expect(await publish(controller, "homeassistant/sensor/neurocontroller_default/leader/config")).toBe("accepted");
    expect(await publish(controller, "homeassistant/binary_sensor/neurocontroller_default/problem/config")).toBe("accepted");
    expect(await publish(controller, `${prefix}/ha/cluster`)).toBe("accepted");
    await waitFor(() => seen.includes("homeassistant/sensor/neurocontroller_default/leader/config") && seen.includes(`${prefix}/ha/cluster`), {
      message: "the reader (Home Assistant) reads the configs and states",
    });
    expect(await publish(controller, "homeassistant/sensor/someone_elses_device/x/config")).toBe("denied");
    expect(await publish(controller, "homeassistant/switch/neurocontroller_default/x/config")).toBe("denied");
    expect(await publish(reader, "homeassistant/sensor/neurocontroller_default/leader/config")).toBe("denied");
    expect(await publish(reader, `${prefix}/ha/cluster`)).toBe("denied");
  });

  async function cli(args: string[], account: "ops" | "dashboard") {
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/nonexistent",
      USER: "tester",
      MQTT_URL: broker.url,
      MQTT_USERNAME: account,
      MQTT_PASSWORD: accounts[account],
      MQTT_TOPIC_PREFIX: prefix,
      MQTT_COMMAND_KEY: COMMAND_KEY,
      MQTT_COMMAND_SIGNER: "alice@ops-laptop",
    };
    // The compiled binary when `npm test` built it (it signs as users run it), else from source.
    const p = Bun.spawn(command(FLAVORS.at(-1)!, args), { env, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, out, err };
  }

  const labelled = async (name: string, label: string): Promise<number> => {
    const text = await (await fetch(`${ctl!.url}/metrics`)).text();
    const m = new RegExp(`^${name}\\{[^}]*source="${label.replace(/\./g, "\\.")}"[^}]*\\} ([0-9.e+-]+)$`, "m").exec(text);
    return m ? Number(m[1]) : 0;
  };
  const storedSilences = (): { id: string; createdBy: string; comment: string }[] =>
    JSON.parse(sim.store.get("configmaps", "kube-system", "neurocontroller-silences")?.data?.["silences.json"] ?? "[]");

  test("unsigned command refused and audited; the CLI's signed command is stored with its signer", async () => {
    // Issue 10 item 1: silences already stored with a non-string matcher, or matching everything,
    // must not stop alerting (they are ignored and counted), across restarts.
    const hostile = [
      {
        id: "bad-type",
        matchers: [{ field: "namespace", value: 12345 }],
        startsAt: 0,
        endsAt: 4e12,
        createdBy: "x",
        comment: "t",
        createdAt: 0,
        updatedAt: 0,
      },
      {
        id: "everything",
        matchers: [{ field: "namespace", value: "__nothing__", negate: true }],
        startsAt: 0,
        endsAt: 4e12,
        createdBy: "x",
        comment: "t",
        createdAt: 0,
        updatedAt: 0,
      },
    ];
    sim.store.upsert({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "neurocontroller-silences", namespace: "kube-system" },
      data: { "silences.json": JSON.stringify(hostile) },
    } as never);
    const reader = await connect("dashboard");
    const alerts: string[] = [];
    reader.on("message", (_t, p) => alerts.push(p.toString()));
    await reader.subscribeAsync(`${prefix}/alerts`, { qos: 1 });
    ctl = await ControllerProcess.start("source", sim.kubeconfig(), {
      LEADER_ELECTION: "false",
      LEADER_LEASE_NAMESPACE: "kube-system",
      MQTT_URL: broker.url,
      MQTT_USERNAME: "neurocontroller",
      MQTT_PASSWORD: broker.password,
      MQTT_TOPIC_PREFIX: prefix,
      MQTT_COMMAND_KEY: COMMAND_KEY,
      ALERT_GROUP_WAIT: "500ms",
      DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
    });
    await ctl.ready();
    const pod = seeded.deployments[0]!.pods[0]!;
    crashLoopPod(sim.store, seeded.deployments[0]!.namespace ?? "default", pod);
    await waitFor(() => alerts.some((a) => a.includes(pod)), {
      timeoutMs: 30_000,
      message: () => `alert for ${pod} despite the hostile silences (stderr: ${ctl!.stderr.slice(-1500)})`,
    });
    expect(await labelled("neurocontroller_malformed_input_total", "configmap.silences")).toBeGreaterThanOrEqual(2);
    expect(ctl.stderr).not.toContain("glob.replace");
    sim.store.upsert({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "neurocontroller-silences", namespace: "kube-system" },
      data: { "silences.json": "[]" },
    } as never);
    const ops = await connect("ops");
    const unsigned = JSON.stringify({
      action: "add",
      matchers: "namespace!=__nothing__",
      duration: "876000h",
      createdBy: "mallory",
      comment: "unsigned",
    });
    // The controller subscribes once it leads: publish until it has seen (and refused) one.
    await waitFor(
      async () => (
        await publish(ops, `${prefix}/silences/set`, unsigned),
        (await labelled("neurocontroller_malformed_input_total", "mqtt.command.unsigned")) >= 1
      ),
      {
        message: "unsigned command refused and counted",
        intervalMs: 300,
      },
    );
    expect(ctl.stderr).toContain("mqtt.command.unsigned");
    expect(ctl.stderr).toContain("__nothing__"); // audited with (a preview of) its payload
    expect(storedSilences()).toEqual([]);

    const denied = await cli(["silence", "add", "name=worker-*", "--mqtt", "--duration", "1h", "--comment", "reader tries"], "dashboard");
    expect(denied.code).toBe(1);
    expect(denied.err).toContain("Not authorized");

    const add = await cli(["silence", "add", "name=worker-*", "--mqtt", "--duration", "1h", "--comment", "known issue", "--json"], "ops");
    expect(add.err).toBe("");
    expect(add.code).toBe(0);
    const answer = JSON.parse(add.out);
    expect(answer).toMatchObject({ ok: true, action: "add" });
    const stored = storedSilences();
    expect(stored.map((s) => [s.id, s.createdBy, s.comment])).toEqual([[answer.id, "alice@ops-laptop", "known issue"]]);

    const tooLong = await cli(["silence", "add", "name=worker-*", "--mqtt", "--duration", "876000h", "--comment", "forever"], "ops");
    expect(tooLong.code).toBe(2);
    expect(tooLong.err).toContain("SILENCE_MAX_DURATION");

    const prefixOnly = await cli(["silence", "rm", answer.id.slice(0, 6), "--mqtt"], "ops");
    expect(prefixOnly.code).toBe(2);
    const rm = await cli(["silence", "rm", answer.id, "--mqtt"], "ops");
    expect(rm.code).toBe(0);
    expect(rm.out).toContain(`silence ${answer.id} expired`);
  }, 60_000);

  test("a flood of malformed and forged span batches is refused and counted, never fatal; SIGTERM still exits", async () => {
    const node = await connect("pi-1");
    const spanWithoutSlow = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentId: "00f067aa0ba902b7",
      service: "ghost",
      pid: 1,
      threads: 1,
      syscall: "fsync",
      nr: 74,
      count: 1,
      totalNs: 9e9,
      maxNs: 9e9,
      startUnixNano: "1",
      endUnixNano: "2",
    };
    const drops = { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 };
    const malformed = JSON.stringify({ v: 1, node: "pi-1", arch: "x", seq: 1, sentAt: "", drops, spans: [spanWithoutSlow] });
    const forged = JSON.stringify({ v: 1, node: "pi-2", arch: "x", seq: 1, sentAt: "", drops, spans: [{ ...spanWithoutSlow, slow: [] }] });
    await waitFor(
      async () => {
        for (let i = 0; i < 20; i++) await node.publishAsync(`${prefix}/spans/pi-1`, i % 2 ? forged : malformed, { qos: 1 });
        return (await labelled("neurocontroller_malformed_input_total", "mqtt.span-batch")) >= 20;
      },
      { message: "malformed span batches refused and counted", intervalMs: 200 },
    );
    expect((await fetch(`${ctl!.url}/readyz`)).status).toBe(200);
    expect(ctl!.stderr).not.toContain("TypeError");
    expect(await ctl!.stop()).toBe(0);
    ctl = undefined;
  }, 60_000);
});

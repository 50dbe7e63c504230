// Failover mid-drain with two controller processes electing a leader over the simulator's Lease: the
// leader is killed (SIGKILL) after its first eviction; the standby takes the Lease, resumes from the node's
// annotation and finishes the drain — no pod evicted twice, no second cordon, and the other NotReady node
// is not started on while the first is under remediation. Evictions are observed on <prefix>/actions.
import { afterAll, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import type { ActionRecord } from "../../src/model/action.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { nodeNotReady } from "../../src/sim/injectors.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { ControllerProcess, FLAVORS } from "../support/controller.ts";

const prefix = "neurocontroller/heal-failover";
const flavor = FLAVORS.at(-1)!;
const DEAD = "pi-node-3";

describe(`healing failover mid-drain (${flavor})`, () => {
  let broker: TestMosquitto | undefined;
  let sim: Simulator | undefined;
  let sub: MqttClient | undefined;
  const controllers: ControllerProcess[] = [];
  afterAll(async () => {
    for (const c of controllers) c.proc.kill("SIGKILL");
    await sub?.endAsync(true).catch(() => {});
    await sim?.stop();
    await broker?.dispose();
  });

  test("the new leader finishes the drain without repeating an eviction or starting another node", async () => {
    broker = await TestMosquitto.start({ username: "neurocontroller" });
    sim = await startSimulator({ tls: true, nodeLifecycle: true });
    seedHealthyCluster(sim.store, { nodes: 5, deployments: 6, replicasPerDeployment: 5 });
    const onDead = sim.store
      .list("pods")
      .filter((p) => p.spec?.nodeName === DEAD)
      .map((p) => p.metadata.name);
    expect(onDead.length).toBeGreaterThan(2);
    sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: "neurocontroller", password: broker.password, clientId: "fo-sub" });
    const actions: ActionRecord[] = [];
    sub.on("message", (_t, payload) => actions.push(JSON.parse(payload.toString())));
    await sub.subscribeAsync(`${prefix}/actions`, { qos: 1 });

    const env = {
      HEALING_MODE: "on",
      HEALING_INTERVAL: "200ms",
      HEALING_NODE_NOTREADY_AFTER: "1s",
      HEALING_FORCE_AFTER: "0",
      MQTT_URL: broker.url,
      MQTT_USERNAME: "neurocontroller",
      MQTT_PASSWORD: broker.password,
      MQTT_TOPIC_PREFIX: prefix,
      ENABLE_EMAIL_ALERT: "false",
      ENABLE_SLACK_ALERT: "false",
    };
    for (const id of ["ctl-a", "ctl-b"]) controllers.push(await ControllerProcess.start(flavor, sim.kubeconfig(), { ...env, LEADER_IDENTITY: id }));
    const leader = await waitFor(
      async () => {
        for (const c of controllers) if ((await c.metric("neurocontroller_is_leader").catch(() => 0)) === 1) return c;
        return undefined;
      },
      { timeoutMs: 30_000, message: "a leader" },
    );
    const standby = controllers.find((c) => c !== leader)!;
    // Slow every API answer so the drain spans several intervals and the kill lands between evictions.
    sim.faults.delayMs(250);
    nodeNotReady(sim.store, DEAD);
    nodeNotReady(sim.store, "pi-node-4");
    await waitFor(() => actions.some((a) => a.step === "evict"), {
      timeoutMs: 30_000,
      message: () => `a first eviction (${leader.stderr.slice(-1500)})`,
    });
    leader.proc.kill("SIGKILL");
    await leader.exited;
    const firstLeader = actions.filter((a) => a.step === "evict").map((a) => a.target.name);
    expect(firstLeader.length).toBeLessThan(onDead.length); // killed mid-drain

    await waitFor(() => actions.some((a) => a.step === "drained"), {
      timeoutMs: 60_000,
      message: () =>
        `the standby finishing the drain (have ${actions.map((a) => `${a.step}:${a.target.name}`).join(", ")}; ${standby.stderr.slice(-1500)})`,
    });
    const evicted = actions.filter((a) => a.step === "evict").map((a) => a.target.name);
    expect(new Set(evicted).size).toBe(evicted.length); // nobody evicted twice
    expect(evicted.sort()).toEqual([...onDead].sort());
    expect(actions.filter((a) => a.step === "cordon").map((a) => a.target.name)).toEqual([DEAD]);
    expect(sim.store.get("nodes", undefined, "pi-node-4")!.spec.unschedulable).toBeUndefined();
    expect(actions.some((a) => a.step === "waiting-max-concurrent" && a.target.name === "pi-node-4")).toBe(true);
    sim.faults.delayMs(0);
  }, 120_000);
});

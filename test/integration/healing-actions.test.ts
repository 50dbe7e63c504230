// End to end with the controller process, the HTTPS simulator (dead-node semantics) and a real mosquitto running
// the ACL the Ansible role ships: healing decisions appear on <prefix>/actions (read by a read-only account)
// exactly once each, announced ones also on <prefix>/alerts, and `heal history` lists each once — also after
// the controller restarted with the same state.db and replayed the same decisions.
import { afterAll, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import type { ActionRecord } from "../../src/model/action.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { nodeNotReady, nodeReady } from "../../src/sim/injectors.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { renderBrokerAcl } from "../support/broker-acl.ts";
import { command, ControllerProcess, FLAVORS } from "../support/controller.ts";

const prefix = "neurocontroller/heal-test";
const flavor = FLAVORS.at(-1)!;
const DEAD = "pi-node-3";

describe(`healing actions on MQTT, exactly once across a restart (${flavor})`, () => {
  let broker: TestMosquitto | undefined;
  let sim: Simulator | undefined;
  let reader: MqttClient | undefined;
  const controllers: ControllerProcess[] = [];
  afterAll(async () => {
    for (const c of controllers) c.proc.kill("SIGKILL");
    await reader?.endAsync(true).catch(() => {});
    await sim?.stop();
    await broker?.dispose();
  });

  test("cordon, evictions and uncordon: each once on <prefix>/actions and in heal history", async () => {
    broker = await TestMosquitto.start({
      username: "neurocontroller",
      users: [{ name: "dashboard", password: "reader-pass" }],
      acl: renderBrokerAcl({
        prefix,
        controller: "neurocontroller",
        agentSecret: "",
        readers: [{ name: "dashboard", password: "reader-pass" }],
        operators: [],
      }),
    });
    sim = await startSimulator({ tls: true, nodeLifecycle: true });
    seedHealthyCluster(sim.store, { nodes: 5, deployments: 2, replicasPerDeployment: 5 });
    const onDead = sim.store.list("pods").filter((p) => p.spec?.nodeName === DEAD).length;
    expect(onDead).toBeGreaterThan(0);

    reader = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: "dashboard", password: "reader-pass", clientId: "heal-reader" });
    const actions: ActionRecord[] = [];
    const alerts: { action?: ActionRecord }[] = [];
    reader.on("message", (topic, payload) => {
      if (topic === `${prefix}/actions`) actions.push(JSON.parse(payload.toString()));
      if (topic === `${prefix}/alerts`) alerts.push(JSON.parse(payload.toString()));
    });
    await reader.subscribeAsync([`${prefix}/actions`, `${prefix}/alerts`], { qos: 1 });

    const env = {
      HEALING_MODE: "on",
      HEALING_INTERVAL: "200ms",
      HEALING_NODE_NOTREADY_AFTER: "1s",
      HEALING_UNCORDON_AFTER: "1s",
      HEALING_FORCE_AFTER: "0",
      MQTT_URL: broker.url,
      MQTT_USERNAME: "neurocontroller",
      MQTT_PASSWORD: broker.password,
      MQTT_TOPIC_PREFIX: prefix,
      ENABLE_EMAIL_ALERT: "false",
      ENABLE_SLACK_ALERT: "false",
    };
    const first = await ControllerProcess.start(flavor, sim.kubeconfig(), env);
    controllers.push(first);
    nodeNotReady(sim.store, DEAD);
    const drained = await waitFor(() => actions.find((a) => a.step === "drained"), {
      timeoutMs: 30_000,
      message: () => `drained on ${prefix}/actions (have ${actions.map((a) => a.step).join(", ")}; stderr ${first.stderr.slice(-1500)})`,
    });
    expect(drained.summary).toBe(`Node ${DEAD} cordoned and drained: ${onDead} pods evicted`);
    expect(actions.filter((a) => a.step === "evict")).toHaveLength(onDead);
    expect(sim.store.get("nodes", undefined, DEAD)!.spec.unschedulable).toBe(true);

    // Restart with the same state.db: the same decisions are taken again (the node is still cordoned and
    // drained), recognised by their ids and told to nobody.
    expect(await first.stop()).toBe(0);
    const second = await ControllerProcess.start(flavor, sim.kubeconfig(), env, { logDir: first.logDir, stateDir: first.stateDir });
    controllers.push(second);
    await second.ready();
    // Proof that the new process decided while the node was still down: a second NotReady node waits for the
    // first (HEALING_MAX_CONCURRENT) — told in the same decision that re-derives "drained" for pi-node-3.
    nodeNotReady(sim.store, "pi-node-4");
    await waitFor(() => actions.find((a) => a.step === "waiting-max-concurrent"), {
      timeoutMs: 30_000,
      message: () => `waiting-max-concurrent on ${prefix}/actions (stderr ${second.stderr.slice(-1500)})`,
    });
    nodeReady(sim.store, "pi-node-4");
    nodeReady(sim.store, DEAD);
    await waitFor(() => actions.find((a) => a.step === "uncordon"), {
      timeoutMs: 30_000,
      message: () => `uncordon on ${prefix}/actions (stderr ${second.stderr.slice(-1500)})`,
    });
    const ids = actions.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(actions.map((a) => a.step)).toEqual(["cordon", ...Array(onDead).fill("evict"), "drained", "waiting-max-concurrent", "uncordon"]);
    // Announced ones also went to the alerts topic, once each.
    expect(alerts.map((a) => a.action?.step)).toEqual(["cordon", "drained", "waiting-max-concurrent", "uncordon"]);
    expect(sim.store.get("nodes", undefined, DEAD)!.spec.unschedulable).toBeFalsy();

    await second.stop();
    const p = Bun.spawn(command(flavor, ["heal", "history", "--json"]), {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NEURO_STATE_DIR: second.stateDir, NEURO_LOG_DIR: second.logDir },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    const history = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ActionRecord);
    expect(history.map((h) => h.id)).toEqual(ids);
  }, 90_000);

  test("heal pause/resume --mqtt: signed commands from an operator account switch healing; unsigned and reader commands do not", async () => {
    const key = "heal-test-command-key-0123456789abcdef";
    const mq = await TestMosquitto.start({
      username: "neurocontroller",
      users: [
        { name: "dashboard", password: "reader-pass" },
        { name: "ops", password: "ops-pass" },
      ],
      acl: renderBrokerAcl({
        prefix,
        controller: "neurocontroller",
        agentSecret: "",
        readers: [{ name: "dashboard", password: "reader-pass" }],
        operators: [{ name: "ops", password: "ops-pass" }],
      }),
    });
    const cluster = await startSimulator({ tls: true, nodeLifecycle: true });
    try {
      seedHealthyCluster(cluster.store, { nodes: 3, deployments: 1, replicasPerDeployment: 1 });
      const ctl = await ControllerProcess.start(flavor, cluster.kubeconfig(), {
        HEALING_MODE: "on",
        HEALING_INTERVAL: "200ms",
        MQTT_URL: mq.url,
        MQTT_USERNAME: "neurocontroller",
        MQTT_PASSWORD: mq.password,
        MQTT_TOPIC_PREFIX: prefix,
        MQTT_COMMAND_KEY: key,
        ENABLE_EMAIL_ALERT: "false",
        ENABLE_SLACK_ALERT: "false",
      });
      controllers.push(ctl);
      await ctl.ready();
      const pauseDoc = () => {
        const cm = cluster.store.get("configmaps", "kube-system", "neurocontroller-healing");
        return cm ? JSON.parse(cm.data["pause.json"]) : undefined;
      };
      const cli = async (args: string[], user: string, password: string) => {
        const env = {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: "/nonexistent",
          MQTT_URL: mq.url,
          MQTT_USERNAME: user,
          MQTT_PASSWORD: password,
          MQTT_TOPIC_PREFIX: prefix,
          MQTT_COMMAND_KEY: key,
          MQTT_COMMAND_SIGNER: "alice@ops-laptop",
        };
        const p = Bun.spawn(command(flavor, args), { env, stdout: "pipe", stderr: "pipe" });
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { code, out, err };
      };
      // The leader subscribes once it leads: retry the first command until it answers.
      await waitFor(async () => (await cli(["heal", "pause", "--mqtt", "--reason", "rack move"], "ops", "ops-pass")).code === 0, {
        timeoutMs: 30_000,
        message: () => `a signed pause answered (stderr ${ctl.stderr.slice(-1500)})`,
      });
      expect(pauseDoc()).toMatchObject({ paused: true, by: "alice@ops-laptop", reason: "rack move" });
      // Unsigned: the broker accepts the operator's publish, the controller refuses it (no change).
      const ops = await mqtt.connectAsync(mq.url, { protocolVersion: 5, username: "ops", password: "ops-pass", clientId: "heal-ops" });
      await ops.publishAsync(`${prefix}/healing/set`, JSON.stringify({ action: "resume" }), { qos: 1 });
      // A reader may not publish commands at all.
      const readerClient = await mqtt.connectAsync(mq.url, {
        protocolVersion: 5,
        username: "dashboard",
        password: "reader-pass",
        clientId: "heal-r",
      });
      const denied = await readerClient.publishAsync(`${prefix}/healing/set`, "{}", { qos: 1 }).then(
        () => "accepted",
        (e: { code?: number }) => (e.code === 135 ? "denied" : String(e)),
      );
      expect(denied).toBe("denied");
      await waitFor(async () => /mqtt\.command\.unsigned/.test(await (await fetch(`${ctl.url}/metrics`)).text()), {
        message: "the unsigned command counted as refused",
      });
      expect(pauseDoc().paused).toBe(true);
      expect((await cli(["heal", "resume", "--mqtt"], "ops", "ops-pass")).code).toBe(0);
      expect(pauseDoc()).toMatchObject({ paused: false, by: "alice@ops-laptop" });
      await ops.endAsync(true);
      await readerClient.endAsync(true);
    } finally {
      await cluster.stop();
      await mq.dispose();
    }
  }, 90_000);
});

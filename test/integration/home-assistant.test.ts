// Home Assistant MQTT discovery against a real mosquitto while `neurocontroller demo` runs: retained
// configs for every entity, each valid per the vendored schema of HA's documented format; host entities
// appear once a node publishes its host snapshot; a node removed from the cluster has its configs cleared
// (empty retained); a second controller taking over publishes the same unique_ids (no duplicates).
import { afterEach, describe, expect, test } from "bun:test";
import { KubeClient } from "../../src/kube/client.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { FLAVORS } from "../support/controller.ts";
import { DemoProcess } from "../support/demo-process.ts";
import { haDiscoveryProblems } from "../support/ha-discovery-schema.ts";
import { TestSubscriber } from "../support/mqtt-subscriber.ts";

const PREFIX = "neurocontroller/default";
const CLUSTER_OBJECTS = ["problem", "open_incidents", "last_alert", "leader"];
const NODES = ["pi-node-1", "pi-node-2", "pi-node-3"];

// A fresh broker per run (flavour): nothing retained by an earlier run can satisfy this one.
let broker: TestMosquitto;
afterEach(async () => {
  await broker?.dispose();
});

/** The retained configs as the broker holds them now (a fresh subscriber sees exactly those). */
async function retainedConfigs(): Promise<Map<string, string>> {
  const sub = await TestSubscriber.connect(broker, ["homeassistant/#"]);
  try {
    // Retained messages arrive right after the subscription; the problem entity's config is always among them.
    await waitFor(() => sub.messages.some((m) => m.topic.endsWith("/problem/config")), { timeoutMs: 10_000, message: "retained discovery configs" });
    const out = new Map<string, string>();
    for (const m of sub.messages) if (m.retain && m.payload) out.set(m.topic, m.payload);
    return out;
  } finally {
    await sub.close();
  }
}

const objectOf = (topic: string) => topic.split("/").at(-2)!;

describe.each(FLAVORS)("Home Assistant discovery during the demo (%s)", (flavor) => {
  test("configs for every entity, valid; host entities; a removed node cleared; a new controller reuses the unique_ids", async () => {
    broker = await TestMosquitto.start();
    const env = { ...broker.clientEnv, HA_DISCOVERY: "true", WEB_UPDATE_INTERVAL: "300ms", NEURO_DEMO_STORY_SPEED: "4", LEADER_IDENTITY: "first" };
    const watch = await TestSubscriber.connect(broker, ["homeassistant/#", `${PREFIX}/ha/#`]);
    const first = await DemoProcess.start(flavor, env);
    try {
      const expected = [...CLUSTER_OBJECTS, ...NODES.map((n) => `node_${n}_ready`)];
      await waitFor(() => expected.every((o) => watch.messages.some((m) => m.payload && objectOf(m.topic) === o && m.topic.endsWith("/config"))), {
        timeoutMs: 30_000,
        message: () =>
          `configs for ${expected.join(", ")}; seen ${[...new Set(watch.messages.map((m) => m.topic))].join(", ")}; stderr ${first.err.slice(-1500)}`,
      });
      // A node's agent publishes its host snapshot: its host entities appear.
      const snapshot = {
        v: 1,
        node: "pi-node-1",
        time: new Date().toISOString(),
        intervalSeconds: 15,
        temperature: { celsius: 51.5 },
        throttled: {
          raw: "0x0",
          underVoltageNow: false,
          freqCappedNow: false,
          throttledNow: false,
          softTempLimitNow: false,
          underVoltageSinceBoot: false,
          freqCappedSinceBoot: false,
          throttledSinceBoot: false,
          softTempLimitSinceBoot: false,
        },
        rootFs: { mount: "/", usedPercent: 42.5, sizeBytes: 32e9, readOnly: false },
      };
      await watch.client.publishAsync(`${PREFIX}/hosts/pi-node-1`, JSON.stringify(snapshot), { qos: 1, retain: true });
      const hostObjects = ["under_voltage", "throttled", "soc_temperature", "root_fs_usage"].map((x) => `node_pi-node-1_${x}`);
      await waitFor(
        async () => {
          const configs = await retainedConfigs();
          return hostObjects.every((o) => [...configs.keys()].some((t) => objectOf(t) === o));
        },
        { timeoutMs: 20_000, message: "host entities of pi-node-1" },
      );
      await waitFor(() => watch.on(`${PREFIX}/ha/nodes/pi-node-1`).some((m) => JSON.parse(m.payload || "{}").temperature_c === 51.5), {
        timeoutMs: 10_000,
        message: "pi-node-1's state with the temperature",
      });
      expect(hostObjects.some((o) => [...watch.messages].some((m) => objectOf(m.topic) === o.replace("pi-node-1", "pi-node-2")))).toBe(false);

      const configs = await retainedConfigs();
      for (const [topic, payload] of configs)
        expect({ topic, problems: haDiscoveryProblems("homeassistant", topic, payload) }).toEqual({ topic, problems: [] });
      expect(configs.size).toBe(CLUSTER_OBJECTS.length + NODES.length + hostObjects.length);
      const cluster = JSON.parse(watch.on(`${PREFIX}/ha/cluster`).at(-1)!.payload);
      expect(cluster.leader).toBe("first");

      // pi-node-3 leaves the cluster: its configs become empty retained messages.
      const client = new KubeClient(loadConnection({ kubeconfig: first.kubeconfig })!);
      expect((await client.send("DELETE", "/api/v1/nodes/pi-node-3")).status).toBe(200);
      await waitFor(() => watch.messages.some((m) => m.topic.endsWith("/node_pi-node-3_ready/config") && m.payload === "" && m.retain === false), {
        timeoutMs: 20_000,
        message: "pi-node-3's config cleared",
      });
      const after = await retainedConfigs();
      expect([...after.keys()].filter((t) => t.includes("pi-node-3"))).toEqual([]);
      expect(after.size).toBe(configs.size - 1);
      const uniqueIds = new Set([...after.values()].map((p) => JSON.parse(p).unique_id));
      await first.stop();

      // Another controller leads now (a fresh demo cluster: pi-node-3 is back): the same unique_ids, no others.
      const second = await DemoProcess.start(flavor, { ...env, LEADER_IDENTITY: "second" });
      try {
        await waitFor(() => watch.on(`${PREFIX}/ha/cluster`).some((m) => m.payload.includes('"leader":"second"')), {
          timeoutMs: 30_000,
          message: "the second controller's state",
        });
        await waitFor(async () => [...(await retainedConfigs()).keys()].some((t) => t.includes("node_pi-node-3_ready")), {
          timeoutMs: 20_000,
          message: "pi-node-3 back",
        });
        const again = await retainedConfigs();
        const ids = [...again.values()].map((p) => JSON.parse(p).unique_id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of uniqueIds) expect(ids).toContain(id);
        expect(ids.filter((id) => !uniqueIds.has(id))).toEqual(["neurocontroller_default_node_pi-node-3_ready"]);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop().catch(() => {});
      await watch.close();
    }
  }, 120_000);
});

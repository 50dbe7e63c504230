// The full agent (eBPF probe loaded) publishes host health beside its spans on the same connection: a
// retained snapshot of its (fake) host tree on <prefix>/hosts/<node>, refreshed when the tree changes;
// the agent's stats count what was published.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { Agent } from "../../agent/agent.ts";
import { hostSnapshotSchema, type HostSnapshot } from "../../src/hosts/snapshot.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { HostTree } from "../unit/hosts/host-tree.ts";
import { ebpfUnavailable } from "./helpers.ts";

const skip = ebpfUnavailable();
if (skip) console.log(`[skip] agent host health: ${skip}`);

describe.skipIf(!!skip)("agent host health over mosquitto", () => {
  let broker: TestMosquitto;
  let agent: Agent | undefined;
  let sub: mqtt.MqttClient;
  const tree = new HostTree().pi();
  const prefix = "neurocontroller/agent-host";
  const snapshots: { retain: boolean; s: HostSnapshot }[] = [];

  beforeAll(async () => {
    broker = await TestMosquitto.start();
    agent = await Agent.start({
      node: "node-h",
      prefix,
      mqttUrl: broker.url,
      mqttUsername: broker.username,
      mqttPassword: broker.password,
      socketPath: "",
      socketMode: 0o600,
      slowThresholdNs: 20e6,
      bindTtlMs: 30_000,
      bindTtlMaxMs: 60_000,
      poolMax: 16,
      inherit: true,
      flushIntervalMs: 500,
      queueMax: 10,
      ringbufBytes: 64 * 1024,
      hostHealth: { root: tree.root, intervalMs: 300 },
    });
    await waitFor(() => agent!.mqtt.connected, { message: "agent connected" });
  });

  afterAll(async () => {
    await agent?.stop();
    await sub?.endAsync();
    await broker?.dispose();
    tree.cleanup();
  });

  test("retained snapshot of the host tree; a read-only remount shows in the next one; stats count what was published", async () => {
    tree.write("proc/mounts", "/dev/mmcblk0p2 / ext4 ro,noatime 0 0\n");
    await waitFor(() => (agent!.hostHealth?.stats.published ?? 0) >= 2, { message: "published twice" });
    // a subscriber arriving later gets the last snapshot at once (retained)
    sub = mqtt.connect(broker.url, { username: broker.username, password: broker.password });
    sub.on("message", (_t, p, packet) => snapshots.push({ retain: packet.retain, s: hostSnapshotSchema.parse(JSON.parse(p.toString())) }));
    await new Promise<void>((r) => sub.on("connect", () => sub.subscribe(`${prefix}/hosts/node-h`, { qos: 1 }, () => r())));
    await waitFor(() => snapshots.some((m) => m.retain), { message: "retained snapshot" });
    expect(snapshots[0]!.s).toMatchObject({ node: "node-h", temperature: { celsius: 48.3 }, rootFs: { readOnly: true }, intervalSeconds: 0.3 });
    await agent!.stop();
    const published = agent!.stats().hostHealth!.published;
    expect(published).toBeGreaterThanOrEqual(2);
    expect(agent!.hostHealth!.stats.published).toBe(published);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MqttConnection } from "../../src/channels/mqtt-connection.ts";
import { mqttTopics, topicMatches } from "../../src/channels/mqtt-topics.ts";
import { MqttChannel } from "../../src/channels/mqtt.ts";
import { RetryableError, type AlertGroupData } from "../../src/channels/types.ts";
import { ensureCerts } from "../../src/sim/certs.ts";
import { alertGroup, notification } from "../support/alert-fixtures.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { waitFor } from "../../testkit/wait.ts";

let broker: TestMosquitto;
const closers: (() => Promise<void>)[] = [];
let prefixSeq = 0;
const freshPrefix = () => `neurocontroller/test-${process.pid}-${++prefixSeq}`;

beforeAll(async () => (broker = await TestMosquitto.start()));
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
});
afterAll(async () => broker.dispose());

async function subscriber(filters: string[]): Promise<TestSubscriber> {
  const s = await TestSubscriber.connect(broker, filters);
  closers.push(() => s.close());
  return s;
}

function mqttChannel(prefix: string): MqttChannel {
  const ch = new MqttChannel({
    url: broker.url,
    username: broker.username,
    password: broker.password,
    prefix,
    clientId: `ctl-${prefix.replace(/\//g, "-")}`,
  });
  closers.push(() => ch.close());
  return ch;
}

/** Everything retained under `filter` right now: retained messages arrive before a sentinel published after subscribing. */
async function retainedUnder(filter: string, sentinelTopic: string): Promise<Map<string, string>> {
  const s = await subscriber([filter, sentinelTopic]);
  const token = `sentinel-${Math.random()}`;
  await s.client.publishAsync(sentinelTopic, token, { qos: 1 });
  await waitFor(() => s.messages.some((m) => m.payload === token), { message: "sentinel" });
  return new Map(s.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
}

describe("MQTT channel against mosquitto", () => {
  test("alerts arrive QoS 1 on <prefix>/alerts as AlertGroupData, with the notification id", async () => {
    const prefix = freshPrefix();
    const t = mqttTopics(prefix);
    const sub = await subscriber([t.alerts]);
    const ch = mqttChannel(prefix);
    await ch.connection.waitConnected();
    const g = alertGroup(3);
    await ch.send(notification("mqtt", "n-1", g));
    const got = await waitFor(() => sub.on(t.alerts)[0]);
    expect(JSON.parse(got.payload) as AlertGroupData).toEqual(g);
    expect(got.userProperties["notification-id"]).toBe("n-1");
  });

  test("incident state is retained while firing and cleared (empty retained payload) when resolved", async () => {
    const prefix = freshPrefix();
    const t = mqttTopics(prefix);
    const ch = mqttChannel(prefix);
    await ch.connection.waitConnected();
    const firing = alertGroup(2, { incidentId: "inc-42" });
    await ch.send(notification("mqtt", "f-1", firing));
    const before = await retainedUnder(t.incidentsAll, `${prefix}/incidents/zz-sentinel`);
    expect(JSON.parse(before.get(t.incident("inc-42"))!)).toEqual(firing);

    const live = await subscriber([t.incidentsAll]);
    await ch.send(notification("mqtt", "r-1", { ...firing, status: "resolved" }));
    await waitFor(() => live.messages.some((m) => m.topic === t.incident("inc-42") && m.payload === ""));
    const after = await retainedUnder(t.incidentsAll, `${prefix}/incidents/zz-sentinel`);
    expect(after.has(t.incident("inc-42"))).toBe(false);
  });

  test("status: retained online while connected, offline via Last Will when the process is killed", async () => {
    const prefix = freshPrefix();
    const t = mqttTopics(prefix);
    const sub = await subscriber([t.status]);
    const child = Bun.spawn(["bun", join(import.meta.dir, "..", "support", "mqtt-child.ts")], {
      env: { ...process.env, ...broker.clientEnv, MQTT_TOPIC_PREFIX: prefix, MQTT_CLIENT_ID: `child-${prefixSeq}` },
      stdout: "pipe",
      stderr: "inherit",
    });
    closers.push(async () => void child.kill("SIGKILL"));
    await waitFor(() => sub.on(t.status).some((m) => m.payload === "online"), { timeoutMs: 15_000, message: "online" });
    expect((await retainedUnder(t.status, `${prefix}/zz-sentinel`)).get(t.status)).toBe("online");
    child.kill("SIGKILL");
    await child.exited;
    await waitFor(() => sub.on(t.status).at(-1)?.payload === "offline", { message: "offline (Last Will)" });
    expect((await retainedUnder(t.status, `${prefix}/zz-sentinel`)).get(t.status)).toBe("offline");
  });

  test("a graceful close publishes offline itself", async () => {
    const prefix = freshPrefix();
    const t = mqttTopics(prefix);
    const sub = await subscriber([t.status]);
    const ch = new MqttChannel({ url: broker.url, username: broker.username, password: broker.password, prefix });
    await waitFor(() => sub.on(t.status).some((m) => m.payload === "online"));
    await ch.close();
    await waitFor(() => sub.on(t.status).at(-1)?.payload === "offline");
  });

  test("subscribe() delivers command-topic messages (silences/set) to the handler", async () => {
    const prefix = freshPrefix();
    const t = mqttTopics(prefix);
    const conn = new MqttConnection({ url: broker.url, username: broker.username, password: broker.password, prefix });
    closers.push(() => conn.close());
    await conn.waitConnected();
    const got: string[] = [];
    const unsubscribe = await conn.subscribe(t.silencesSet, (_topic, payload) => got.push(payload.toString()));
    const p = Bun.spawnSync([
      "mosquitto_pub",
      "-p",
      String(broker.port),
      "-h",
      "127.0.0.1",
      "-u",
      broker.username,
      "-P",
      broker.password,
      "-q",
      "1",
      "-t",
      t.silencesSet,
      "-m",
      '{"namespace":"shop","duration":"1h"}',
    ]);
    expect(p.exitCode).toBe(0);
    await waitFor(() => got.length === 1);
    expect(JSON.parse(got[0]!)).toEqual({ namespace: "shop", duration: "1h" });
    await unsubscribe();
  });

  test("send fails fast with RetryableError while the broker is unreachable (the outbox keeps it)", async () => {
    const ch = new MqttChannel({ url: "mqtt://127.0.0.1:1", prefix: freshPrefix(), reconnectMinMs: 50 });
    closers.push(() => ch.close());
    const err = await ch.send(notification("mqtt", "x-1")).catch((e) => e);
    expect(err).toBeInstanceOf(RetryableError);
  });

  test("mqtts:// with the CA from MQTT_CA_FILE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "neuro-mqtt-certs-"));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const certs = ensureCerts(dir, "127.0.0.1");
    const tlsBroker = await TestMosquitto.start({ tls: { certFile: join(dir, "server.crt"), keyFile: join(dir, "server.key") } });
    closers.push(() => tlsBroker.dispose());
    expect(tlsBroker.url).toStartWith("mqtts://");
    const ch = new MqttChannel({
      url: tlsBroker.url,
      username: tlsBroker.username,
      password: tlsBroker.password,
      caFile: certs.caFile,
      prefix: freshPrefix(),
    });
    closers.push(() => ch.close());
    await ch.connection.waitConnected();
    await ch.send(notification("mqtt", "tls-1"));
    expect(readFileSync(certs.caFile, "utf8")).toContain("BEGIN CERTIFICATE");
  });

  test("topic filters match like the broker", () => {
    expect(topicMatches("a/+/c", "a/b/c")).toBe(true);
    expect(topicMatches("a/#", "a")).toBe(true);
    expect(topicMatches("a/#", "a/b/c")).toBe(true);
    expect(topicMatches("a/+", "a/b/c")).toBe(false);
    expect(topicMatches("#", "$SYS/x")).toBe(false);
    expect(mqttTopics("p/").incident("a/b#")).toBe("p/incidents/a_b_");
  });
});

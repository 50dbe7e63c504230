// Issue 10 item 9, output hygiene, with a real broker: a retained incident payload written by whoever
// can publish (escape sequences, numbers and objects where strings belong, a missing alerts array)
// printed by `alerts` and `status` as plain text, without a crash.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MqttConnection } from "../../src/channels/mqtt-connection.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const prefix = `neurocontroller/hygiene-${process.pid}`;
let broker: TestMosquitto;
let conn: MqttConnection;
let stateDir: string;

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

beforeAll(async () => {
  broker = await TestMosquitto.start();
  conn = new MqttConnection({ url: broker.url, username: broker.username, password: broker.password, prefix, clientId: `hygiene-${process.pid}` });
  await conn.waitConnected();
  stateDir = mkdtempSync(join(tmpdir(), "neuro-hygiene-"));
  const hostile = {
    incidentId: "inc-evil\u001b[2J\u001b[H",
    clusterId: 7,
    level: "strict",
    status: "firing",
    title: "web down\u001b]0;pwned\u0007\nFORGED LINE",
    alertCount: 2,
    nodeList: ["pi-1\u001b[31m", 5],
    alerts: [
      {
        time: 12,
        severity: { x: 1 },
        kind: "Pod",
        namespace: "shop",
        name: 5,
        node: null,
        reason: "CrashLoop\u009b1m",
        message: "m\u001b[8m hidden",
      },
    ],
  };
  await conn.publish(`${prefix}/incidents/inc-evil`, JSON.stringify(hostile), { retain: true });
});
afterAll(async () => {
  await conn.publish(`${prefix}/incidents/inc-evil`, "", { retain: true }).catch(() => {});
  await conn.close();
  await broker.dispose();
  rmSync(stateDir, { recursive: true, force: true });
});

async function run(args: string[]) {
  const env = { ...process.env, ...broker.clientEnv, MQTT_TOPIC_PREFIX: prefix, NEURO_STATE_DIR: stateDir, NO_COLOR: "1" };
  const p = Bun.spawn(["bun", MAIN, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

test("alerts and status print a hostile retained incident as plain text", async () => {
  const alerts = await run(["alerts"]);
  expect(alerts.err).toBe("");
  expect(alerts.code).toBe(0);
  expect(alerts.out).toContain("open incident inc-evil [strict] web down FORGED LINE — 2 alerts nodes: pi-1,5");
  expect(alerts.out).not.toMatch(CONTROL);
  expect(alerts.out).not.toContain("pwned");

  const status = await run(["status"]);
  expect(status.code).toBe(3);
  expect(status.out).toContain("inc-evil [strict] web down FORGED LINE");
  expect(status.out).not.toMatch(CONTROL);
});

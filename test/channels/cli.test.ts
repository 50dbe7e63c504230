// `neurocontroller alerts` and `status` as a user runs them, against mosquitto and a state database.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mqttTopics } from "../../src/channels/mqtt-topics.ts";
import { MqttChannel } from "../../src/channels/mqtt.ts";
import { Outbox } from "../../src/store/outbox.ts";
import { StateStore } from "../../src/store/state-store.ts";
import { alertGroup, notification } from "../support/alert-fixtures.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
let broker: TestMosquitto;
let ch: MqttChannel;
let stateDir: string;
const prefix = `neurocontroller/cli-${process.pid}`;

beforeAll(async () => {
  broker = await TestMosquitto.start();
  ch = new MqttChannel({ url: broker.url, username: broker.username, password: broker.password, prefix });
  await ch.connection.waitConnected();
  stateDir = mkdtempSync(join(tmpdir(), "neuro-cli-"));
});
afterAll(async () => {
  await ch.close();
  await broker.dispose();
  rmSync(stateDir, { recursive: true, force: true });
});

const env = () => ({
  ...process.env,
  ...broker.clientEnv,
  MQTT_TOPIC_PREFIX: prefix,
  NEURO_STATE_DIR: stateDir,
  NO_COLOR: "1",
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(["bun", MAIN, ...args], { env: env(), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

describe("neurocontroller alerts / status", () => {
  test("alerts without --follow prints the open incidents and exits; --json prints payloads", async () => {
    await ch.send(notification("mqtt", "cli-1", alertGroup(2, { incidentId: "inc-open", title: "web down" })));
    await ch.send(notification("mqtt", "cli-2", alertGroup(1, { incidentId: "inc-closed", status: "resolved" })));
    const text = await run(["alerts"]);
    expect(text.code).toBe(0);
    expect(text.out).toContain("open incident inc-open [strict] web down — 2 alerts");
    expect(text.out).not.toContain("inc-closed");
    const json = await run(["alerts", "--json"]);
    const lines = json.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { topic: mqttTopics(prefix).incident("inc-open"), retained: true, payload: alertGroup(2, { incidentId: "inc-open", title: "web down" }) },
    ]);
  });

  test("alerts --follow prints one line per alert as they arrive", async () => {
    const p = Bun.spawn(["bun", MAIN, "alerts", "--follow"], { env: env(), stdout: "pipe", stderr: "pipe" });
    let out = "";
    void (async () => {
      for await (const chunk of p.stdout) out += new TextDecoder().decode(chunk);
    })();
    try {
      // Retained state arrives first: it also tells us the subscription is in place.
      await waitFor(() => out.includes("open incident inc-open"), { timeoutMs: 15_000, message: () => `retained state (stdout: ${out})` });
      await ch.send(notification("mqtt", "cli-3", alertGroup(3, { incidentId: "inc-new" })));
      await waitFor(() => out.split("\n").filter((l) => l.includes("incident inc-new")).length === 3, {
        message: () => `3 alert lines (stdout: ${out})`,
      });
      expect(out).toContain(
        "FIRING   [strict] CRITICAL Pod default/web-7d9f-0 @pi-0 NotReady: Back-off restarting failed container web in pod web-7d9f-0 (incident inc-new, cluster pi-lab)",
      );
    } finally {
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    }
  });

  test("status lists open incidents from MQTT and the local outbox, exit 3 when any are open", async () => {
    const store = StateStore.open(stateDir);
    const outbox = new Outbox(store.db);
    outbox.enqueue(notification("email", "pending-mail"));
    outbox.enqueue(notification("slack", "dead-slack"));
    outbox.markDead("dead-slack", "HTTP 404");
    store.close();
    const r = await run(["status"]);
    expect(r.code).toBe(3);
    expect(r.out).toContain("inc-open [strict] web down — 2 alerts");
    expect(r.out).toContain("outbox email: 1 pending, 0 dead-lettered");
    expect(r.out).toContain("outbox slack: 0 pending, 1 dead-lettered");
  });
});

// Liveness under faults, with the real controller process: SIGTERM during a flood of malformed MQTT
// messages ends the process cleanly within NEURO_SHUTDOWN_TIMEOUT and hands the Lease back so a
// standby takes over without waiting for it to expire; an API server that is unreachable from the
// first second is reported (APIServerUnreachable, at Slack) while discovery retries, and SIGTERM in
// that phase exits 0.
import { afterAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { startSimulator } from "../../src/sim/index.ts";
import { seedHealthyCluster } from "../../src/sim/scenarios.ts";
import { ControllerProcess, FLAVORS, freePort } from "../support/controller.ts";
import { TestMosquitto } from "../support/mosquitto.ts";
import { SlackReceiver } from "../support/slack-receiver.ts";
import { waitFor } from "../support/wait.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GARBAGE: (string | Buffer)[] = [
  "not json at all",
  "{",
  "null",
  "[]",
  JSON.stringify({ spans: [{ traceId: "t", name: "read" }] }),
  // Passes the version/node/spans check but has no `slow`: threw a TypeError inside mqtt.js's emitter.
  JSON.stringify({
    v: 1,
    node: "node-x",
    arch: "x64",
    seq: 1,
    sentAt: "2025-01-01T00:00:00Z",
    drops: {},
    spans: [{ traceId: "a".repeat(32), parentId: "b".repeat(16), service: "svc", pid: 1, threads: 1, syscall: "read", nr: 0, count: 1, totalNs: 1, maxNs: 1 }],
  }),
  JSON.stringify({ node: 5, spans: "x" }),
  JSON.stringify({ action: "add", matchers: [{ field: "namespace", value: 12345 }], duration: "1h", createdBy: "x", comment: "t" }),
  JSON.stringify({ action: "expire", id: {} }),
  JSON.stringify({ action: "dance" }),
  Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]),
  "x".repeat(64 * 1024),
];

for (const flavor of FLAVORS) {
  describe(`shutdown and liveness (${flavor})`, () => {
    const cleanups: (() => unknown)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test("SIGTERM during a flood of malformed span and command messages: exit 0 within the bound, Lease released, the standby takes over", async () => {
      const sim = await startSimulator({ tls: true, clientCertAuth: true });
      cleanups.push(() => sim.stop());
      seedHealthyCluster(sim.store, { nodes: 2, deployments: 2, replicasPerDeployment: 1 });
      const broker = await TestMosquitto.start();
      cleanups.push(() => broker.stop());
      const env = {
        CLUSTER_ID: "flood",
        LEADER_ELECTION: "true",
        // Long enough that a takeover within the wait below can only come from a released Lease.
        LEADER_LEASE_DURATION: "60s",
        LEADER_RENEW_DEADLINE: "2s",
        LEADER_RETRY_PERIOD: "500ms",
        NEURO_SHUTDOWN_TIMEOUT: "5s",
        MQTT_URL: broker.url,
        MQTT_USERNAME: broker.username,
        MQTT_PASSWORD: broker.password,
        TRACE_ENABLE: "true",
        ENABLE_EMAIL_ALERT: "false",
      };
      const a = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...env, LEADER_IDENTITY: "node-a", MQTT_CLIENT_ID: "ctl-a" });
      cleanups.push(() => a.proc.kill("SIGKILL"));
      await a.ready();
      await waitFor(async () => (await a.metric("neurocontroller_is_leader")) === 1, { message: "node-a leads" });
      const b = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...env, LEADER_IDENTITY: "node-b", MQTT_CLIENT_ID: "ctl-b" });
      cleanups.push(() => b.proc.kill("SIGKILL"));
      await b.ready();

      const flooder = await mqtt.connectAsync(broker.url, { username: broker.username, password: broker.password });
      cleanups.push(() => flooder.endAsync(true));
      let flooding = true;
      let sent = 0;
      const flood = (async () => {
        while (flooding) {
          for (const g of GARBAGE) {
            flooder.publish("neurocontroller/flood/spans/node-x", g, { qos: 0 });
            flooder.publish("neurocontroller/flood/silences/set", g, { qos: 0 });
            sent += 2;
          }
          await new Promise((r) => setImmediate(r));
        }
      })();
      // The leader is receiving the flood and still alive (its handlers caught whatever the garbage did).
      await waitFor(() => sent > 2000);
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);

      a.proc.kill("SIGTERM");
      const code = await a.exited;
      flooding = false;
      await flood;
      expect(code).toBe(0);
      expect(a.stderr).not.toContain("shutdown did not finish");
      expect(a.stderr).not.toMatch(/^\s+at /m); // no raw stack trace: errors are JSON log lines
      for (const l of a.stderr.split("\n").filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
      await waitFor(() => sim.store.get("leases", "kube-system", "neurocontroller")?.spec?.holderIdentity === "node-b", {
        timeoutMs: 20_000, // far below the 60 s lease: only a release explains the takeover
        message: () => `node-b holds the Lease (holder: ${sim.store.get("leases", "kube-system", "neurocontroller")?.spec?.holderIdentity})`,
      });
    });

    test("API server unreachable from the start: APIServerUnreachable alerted while discovery retries; SIGTERM then exits 0", async () => {
      const slack = SlackReceiver.start();
      cleanups.push(() => slack.stop());
      // A kubeconfig pointing at a port nobody listens on.
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), "nc-noapi-"));
      const kubeconfig = join(dir, "kubeconfig");
      writeFileSync(
        kubeconfig,
        `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`,
      );
      const ctl = await ControllerProcess.start(flavor, kubeconfig, {
        CLUSTER_ID: "noapi",
        LEADER_ELECTION: "true",
        SLACK_WEBHOOK_URL: slack.url,
        ENABLE_EMAIL_ALERT: "false",
        DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
        ALERT_GROUP_WAIT: "1s",
        SLACK_ALERT_DISPATCH_INTERVAL: "200ms",
      });
      cleanups.push(() => ctl.proc.kill("SIGKILL"));
      await waitFor(() => slack.delivered().some((p) => JSON.stringify(p.body).includes("APIServerUnreachable")), {
        message: () => `APIServerUnreachable at Slack (stderr: ${ctl.stderr.slice(-1500)})`,
      });
      await ctl.line({ kind: "Cluster", reason: "APIServerUnreachable", status: "firing" });
      expect(ctl.stderr).toContain("discovery failed; retrying");
      const ready = await fetch(`${ctl.url}/readyz`, { headers: { accept: "application/json" } });
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toContain("API server unreachable");
      expect(await ctl.stop("SIGTERM")).toBe(0);
    });
  });
}

// Liveness under faults, with the real controller process: SIGTERM during a flood of malformed MQTT
// messages ends the process cleanly within NEURO_SHUTDOWN_TIMEOUT and hands the Lease back so a
// standby takes over without waiting for it to expire; an API server that is unreachable from the
// first second is reported (APIServerUnreachable, at Slack) while discovery retries, and SIGTERM in
// that phase exits 0.
import { afterAll, describe, expect, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import { crashLoopPod } from "../../src/sim/injectors.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { ControllerProcess, count, FLAVORS, freePort } from "../support/controller.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";
import { waitFor } from "../../testkit/wait.ts";
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
    spans: [
      {
        traceId: "a".repeat(32),
        parentId: "b".repeat(16),
        service: "svc",
        pid: 1,
        threads: 1,
        syscall: "read",
        nr: 0,
        count: 1,
        totalNs: 1,
        maxNs: 1,
      },
    ],
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
        NEURO_LOG_LEVEL: "debug",
      };
      const a = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...env, LEADER_IDENTITY: "node-a", MQTT_CLIENT_ID: "ctl-a" });
      cleanups.push(() => a.proc.kill("SIGKILL"));
      await a.ready();
      await waitFor(async () => (await a.metric("neurocontroller_is_leader")) === 1, { message: "node-a leads" });
      const b = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...env, LEADER_IDENTITY: "node-b", MQTT_CLIENT_ID: "ctl-b" });
      cleanups.push(() => b.proc.kill("SIGKILL"));
      await b.ready();

      // The flood comes from separate mosquitto_pub processes, so it does not starve this process
      // (which also runs the API server simulator).
      const garbageFile = join(mkdtempSync(join(tmpdir(), "nc-flood-")), "garbage.txt");
      writeFileSync(garbageFile, GARBAGE.filter((g) => typeof g === "string").join("\n") + "\n");
      const flooders = ["spans/node-x", "silences/set"].map((topic) =>
        Bun.spawn(
          // Own process group (setsid), killed as a group below; and the loop ends by itself once
          // mosquitto_pub is gone (cat fails on the closed pipe), so nothing outlives the test.
          [
            "setsid",
            "sh",
            "-c",
            `while cat ${garbageFile}; do :; done | mosquitto_pub -h 127.0.0.1 -p ${broker.port} -u ${broker.username} -P ${broker.password} -l -q 0 -t neurocontroller/flood/${topic}`,
          ],
          {
            stdout: "ignore",
            stderr: "ignore",
          },
        ),
      );
      cleanups.push(() => {
        for (const f of flooders) {
          try {
            process.kill(-f.pid, "SIGKILL");
          } catch {
            f.kill("SIGKILL");
          }
        }
      });
      // The leader is receiving the flood (rejected commands counted) and still alive.
      const rejected = async () =>
        ((await a.metric("neurocontroller_malformed_commands_total")) ?? 0) + ((await a.metric("neurocontroller_malformed_input_total")) ?? 0);
      await waitFor(async () => (await rejected()) > 200, { message: () => `flood reaches the leader (stderr: ${a.stderr.slice(-1000)})` });
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);

      a.proc.kill("SIGTERM");
      const code = await a.exited;
      for (const f of flooders) f.kill("SIGKILL");
      expect(code).toBe(0);
      expect(a.stderr).not.toContain("shutdown did not finish");
      expect(a.stderr).not.toMatch(/^\s+at /m); // no raw stack trace: errors are JSON log lines
      const notJson = a.stderr.split("\n").filter((l) => {
        if (!l) return false;
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
      expect(notJson).toEqual([]);
      await waitFor(() => sim.store.get("leases", "kube-system", "neurocontroller")?.spec?.holderIdentity === "node-b", {
        timeoutMs: 20_000, // far below the 60 s lease: only a release explains the takeover
        message: () =>
          `node-b holds the Lease (holder: ${sim.store.get("leases", "kube-system", "neurocontroller")?.spec?.holderIdentity}; node-a: ${a.stderr
            .split("\n")
            .filter((l) => /lead|stop|Lease/i.test(l))
            .join("\n")
            .slice(-3000)})`,
      });
    });

    test("an API server that stops answering during shutdown cannot hold the stop past NEURO_SHUTDOWN_TIMEOUT: exit 0, the overrun logged", async () => {
      const sim = await startSimulator({ tls: true, clientCertAuth: true });
      cleanups.push(() => sim.stop());
      seedHealthyCluster(sim.store, { nodes: 1, deployments: 1, replicasPerDeployment: 1 });
      const ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), {
        CLUSTER_ID: "stall",
        LEADER_ELECTION: "true",
        LEADER_IDENTITY: "node-s",
        NEURO_SHUTDOWN_TIMEOUT: "1s",
        LEADER_RENEW_DEADLINE: "5s", // the Lease release may wait this long for the API server
        LEADER_LEASE_DURATION: "8s",
      });
      cleanups.push(() => ctl.proc.kill("SIGKILL"));
      await ctl.ready();
      await waitFor(async () => (await ctl.metric("neurocontroller_is_leader")) === 1, { message: "leads" });
      sim.faults.delayMs(600_000); // every new request (the Lease release among them) hangs
      const code = await ctl.stop("SIGTERM");
      sim.faults.reset();
      expect(code).toBe(0);
      expect(ctl.stderr).toContain("shutdown did not finish within NEURO_SHUTDOWN_TIMEOUT");
    }, 60_000);

    test("without leader election nobody takes over: SIGTERM decides and writes what is still undecided", async () => {
      const sim = await startSimulator({ tls: true, clientCertAuth: true });
      cleanups.push(() => sim.stop());
      const seeded = seedHealthyCluster(sim.store, { nodes: 1, deployments: 1, replicasPerDeployment: 1 });
      const ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), {
        CLUSTER_ID: "single",
        LEADER_ELECTION: "false",
        DIAGNOSIS_WRITE_INTERVAL: "1h", // no periodic write before the stop
      });
      cleanups.push(() => ctl.proc.kill("SIGKILL"));
      await ctl.ready();
      const pod = seeded.deployments[0]!.pods[0]!;
      crashLoopPod(sim.store, "default", pod);
      await waitFor(async () => ((await ctl.metric("neurocontroller_anomalies_total")) ?? 0) > 0, { message: "anomaly seen" });
      expect(await ctl.stop("SIGTERM")).toBe(0);
      expect(count(ctl.lines(), { name: pod, reason: "CrashLoopBackOff", status: "firing" })).toBe(1);
    }, 60_000);

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
      // The outage is decided after the health checks fail, then grouped and sent: a loaded machine
      // (the image VM beside npm test in CI) can take longer than waitFor's default 10 s.
      await waitFor(() => slack.delivered().some((p) => JSON.stringify(p.body).includes("APIServerUnreachable")), {
        timeoutMs: 30_000,
        message: () => `APIServerUnreachable at Slack (stderr: ${ctl.stderr.slice(-1500)})`,
      });
      await ctl.line({ kind: "Cluster", reason: "APIServerUnreachable", status: "firing" });
      // One warning per outage (quiet retries), naming the discovery step that waits.
      expect(ctl.stderr).toContain("API server not answering; retrying quietly until it does");
      const ready = await fetch(`${ctl.url}/readyz`, { headers: { accept: "application/json" } });
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toContain("API server unreachable");
      expect(await ctl.stop("SIGTERM")).toBe(0);
    });
  });
}

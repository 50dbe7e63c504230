// Alerts end to end: the real controller process against the simulator, delivering to a real
// mosquitto, a real SMTP server and a local Slack webhook receiver. A node failure storm must give a
// handful of notifications per channel; outages and a controller killed mid-send must lose nothing
// and duplicate nothing (counted at the receivers).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { crashLoopPod, healPod, nodeNotReady, nodeReady, seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";
import { ControllerProcess, FLAVORS } from "../support/controller.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";
import { TestSmtp } from "../../testkit/smtp.ts";
import { waitFor } from "../../testkit/wait.ts";

const PREFIX = "neurocontroller/e2e";

interface Receivers {
  broker: TestMosquitto;
  smtp: TestSmtp;
  slack: SlackReceiver;
  sub: TestSubscriber;
}

function channelEnv(r: Receivers): Record<string, string> {
  return {
    CLUSTER_ID: "e2e",
    LEADER_ELECTION: "false",
    DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
    ALERT_GROUP_WAIT: "2s",
    ALERT_GROUP_INTERVAL: "3s",
    ALERT_REPEAT_INTERVAL: "1h",
    SLACK_ALERT_DISPATCH_INTERVAL: "500ms",
    ALERT_RETRY_MIN_BACKOFF: "200ms",
    ALERT_RETRY_MAX_BACKOFF: "1s",
    ALERT_SEND_TIMEOUT: "5s",
    RULE_EVENT_MAX_AGE: "3s",
    RULE_POD_RESTART_WINDOW: "3s",
    SLACK_WEBHOOK_URL: r.slack.url,
    MAIL_SMTP_HOST: "127.0.0.1",
    MAIL_SMTP_PORT: String(r.smtp.port),
    MAIL_SMTP_TLS: "none",
    MAIL_USERNAME: r.smtp.username,
    MAIL_PASSWORD: r.smtp.password,
    MAIL_FROM: "neuro@example.org",
    MAIL_TO: "ops@example.org,oncall@example.org",
    MQTT_URL: r.broker.url,
    MQTT_USERNAME: r.broker.username,
    MQTT_PASSWORD: r.broker.password,
  };
}

const slackFingerprints = (r: Receivers) => r.slack.delivered().map((p) => JSON.stringify(p.body).match(/fingerprint ([0-9a-f]+)/)?.[1] ?? "?");
const mqttAlerts = (r: Receivers) => r.sub.on(`${PREFIX}/alerts`).map((m) => ({ ...JSON.parse(m.payload), id: m.userProperties["notification-id"] }));
const mailIds = (r: Receivers) => r.smtp.received.map((m) => m.mail.messageId);

async function startReceivers(): Promise<Receivers> {
  const broker = await TestMosquitto.start();
  const smtp = await TestSmtp.start();
  const slack = SlackReceiver.start();
  const sub = await TestSubscriber.connect(broker, [`${PREFIX}/alerts`, `${PREFIX}/incidents/#`, `${PREFIX}/status`], {
    clientId: "e2e-watcher",
    persistent: true,
  });
  return { broker, smtp, slack, sub };
}

for (const flavor of FLAVORS) {
  describe(`alerting end to end (${flavor})`, () => {
    let sim: Simulator;
    let seeded: SeededCluster;
    let r: Receivers;
    const controllers: ControllerProcess[] = [];
    beforeAll(async () => {
      sim = await startSimulator({ tls: true, clientCertAuth: true });
      seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 5, replicasPerDeployment: 20 });
      r = await startReceivers();
    });
    afterAll(async () => {
      for (const c of controllers) c.proc.kill("SIGKILL");
      await r?.sub.close();
      await r?.broker.stop();
      await r?.smtp.stop();
      r?.slack.stop();
      await sim?.stop();
    });

    test("storm: 50 crash-looping pods on a NotReady node and 10,000 updates → one incident, a handful of notifications per channel, every anomaly logged", async () => {
      const ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), channelEnv(r));
      controllers.push(ctl);
      await ctl.ready();
      await waitFor(() => r.sub.on(`${PREFIX}/status`).some((m) => m.payload === "online"), { message: "controller online on MQTT" });
      const node = seeded.nodes[0]!;
      const pods = sim.store
        .list("pods")
        .filter((p) => p.spec?.nodeName === node)
        .map((p) => p.metadata.name);
      expect(pods.length).toBe(50);
      nodeNotReady(sim.store, node);
      for (const name of pods) crashLoopPod(sim.store, "default", name);
      for (let i = 0; i < 10_000; i++) {
        const name = pods[i % pods.length]!;
        sim.store.patchStatus("pods", "default", name, (s) => {
          for (const c of s.containerStatuses ?? []) c.restartCount = (c.restartCount ?? 0) + 1;
        });
        if (i % 500 === 0) await Bun.sleep(0); // let the watch streams drain between batches
      }
      // every anomaly is in the log: the node and all 50 pods
      await ctl.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" }, 60_000);
      await waitFor(() => pods.every((p) => ctl.lines().some((l) => l.name === p && l.reason === "CrashLoopBackOff" && l.status === "firing")), {
        timeoutMs: 60_000,
        message: "all 50 CrashLoopBackOff lines",
      });
      await waitFor(() => r.slack.delivered().length > 0 && r.smtp.received.length > 0 && mqttAlerts(r).length > 0, {
        timeoutMs: 30_000,
        message: "a notification on every channel",
      });

      // recovery: the incident resolves and every channel that was told gets the resolved message
      for (const name of pods) healPod(sim.store, "default", name);
      nodeReady(sim.store, node);
      await waitFor(() => mqttAlerts(r).some((a) => a.status === "resolved"), { timeoutMs: 60_000, message: "resolved alert on MQTT" });
      await waitFor(() => r.slack.delivered().some((p) => JSON.stringify(p.body).includes("RESOLVED")), {
        timeoutMs: 30_000,
        message: "resolved on Slack",
      });
      await waitFor(async () => (await ctl.metric("neurocontroller_outbox_pending")) === 0, { timeoutMs: 30_000, message: "outbox drained" });

      const perChannel = { slack: r.slack.delivered().length, email: r.smtp.received.length, mqtt: mqttAlerts(r).length };
      console.log(`storm notifications per channel: ${JSON.stringify(perChannel)}`);
      for (const n of Object.values(perChannel)) expect(n).toBeLessThanOrEqual(5);
      const incidents = new Set(mqttAlerts(r).map((a) => a.incidentId));
      expect(incidents.size).toBe(1);
      const firing = mqttAlerts(r).find((a) => a.status === "firing")!;
      expect(firing.level).toBe("high-risk");
      expect(firing.nodeList).toContain(node);
      for (const mail of r.smtp.received) expect(mail.mail.to && JSON.stringify(mail.mail.to)).toContain("oncall@example.org");
      // the retained incident state was cleared when it resolved
      const retained = r.sub.on(`${PREFIX}/incidents/${firing.incidentId}`);
      expect(retained.at(-1)?.payload).toBe("");
      expect(await ctl.stop()).toBe(0);
    });

    test("outages: Slack 500/429, SMTP and broker down, controller killed mid-send → every alert delivered exactly once", async () => {
      const before = { slack: r.slack.delivered().length, email: r.smtp.received.length, mqtt: mqttAlerts(r).length };
      r.slack.answer(
        { status: 500 },
        { status: 500 },
        { status: 429, retryAfter: "1" },
        { status: 500 },
        { status: 500 },
        { status: 500 },
        { status: 500 },
        { status: 500 },
      );
      await r.smtp.stop();
      await r.broker.stop();
      const env = { ...channelEnv(r), ALERT_GROUP_WAIT: "500ms" };
      let ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), env);
      controllers.push(ctl);
      await ctl.ready();
      const node = seeded.nodes[1]!;
      nodeNotReady(sim.store, node);
      await ctl.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" });
      // the notification is persisted and being retried while every receiver is failing
      await waitFor(async () => ((await ctl.metric("neurocontroller_notification_retries_total")) ?? 0) >= 2, {
        timeoutMs: 30_000,
        message: "retries under way",
      });
      ctl.proc.kill("SIGKILL"); // killed mid-send
      await ctl.proc.exited;
      // receivers come back; the restarted controller resends from its outbox
      await r.smtp.resume();
      await r.broker.resume();
      ctl = new ControllerProcess(flavor, ctl.kubeconfig, ctl.port, env, { logDir: ctl.logDir, stateDir: ctl.stateDir });
      ctl.spawn();
      controllers.push(ctl);
      await ctl.ready();
      await waitFor(() => r.slack.delivered().length > before.slack && r.smtp.received.length > before.email && mqttAlerts(r).length > before.mqtt, {
        timeoutMs: 60_000,
        message: `delivery after recovery (stderr: ${ctl.stderr.slice(-800)})`,
      });
      await waitFor(async () => (await ctl.metric("neurocontroller_outbox_pending")) === 0, { timeoutMs: 30_000, message: "outbox drained" });
      // exactly once: no fingerprint / notification id twice at any receiver
      const slack = slackFingerprints(r);
      expect(new Set(slack).size).toBe(slack.length);
      const ids = mqttAlerts(r).map((a) => a.id);
      expect(new Set(ids).size).toBe(ids.length);
      const mails = mailIds(r);
      expect(new Set(mails).size).toBe(mails.length);
      // the outage's incident reached every channel (exactly once each, by the checks above)
      const incident = mqttAlerts(r).find(
        (a) => a.status === "firing" && a.alerts.some((x: { reason: string; name: string }) => x.reason === "NodeNotReady" && x.name === node),
      );
      expect(incident).toBeDefined();
      expect(r.slack.delivered().some((p) => JSON.stringify(p.body).includes(incident.incidentId))).toBe(true);

      // a clean restart with the incident still open re-announces nothing
      const sentBefore = { slack: r.slack.delivered().length, email: r.smtp.received.length, mqtt: mqttAlerts(r).length };
      expect(await ctl.stop()).toBe(0);
      ctl = new ControllerProcess(flavor, ctl.kubeconfig, ctl.port, env, { logDir: ctl.logDir, stateDir: ctl.stateDir });
      ctl.spawn();
      controllers.push(ctl);
      await ctl.ready();
      // more pipeline steps than one ALERT_GROUP_INTERVAL (3s) holds: any re-announcement would have gone out
      await waitFor(async () => ((await ctl.metric("neurocontroller_alert_cycles_total")) ?? 0) >= 20, {
        timeoutMs: 30_000,
        message: "alert cycles after restart",
      });
      await waitFor(async () => (await ctl.metric("neurocontroller_outbox_pending")) === 0, { message: "outbox idle" });
      expect(await ctl.metric("neurocontroller_incidents_open")).toBeGreaterThanOrEqual(1);
      expect({ slack: r.slack.delivered().length, email: r.smtp.received.length, mqtt: mqttAlerts(r).length }).toEqual(sentBefore);
      expect(await ctl.stop()).toBe(0);
    });
  });
}

// Change tracking end to end: the real controller process against the simulator, delivering to a real
// mosquitto, SMTP server and Slack receiver. A Deployment update before crash-looping pods is named as the
// incident's likely trigger with its actor (field manager + audit user) and image diff; a ConfigMap change
// before a crash is named; a change after an incident started is not blamed. A planted Secret value never
// appears in any output.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { crashLoopPod, healPod, seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";
import { ControllerProcess, FLAVORS, command } from "../support/controller.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";
import { TestSmtp } from "../../testkit/smtp.ts";
import { waitFor } from "../../testkit/wait.ts";
import type { Incident } from "../../src/model/incident.ts";

const PREFIX = "neurocontroller/changes";
const TOKEN = "audit-token-0123456789abcdef";
const PLANTED = `planted-${crypto.randomUUID()}`;
const flavor = FLAVORS.at(-1)!;

describe(`change tracking end to end (${flavor})`, () => {
  let sim: Simulator;
  let seeded: SeededCluster;
  let broker: TestMosquitto;
  let smtp: TestSmtp;
  let slack: SlackReceiver;
  let sub: TestSubscriber;
  let ctl: ControllerProcess;
  const dep = (name: string) => seeded.deployments.find((d) => d.name === name)!;
  const alerts = () => sub.on(`${PREFIX}/alerts`).map((m) => JSON.parse(m.payload));
  const firingFor = (name: string) =>
    alerts().find((a) => a.status === "firing" && a.alerts.some((x: { name: string }) => x.name.startsWith(`${name}-`)));

  beforeAll(async () => {
    sim = await startSimulator({ tls: true, clientCertAuth: true });
    seeded = seedHealthyCluster(sim.store, { nodes: 1, deployments: 3, replicasPerDeployment: 2 });
    // api's pods read a ConfigMap and a Secret (whose value is planted and must never come out)
    sim.store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "api-config", namespace: "default" },
      data: { "app.yaml": "level: info" },
    });
    sim.store.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "api-db", namespace: "default" },
      type: "Opaque",
      data: { password: btoa(`${PLANTED}-old`) },
    });
    for (const pod of dep("api").pods) {
      sim.store.mutate("pods", "default", pod, (o) => {
        o.spec.containers[0].envFrom = [{ configMapRef: { name: "api-config" } }, { secretRef: { name: "api-db" } }];
      });
    }
    broker = await TestMosquitto.start();
    smtp = await TestSmtp.start();
    slack = SlackReceiver.start();
    sub = await TestSubscriber.connect(broker, [`${PREFIX}/#`], { clientId: "changes-watcher" });
    ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), {
      CLUSTER_ID: "changes",
      LEADER_ELECTION: "false",
      MQTT_TOPIC_PREFIX: PREFIX,
      DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
      ALERT_GROUP_WAIT: "1s",
      ALERT_GROUP_INTERVAL: "2s",
      SLACK_ALERT_DISPATCH_INTERVAL: "200ms",
      RULE_POD_RESTART_WINDOW: "3s",
      RULE_EVENT_MAX_AGE: "3s",
      SLACK_WEBHOOK_URL: slack.url,
      MAIL_SMTP_HOST: "127.0.0.1",
      MAIL_SMTP_PORT: String(smtp.port),
      MAIL_SMTP_TLS: "none",
      MAIL_USERNAME: smtp.username,
      MAIL_PASSWORD: smtp.password,
      MAIL_FROM: "neuro@example.org",
      MAIL_TO: "ops@example.org",
      MQTT_URL: broker.url,
      MQTT_USERNAME: broker.username,
      MQTT_PASSWORD: broker.password,
      AUDIT_WEBHOOK_TOKEN: TOKEN,
      NEURO_LOG_LEVEL: "debug",
    });
    await ctl.ready();
    await waitFor(() => ctl.stderr.includes("change tracking watching"), { timeoutMs: 20_000, message: "change tracking synced" });
  }, 60_000);

  afterAll(async () => {
    ctl?.proc.kill("SIGKILL");
    await sub?.close();
    await broker?.stop();
    await smtp?.stop();
    slack?.stop();
    await sim?.stop();
  }, 60_000);

  test("a Deployment update then crash-looping pods: the incident names the update, its actor and the image diff", async () => {
    sim.store.mutate("deployments", "default", "web", (o) => {
      o.spec.template.spec.containers[0].image = "ghcr.io/example/web:1.1.0";
      o.metadata.managedFields = [{ manager: "kubectl-set", operation: "Update", apiVersion: "apps/v1", time: new Date().toISOString() }];
    });
    await waitFor(async () => ((await ctl.metric("neurocontroller_changes_recorded_total")) ?? 0) >= 1, { message: "change recorded" });
    // the cluster's audit trail says who: posted after the watch event, it attributes the stored change
    const now = new Date().toISOString();
    const batch = {
      apiVersion: "audit.k8s.io/v1",
      kind: "EventList",
      items: [
        {
          level: "Metadata",
          auditID: "a1",
          stage: "ResponseComplete",
          verb: "patch",
          user: { username: "kube-admin" },
          objectRef: { resource: "deployments", namespace: "default", name: "web", apiGroup: "apps", apiVersion: "v1" },
          responseStatus: { code: 200 },
          requestReceivedTimestamp: now,
          stageTimestamp: now,
        },
        // a verbose policy would send bodies: the Secret's value in requestObject is never read nor logged
        {
          level: "RequestResponse",
          auditID: "a2",
          stage: "ResponseComplete",
          verb: "update",
          user: { username: "kube-admin" },
          objectRef: { resource: "secrets", namespace: "default", name: "api-db", apiVersion: "v1" },
          responseStatus: { code: 200 },
          requestObject: { data: { password: btoa(`${PLANTED}-old`) }, stringData: { password: `${PLANTED}-old` } },
          requestReceivedTimestamp: now,
          stageTimestamp: now,
        },
        // and a malformed one carrying it is refused without its content in the log
        { stage: 42, requestObject: { stringData: { password: `${PLANTED}-old` } } },
      ],
    };
    const r = await fetch(`${ctl.url}/audit/webhook`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(batch) });
    expect(r.status).toBe(200);
    for (const pod of dep("web").pods) crashLoopPod(sim.store, "default", pod);
    const alert = await waitFor(() => firingFor("web")?.trigger && firingFor("web"), {
      timeoutMs: 30_000,
      message: () => `web trigger; alerts: ${JSON.stringify(alerts()).slice(0, 3000)}; stderr: ${ctl.stderr.slice(-4000)}`,
    });
    expect(alert.trigger.kind).toBe("Deployment");
    expect(alert.trigger.name).toBe("web");
    expect(alert.trigger.relation).toBe("owner");
    expect(alert.trigger.actor).toBe("kube-admin (kubectl-set)");
    expect(alert.trigger.summary).toMatch(
      /^Started \d+ s after Deployment web was updated by kube-admin \(kubectl-set\): image ghcr\.io\/example\/web:1\.0\.0 → ghcr\.io\/example\/web:1\.1\.0$/,
    );
    await waitFor(() => slack.delivered().some((p) => JSON.stringify(p.body).includes("Likely trigger")), { message: "trigger on Slack" });
    await waitFor(() => smtp.received.some((m) => (m.mail.text ?? "").includes("Deployment web was updated by kube-admin")), {
      message: "trigger in email",
    });
  }, 60_000);

  test("a ConfigMap change before a crash is named (nearer than the Secret change before it)", async () => {
    sim.store.mutate("secrets", "default", "api-db", (o) => {
      o.data.password = btoa(`${PLANTED}-new`);
    });
    await waitFor(async () => ((await ctl.metric("neurocontroller_changes_recorded_total")) ?? 0) >= 2, { message: "secret change recorded" });
    sim.store.mutate("configmaps", "default", "api-config", (o) => {
      o.data["app.yaml"] = "level: debug";
    });
    await waitFor(async () => ((await ctl.metric("neurocontroller_changes_recorded_total")) ?? 0) >= 3, { message: "config changes recorded" });
    for (const pod of dep("api").pods) crashLoopPod(sim.store, "default", pod);
    const alert = await waitFor(() => firingFor("api")?.trigger && firingFor("api"), { timeoutMs: 30_000, message: "api incident with a trigger" });
    expect(alert.trigger.kind).toBe("ConfigMap");
    expect(alert.trigger.name).toBe("api-config");
    expect(alert.trigger.relation).toBe("config");
    expect(alert.trigger.summary).toContain("ConfigMap api-config was updated: data app.yaml changed");
  }, 60_000);

  test("a change after the incident started is not blamed", async () => {
    for (const pod of dep("worker").pods) crashLoopPod(sim.store, "default", pod);
    await waitFor(() => firingFor("worker"), { timeoutMs: 30_000, message: "worker incident" });
    sim.store.mutate("deployments", "default", "worker", (o) => {
      o.spec.template.spec.containers[0].image = "ghcr.io/example/worker:9.9.9";
    });
    await waitFor(async () => ((await ctl.metric("neurocontroller_changes_recorded_total")) ?? 0) >= 4, { message: "late change recorded" });
    // The incident is then updated (a pod heals, a member leaves): the trigger is looked for again and must still be none.
    healPod(sim.store, "default", dep("worker").pods[0]!);
    const snapshot = () => {
      const db = new Database(join(ctl.stateDir, "state.db"), { readonly: true });
      try {
        const row = db.query("SELECT value FROM kv WHERE key = 'alerting'").get() as { value: string } | null;
        return row ? (JSON.parse(row.value).incidents.incidents as Record<string, Incident>) : {};
      } finally {
        db.close();
      }
    };
    const worker = await waitFor(
      () => {
        const [healed, other] = dep("worker").pods;
        const names = (i: Incident) => i.members.map((m) => m.anomaly.name);
        return Object.values(snapshot()).find((i) => names(i).includes(other!) && !names(i).includes(healed!));
      },
      {
        timeoutMs: 30_000,
        message: () =>
          `worker incident updated: only the other pod left: ${JSON.stringify(Object.values(snapshot()).map((i) => i.members.map((m) => m.key)))}`,
      },
    );
    expect(worker.trigger).toBeUndefined();
    for (const a of alerts().filter((x) => x.alerts.some((y: { name: string }) => y.name.startsWith("worker-")))) expect(a.trigger).toBeUndefined();
  }, 60_000);

  test("the changes CLI lists them, and the planted Secret value appears in no output", async () => {
    const proc = Bun.spawnSync(command(flavor, ["changes", "--json", "--since", "1h"]), {
      env: { PATH: process.env.PATH ?? "", NEURO_STATE_DIR: ctl.stateDir, NEURO_LOG_DIR: ctl.logDir },
    });
    const out = proc.stdout.toString();
    expect(proc.exitCode).toBe(0);
    const rows = JSON.parse(out) as { kind: string; name: string; lines: string[] }[];
    expect(rows.some((c) => c.kind === "Secret" && c.name === "api-db" && c.lines[0] === "data password changed")).toBe(true);
    expect(rows.some((c) => c.kind === "Deployment" && c.name === "worker")).toBe(true);
    const text = Bun.spawnSync(command(flavor, ["changes", "--namespace", "default"]), {
      env: { PATH: process.env.PATH ?? "", NEURO_STATE_DIR: ctl.stateDir, NEURO_LOG_DIR: ctl.logDir },
    }).stdout.toString();
    expect(text).toMatch(
      /Z updated +Deployment default\/web by kube-admin \(kubectl-set\): image ghcr\.io\/example\/web:1\.0\.0 → ghcr\.io\/example\/web:1\.1\.0\n/,
    );
    expect(text).toMatch(/Z updated +Secret default\/api-db by [^:]+: data password changed; hash [0-9a-f]{8} → [0-9a-f]{8}\n/);
    // the action log exists (the configuration load at least) and its chain verifies
    const verify = Bun.spawnSync(command(flavor, ["audit", "--verify"]), { env: { PATH: process.env.PATH ?? "", NEURO_LOG_DIR: ctl.logDir } });
    expect(verify.stdout.toString()).toContain("chain intact");
    expect(readdirSync(ctl.logDir)).toContain("audit.log");
    const outputs = [
      ctl.stderr,
      out,
      ...readdirSync(ctl.logDir).map((f) => readFileSync(join(ctl.logDir, f), "utf8")),
      ...sub.messages.map((m) => m.payload),
      ...slack.delivered().map((p) => JSON.stringify(p.body)),
      ...smtp.received.map((m) => `${m.mail.text}\n${m.mail.html}`),
      existsSync(join(ctl.stateDir, "state.db")) ? readFileSync(join(ctl.stateDir, "state.db")).toString("latin1") : "",
    ].join("\n");
    expect(outputs.length).toBeGreaterThan(1000);
    for (const needle of [PLANTED, btoa(`${PLANTED}-old`), btoa(`${PLANTED}-new`)]) expect(outputs.includes(needle)).toBe(false);
  }, 60_000);
});

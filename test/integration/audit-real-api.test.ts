// The cluster's audit trail from a real kube-apiserver: started with --audit-policy-file (the minimal
// metadata-only policy shipped in ansible/) and --audit-webhook-config-file pointing at the controller's
// client-certificate listener (AUDIT_WEBHOOK_ADDR). A Deployment patched with user alice's credentials is
// recorded as changed by alice; the webhook refuses a client without a certificate. Only with the real tier.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureCerts } from "../../src/sim/certs.ts";
import { ControllerProcess, FLAVORS, command } from "../support/controller.ts";
import { realApiAvailable, startRealApiServer, type RealApiServer } from "../support/real-apiserver.ts";
import { freePort } from "../../testkit/ports.ts";
import { waitFor } from "../../testkit/wait.ts";
import type { Incident } from "../../src/model/incident.ts";

const POLICY = resolve(import.meta.dir, "../../ansible/roles/neurocontroller_config/files/audit-policy.yaml");
const flavor = FLAVORS.at(-1)!;

function openssl(dir: string, args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

/** The open incidents in the controller's alerting snapshot (state.db, read-only). */
function incidents(ctl: ControllerProcess): Incident[] {
  const db = new Database(join(ctl.stateDir, "state.db"), { readonly: true });
  try {
    const row = db.query("SELECT value FROM kv WHERE key = 'alerting'").get() as { value: string } | null;
    return row ? (Object.values(JSON.parse(row.value).incidents.incidents) as Incident[]) : [];
  } finally {
    db.close();
  }
}

(realApiAvailable() ? describe : describe.skip)(`audit webhook from a real kube-apiserver (${flavor})`, () => {
  let kas: RealApiServer;
  let ctl: ControllerProcess;
  let port: number;
  const dir = mkdtempSync(join(tmpdir(), "nc-audit-kas-"));
  // The controller's listener: its own CA signs the server certificate and the apiserver's client certificate.
  const hook = ensureCerts(join(dir, "hook-pki"), "127.0.0.1");

  beforeAll(async () => {
    port = await freePort();
    const webhookConfig = join(dir, "audit-webhook.kubeconfig");
    writeFileSync(
      webhookConfig,
      `apiVersion: v1
kind: Config
clusters:
  - name: neurocontroller
    cluster:
      server: https://127.0.0.1:${port}/audit/webhook
      certificate-authority: ${hook.caFile}
users:
  - name: kube-apiserver
    user:
      client-certificate: ${join(hook.dir, "client.crt")}
      client-key: ${join(hook.dir, "client.key")}
contexts:
  - name: default
    context: { cluster: neurocontroller, user: kube-apiserver }
current-context: default
`,
    );
    kas = await startRealApiServer({
      extraArgs: [
        `--audit-policy-file=${POLICY}`,
        `--audit-webhook-config-file=${webhookConfig}`,
        "--audit-webhook-mode=batch",
        "--audit-webhook-batch-max-wait=1s",
        "--audit-webhook-initial-backoff=1s",
      ],
    });
    ctl = await ControllerProcess.start(flavor, kas.kubeconfig(), {
      LEADER_ELECTION: "false",
      RULE_POD_PENDING_FOR: "1m", // a Pod written without a kubelet is Pending until its status is patched
      AUDIT_WEBHOOK_ADDR: `127.0.0.1:${port}`,
      AUDIT_WEBHOOK_CERT_FILE: join(hook.dir, "server.crt"),
      AUDIT_WEBHOOK_KEY_FILE: join(hook.dir, "server.key"),
      AUDIT_WEBHOOK_CLIENT_CA_FILE: hook.caFile,
    });
    await ctl.ready(60_000);
    await waitFor(() => ctl.stderr.includes("change tracking watching"), {
      timeoutMs: 30_000,
      message: () => `change tracking synced: ${ctl.stderr.slice(-2000)}`,
    });
  }, 120_000);

  afterAll(async () => {
    ctl?.proc.kill("SIGKILL");
    await kas?.stop();
  });

  test("a change made with alice's credentials is attributed to alice", async () => {
    // alice: a client certificate signed by the cluster's CA (group system:masters for brevity)
    const pki = kas.certs.dir;
    openssl(pki, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "alice.key", "-out", "alice.csr", "-subj", "/O=system:masters/CN=alice"]);
    openssl(pki, ["x509", "-req", "-in", "alice.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "alice.crt", "-days", "1"]);
    const alice = { ca: kas.certs.ca, cert: readFileSync(join(pki, "alice.crt"), "utf8"), key: readFileSync(join(pki, "alice.key"), "utf8") };
    const admin = { ca: kas.certs.ca, cert: kas.certs.cert, key: kas.certs.key };
    const call = (tls: typeof admin, method: string, path: string, body: unknown, type = "application/json") =>
      fetch(`${kas.url}${path}`, { method, tls, headers: { "content-type": type }, body: JSON.stringify(body) } as RequestInit);
    const create = await call(admin, "POST", "/apis/apps/v1/namespaces/default/deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1.4" }] } },
      },
    });
    expect(create.status).toBe(201);
    await waitFor(async () => ((await ctl.metric("neurocontroller_changes_recorded_total")) ?? 0) >= 1, { message: "creation recorded" });
    const patch = await call(
      alice,
      "PATCH",
      "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl-set",
      { spec: { template: { spec: { containers: [{ name: "web", image: "web:1.5" }] } } } },
      "application/strategic-merge-patch+json",
    );
    expect(patch.status).toBe(200);
    const changes = () => {
      const r = Bun.spawnSync(command(flavor, ["changes", "--json"]), { env: { PATH: process.env.PATH ?? "", NEURO_STATE_DIR: ctl.stateDir } });
      return JSON.parse(r.stdout.toString() || "[]") as {
        kind: string;
        name: string;
        verb: string;
        lines: string[];
        user?: string;
        manager?: string;
      }[];
    };
    const update = await waitFor(() => changes().find((c) => c.kind === "Deployment" && c.verb === "updated" && c.user), {
      timeoutMs: 30_000,
      message: () => `an attributed update (have ${JSON.stringify(changes())}; controller: ${ctl.stderr.slice(-1500)}; ${kas.logs().slice(-1500)})`,
    });
    expect(update.user).toBe("alice");
    expect(update.manager).toBe("kubectl-set");
    expect(update.lines).toContain("image web:1.4 → web:1.5");
    // the creation, made with the admin certificate, is attributed to that user, not to alice
    const created = changes().find((c) => c.kind === "Deployment" && c.verb === "created");
    expect(created?.user).toBe("neurocontroller-sim-admin");
    expect(await ctl.metric("neurocontroller_audit_events_total")).toBeGreaterThan(0);
  }, 90_000);

  test("crash-looping pods after alice's update: the incident names that update, alice and the image diff", async () => {
    const admin = { ca: kas.certs.ca, cert: kas.certs.cert, key: kas.certs.key };
    const call = async (method: string, path: string, body: unknown, type = "application/json") => {
      const r = await fetch(`${kas.url}${path}`, {
        method,
        tls: admin,
        headers: { "content-type": type },
        body: JSON.stringify(body),
      } as RequestInit);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { metadata: { uid: string } };
    };
    // No kubelet or controller-manager here: the ReplicaSet and its Pod are written as they would, then the Pod's status crash-loops.
    const dep = await call("GET", "/apis/apps/v1/namespaces/default/deployments/web", undefined);
    const owner = (kind: string, name: string, uid: string) => [{ apiVersion: "apps/v1", kind, name, uid, controller: true }];
    const rs = await call("POST", "/apis/apps/v1/namespaces/default/replicasets", {
      metadata: {
        name: "web-5d4f8",
        labels: { app: "web", "pod-template-hash": "5d4f8" },
        ownerReferences: owner("Deployment", "web", dep.metadata.uid),
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web", "pod-template-hash": "5d4f8" } },
        template: { metadata: { labels: { app: "web", "pod-template-hash": "5d4f8" } }, spec: { containers: [{ name: "web", image: "web:1.5" }] } },
      },
    });
    await call("POST", "/api/v1/namespaces/default/pods", {
      metadata: {
        name: "web-5d4f8-abcde",
        labels: { app: "web", "pod-template-hash": "5d4f8" },
        ownerReferences: owner("ReplicaSet", "web-5d4f8", rs.metadata.uid),
      },
      spec: { containers: [{ name: "web", image: "web:1.5" }] },
    });
    const now = new Date().toISOString();
    await call(
      "PATCH",
      "/api/v1/namespaces/default/pods/web-5d4f8-abcde/status",
      {
        status: {
          phase: "Running",
          startTime: now,
          conditions: [{ type: "Ready", status: "False", lastTransitionTime: now }],
          containerStatuses: [
            {
              name: "web",
              image: "web:1.5",
              imageID: "",
              ready: false,
              restartCount: 6,
              started: false,
              state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 5m0s restarting failed container=web" } },
              lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: now, finishedAt: now } },
            },
          ],
        },
      },
      "application/merge-patch+json",
    );
    const snapshot = () => incidents(ctl);
    const incident = await waitFor(() => snapshot().find((i) => i.members.some((m) => m.anomaly.name === "web-5d4f8-abcde") && i.trigger), {
      timeoutMs: 30_000,
      message: () => `an incident with a trigger (have ${JSON.stringify(snapshot()).slice(0, 1500)}; ${ctl.stderr.slice(-1500)})`,
    });
    // the Deployment is the Pod's owner, and a member itself once it reports UnavailableReplica
    expect(["object", "owner"]).toContain(incident.trigger!.relation);
    expect(`${incident.trigger!.kind}/${incident.trigger!.namespace}/${incident.trigger!.name}`).toBe("Deployment/default/web");
    expect(incident.trigger!.actor).toBe("alice (kubectl-set)");
    expect(incident.trigger!.summary).toMatch(
      /^Started \d+ (s|min) after Deployment web was updated by alice \(kubectl-set\): image web:1\.4 → web:1\.5$/,
    );
  }, 60_000);

  test("a ConfigMap change before a Pod that reads it crash-loops is named", async () => {
    const admin = { ca: kas.certs.ca, cert: kas.certs.cert, key: kas.certs.key };
    const call = async (method: string, path: string, body: unknown, type = "application/json") => {
      const r = await fetch(`${kas.url}${path}`, {
        method,
        tls: admin,
        headers: { "content-type": type },
        body: JSON.stringify(body),
      } as RequestInit);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    const recorded = async () => (await ctl.metric("neurocontroller_changes_recorded_total")) ?? 0;
    const before = await recorded();
    await call("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "worker-config" }, data: { "app.yaml": "level: info" } });
    await waitFor(async () => (await recorded()) > before, { message: "ConfigMap creation recorded" });
    const seen = await recorded();
    await call(
      "PATCH",
      "/api/v1/namespaces/default/configmaps/worker-config",
      { data: { "app.yaml": "level: debug" } },
      "application/merge-patch+json",
    );
    await waitFor(async () => (await recorded()) > seen, { message: "ConfigMap update recorded" });
    // the Pod that reads it starts after the change (no kubelet here: written, then its status crash-loops)
    await call("POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "worker" },
      spec: { containers: [{ name: "worker", image: "worker:1", envFrom: [{ configMapRef: { name: "worker-config" } }] }] },
    });
    const now = new Date().toISOString();
    await call(
      "PATCH",
      "/api/v1/namespaces/default/pods/worker/status",
      {
        status: {
          phase: "Running",
          startTime: now,
          containerStatuses: [
            {
              name: "worker",
              image: "worker:1",
              imageID: "",
              ready: false,
              restartCount: 6,
              state: { waiting: { reason: "CrashLoopBackOff", message: "back-off" } },
              lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: now, finishedAt: now } },
            },
          ],
        },
      },
      "application/merge-patch+json",
    );
    const incident = await waitFor(() => incidents(ctl).find((i) => i.members.some((m) => m.anomaly.name === "worker") && i.trigger), {
      timeoutMs: 30_000,
      message: () => `an incident with a trigger (have ${JSON.stringify(incidents(ctl)).slice(0, 1500)})`,
    });
    expect(incident.trigger).toMatchObject({ kind: "ConfigMap", namespace: "default", name: "worker-config", relation: "config" });
    expect(incident.trigger!.summary).toContain("ConfigMap worker-config was updated by neurocontroller-sim-admin");
    expect(incident.trigger!.summary).toContain(": data app.yaml changed");
  }, 60_000);

  test("the client-certificate listener refuses a post without a certificate (401)", async () => {
    const r = await fetch(`https://127.0.0.1:${port}/audit/webhook`, {
      method: "POST",
      body: JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "EventList", items: [] }),
      tls: { ca: hook.ca },
    } as RequestInit);
    expect(r.status).toBe(401);
  });
});

// The rollback write held to a real kube-apiserver, as the shipped service account with the SLO overlay's
// ClusterRole (deploy/slo/rbac-slo.yaml): the decision read from real objects (ReplicaSet history built as
// the deployment controller leaves it; no controller-manager runs here), the JSON patch restoring the
// previous revision's template applied, and a patch from a stale read refused by its test op.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KubeApiError } from "../../src/kube/api-error.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { fromKubeconfigFile } from "../../src/kube/kubeconfig.ts";
import type { KubeObject, ResourceRef } from "../../src/kube/types.ts";
import { decideRollback, ROLLED_BACK_FROM, rollbackPatch } from "../../src/slo/rollback-decision.ts";
import { DEPLOYMENTS } from "../../src/slo/rollback-engine.ts";
import { realApiAvailable, startRealApiServer, type RealApiServer } from "../support/real-apiserver.ts";

const RS: ResourceRef = { group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true };
const PODS: ResourceRef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };
const ns = "default";
const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: "web", ...(hash ? { "pod-template-hash": hash } : {}) } },
  spec: { containers: [{ name: "web", image }] },
});

(realApiAvailable() ? describe : describe.skip)("SLO rollback patch on a real kube-apiserver", () => {
  let kas: RealApiServer;
  let admin: KubeClient;
  let slo: KubeClient;

  beforeAll(async () => {
    kas = await startRealApiServer();
    await kas.applyDeployRbac(["slo/rbac-slo.yaml"]);
    const token = await kas.serviceAccountToken("neurocontroller", "neurocontroller");
    admin = new KubeClient(fromKubeconfigFile(kas.kubeconfig()));
    slo = new KubeClient(fromKubeconfigFile(kas.tokenKubeconfig(token)));
  }, 120_000);
  afterAll(async () => {
    await kas?.stop();
  });

  async function replicaSet(dep: KubeObject, revision: number, hash: string, image: string, replicas: number) {
    return admin.create(RS, {
      metadata: {
        name: `web-${hash}`,
        namespace: ns,
        labels: { app: "web", "pod-template-hash": hash },
        annotations: { "deployment.kubernetes.io/revision": String(revision) },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: dep.metadata.uid!, controller: true }],
      },
      spec: { replicas, selector: { matchLabels: { app: "web", "pod-template-hash": hash } }, template: template(image, hash) },
    });
  }

  test("revision 2 crash-loops → the patch restores revision 1's template and records the revision left", async () => {
    let dep = await admin.create(DEPLOYMENTS, {
      metadata: { name: "web", namespace: ns, annotations: { "deployment.kubernetes.io/revision": "1" } },
      spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: template("ghcr.io/example/web:1.0.0") },
    });
    await replicaSet(dep, 1, "aaaaa11111", "ghcr.io/example/web:1.0.0", 1);
    const bad = await replicaSet(dep, 2, "bbbbb22222", "ghcr.io/example/web:2.0.0", 1);
    dep = await admin.patch(
      DEPLOYMENTS,
      "web",
      { metadata: { annotations: { "deployment.kubernetes.io/revision": "2" } }, spec: { template: template("ghcr.io/example/web:2.0.0") } },
      "strategic",
      ns,
    );
    const pod = await admin.create(PODS, {
      metadata: {
        name: "web-bbbbb22222-x1",
        namespace: ns,
        labels: { app: "web", "pod-template-hash": "bbbbb22222" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: bad.metadata.name, uid: bad.metadata.uid!, controller: true }],
      },
      spec: { containers: [{ name: "web", image: "ghcr.io/example/web:2.0.0" }] },
    });
    await admin.request("PUT", `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/status`, {
      body: {
        ...pod,
        status: {
          phase: "Running",
          conditions: [{ type: "Ready", status: "False" }],
          containerStatuses: [
            {
              name: "web",
              image: "ghcr.io/example/web:2.0.0",
              imageID: "",
              ready: false,
              restartCount: 4,
              state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } },
              lastState: {},
            },
          ],
        },
      },
    });

    // What the engine reads, read as the service account.
    const current = await slo.get(DEPLOYMENTS, "web", ns);
    const sets = (await slo.list(RS, { namespace: ns })).items;
    const pods = (await slo.list(PODS, { namespace: ns })).items;
    const decision = decideRollback(current, sets, pods, Date.now(), { watchMs: 600_000, readinessGraceMs: 60_000 });
    expect(decision?.kind).toBe("rollback");
    if (decision?.kind !== "rollback") return;
    expect(decision.evidence).toContain("CrashLoopBackOff");

    const stale = { ...current, metadata: { ...current.metadata, resourceVersion: "1" } };
    const refused = await slo.patch(DEPLOYMENTS, "web", rollbackPatch(stale, decision), "json", ns).catch((e) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((await admin.get(DEPLOYMENTS, "web", ns)).spec.template.spec.containers[0].image).toBe("ghcr.io/example/web:2.0.0");

    const patched = await slo.patch(DEPLOYMENTS, "web", rollbackPatch(current, decision), "json", ns);
    expect(patched.spec.template.spec.containers[0].image).toBe("ghcr.io/example/web:1.0.0");
    expect(patched.spec.template.metadata.labels).toEqual({ app: "web" });
    expect(patched.metadata.annotations?.[ROLLED_BACK_FROM]).toBe("bbbbb22222");
    expect(patched.metadata.generation).toBe(current.metadata.generation! + 1);
  }, 60_000);
});

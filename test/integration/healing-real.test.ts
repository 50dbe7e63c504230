// Healing against a real kube-apiserver 1.20.2 (the tier of test/support/real-apiserver.ts), as the service
// account deploy/ ships with deploy/healing/rbac-heal.yaml bound: cordon, eviction through policy/v1beta1
// (1.20 serves no policy/v1 eviction: the fallback is exercised for real), uncordon. Without the healing
// ClusterRole the same cordon is refused (403) and recorded as failed: the RBAC is what allows it.
import { afterAll, describe, expect, test } from "bun:test";
import { HEALING_ANNOTATION } from "../../src/healing/annotation.ts";
import { HealingEngine } from "../../src/healing/engine.ts";
import { HealingPauseStore } from "../../src/healing/pause.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import { silentLogger } from "../../src/log.ts";
import type { ActionRecord } from "../../src/model/action.ts";
import { waitFor } from "../../testkit/wait.ts";
import { realApiAvailable, startRealApiServer, type RealApiServer } from "../support/real-apiserver.ts";
import { TEST_SETTINGS } from "../support/healing-cluster.ts";

const enabled = realApiAvailable() && process.env.NEURO_REAL_API !== "0";

(enabled ? describe : describe.skip)("healing on a real kube-apiserver 1.20", () => {
  let kas: RealApiServer | undefined;
  afterAll(async () => kas?.stop());

  test("cordon + v1beta1 eviction + uncordon, allowed only by the healing ClusterRole", async () => {
    kas = await startRealApiServer();
    await kas.applyDeployRbac();
    const admin = new KubeClient(loadConnection({ kubeconfig: kas.kubeconfig(), env: {} })!);
    const token = await kas.serviceAccountToken("neurocontroller", "neurocontroller");
    const sa = new KubeClient(loadConnection({ kubeconfig: kas.tokenKubeconfig(token), env: {} })!);
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    const setReady = async (name: string, status: "True" | "Unknown", since: string) => {
      const node = await admin.request("GET", `/api/v1/nodes/${name}`);
      node.status = { conditions: [{ type: "Ready", status, reason: "Test", message: "test", lastHeartbeatTime: since, lastTransitionTime: since }] };
      await admin.request("PUT", `/api/v1/nodes/${name}/status`, { body: node });
    };
    for (const name of ["pi-1", "pi-2", "pi-3"]) {
      await admin.request("POST", "/api/v1/nodes", { body: { apiVersion: "v1", kind: "Node", metadata: { name } } });
      await setReady(name, name === "pi-3" ? "Unknown" : "True", ago(600));
    }
    const owner = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "0b7c0b9e-0000-4000-8000-000000000001", controller: true }];
    const pod = await admin.request("POST", "/api/v1/namespaces/default/pods", {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web-1", namespace: "default", ownerReferences: owner },
        spec: { nodeName: "pi-3", containers: [{ name: "c", image: "busybox" }] },
      },
    });
    pod.status = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
    await admin.request("PUT", "/api/v1/namespaces/default/pods/web-1/status", { body: pod });

    const pause = new HealingPauseStore(sa, "neurocontroller", "neurocontroller-healing");
    const engine = (records: ActionRecord[]) =>
      new HealingEngine({
        client: sa,
        record: (r) => records.push(r) > 0,
        settings: TEST_SETTINGS,
        clusterId: "real",
        logger: silentLogger,
        clock: Date.now,
        readShared: () => pause.readShared(),
        saveTold: (ids) => pause.addTold(ids, Date.now()),
        stillLeading: () => true,
      });

    // Read-only RBAC: the cordon is refused by the server and recorded as failed; nothing changed.
    const refused: ActionRecord[] = [];
    await engine(refused).tick();
    expect(refused.map((r) => `${r.step}:${r.outcome}`)).toEqual(["cordon-failed:failed"]);
    expect(refused[0]!.reason).toMatch(/403|forbidden/i);
    expect((await admin.request("GET", "/api/v1/nodes/pi-3")).spec?.unschedulable).toBeUndefined();

    await kas.applyDeployRbac(["healing/rbac-heal.yaml"]);
    const records: ActionRecord[] = [];
    const healing = engine(records);
    await waitFor(
      async () => {
        await healing.tick();
        return records.some((r) => r.step === "evict" && r.outcome === "done");
      },
      { timeoutMs: 20_000, message: () => `cordon and eviction (records: ${records.map((r) => `${r.step}:${r.outcome} ${r.reason}`).join("; ")})` },
    );
    const cordoned = await admin.request("GET", "/api/v1/nodes/pi-3");
    expect(cordoned.spec.unschedulable).toBe(true);
    expect(JSON.parse(cordoned.metadata.annotations[HEALING_ANNOTATION])).toMatchObject({ phase: "cordoned", cordonedByUs: true });
    // Graceful deletion on a node without a kubelet: the pod is Terminating (or gone), never still running.
    const after = await admin.request("GET", "/api/v1/namespaces/default/pods/web-1").catch(() => undefined);
    expect(after === undefined || Boolean(after.metadata.deletionTimestamp)).toBe(true);

    await setReady("pi-3", "True", ago(60));
    await healing.tick();
    const recovered = await admin.request("GET", "/api/v1/nodes/pi-3");
    expect(recovered.spec.unschedulable).toBeFalsy();
    expect(JSON.parse(recovered.metadata.annotations[HEALING_ANNOTATION]).phase).toBe("recovered");
    expect(records.filter((r) => r.outcome === "done").map((r) => r.step)).toEqual(["cordon", "evict", "drained", "uncordon"]);
    expect(healing.evictionApiVersion).toBe("policy/v1beta1");
  }, 120_000);
});

// The simulator's dead-node semantics over HTTPS (SimOptions.nodeLifecycle): graceful deletion and eviction on a
// NotReady node leave the pod Terminating; only a force delete finishes it; the out-of-service taint releases
// the node's pods on ≥ 1.28 only; ReplicaSet and StatefulSet pods are recreated on another Ready node; a PDB
// answers 429 with Retry-After, counting maxUnavailable against the current healthy pods.
import { afterEach, describe, expect, test } from "bun:test";
import { nodeNotReady } from "../../src/sim/injectors.ts";
import { waitFor } from "../../testkit/wait.ts";
import { type HealingCluster, pdb, startHealingCluster, V1_27, workload } from "../support/healing-cluster.ts";

let c: HealingCluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

const evict = (h: HealingCluster, name: string) =>
  h.client.send("POST", `/api/v1/namespaces/default/pods/${name}/eviction`, {
    body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" } },
  });

describe("simulator node lifecycle", () => {
  test("delete on a NotReady node → Terminating until a force delete; then the StatefulSet recreates it elsewhere", async () => {
    const h = (c = await startHealingCluster(3, V1_27));
    workload(h.store, "StatefulSet", "db", "pi-node-3", 1);
    nodeNotReady(h.store, "pi-node-3");
    await h.client.request("DELETE", "/api/v1/namespaces/default/pods/db-0");
    expect(h.pod("default", "db-0")?.metadata.deletionTimestamp).toBeTruthy();
    expect(h.pod("default", "db-0")?.spec.nodeName).toBe("pi-node-3"); // the StatefulSet waits for it to be gone
    await h.client.request("DELETE", "/api/v1/namespaces/default/pods/db-0", {
      body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 0 },
    });
    const again = await waitFor(() => (h.pod("default", "db-0")?.spec.nodeName !== "pi-node-3" ? h.pod("default", "db-0") : undefined));
    expect(again.metadata.deletionTimestamp).toBeUndefined();
    expect(again.spec.nodeName).not.toBe("pi-node-3");
  });

  test("eviction: 429 with Retry-After while maxUnavailable is used up; the ReplicaSet replaces an evicted pod at once", async () => {
    const h = (c = await startHealingCluster(3, V1_27));
    workload(h.store, "ReplicaSet", "web", "pi-node-3", 2);
    h.store.create({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web-pdb", namespace: "default" },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } },
    });
    nodeNotReady(h.store, "pi-node-3");
    expect((await evict(h, "web-0x")).status).toBe(201);
    expect(h.pod("default", "web-0x")?.metadata.deletionTimestamp).toBeTruthy();
    const replacement = await waitFor(() =>
      h.store.list("pods", "default").find((p) => p.metadata.name.startsWith("web-") && !p.metadata.name.endsWith("x")),
    );
    expect(replacement.spec.nodeName).not.toBe("pi-node-3");
    // The replacement is Ready, the evicted one Terminating: 2 healthy of 2 wanted, one may go.
    expect((await evict(h, "web-1x")).status).toBe(201);
    // A budget with no room: minAvailable 1 of 1.
    const db = workload(h.store, "ReplicaSet", "db", "pi-node-2", 1)[0]!;
    pdb(h.store, "db-pdb", "db", 1);
    const refused = await evict(h, db.metadata.name);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(JSON.stringify(await refused.json())).toContain("The disruption budget db-pdb needs 1 healthy pods and has 1 currently");
  });

  test("the out-of-service taint releases a NotReady node's pods on 1.31, not on 1.27", async () => {
    for (const [version, released] of [
      [V1_27, false],
      [undefined, true],
    ] as const) {
      const h = (c = await startHealingCluster(3, version));
      workload(h.store, "StatefulSet", "db", "pi-node-3", 1);
      workload(h.store, "DaemonSet", "agent", "pi-node-3", 1);
      nodeNotReady(h.store, "pi-node-3");
      await h.client.patch({ group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false }, "pi-node-3", {
        spec: { taints: [{ key: "node.kubernetes.io/out-of-service", value: "nodeshutdown", effect: "NoExecute" }] },
      });
      // The controllers run in a microtask after the write, before the PATCH is even answered.
      if (released) await waitFor(() => h.pod("default", "db-0")?.spec.nodeName !== "pi-node-3");
      expect(h.pod("default", "db-0")?.spec.nodeName === "pi-node-3").toBe(!released);
      expect(h.pod("default", "agent-0x")).toBeDefined(); // DaemonSet pods are not released
      await h.stop();
      c = undefined;
    }
  });
});

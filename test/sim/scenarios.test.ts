// Seeded cluster shape and what each injector leaves behind, checked on the store (no HTTP needed).
import { describe, expect, test } from "bun:test";
import { SimStore } from "../../src/sim/index.ts";
import {
  churnPods,
  crashLoopPod,
  demoStory,
  deploymentZeroReady,
  emptyEndpoints,
  healPod,
  imagePullBackOff,
  nodeNotReady,
  nodeReady,
  oomKilledPod,
  playStory,
  restoreEndpoints,
  seedHealthyCluster,
  warningEvent,
  type StoryClock,
} from "../../src/sim/kit.ts";

const cond = (o: any, type: string) => o.status.conditions.find((c: any) => c.type === type);
let t = Date.parse("2025-01-01T00:00:00Z");
const fresh = () => new SimStore({ now: () => t });

describe("seedHealthyCluster", () => {
  test("builds nodes, deployments → replicasets → pods, services, endpoints and slices", () => {
    const store = fresh();
    const c = seedHealthyCluster(store, { nodes: 3, deployments: 4, replicasPerDeployment: 2, namespaces: ["default", "shop"] });
    expect(c.nodes).toEqual(["pi-node-1", "pi-node-2", "pi-node-3"]);
    for (const n of store.list("nodes")) expect(cond(n, "Ready").status).toBe("True");
    expect(store.list("deployments")).toHaveLength(4);
    expect(store.list("pods")).toHaveLength(8);
    expect(store.list("namespaces").map((n) => n.metadata.name)).toContain("shop");

    const d = c.deployments[1]!;
    expect(d.namespace).toBe("shop");
    const dep = store.get("deployments", d.namespace, d.name)!;
    expect(dep.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(cond(dep, "Available").status).toBe("True");
    const rs = store.get("replicasets", d.namespace, d.replicaSet)!;
    expect(rs.metadata.ownerReferences![0]).toMatchObject({ kind: "Deployment", uid: dep.metadata.uid, controller: true });
    expect(rs.metadata.labels!["pod-template-hash"]).toBe(d.replicaSet.slice(d.name.length + 1));
    const pod = store.get("pods", d.namespace, d.pods[0]!)!;
    expect(pod.metadata.ownerReferences![0]).toMatchObject({ kind: "ReplicaSet", uid: rs.metadata.uid });
    expect(pod.status.phase).toBe("Running");
    expect(cond(pod, "Ready").status).toBe("True");
    expect(pod.spec.nodeName).toMatch(/^pi-node-\d$/);
    expect(pod.status.containerStatuses[0]).toMatchObject({ ready: true, restartCount: 0, state: { running: {} } });

    const ep = store.get("endpoints", d.namespace, d.service)!;
    expect(ep.subsets[0].addresses).toHaveLength(2);
    const slice = store.list("endpointslices", d.namespace).find((s) => s.metadata.labels!["kubernetes.io/service-name"] === d.service)!;
    expect(slice.endpoints.every((e: any) => e.conditions.ready)).toBe(true);

    expect(store.get("services", "default", "kubernetes")!.spec.clusterIP).toBe("10.43.0.1");
    const headless = store.get("services", c.headlessService.namespace, c.headlessService.name)!;
    expect(headless.spec.clusterIP).toBe("None");
    expect(store.get("endpoints", "default", "kubernetes")).toBeDefined();
  });

  test("is deterministic and scales to thousands of objects", () => {
    const a = seedHealthyCluster(fresh(), { nodes: 5, deployments: 50, replicasPerDeployment: 20 });
    const b = seedHealthyCluster(fresh(), { nodes: 5, deployments: 50, replicasPerDeployment: 20 });
    expect(a.deployments.flatMap((d) => d.pods)).toEqual(b.deployments.flatMap((d) => d.pods));
    expect(new Set(a.deployments.flatMap((d) => d.pods)).size).toBe(1000);
  });
});

describe("injectors", () => {
  const setup = () => {
    const store = fresh();
    const c = seedHealthyCluster(store);
    return { store, c, d: c.deployments[0]! };
  };

  test("crashLoopPod: waiting CrashLoopBackOff, lastState terminated, restarts, Ready False, BackOff event, RS/Deployment updated", () => {
    const { store, d } = setup();
    t += 60_000;
    const p = crashLoopPod(store, "default", d.pods[0]!);
    const cs = p.status.containerStatuses[0];
    expect(cs.state.waiting.reason).toBe("CrashLoopBackOff");
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    expect(cs.restartCount).toBeGreaterThan(0);
    expect(cond(p, "Ready")).toMatchObject({ status: "False", reason: "ContainersNotReady", lastTransitionTime: store.timestamp() });
    const ev = store.list("events").find((e) => e.reason === "BackOff")!;
    expect(ev).toMatchObject({ type: "Warning", involvedObject: { kind: "Pod", name: d.pods[0] }, count: 1 });
    expect(store.get("replicasets", "default", d.replicaSet)!.status.readyReplicas).toBe(1);
    const ep = store.get("endpoints", "default", d.service)!;
    expect(ep.subsets[0].notReadyAddresses).toHaveLength(1);
    healPod(store, "default", d.pods[0]!);
    expect(cond(store.get("pods", "default", d.pods[0]!), "Ready").status).toBe("True");
    expect(store.get("deployments", "default", d.name)!.status.readyReplicas).toBe(2);
  });

  test("imagePullBackOff and oomKilledPod", () => {
    const { store, d } = setup();
    const p = imagePullBackOff(store, "default", d.pods[0]!);
    expect(p.status.containerStatuses[0].state.waiting.reason).toBe("ImagePullBackOff");
    const o = oomKilledPod(store, "default", d.pods[1]!);
    expect(o.status.containerStatuses[0].lastState.terminated).toMatchObject({ reason: "OOMKilled", exitCode: 137 });
    expect(o.status.containerStatuses[0].restartCount).toBe(1);
  });

  test("nodeNotReady / nodeReady", () => {
    const { store, c } = setup();
    t += 1000;
    const n = nodeNotReady(store, c.nodes[1]!);
    expect(cond(n, "Ready")).toMatchObject({ status: "Unknown", reason: "NodeStatusUnknown", lastTransitionTime: store.timestamp() });
    expect(n.spec.taints.map((x: any) => x.effect)).toEqual(["NoSchedule", "NoExecute"]);
    const r = nodeReady(store, c.nodes[1]!);
    expect(cond(r, "Ready").status).toBe("True");
    expect(r.spec.taints).toBeUndefined();
  });

  test("deploymentZeroReady empties ready endpoints and marks the Deployment unavailable", () => {
    const { store, d } = setup();
    const dep = deploymentZeroReady(store, "default", d.name);
    expect(dep.status.readyReplicas).toBe(0);
    expect(cond(dep, "Available").status).toBe("False");
    expect(store.get("endpoints", "default", d.service)!.subsets[0].addresses).toBeUndefined();
  });

  test("emptyEndpoints / restoreEndpoints", () => {
    const { store, d } = setup();
    emptyEndpoints(store, "default", d.service);
    expect(store.get("endpoints", "default", d.service)!.subsets).toEqual([]);
    restoreEndpoints(store, "default", d.service);
    expect(store.get("endpoints", "default", d.service)!.subsets[0].addresses).toHaveLength(2);
  });

  test("warningEvent aggregates repeats by object and reason", () => {
    const { store, d } = setup();
    const ref = { kind: "Pod", name: d.pods[0]!, namespace: "default" };
    warningEvent(store, { involvedObject: ref, reason: "FailedMount", message: "m1" });
    t += 5000;
    const e = warningEvent(store, { involvedObject: ref, reason: "FailedMount", message: "m2" });
    expect(e.count).toBe(2);
    expect(e.lastTimestamp).not.toBe(e.firstTimestamp);
    expect(warningEvent(store, { involvedObject: ref, reason: "FailedMount", message: "m3", count: 10 }).count).toBe(10);
  });

  test("churnPods replaces pods and keeps the deployments whole", () => {
    const { store } = setup();
    const before = new Set(store.list("pods").map((p) => p.metadata.name));
    const created = churnPods(store, 3);
    expect(created).toHaveLength(3);
    for (const n of created) expect(before.has(n)).toBe(false);
    expect(store.count("pods")).toBe(before.size);
    for (const d of store.list("deployments")) expect(d.status.readyReplicas).toBe(2);
  });
});

describe("demoStory", () => {
  test("plays within about a minute on a fake clock and ends with every failure resolved", async () => {
    const store = fresh();
    let now = 0;
    const clock: StoryClock = { now: () => now, sleep: async (ms) => void (now += ms) };
    const seen: string[] = [];
    const steps = demoStory(store);
    expect(Math.max(...steps.map((s) => s.atMs))).toBeLessThanOrEqual(60_000);
    await playStory(steps, { clock, onStep: (s) => seen.push(s.description) }).done;
    expect(seen).toHaveLength(steps.length);
    for (const n of store.list("nodes")) expect(cond(n, "Ready").status).toBe("True");
    const notReady = store.list("pods").filter((p) => cond(p, "Ready").status !== "True");
    expect(notReady.map((p) => p.metadata.name)).toEqual([]);
    expect(store.list("events").some((e) => e.reason === "BackOff" && e.count === 4)).toBe(true);
  });
});

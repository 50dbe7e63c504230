// Discovery documents (and what `served` removes) and the pods/eviction subresource with PDBs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { api, pod, start, type Api } from "./helpers.ts";

describe("discovery", () => {
  let sim: Simulator;
  let k: Api;
  beforeAll(async () => {
    sim = await start();
    k = api(sim);
  });
  afterAll(() => sim.stop());

  test("/version, /healthz, /readyz, /livez", async () => {
    expect((await k.json("/version")).body.gitVersion).toBe("v1.31.0+k3s1");
    for (const p of ["/healthz", "/readyz", "/livez", "/readyz/ping"]) {
      const r = await k.fetch(p);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe("ok");
    }
  });

  test("/api and /apis list the served versions and groups", async () => {
    expect((await k.json("/api")).body).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const groups = (await k.json("/apis")).body.groups.map((g: any) => g.preferredVersion.groupVersion);
    expect(groups.sort()).toEqual(["apps/v1", "autoscaling/v2", "batch/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "policy/v1"]);
  });

  test("APIResourceList entries carry name, namespaced, kind, verbs, and subresources", async () => {
    const core = (await k.json("/api/v1")).body;
    expect(core.kind).toBe("APIResourceList");
    expect(core.groupVersion).toBe("v1");
    const byName = Object.fromEntries(core.resources.map((r: any) => [r.name, r]));
    expect(byName.pods).toMatchObject({ namespaced: true, kind: "Pod", verbs: expect.arrayContaining(["list", "watch", "create"]) });
    expect(byName.nodes.namespaced).toBe(false);
    expect(byName["pods/eviction"]).toMatchObject({ group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
    expect(byName["pods/status"].verbs).toEqual(["get", "patch", "update"]);
    const apps = (await k.json("/apis/apps/v1")).body.resources.map((r: any) => r.name);
    expect(apps).toEqual(expect.arrayContaining(["deployments", "replicasets", "statefulsets", "daemonsets", "deployments/status"]));
    expect((await k.json("/apis/discovery.k8s.io/v1")).body.resources[0]).toMatchObject({ name: "endpointslices", kind: "EndpointSlice" });
  });

  test("served=false removes the group/version: 404 and absent from discovery", async () => {
    const old = await start({ served: { endpointSlices: false, policyV1: false } });
    try {
      const o = api(old);
      const groups = (await o.json("/apis")).body.groups.map((g: any) => g.name);
      expect(groups).not.toContain("discovery.k8s.io");
      expect(groups).not.toContain("policy");
      expect((await o.json("/apis/discovery.k8s.io/v1")).status).toBe(404);
      expect((await o.json("/apis/discovery.k8s.io/v1/endpointslices")).status).toBe(404);
      expect((await o.json("/apis/policy/v1/poddisruptionbudgets")).status).toBe(404);
      const core = (await o.json("/api/v1")).body.resources.map((r: any) => r.name);
      expect(core).not.toContain("pods/eviction");
      expect((await o.json("/api/v1/namespaces/default/pods/x/eviction", { method: "POST", json: {} })).status).toBe(404);
    } finally {
      await old.stop();
    }
  });
});

describe("pods/eviction", () => {
  let sim: Simulator;
  let k: Api;
  beforeAll(async () => {
    sim = await start();
    k = api(sim);
  });
  afterAll(() => sim.stop());

  const eviction = (name: string) => ({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" } });
  const evict = (name: string) => k.json(`/api/v1/namespaces/default/pods/${name}/eviction`, { method: "POST", json: eviction(name) });
  const pdb = (name: string, app: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
    sim.store.create({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, namespace: "default" },
      spec: { selector: { matchLabels: { app } }, ...spec },
      ...(status ? { status } : {}),
    });

  test("no PDB: 201 Success Status and the pod is deleted", async () => {
    sim.store.create(pod("free", { app: "free" }));
    const r = await evict("free");
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
    expect(sim.store.get("pods", "default", "free")).toBeUndefined();
  });

  test("minAvailable that would be violated → 429 TooManyRequests with a DisruptionBudget cause", async () => {
    sim.store.create(pod("web-1", { app: "web" }));
    sim.store.create(pod("web-2", { app: "web" }));
    pdb("web", "web", { minAvailable: 2 });
    const r = await evict("web-1");
    expect(r.status).toBe(429);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.body).toMatchObject({ kind: "Status", reason: "TooManyRequests", code: 429 });
    expect(r.body.details.causes[0]).toEqual({
      reason: "DisruptionBudget",
      message: "The disruption budget web needs 2 healthy pods and has 2 currently",
    });
    expect(sim.store.get("pods", "default", "web-1")).toBeDefined();
  });

  test("budget with room allows one eviction, then refuses (expected pods come from the owner's replicas)", async () => {
    const rs = sim.store.create({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "db-abc", namespace: "default" },
      spec: { replicas: 3, selector: { matchLabels: { app: "db" } } },
    });
    const ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "db-abc", uid: rs.metadata.uid!, controller: true }];
    for (const n of ["db-1", "db-2", "db-3"]) {
      const p = pod(n, { app: "db" });
      sim.store.create({ ...p, metadata: { ...p.metadata, ownerReferences } });
    }
    pdb("db", "db", { maxUnavailable: 1 });
    expect((await evict("db-1")).status).toBe(201);
    const second = await evict("db-2");
    expect(second.status).toBe(429);
    expect(second.body.details.causes[0].message).toBe("The disruption budget db needs 2 healthy pods and has 2 currently");
  });

  test("status.disruptionsAllowed 0 pins the budget", async () => {
    sim.store.create(pod("q-1", { app: "q" }));
    sim.store.create(pod("q-2", { app: "q" }));
    pdb("q", "q", { minAvailable: 0 }, { disruptionsAllowed: 0 });
    expect((await evict("q-1")).status).toBe(429);
  });

  test("pods that are not running are evicted regardless of the budget; missing pod → 404", async () => {
    sim.store.create({ ...pod("cron-1", { app: "cron" }), status: { phase: "Succeeded" } });
    pdb("cron", "cron", { minAvailable: 5 });
    expect((await evict("cron-1")).status).toBe(201);
    expect((await evict("does-not-exist")).status).toBe(404);
  });
});

// create / get / update / patch / delete over HTTPS, with the real API's status codes and Status bodies.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { api, pod, start, type Api } from "./helpers.ts";

let sim: Simulator;
let k: Api;
beforeAll(async () => {
  sim = await start();
  k = api(sim);
});
afterAll(() => sim.stop());

const PODS = "/api/v1/namespaces/default/pods";
const lease = (name: string, holder: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name },
  spec: { holderIdentity: holder, leaseDurationSeconds: 15 },
});

describe("create", () => {
  test("POST answers 201 with server-set uid, creationTimestamp, resourceVersion, generation", async () => {
    const r = await k.json(PODS, { method: "POST", json: pod("c1") });
    expect(r.status).toBe(201);
    const m = r.body.metadata;
    expect(m.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(m.resourceVersion).toBe(sim.store.resourceVersion());
    expect(m.generation).toBe(1);
    expect(m.namespace).toBe("default");
    // Client-sent status is discarded on create, as the pod registry does.
    expect(r.body.status).toEqual({ phase: "Pending" });
  });

  test("generateName gets a random suffix", async () => {
    const r = await k.json(PODS, { method: "POST", json: { ...pod(""), metadata: { generateName: "web-" } } });
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
  });

  test("duplicate name → 409 AlreadyExists", async () => {
    await k.json(PODS, { method: "POST", json: pod("dup") });
    const r = await k.json(PODS, { method: "POST", json: pod("dup") });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ kind: "Status", reason: "AlreadyExists", code: 409, message: 'pods "dup" already exists' });
  });

  test("invalid name → 422 Invalid with a field cause", async () => {
    const r = await k.json(PODS, { method: "POST", json: pod("Bad_Name") });
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe("Invalid");
    expect(r.body.details.causes[0].field).toBe("metadata.name");
  });

  test("namespace mismatch → 400; cluster-scoped create works", async () => {
    const r = await k.json(PODS, { method: "POST", json: { ...pod("x"), metadata: { name: "x", namespace: "other" } } });
    expect(r.status).toBe(400);
    const n = await k.json("/api/v1/nodes", { method: "POST", json: { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } } });
    expect(n.status).toBe(201);
    expect(n.body.metadata.namespace).toBeUndefined();
  });
});

describe("get / errors", () => {
  test("missing object → 404 NotFound Status with application/json", async () => {
    const r = await k.fetch(`${PODS}/nope`);
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(await r.json()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "nope" not found',
      reason: "NotFound",
      details: { name: "nope", kind: "pods" },
      code: 404,
    });
  });

  test("unknown paths → 404, unsupported method → 405", async () => {
    expect((await k.json("/api/v1/widgets")).status).toBe(404);
    expect((await k.json("/apis/nope.io/v1")).status).toBe(404);
    expect((await k.json(`${PODS}/x`, { method: "POST", json: {} })).status).toBe(405);
  });
});

describe("update (PUT) and optimistic concurrency", () => {
  test("a stale metadata.resourceVersion → 409 Conflict; the current one succeeds", async () => {
    const url = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";
    const created = (await k.json(url, { method: "POST", json: lease("neuro-leader", "a") })).body;
    const mine = { ...created, spec: { ...created.spec, holderIdentity: "a" } };
    const theirs = { ...created, spec: { ...created.spec, holderIdentity: "b" } };
    const first = await k.json(`${url}/neuro-leader`, { method: "PUT", json: theirs });
    expect(first.status).toBe(200);
    expect(first.body.spec.holderIdentity).toBe("b");
    const second = await k.json(`${url}/neuro-leader`, { method: "PUT", json: mine });
    expect(second.status).toBe(409);
    expect(second.body.reason).toBe("Conflict");
    expect(second.body.message).toContain("the object has been modified");
  });

  test("spec changes bump generation; the main resource ignores status, /status ignores spec", async () => {
    const d = sim.store.create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
      spec: { replicas: 2 },
      status: { readyReplicas: 2 },
    });
    const url = "/apis/apps/v1/namespaces/default/deployments/web";
    const r1 = await k.json(url, { method: "PUT", json: { ...d, spec: { replicas: 3 }, status: { readyReplicas: 0 } } });
    expect(r1.body.metadata.generation).toBe(2);
    expect(r1.body.status).toEqual({ readyReplicas: 2 });
    const r2 = await k.json(`${url}/status`, { method: "PUT", json: { ...r1.body, spec: { replicas: 9 }, status: { readyReplicas: 3 } } });
    expect(r2.status).toBe(200);
    expect(r2.body.spec).toEqual({ replicas: 3 });
    expect(r2.body.status).toEqual({ readyReplicas: 3 });
    expect(r2.body.metadata.generation).toBe(2);
  });

  test("PUT on a missing object → 404, name mismatch → 400", async () => {
    expect((await k.json(`${PODS}/ghost`, { method: "PUT", json: pod("ghost") })).status).toBe(404);
    sim.store.create(pod("p-put"));
    expect((await k.json(`${PODS}/p-put`, { method: "PUT", json: pod("other") })).status).toBe(400);
  });
});

describe("PATCH", () => {
  const setup = (name: string) =>
    sim.store.create({
      ...pod(name, { app: "web" }),
      spec: {
        nodeName: "node-1",
        containers: [
          { name: "app", image: "app:1", env: [{ name: "A", value: "1" }] },
          { name: "sidecar", image: "proxy:1" },
        ],
      },
      status: {
        phase: "Running",
        conditions: [
          { type: "Ready", status: "True" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    });

  test("merge patch: maps merge, null deletes, lists replace", async () => {
    setup("mp");
    const r = await k.json(`${PODS}/mp`, {
      method: "PATCH",
      contentType: "application/merge-patch+json",
      json: { metadata: { labels: { app: null, tier: "fe" } }, spec: { containers: [{ name: "only", image: "x" }] } },
    });
    expect(r.status).toBe(200);
    expect(r.body.metadata.labels).toEqual({ tier: "fe" });
    expect(r.body.spec.containers).toEqual([{ name: "only", image: "x" }]);
    expect(r.body.metadata.generation).toBe(2);
  });

  test("JSON patch: add/replace/remove/test; a failing test → 422", async () => {
    setup("jp");
    const r = await k.json(`${PODS}/jp`, {
      method: "PATCH",
      contentType: "application/json-patch+json",
      json: [
        { op: "test", path: "/spec/containers/0/name", value: "app" },
        { op: "replace", path: "/spec/containers/0/image", value: "app:2" },
        { op: "add", path: "/metadata/annotations", value: { "a/b": "c" } },
        { op: "remove", path: "/spec/containers/1" },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.spec.containers.map((c: any) => c.image)).toEqual(["app:2"]);
    expect(r.body.metadata.annotations).toEqual({ "a/b": "c" });
    const bad = await k.json(`${PODS}/jp`, {
      method: "PATCH",
      contentType: "application/json-patch+json",
      json: [{ op: "test", path: "/spec/nodeName", value: "elsewhere" }],
    });
    expect(bad.status).toBe(422);
  });

  test("strategic merge: containers by name, conditions by type (status), $patch: delete", async () => {
    setup("smp");
    const r = await k.json(`${PODS}/smp`, {
      method: "PATCH",
      contentType: "application/strategic-merge-patch+json",
      json: {
        spec: {
          containers: [
            { name: "sidecar", image: "proxy:2" },
            { name: "app", $patch: "delete" },
          ],
        },
      },
    });
    expect(r.body.spec.containers).toEqual([{ name: "sidecar", image: "proxy:2" }]);
    const s = await k.json(`${PODS}/smp/status`, {
      method: "PATCH",
      contentType: "application/strategic-merge-patch+json; charset=utf-8",
      json: { status: { conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady" }] } },
    });
    expect(s.status).toBe(200);
    expect(s.body.status.conditions).toEqual([
      { type: "Ready", status: "False", reason: "ContainersNotReady" },
      { type: "PodScheduled", status: "True" },
    ]);
  });

  test("status patches on the main resource are ignored when the kind has a status subresource", async () => {
    setup("ign");
    const r = await k.json(`${PODS}/ign`, { method: "PATCH", contentType: "application/merge-patch+json", json: { status: { phase: "Failed" } } });
    expect(r.body.status.phase).toBe("Running");
  });

  test("a patch carrying a stale resourceVersion → 409; unknown content type → 415; missing → 404", async () => {
    const p = setup("rvp");
    sim.store.mutate("pods", "default", "rvp", (o) => void (o.metadata.labels = { v: "2" }));
    const stale = await k.json(`${PODS}/rvp`, {
      method: "PATCH",
      contentType: "application/merge-patch+json",
      json: { metadata: { resourceVersion: p.metadata.resourceVersion, labels: { v: "3" } } },
    });
    expect(stale.status).toBe(409);
    const ct = await k.json(`${PODS}/rvp`, { method: "PATCH", contentType: "application/apply-patch+yaml", json: {} });
    expect(ct.status).toBe(415);
    expect(ct.body.reason).toBe("UnsupportedMediaType");
    expect((await k.json(`${PODS}/none`, { method: "PATCH", contentType: "application/merge-patch+json", json: {} })).status).toBe(404);
  });
});

describe("delete", () => {
  test("pods answer with the object, other kinds with a Success Status; the object is gone", async () => {
    sim.store.create(pod("d1"));
    const r = await k.json(`${PODS}/d1`, { method: "DELETE" });
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe("Pod");
    expect((await k.json(`${PODS}/d1`)).status).toBe(404);
    sim.store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" } });
    const c = await k.json("/api/v1/namespaces/default/configmaps/cm", { method: "DELETE" });
    expect(c.body).toMatchObject({ kind: "Status", status: "Success", details: { name: "cm", kind: "configmaps" } });
  });

  test("a precondition on a stale resourceVersion → 409; missing → 404", async () => {
    const p = sim.store.create(pod("d2"));
    sim.store.mutate("pods", "default", "d2", (o) => void (o.metadata.labels = { x: "y" }));
    const r = await k.json(`${PODS}/d2`, { method: "DELETE", json: { preconditions: { resourceVersion: p.metadata.resourceVersion } } });
    expect(r.status).toBe(409);
    expect((await k.json(`${PODS}/zzz`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("store", () => {
  test("every mutation bumps one global resourceVersion across kinds", () => {
    const a = Number(sim.store.resourceVersion());
    sim.store.create(pod("g1"));
    sim.store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "g2", namespace: "default" } });
    sim.store.delete("pods", "default", "g1");
    expect(Number(sim.store.resourceVersion())).toBe(a + 3);
  });

  test("reads are copies: mutating them does not change the store", () => {
    sim.store.create(pod("copy"));
    const p = sim.store.get("Pod", "default", "copy")!;
    p.metadata.labels = { changed: "yes" };
    expect(sim.store.get("pods", "default", "copy")!.metadata.labels).toEqual({});
  });
});

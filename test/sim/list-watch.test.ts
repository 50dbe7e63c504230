// LIST and WATCH wire protocol: resourceVersion, replay, 410 Expired, bookmarks, selectors, timeouts.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { api, pod, start, type Api } from "./helpers.ts";

let sim: Simulator;
let k: Api;
beforeAll(async () => {
  sim = await start({ historyLimit: 50 });
  k = api(sim);
});
afterAll(() => sim.stop());
beforeEach(() => {
  for (const p of sim.store.list("pods")) sim.store.delete("pods", p.metadata.namespace, p.metadata.name);
  sim.faults.reset();
});

describe("list", () => {
  test("a list carries the current global resourceVersion and items without kind", async () => {
    sim.store.create(pod("a"));
    sim.store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: {} });
    const r = await k.json("/api/v1/namespaces/default/pods");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.body.kind).toBe("PodList");
    expect(r.body.apiVersion).toBe("v1");
    expect(r.body.metadata.resourceVersion).toBe(sim.store.resourceVersion());
    expect(r.body.items.map((p: any) => p.metadata.name)).toEqual(["a"]);
    expect(r.body.items[0].kind).toBeUndefined();
    expect(Number(r.body.items[0].metadata.resourceVersion)).toBeLessThan(Number(r.body.metadata.resourceVersion));
  });

  test("all-namespaces and cluster-scoped lists", async () => {
    sim.store.create(pod("a"));
    sim.store.create({ ...pod("b"), metadata: { name: "b", namespace: "kube-system" } });
    sim.store.upsert({ apiVersion: "v1", kind: "Node", metadata: { name: "node-1" } });
    const all = await k.json("/api/v1/pods");
    expect(all.body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(["default/a", "kube-system/b"]);
    const nodes = await k.json("/api/v1/nodes");
    expect(nodes.body.items[0].metadata.namespace).toBeUndefined();
    expect((await k.json("/api/v1/nodes/node-1")).body.kind).toBe("Node");
  });

  test("label selectors: =, ==, !=, in, notin, exists, !key", async () => {
    sim.store.create(pod("a", { app: "web", tier: "fe" }));
    sim.store.create(pod("b", { app: "db" }));
    sim.store.create(pod("c", { app: "cache", tier: "be" }));
    const names = async (sel: string) =>
      (await k.json(`/api/v1/pods?labelSelector=${encodeURIComponent(sel)}`)).body.items.map((p: any) => p.metadata.name);
    expect(await names("app=web")).toEqual(["a"]);
    expect(await names("app==db")).toEqual(["b"]);
    expect(await names("app!=web")).toEqual(["b", "c"]);
    expect(await names("app in (web,cache)")).toEqual(["a", "c"]);
    expect(await names("app notin (web, cache)")).toEqual(["b"]);
    expect(await names("tier")).toEqual(["a", "c"]);
    expect(await names("!tier")).toEqual(["b"]);
    expect(await names("tier,app in (cache)")).toEqual(["c"]);
    expect((await k.json(`/api/v1/pods?labelSelector=${encodeURIComponent("a b c")}`)).status).toBe(400);
  });

  test("field selectors: name, namespace, spec.nodeName, status.phase, event involvedObject; unsupported → 400", async () => {
    sim.store.create(pod("a"));
    sim.store.create({ ...pod("b"), spec: { containers: [], nodeName: "node-2" }, status: { phase: "Pending" } });
    const names = async (path: string) => (await k.json(path)).body.items.map((p: any) => p.metadata.name);
    expect(await names("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2")).toEqual(["b"]);
    expect(await names("/api/v1/pods?fieldSelector=status.phase!%3DPending")).toEqual(["a"]);
    expect(await names("/api/v1/pods?fieldSelector=metadata.name%3Da,metadata.namespace%3Ddefault")).toEqual(["a"]);
    sim.store.create({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "e1", namespace: "default" },
      involvedObject: { kind: "Pod", name: "a", namespace: "default" },
      reason: "BackOff",
      type: "Warning",
    });
    expect(await names("/api/v1/events?fieldSelector=involvedObject.kind%3DPod,involvedObject.name%3Da,type%3DWarning")).toEqual(["e1"]);
    const bad = await k.json("/api/v1/pods?fieldSelector=spec.bogus%3Dx");
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("field label not supported: spec.bogus");
  });

  test("limit and continue paginate in key order", async () => {
    for (const n of ["p1", "p2", "p3", "p4", "p5"]) sim.store.create(pod(n));
    const seen: string[] = [];
    let cont = "";
    let pages = 0;
    do {
      const r = await k.json(`/api/v1/pods?limit=2${cont ? `&continue=${cont}` : ""}`);
      seen.push(...r.body.items.map((p: any) => p.metadata.name));
      cont = r.body.metadata.continue ?? "";
      pages++;
    } while (cont);
    expect(seen).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    expect(pages).toBe(3);
  });
});

describe("watch", () => {
  test("without resourceVersion: synthetic ADDED for current state, then live events with kind/apiVersion", async () => {
    sim.store.create(pod("a"));
    const w = k.watch("/api/v1/namespaces/default/pods?watch=true");
    await w.waitCount(1, "ADDED");
    sim.store.patchStatus("pods", "default", "a", (s) => {
      s.phase = "Failed";
    });
    sim.store.delete("pods", "default", "a");
    const evs = await w.waitCount(3);
    expect(evs.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    for (const e of evs) expect(e.object).toMatchObject({ kind: "Pod", apiVersion: "v1" });
    expect(evs[1]!.object.status.phase).toBe("Failed");
    expect(w.status).toBe(200);
    await w.cancel();
  });

  test("from a resourceVersion replays every later event from history", async () => {
    const rv = sim.store.resourceVersion();
    sim.store.create(pod("a"));
    sim.store.create(pod("b"));
    sim.store.mutate("pods", "default", "a", (p) => {
      p.metadata.labels = { x: "1" };
    });
    sim.store.delete("pods", "default", "b");
    const w = k.watch(`/api/v1/pods?watch=1&resourceVersion=${rv}`);
    const evs = await w.waitCount(4);
    expect(evs.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED a", "ADDED b", "MODIFIED a", "DELETED b"]);
    const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
    await w.cancel();
  });

  test("after compaction a watch from an older resourceVersion gets ERROR 410 Expired", async () => {
    const rv = sim.store.resourceVersion();
    sim.store.create(pod("a"));
    sim.faults.compact();
    const w = k.watch(`/api/v1/pods?watch=1&resourceVersion=${rv}`);
    await w.done;
    expect(w.status).toBe(200);
    expect(w.events).toEqual([
      {
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: expect.stringMatching(new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`)),
          reason: "Expired",
          code: 410,
        },
      },
    ]);
    // The current RV is still a valid starting point.
    const ok = await k.watchReady(`/api/v1/pods?watch=1&resourceVersion=${sim.store.resourceVersion()}`);
    sim.store.create(pod("b"));
    expect((await ok.waitCount(1))[0]!.type).toBe("ADDED");
    await ok.cancel();
  });

  test("history beyond historyLimit expires like compaction", async () => {
    const rv = sim.store.resourceVersion();
    sim.store.create(pod("a"));
    for (let i = 0; i < 60; i++) sim.store.mutate("pods", "default", "a", (p) => void (p.metadata.labels = { i: String(i) }));
    const w = k.watch(`/api/v1/pods?watch=1&resourceVersion=${rv}`);
    await w.done;
    expect(w.events[0]!.object.code).toBe(410);
  });

  test("allowWatchBookmarks sends BOOKMARK events with only kind, apiVersion and resourceVersion", async () => {
    const w = k.watch(`/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${sim.store.resourceVersion()}`);
    const [b] = await w.waitCount(1, "BOOKMARK");
    expect(b!.object).toEqual({ kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: sim.store.resourceVersion() } });
    await w.cancel();
  });

  test("watches without allowWatchBookmarks get no bookmarks", async () => {
    const plain = await k.watchReady(`/api/v1/pods?watch=1&resourceVersion=${sim.store.resourceVersion()}`);
    const marked = await k.watchReady(`/api/v1/pods?watch=1&allowWatchBookmarks=1&resourceVersion=${sim.store.resourceVersion()}`);
    await marked.waitCount(3, "BOOKMARK");
    expect(plain.events).toEqual([]);
    await plain.cancel();
    await marked.cancel();
  });

  test("timeoutSeconds ends the stream cleanly", async () => {
    const w = k.watch(`/api/v1/pods?watch=1&timeoutSeconds=1&resourceVersion=${sim.store.resourceVersion()}`);
    await w.done;
    expect(w.ended).toBe(true);
    expect(w.error).toBeUndefined();
  });

  test("selectors apply to watch; leaving or entering the selection is DELETED/ADDED", async () => {
    const w = await k.watchReady(`/api/v1/pods?watch=1&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dnode-1`);
    sim.store.create(pod("a", { app: "web" }));
    sim.store.create(pod("b", { app: "db" }));
    sim.store.mutate("pods", "default", "a", (p) => void (p.metadata.labels = { app: "db" }));
    sim.store.mutate("pods", "default", "b", (p) => void (p.metadata.labels = { app: "web" }));
    sim.store.mutate("pods", "default", "b", (p) => void (p.metadata.annotations = { touched: "yes" }));
    const evs = await w.waitCount(4);
    expect(evs.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED a", "DELETED a", "ADDED b", "MODIFIED b"]);
    await w.cancel();
  });

  test("the /watch/ path prefix and cluster-scoped watches work", async () => {
    const w = await k.watchReady(`/api/v1/watch/nodes?resourceVersion=${sim.store.resourceVersion()}`);
    sim.store.upsert({ apiVersion: "v1", kind: "Node", metadata: { name: "node-9" } });
    const [e] = await w.waitCount(1);
    expect(e!.object.kind).toBe("Node");
    await w.cancel();
  });

  test("a non-numeric resourceVersion is a 500, as kube-apiserver answers it", async () => {
    expect((await k.json("/api/v1/pods?watch=1&resourceVersion=abc")).status).toBe(500);
  });

  test("no-op updates keep the resourceVersion and emit nothing", async () => {
    const a = sim.store.create(pod("a"));
    const w = await k.watchReady(`/api/v1/pods?watch=1&resourceVersion=${sim.store.resourceVersion()}`);
    const same = sim.store.update(a);
    expect(same.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    sim.store.mutate("pods", "default", "a", (p) => void (p.metadata.labels = { n: "1" }));
    const evs = await w.waitCount(1);
    expect(evs).toHaveLength(1);
    expect(evs[0]!.object.metadata.labels).toEqual({ n: "1" });
    await w.cancel();
  });
});

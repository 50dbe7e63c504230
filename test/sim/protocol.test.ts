// The wire protocol the controller relies on, held to BOTH servers: the simulator and a real kube-apiserver 1.20.2
// (test/support/real-apiserver.ts; present when test/run.sh built it). HTTP only: no store shortcuts, so each
// expectation is what the real API does. Where 1.20 is simply older, `t.real` picks the expectation (docs/real-apiserver.md).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { currentRV, startTarget, TARGETS, type ApiTarget } from "./servers.ts";

const STATUS_PATCH = "application/merge-patch+json";

for (const name of TARGETS) {
  describe(`protocol (${name})`, () => {
    let t: ApiTarget;
    beforeAll(async () => {
      t = await startTarget(name, { bookmarkIntervalMs: 200 });
    }, 90_000);
    afterAll(() => t?.stop());

    const pods = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
    const podBody = (ns: string, n: string, labels: Record<string, string> = {}, nodeName = "node-1") => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: n, namespace: ns, labels },
      spec: { containers: [{ name: "app", image: "nginx:1.27" }], nodeName },
    });
    /** POST, then the status through /status as a kubelet would (create discards a client's status). */
    async function createPod(ns: string, n: string, labels: Record<string, string> = {}, opts: { nodeName?: string; phase?: string } = {}) {
      const c = await t.k.json(pods(ns), { method: "POST", json: podBody(ns, n, labels, opts.nodeName) });
      expect(c.status).toBe(201);
      const s = await t.k.json(`${pods(ns)}/${n}/status`, {
        method: "PATCH",
        contentType: STATUS_PATCH,
        json: { status: { phase: opts.phase ?? "Running", conditions: [{ type: "Ready", status: "True" }] } },
      });
      expect(s.status).toBe(200);
      return s.body;
    }
    const del = (ns: string, n: string) => t.k.json(`${pods(ns)}/${n}?gracePeriodSeconds=0`, { method: "DELETE", json: { gracePeriodSeconds: 0 } });

    describe("create-time validation", () => {
      test("the server sets uid, creationTimestamp, resourceVersion; a client's pod status is discarded", async () => {
        const ns = await t.namespace();
        const r = await t.k.json(pods(ns), { method: "POST", json: { ...podBody(ns, "c1"), status: { phase: "Running" } } });
        expect(r.status).toBe(201);
        expect(r.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(r.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(Number(r.body.metadata.resourceVersion)).toBeGreaterThan(0);
        expect(r.body.status.phase).toBe("Pending");
        expect(r.body.status.conditions).toBeUndefined();
      });

      test("metadata.resourceVersion on create → 500 'resourceVersion should not be set on objects to be created'", async () => {
        const ns = await t.namespace();
        const body = podBody(ns, "rv");
        const r = await t.k.json(pods(ns), { method: "POST", json: { ...body, metadata: { ...body.metadata, resourceVersion: "5" } } });
        expect(r.status).toBe(500);
        expect(r.body).toEqual({
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: "resourceVersion should not be set on objects to be created",
          code: 500,
        });
        expect((await t.k.json(`${pods(ns)}/rv`)).status).toBe(404);
      });

      test("a namespace that does not exist → 404 NotFound for the namespace", async () => {
        const r = await t.k.json(pods("no-such-ns"), { method: "POST", json: podBody("no-such-ns", "x") });
        expect(r.status).toBe(404);
        expect(r.body).toMatchObject({ kind: "Status", reason: "NotFound", code: 404, message: 'namespaces "no-such-ns" not found' });
      });

      test("duplicate → 409 AlreadyExists; invalid name → 422 with a metadata.name cause", async () => {
        const ns = await t.namespace();
        await createPod(ns, "dup");
        const again = await t.k.json(pods(ns), { method: "POST", json: podBody(ns, "dup") });
        expect(again.status).toBe(409);
        expect(again.body).toMatchObject({ kind: "Status", reason: "AlreadyExists", code: 409, message: 'pods "dup" already exists' });
        const bad = await t.k.json(pods(ns), { method: "POST", json: podBody(ns, "Bad_Name") });
        expect(bad.status).toBe(422);
        expect(bad.body.reason).toBe("Invalid");
        expect(bad.body.details.causes.map((c: any) => c.field)).toContain("metadata.name");
      });

      test("a missing object → 404 NotFound Status body, application/json", async () => {
        const ns = await t.namespace();
        const r = await t.k.fetch(`${pods(ns)}/nope`);
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
    });

    describe("list", () => {
      test("a list carries a resourceVersion no older than its items; items carry no kind", async () => {
        const ns = await t.namespace();
        await createPod(ns, "a");
        const r = await t.k.json(pods(ns));
        expect(r.status).toBe(200);
        expect(r.headers.get("content-type")).toBe("application/json");
        expect(r.body).toMatchObject({ kind: "PodList", apiVersion: "v1" });
        expect(r.body.items.map((p: any) => p.metadata.name)).toEqual(["a"]);
        expect(r.body.items[0].kind).toBeUndefined();
        expect(Number(r.body.items[0].metadata.resourceVersion)).toBeLessThanOrEqual(Number(r.body.metadata.resourceVersion));
      });

      test("label selectors: =, ==, !=, in, notin, exists, !key; a malformed one → 400", async () => {
        const ns = await t.namespace();
        await createPod(ns, "a", { app: "web", tier: "fe" });
        await createPod(ns, "b", { app: "db" });
        await createPod(ns, "c", { app: "cache", tier: "be" });
        const names = async (sel: string) =>
          (await t.k.json(`${pods(ns)}?labelSelector=${encodeURIComponent(sel)}`)).body.items.map((p: any) => p.metadata.name).sort();
        expect(await names("app=web")).toEqual(["a"]);
        expect(await names("app==db")).toEqual(["b"]);
        expect(await names("app!=web")).toEqual(["b", "c"]);
        expect(await names("app in (web,cache)")).toEqual(["a", "c"]);
        expect(await names("app notin (web, cache)")).toEqual(["b"]);
        expect(await names("tier")).toEqual(["a", "c"]);
        expect(await names("!tier")).toEqual(["b"]);
        expect((await t.k.json(`${pods(ns)}?labelSelector=${encodeURIComponent("a b c")}`)).status).toBe(400);
      });

      test("field selectors: spec.nodeName, status.phase, metadata.name; unsupported → 400 with the real message", async () => {
        const ns = await t.namespace();
        await createPod(ns, "a");
        await createPod(ns, "b", {}, { nodeName: "node-2", phase: "Pending" });
        const names = async (q: string) =>
          (await t.k.json(`${pods(ns)}?fieldSelector=${encodeURIComponent(q)}`)).body.items.map((p: any) => p.metadata.name);
        expect(await names("spec.nodeName=node-2")).toEqual(["b"]);
        expect(await names("status.phase!=Pending")).toEqual(["a"]);
        expect(await names(`metadata.name=a,metadata.namespace=${ns}`)).toEqual(["a"]);
        const bad = await t.k.json(`${pods(ns)}?fieldSelector=spec.bogus%3Dx`);
        expect(bad.status).toBe(400);
        expect(bad.body.message).toBe("field label not supported: spec.bogus");
      });

      test("limit and continue paginate", async () => {
        const ns = await t.namespace();
        for (const n of ["p1", "p2", "p3", "p4", "p5"]) await createPod(ns, n);
        const seen: string[] = [];
        let cont = "";
        let pages = 0;
        do {
          const r = await t.k.json(`${pods(ns)}?limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`);
          seen.push(...r.body.items.map((p: any) => p.metadata.name));
          cont = r.body.metadata.continue ?? "";
          pages++;
        } while (cont);
        expect(seen).toEqual(["p1", "p2", "p3", "p4", "p5"]);
        expect(pages).toBe(3);
      });

      test("a continue token from before a compaction → 410 Expired (the client lists again from the start)", async () => {
        const ns = await t.namespace();
        for (const n of ["q1", "q2", "q3"]) await createPod(ns, n);
        const first = await t.k.json(`${pods(ns)}?limit=1`);
        expect(first.body.metadata.continue).toBeTruthy();
        await createPod(ns, "q4"); // a write after the list's snapshot, so the compaction passes it
        await t.compact();
        const r = await t.k.json(`${pods(ns)}?limit=1&continue=${encodeURIComponent(first.body.metadata.continue)}`);
        expect(r.status).toBe(410);
        expect(r.body.reason).toBe("Expired");
        expect(r.body.message).toStartWith("The provided continue parameter is too old");
      }, 60_000);
    });

    describe("watch", () => {
      test("from a resourceVersion: every later event in order, with kind and apiVersion", async () => {
        const ns = await t.namespace();
        const rv = await currentRV(t.k, pods(ns));
        await createPod(ns, "a");
        await t.k.json(`${pods(ns)}/a`, { method: "PATCH", contentType: "application/merge-patch+json", json: { metadata: { labels: { x: "1" } } } });
        await del(ns, "a");
        const w = t.k.watch(`${pods(ns)}?watch=1&resourceVersion=${rv}`);
        // ADDED, MODIFIED (status), MODIFIED (label), then DELETED (the real server may add a MODIFIED for deletionTimestamp).
        await w.waitCount(1, "DELETED", 10_000);
        const types = w.events.map((e) => e.type);
        expect(types[0]).toBe("ADDED");
        expect(types.at(-1)).toBe("DELETED");
        expect(types.slice(1, -1).every((x) => x === "MODIFIED")).toBe(true);
        for (const e of w.events) expect(e.object).toMatchObject({ kind: "Pod", apiVersion: "v1", metadata: { name: "a" } });
        const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
        expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
        await w.cancel();
      });

      test("after compaction a watch from an older resourceVersion gets ERROR 410 Expired; the current one works", async () => {
        const ns = await t.namespace();
        const rv = await currentRV(t.k, pods(ns));
        for (let i = 0; i < 3; i++) await createPod(ns, `c${i}`);
        await t.compact();
        const w = t.k.watch(`${pods(ns)}?watch=1&resourceVersion=${rv}`);
        await w.waitCount(1);
        await w.cancel();
        expect(w.status).toBe(200);
        expect(w.events).toHaveLength(1);
        expect(w.events[0]).toEqual({
          type: "ERROR",
          object: {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/),
            reason: "Expired",
            code: 410,
          },
        });
        const ok = await t.k.watchReady(`${pods(ns)}?watch=1&resourceVersion=${await currentRV(t.k, pods(ns))}`);
        await createPod(ns, "after");
        expect((await ok.waitCount(1))[0]!.type).toBe("ADDED");
        await ok.cancel();
      });

      test("allowWatchBookmarks: BOOKMARK events carry kind, apiVersion and resourceVersion only", async () => {
        const ns = await t.namespace();
        // 1.20 sends a bookmark shortly before the watch's deadline, once its cache has processed an event since it
        // started; the simulator on its interval.
        const w = await t.k.watchReady(
          `${pods(ns)}?watch=1&allowWatchBookmarks=true&timeoutSeconds=5&resourceVersion=${await currentRV(t.k, pods(ns))}`,
        );
        await createPod(ns, "marked");
        const [b] = await w.waitCount(1, "BOOKMARK", 10_000);
        expect(b!.object).toMatchObject({ kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
        expect(b!.object.metadata.name).toBeUndefined();
        await w.cancel();
      });

      test("timeoutSeconds ends the stream cleanly", async () => {
        const ns = await t.namespace();
        const w = t.k.watch(`${pods(ns)}?watch=1&timeoutSeconds=1&resourceVersion=${await currentRV(t.k, pods(ns))}`);
        await w.done;
        expect(w.ended).toBe(true);
        expect(w.error).toBeUndefined();
      });

      test("selectors apply to watch; leaving or entering the selection is DELETED / ADDED", async () => {
        const ns = await t.namespace();
        const w = await t.k.watchReady(`${pods(ns)}?watch=1&labelSelector=app%3Dweb&resourceVersion=${await currentRV(t.k, pods(ns))}`);
        await createPod(ns, "a", { app: "web" });
        await createPod(ns, "b", { app: "db" });
        const relabel = (n: string, app: string) =>
          t.k.json(`${pods(ns)}/${n}`, { method: "PATCH", contentType: "application/merge-patch+json", json: { metadata: { labels: { app } } } });
        await relabel("a", "db");
        await relabel("b", "web");
        await w.waitCount(1, "DELETED");
        const evs = await w.waitCount(2, "ADDED");
        expect(evs.map((e) => e.object.metadata.name)).toEqual(["a", "b"]);
        expect(w.of("DELETED")[0]!.object.metadata.name).toBe("a");
        await w.cancel();
      });

      test("a non-numeric resourceVersion on watch → 500 with the parse error, no reason", async () => {
        const ns = await t.namespace();
        const r = await t.k.json(`${pods(ns)}?watch=1&resourceVersion=abc`);
        expect(r.status).toBe(500);
        expect(r.body).toEqual({
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
          code: 500,
        });
      });
    });

    describe("update, /status, PATCH, delete", () => {
      const deployment = (ns: string) => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: ns },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "web:1" }] } },
        },
      });

      test("the main resource ignores status, /status ignores spec; spec changes bump generation", async () => {
        const ns = await t.namespace();
        const url = `/apis/apps/v1/namespaces/${ns}/deployments`;
        const d = (await t.k.json(url, { method: "POST", json: deployment(ns) })).body;
        expect(d.metadata.generation).toBe(1);
        const r1 = await t.k.json(`${url}/web`, { method: "PUT", json: { ...d, spec: { ...d.spec, replicas: 3 }, status: { readyReplicas: 3 } } });
        expect(r1.status).toBe(200);
        expect(r1.body.metadata.generation).toBe(2);
        expect(r1.body.status?.readyReplicas).toBeUndefined();
        const status = { replicas: 3, readyReplicas: 3 }; // valid: the real server refuses readyReplicas > replicas
        const r2 = await t.k.json(`${url}/web/status`, { method: "PUT", json: { ...r1.body, spec: { ...r1.body.spec, replicas: 9 }, status } });
        expect(r2.status).toBe(200);
        expect(r2.body.spec.replicas).toBe(3);
        expect(r2.body.status.readyReplicas).toBe(3);
        expect(r2.body.metadata.generation).toBe(2);
        const stale = await t.k.json(`${url}/web`, { method: "PUT", json: { ...d, spec: { ...d.spec, replicas: 1 } } });
        expect(stale.status).toBe(409);
        expect(stale.body.reason).toBe("Conflict");
        expect(stale.body.message).toContain("the object has been modified");
      });

      test("merge patch, JSON patch (a failing test op is refused), strategic merge on /status by condition type", async () => {
        const ns = await t.namespace();
        await createPod(ns, "p", { app: "web" });
        const mp = await t.k.json(`${pods(ns)}/p`, {
          method: "PATCH",
          contentType: "application/merge-patch+json",
          json: { metadata: { labels: { app: null, tier: "fe" } } },
        });
        expect(mp.status).toBe(200);
        expect(mp.body.metadata.labels).toEqual({ tier: "fe" });
        const jp = await t.k.json(`${pods(ns)}/p`, {
          method: "PATCH",
          contentType: "application/json-patch+json",
          json: [
            { op: "test", path: "/spec/containers/0/name", value: "app" },
            { op: "replace", path: "/spec/containers/0/image", value: "nginx:1.28" },
            { op: "add", path: "/metadata/annotations", value: { "a/b": "c" } },
          ],
        });
        expect(jp.status).toBe(200);
        expect(jp.body.spec.containers[0].image).toBe("nginx:1.28");
        expect(jp.body.metadata.annotations).toEqual({ "a/b": "c" });
        const failing = await t.k.json(`${pods(ns)}/p`, {
          method: "PATCH",
          contentType: "application/json-patch+json",
          json: [{ op: "test", path: "/spec/nodeName", value: "elsewhere" }],
        });
        expect([422, 500]).toContain(failing.status);
        await t.k.json(`${pods(ns)}/p/status`, {
          method: "PATCH",
          contentType: STATUS_PATCH,
          json: {
            status: {
              conditions: [
                { type: "Ready", status: "True" },
                { type: "PodScheduled", status: "True" },
              ],
            },
          },
        });
        const smp = await t.k.json(`${pods(ns)}/p/status`, {
          method: "PATCH",
          contentType: "application/strategic-merge-patch+json",
          json: { status: { conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady" }] } },
        });
        expect(smp.status).toBe(200);
        const conds = Object.fromEntries(smp.body.status.conditions.map((c: any) => [c.type, c.status]));
        expect(conds).toEqual({ Ready: "False", PodScheduled: "True" });
        const ignored = await t.k.json(`${pods(ns)}/p`, {
          method: "PATCH",
          contentType: "application/merge-patch+json",
          json: { status: { phase: "Failed" } },
        });
        expect(ignored.body.status.phase).toBe("Running");
      });

      test("a stale resourceVersion in a patch → 409; unknown patch type → 415; missing → 404", async () => {
        const ns = await t.namespace();
        const p = await createPod(ns, "rvp");
        await t.k.json(`${pods(ns)}/rvp`, {
          method: "PATCH",
          contentType: "application/merge-patch+json",
          json: { metadata: { labels: { v: "2" } } },
        });
        const stale = await t.k.json(`${pods(ns)}/rvp`, {
          method: "PATCH",
          contentType: "application/merge-patch+json",
          json: { metadata: { resourceVersion: p.metadata.resourceVersion, labels: { v: "3" } } },
        });
        expect(stale.status).toBe(409);
        const ct = await t.k.json(`${pods(ns)}/rvp`, { method: "PATCH", contentType: "application/x-nonsense", json: {} });
        expect(ct.status).toBe(415);
        expect(ct.body.reason).toBe("UnsupportedMediaType");
        expect((await t.k.json(`${pods(ns)}/none`, { method: "PATCH", contentType: "application/merge-patch+json", json: {} })).status).toBe(404);
      });

      test("delete: a pod answers with the object, a ConfigMap with a Success Status; stale precondition → 409", async () => {
        const ns = await t.namespace();
        await createPod(ns, "d1");
        const r = await del(ns, "d1");
        expect(r.status).toBe(200);
        expect(r.body.kind).toBe("Pod");
        expect((await t.k.json(`${pods(ns)}/d1`)).status).toBe(404);
        const cms = `/api/v1/namespaces/${ns}/configmaps`;
        await t.k.json(cms, { method: "POST", json: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" } } });
        const c = await t.k.json(`${cms}/cm`, { method: "DELETE" });
        expect(c.body).toMatchObject({ kind: "Status", status: "Success", details: { name: "cm", kind: "configmaps" } });
        const p = await createPod(ns, "d2");
        await t.k.json(`${pods(ns)}/d2`, {
          method: "PATCH",
          contentType: "application/merge-patch+json",
          json: { metadata: { labels: { x: "y" } } },
        });
        const pre = await t.k.json(`${pods(ns)}/d2`, { method: "DELETE", json: { preconditions: { resourceVersion: p.metadata.resourceVersion } } });
        expect(pre.status).toBe(409);
        expect((await t.k.json(`${pods(ns)}/zzz`, { method: "DELETE" })).status).toBe(404);
      });
    });

    describe("Leases", () => {
      test("create, renew with optimistic concurrency, MicroTime round-trips", async () => {
        const ns = await t.namespace();
        const url = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
        const renewTime = "2026-12-04T20:00:00.123456Z";
        const created = await t.k.json(url, {
          method: "POST",
          json: {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: "leader" },
            spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime },
          },
        });
        expect(created.status).toBe(201);
        expect(created.body.spec.renewTime).toBe(renewTime);
        const theirs = await t.k.json(`${url}/leader`, {
          method: "PUT",
          json: { ...created.body, spec: { ...created.body.spec, holderIdentity: "b" } },
        });
        expect(theirs.status).toBe(200);
        const mine = await t.k.json(`${url}/leader`, {
          method: "PUT",
          json: { ...created.body, spec: { ...created.body.spec, holderIdentity: "a" } },
        });
        expect(mine.status).toBe(409);
        expect((await t.k.json(`${url}/leader`)).body.spec.holderIdentity).toBe("b");
      });
    });

    describe("pods/eviction and PodDisruptionBudgets", () => {
      const evict = (ns: string, n: string) =>
        t.k.json(`${pods(ns)}/${n}/eviction`, {
          method: "POST",
          json: { apiVersion: "policy/v1beta1", kind: "Eviction", metadata: { name: n, namespace: ns }, deleteOptions: { gracePeriodSeconds: 0 } },
        });
      /** A PDB whose status is written through /status, as the disruption controller would (none runs beside 1.20 here). */
      async function pdb(
        ns: string,
        app: string,
        minAvailable: number,
        status: { disruptionsAllowed: number; currentHealthy: number; expectedPods: number },
      ) {
        const url = `/apis/${t.pdbApiVersion}/namespaces/${ns}/poddisruptionbudgets`;
        const c = await t.k.json(url, {
          method: "POST",
          json: {
            apiVersion: t.pdbApiVersion,
            kind: "PodDisruptionBudget",
            metadata: { name: app },
            spec: { minAvailable, selector: { matchLabels: { app } } },
          },
        });
        expect(c.status).toBe(201);
        const s = await t.k.json(`${url}/${app}/status`, {
          method: "PUT",
          json: { ...c.body, status: { observedGeneration: c.body.metadata.generation, desiredHealthy: minAvailable, ...status } },
        });
        expect(s.status).toBe(200);
      }

      test("no budget: 201 Success Status and the pod is gone; a missing pod → 404", async () => {
        const ns = await t.namespace();
        await createPod(ns, "free", { app: "free" });
        const r = await evict(ns, "free");
        expect(r.status).toBe(201);
        expect(r.body).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
        expect((await t.k.json(`${pods(ns)}/free`)).status).toBe(404);
        expect((await evict(ns, "does-not-exist")).status).toBe(404);
      });

      test("a budget that would be violated → 429 TooManyRequests with a DisruptionBudget cause", async () => {
        const ns = await t.namespace();
        await createPod(ns, "web-1", { app: "web" });
        await createPod(ns, "web-2", { app: "web" });
        await pdb(ns, "web", 2, { disruptionsAllowed: 0, currentHealthy: 2, expectedPods: 2 });
        const r = await evict(ns, "web-1");
        expect(r.status).toBe(429);
        expect(r.headers.get("content-type")).toBe("application/json");
        expect(r.body).toMatchObject({ kind: "Status", reason: "TooManyRequests", code: 429 });
        expect(r.body.details.causes[0]).toEqual({
          reason: "DisruptionBudget",
          message: "The disruption budget web needs 2 healthy pods and has 2 currently",
        });
        expect((await t.k.json(`${pods(ns)}/web-1`)).status).toBe(200);
      });

      test("a budget with room allows one eviction, then refuses", async () => {
        const ns = await t.namespace();
        for (const n of ["db-1", "db-2", "db-3"]) await createPod(ns, n, { app: "db" });
        await pdb(ns, "db", 2, { disruptionsAllowed: 1, currentHealthy: 3, expectedPods: 3 });
        expect((await evict(ns, "db-1")).status).toBe(201);
        const second = await evict(ns, "db-2");
        expect(second.status).toBe(429);
        expect(second.body.details.causes[0].reason).toBe("DisruptionBudget");
      });

      test("pods that are not running are evicted regardless of the budget", async () => {
        const ns = await t.namespace();
        await createPod(ns, "cron-1", { app: "cron" }, { phase: "Succeeded" });
        await pdb(ns, "cron", 5, { disruptionsAllowed: 0, currentHealthy: 0, expectedPods: 1 });
        expect((await evict(ns, "cron-1")).status).toBe(201);
      });
    });

    describe("authentication", () => {
      const plain = (headers: Record<string, string> = {}) => fetch(`${t.url}/api/v1/namespaces`, { headers, tls: { ca: t.ca } } as RequestInit);
      test("no client certificate and no token → 401 Unauthorized Status", async () => {
        const r = await plain();
        expect(r.status).toBe(401);
        expect(r.headers.get("content-type")).toBe("application/json");
        expect(await r.json()).toMatchObject({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
      });
      test("a wrong bearer token → 401; the right one is served without a client certificate", async () => {
        expect((await plain({ authorization: "Bearer not-the-token" })).status).toBe(401);
        const ok = await plain({ authorization: `Bearer ${t.token}` });
        expect(ok.status).toBe(200);
        expect(((await ok.json()) as { kind: string }).kind).toBe("NamespaceList");
      });
    });

    describe("discovery", () => {
      test("/version, /healthz and the groups the controller uses; what 1.20 lacks is absent", async () => {
        const v = (await t.k.json("/version")).body;
        // Debian's source tree stamps v1.20.2's commit (its gitVersion reads v0.0.0-master+faecb196815e2).
        if (t.real) expect(v.gitCommit).toBe("faecb196815e248d3ecfb03c680a4507229c2a56");
        else expect(v.gitVersion).toBe("v1.31.0+k3s1");
        const h = await t.k.fetch("/healthz");
        expect(h.status).toBe(200);
        expect(await h.text()).toBe("ok");
        const groups = Object.fromEntries((await t.k.json("/apis")).body.groups.map((g: any) => [g.name, g.preferredVersion.groupVersion]));
        expect(groups).toMatchObject({ apps: "apps/v1", batch: "batch/v1", "coordination.k8s.io": "coordination.k8s.io/v1" });
        // 1.20 is older: discovery.k8s.io and policy exist in v1beta1 only.
        expect(groups["discovery.k8s.io"]).toBe(t.real ? "discovery.k8s.io/v1beta1" : "discovery.k8s.io/v1");
        expect(groups.policy).toBe(t.real ? "policy/v1beta1" : "policy/v1");
        expect((await t.k.json("/apis/discovery.k8s.io/v1")).status).toBe(t.real ? 404 : 200);
        expect((await t.k.json("/apis/policy/v1")).status).toBe(t.real ? 404 : 200);
      });
    });
  });
}

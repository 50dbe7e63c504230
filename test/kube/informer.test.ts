// Informer against the simulator over HTTPS with a client certificate: list+watch, and survival of
// everything the API server can do to a watch (killed sockets, 500s, 410 compaction, restarts).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { KubeClient } from "../../src/kube/client.ts";
import { Informer, type InformerEventType } from "../../src/kube/informer.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { createLogger } from "../../src/log.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { pod, start } from "../sim/helpers.ts";
import { waitFor } from "../../testkit/wait.ts";
import { NODES, PODS } from "./refs.ts";

let sim: Simulator;
let client: KubeClient;
const running: Informer[] = [];

beforeAll(async () => {
  sim = await start();
  client = new KubeClient(loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!);
});
afterEach(async () => {
  sim.faults.reset();
  await Promise.all(running.splice(0).map((i) => i.stop()));
  for (const p of sim.store.list("pods")) sim.store.delete("pods", p.metadata.namespace, p.metadata.name);
});
afterAll(() => sim.stop());

interface Seen {
  type: InformerEventType;
  name: string;
  rv?: string;
  oldRv?: string;
}

function informer(opts: ConstructorParameters<typeof Informer>[2] = {}) {
  const seen: Seen[] = [];
  const restarts: unknown[] = [];
  const inf = new Informer(client, PODS, {
    backoff: { initialMs: 20, maxMs: 200 },
    onEvent: (type, obj, old) => seen.push({ type, name: obj.metadata.name, rv: obj.metadata.resourceVersion, oldRv: old?.metadata.resourceVersion }),
    onRestart: (e) => restarts.push(e),
    ...opts,
  });
  running.push(inf);
  const of = (name: string) => seen.filter((s) => s.name === name);
  return { inf, seen, restarts, of };
}

const label = (name: string, v: string) =>
  sim.store.mutate("pods", "default", name, (p: KubeObject) => void (p.metadata.labels = { ...p.metadata.labels, v }));

describe("Informer", () => {
  test("lists (ADDED for each, synced), then watches from the list's resourceVersion", async () => {
    sim.store.create(pod("a"));
    sim.store.create(pod("b"));
    const { inf, seen, of } = informer();
    inf.start();
    await inf.waitForSync();
    expect(inf.synced).toBe(true);
    expect(seen.map((s) => `${s.type}:${s.name}`).sort()).toEqual(["ADDED:a", "ADDED:b"]);
    expect([...inf.cache.keys()].sort()).toEqual(["default/a", "default/b"]);
    expect(inf.cache.get("default/a")!.kind).toBe("Pod");
    sim.store.create(pod("c"));
    label("a", "2");
    sim.store.delete("pods", "default", "b");
    await waitFor(() => of("b").length === 2 && of("c").length === 1 && of("a").length === 2, { message: () => JSON.stringify(seen) });
    expect(of("a")[1]).toMatchObject({ type: "MODIFIED" });
    expect(of("a")[1]!.oldRv).toBe(of("a")[0]!.rv);
    expect(of("b")[1]!.type).toBe("DELETED");
    expect([...inf.cache.keys()].sort()).toEqual(["default/a", "default/c"]);
    expect(inf.resourceVersion).toBe(sim.store.resourceVersion());
    expect(inf.lastEventAt).toBeGreaterThan(0);
  });

  test("bookmarks advance the resourceVersion without events", async () => {
    const { inf, seen } = informer();
    inf.start();
    await inf.waitForSync();
    sim.store.create({ apiVersion: "v1", kind: "Node", metadata: { name: "n-bm" } }); // RV moves, pods unchanged
    const want = sim.store.resourceVersion();
    await waitFor(() => inf.resourceVersion === want, { message: () => `rv ${inf.resourceVersion}, want ${want}` });
    expect(seen).toEqual([]);
    sim.store.delete(NODES.plural, undefined, "n-bm");
  });

  test("survives killed sockets: re-watches from the last RV, nothing lost or repeated", async () => {
    sim.store.create(pod("k"));
    const { inf, of } = informer();
    inf.start();
    await inf.waitForSync();
    for (let i = 1; i <= 3; i++) {
      await waitFor(() => sim.stats().openWatches > 0);
      sim.faults.killSockets();
      label("k", String(i));
    }
    await waitFor(() => of("k").length === 4, { message: () => JSON.stringify(of("k")) });
    expect(of("k").map((s) => s.type)).toEqual(["ADDED", "MODIFIED", "MODIFIED", "MODIFIED"]);
    expect(inf.stats.relists).toBe(1);
    expect(inf.cache.get("default/k")!.metadata.labels!.v).toBe("3");
  });

  test("a paginated list fills the cache page by page; synced and deletions only after its last page", async () => {
    for (const n of ["p1", "p2", "p3", "p4", "p5"]) sim.store.create(pod(n));
    const { inf, seen } = informer({ listPageSize: 2 });
    inf.start();
    await inf.waitForSync();
    expect(seen.map((s) => `${s.type}:${s.name}`)).toEqual(["ADDED:p1", "ADDED:p2", "ADDED:p3", "ADDED:p4", "ADDED:p5"]);
    expect([...inf.cache.keys()].sort()).toEqual(["default/p1", "default/p2", "default/p3", "default/p4", "default/p5"]);
    expect(inf.resourceVersion).toBe(sim.store.resourceVersion());
    // Relist after a 410 (pages again): the pod deleted while the watch was away gets its synthetic DELETED.
    await waitFor(() => sim.stats().openWatches > 0);
    sim.faults.failNext(/watch=true/, 503, 1000);
    sim.faults.killSockets();
    await waitFor(() => inf.stats.restarts > 0);
    sim.store.delete("pods", "default", "p4");
    sim.faults.compact();
    sim.faults.reset();
    await waitFor(() => inf.stats.relists === 2 && seen.some((s) => s.type === "DELETED" && s.name === "p4"), {
      message: () => JSON.stringify(seen),
    });
    expect(seen.filter((s) => s.name === "p4").map((s) => s.type)).toEqual(["ADDED", "DELETED"]);
    expect(inf.cache.has("default/p4")).toBe(false);
    expect(inf.cache.size).toBe(4);
  });

  test("survives 500s on watch and on list, with backoff, counting restarts", async () => {
    const { inf, of, restarts } = informer();
    sim.faults.failNext(/GET \/api\/v1\/pods(?!.*watch)/, 500, 2); // the first two lists fail
    inf.start();
    await inf.waitForSync();
    expect(restarts.length).toBe(2);
    sim.faults.failNext(/watch=true/, 500, 3);
    sim.faults.closeWatches(); // the next three watch attempts get 500
    sim.store.create(pod("after-500"));
    await waitFor(() => of("after-500").length === 1);
    expect(inf.stats.restarts).toBeGreaterThanOrEqual(5);
    expect((restarts[0] as { status: number }).status).toBe(500);
  });

  test("410 after compaction → relist: synthetic DELETED for the vanished, MODIFIED for the changed, ADDED for the new", async () => {
    for (const n of ["keep", "change", "vanish"]) sim.store.create(pod(n));
    const { inf, of, seen } = informer();
    inf.start();
    await inf.waitForSync();
    await waitFor(() => sim.stats().openWatches > 0);
    // Take the watch down, change things while it is away, compact the history: the re-watch gets 410.
    sim.faults.failNext(/watch=true/, 503, 1000);
    sim.faults.killSockets();
    await waitFor(() => inf.stats.restarts > 0);
    label("change", "x");
    sim.store.delete("pods", "default", "vanish");
    sim.store.create(pod("new"));
    sim.faults.compact();
    sim.faults.reset();
    await waitFor(() => inf.stats.relists === 2 && of("new").length === 1, { message: () => JSON.stringify(seen) });
    await waitFor(() => of("vanish").length === 2 && of("change").length === 2);
    expect(of("keep").map((s) => s.type)).toEqual(["ADDED"]);
    expect(of("change").map((s) => s.type)).toEqual(["ADDED", "MODIFIED"]);
    expect(of("vanish").map((s) => s.type)).toEqual(["ADDED", "DELETED"]);
    expect(of("new").map((s) => s.type)).toEqual(["ADDED"]);
    expect([...inf.cache.keys()].sort()).toEqual(["default/change", "default/keep", "default/new"]);
  });

  test("410 as the HTTP status of the watch request also relists", async () => {
    const { inf } = informer();
    inf.start();
    await inf.waitForSync();
    sim.faults.failNext(/watch=true/, 410, 1);
    sim.faults.closeWatches();
    await waitFor(() => inf.stats.relists === 2);
  });

  test("410 straight after each list backs off instead of spinning, then recovers", async () => {
    sim.faults.failNext(/watch=true/, 410, 4);
    const { inf, of } = informer();
    inf.start();
    await waitFor(() => inf.stats.relists === 5, { message: () => JSON.stringify(inf.stats) });
    expect(inf.stats.restarts).toBe(4); // each 410-after-list counted as a failed round with backoff
    sim.store.create(pod("after-410s"));
    await waitFor(() => of("after-410s").length === 1);
  });

  test("API server stopped, object changed while it is down, restarted: the change is seen exactly once", async () => {
    sim.store.create(pod("survivor"));
    const { inf, of } = informer();
    inf.start();
    await inf.waitForSync();
    await sim.stop();
    await waitFor(() => inf.stats.restarts >= 2, { message: () => `restarts ${inf.stats.restarts}` }); // connection refused, backing off
    label("survivor", "while-down");
    await sim.restart();
    await waitFor(() => of("survivor").length === 2, { timeoutMs: 8000 });
    expect(of("survivor")[1]!.type).toBe("MODIFIED");
    // Let it settle through another full cycle and prove nothing is delivered twice.
    sim.store.create(pod("marker"));
    await waitFor(() => of("marker").length === 1, { timeoutMs: 8000 });
    expect(of("survivor")).toHaveLength(2);
    expect(inf.cache.get("default/survivor")!.metadata.labels!.v).toBe("while-down");
  });

  test("unchanged MODIFIED (same resourceVersion) is dropped", async () => {
    const { inf, of } = informer();
    inf.start();
    await inf.waitForSync();
    sim.store.create(pod("same"));
    await waitFor(() => of("same").length === 1);
    // Feed the same object again as if the server re-sent it.
    (inf as unknown as { onWatchEvent(e: unknown): void }).onWatchEvent({ type: "MODIFIED", object: inf.cache.get("default/same") });
    sim.store.create(pod("marker2"));
    await waitFor(() => of("marker2").length === 1);
    expect(of("same")).toHaveLength(1);
  });

  test("handler exceptions are counted and do not kill the informer", async () => {
    let calls = 0;
    const inf = new Informer(client, PODS, {
      onEvent: () => {
        calls++;
        throw new Error("handler bug");
      },
    });
    running.push(inf);
    inf.start();
    await inf.waitForSync();
    sim.store.create(pod("h1"));
    sim.store.create(pod("h2"));
    await waitFor(() => calls === 2);
    expect(inf.stats.handlerErrors).toBe(2);
    expect(inf.cache.size).toBe(2);
    expect(inf.stats.restarts).toBe(0);
  });

  test("stop() ends cleanly: no restart, no error callback, no further events, no open watch", async () => {
    const { inf, seen, restarts } = informer();
    inf.start();
    await inf.waitForSync();
    await waitFor(() => sim.stats().openWatches > 0);
    await inf.stop();
    sim.store.create(pod("after-stop"));
    await waitFor(() => sim.stats().openWatches === 0);
    expect(restarts).toEqual([]);
    expect(inf.stats.restarts).toBe(0);
    expect(seen.some((s) => s.name === "after-stop")).toBe(false);
  });

  test("stop() during backoff against a dead server returns promptly and rejects pending waitForSync", async () => {
    const dead = new KubeClient({ ...client.connection, server: "https://127.0.0.1:1" });
    const inf = new Informer(dead, PODS, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    inf.start();
    const sync = inf.waitForSync();
    await waitFor(() => inf.stats.restarts === 1);
    await inf.stop();
    await expect(sync).rejects.toThrow(/stopped before it synced/);
  });

  test("initialResourceVersion resumes without a list; an expired one falls back to a relist", async () => {
    sim.store.create(pod("r1"));
    const rv = sim.store.resourceVersion();
    sim.store.create(pod("r2"));
    const { inf, of } = informer({ initialResourceVersion: rv });
    inf.start();
    await inf.waitForSync();
    await waitFor(() => of("r2").length === 1);
    expect(of("r1")).toEqual([]);
    expect(inf.stats.relists).toBe(0);
    await inf.stop();
    sim.faults.compact();
    const second = informer({ initialResourceVersion: rv });
    second.inf.start();
    await waitFor(() => second.inf.stats.relists === 1 && second.of("r1").length === 1);
  });
});
describe("Informer backoff", () => {
  test("a watch that sends one event then ERROR backs off more each round: the first event does not reset the delay", async () => {
    let watches = 0;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const url = new URL(req.url);
        if (url.searchParams.get("watch") !== "true") {
          return Response.json({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "10" }, items: [] });
        }
        watches++;
        const added = {
          type: "ADDED",
          object: { ...pod(`p${watches}`), metadata: { ...pod(`p${watches}`).metadata, resourceVersion: String(10 + watches) } },
        };
        const error = {
          type: "ERROR",
          object: { kind: "Status", apiVersion: "v1", status: "Failure", code: 500, reason: "InternalError", message: "etcd unhappy" },
        };
        return new Response(`${JSON.stringify(added)}\n${JSON.stringify(error)}\n`, { headers: { "content-type": "application/json" } });
      },
    });
    try {
      const delays: number[] = [];
      const logger = createLogger({
        level: "warn",
        write: (l) => void (JSON.parse(l).retryInMs !== undefined && delays.push(JSON.parse(l).retryInMs)),
      });
      const http = new KubeClient({ server: `http://127.0.0.1:${server.port}`, tls: {}, namespace: "default", source: "test" } as never);
      const inf = new Informer(http, PODS, { backoff: { initialMs: 10, maxMs: 10_000 }, random: () => 0.5, logger });
      running.push(inf);
      inf.start();
      await waitFor(() => delays.length >= 6, { message: () => `restarts: ${JSON.stringify(delays)}` });
      await inf.stop();
      // 10 ms doubling with equal jitter at 0.5: each delay is 1.5× … 2× the one before, never back to the first.
      for (let i = 1; i < 6; i++) expect(delays[i]!).toBeGreaterThan(delays[i - 1]!);
      expect(inf.stats.events).toBeGreaterThanOrEqual(6); // every watch did deliver its one event
    } finally {
      server.stop(true);
    }
  });
});

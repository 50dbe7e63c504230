// Fault hooks: closed streams, injected errors, killed sockets, an API server that goes away and comes back.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { waitFor } from "../../testkit/wait.ts";
import { api, pod, start, type Api } from "./helpers.ts";

let sim: Simulator;
let k: Api;
beforeAll(async () => {
  sim = await start();
  k = api(sim);
});
afterAll(() => sim.stop());
beforeEach(() => sim.faults.reset());

describe("faults", () => {
  test("closeWatches ends every open stream cleanly", async () => {
    const a = await k.watchReady("/api/v1/pods?watch=1");
    const b = await k.watchReady("/api/v1/nodes?watch=1");
    expect(sim.stats().openWatches).toBe(2);
    sim.faults.closeWatches();
    await Promise.all([a.done, b.done]);
    expect(a.ended && b.ended).toBe(true);
    expect(a.error ?? b.error).toBeUndefined();
    await waitFor(() => sim.stats().openWatches === 0, { message: "watches still registered" });
  });

  test("failNext answers the next matching requests with a Status of that code, then recovers", async () => {
    sim.faults.failNext(/watch=/, 500, 2);
    for (let i = 0; i < 2; i++) {
      const r = await k.json("/api/v1/pods?watch=1");
      expect(r.status).toBe(500);
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.body).toMatchObject({ kind: "Status", status: "Failure", reason: "InternalError", code: 500 });
    }
    // Non-matching requests were never affected; a third watch works again.
    expect((await k.json("/api/v1/pods")).status).toBe(200);
    const w = await k.watchReady("/api/v1/pods?watch=1");
    expect(w.status).toBe(200);
    await w.cancel();
  });

  test("failNext with a string matches 'METHOD path' and 429 carries Retry-After", async () => {
    sim.faults.failNext("GET /api/v1/nodes", 429);
    const r = await k.json("/api/v1/nodes");
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("1");
    expect((await k.json("/api/v1/nodes")).status).toBe(200);
  });

  test("killSockets destroys open connections: the watch fails with a socket error, not a clean end", async () => {
    const w = await k.watchReady("/api/v1/pods?watch=1");
    sim.faults.killSockets();
    await w.done;
    expect(w.error).toBeDefined();
    await waitFor(() => sim.stats().openWatches === 0, { message: "watch not cleaned up after socket kill" });
    expect((await k.json("/api/v1/pods")).status).toBe(200);
  });

  test("delayMs still answers every request", async () => {
    sim.faults.delayMs(20);
    expect((await k.json("/version")).status).toBe(200);
    sim.faults.delayMs(0);
  });

  test("restart keeps the port, the data and the resourceVersion history; open watches are cut", async () => {
    sim.store.create(pod("survivor"));
    const url = sim.url;
    const rv = sim.store.resourceVersion();
    const w = await k.watchReady("/api/v1/pods?watch=1");
    await sim.restart();
    await w.done;
    expect(sim.url).toBe(url);
    const r = await k.json("/api/v1/namespaces/default/pods/survivor");
    expect(r.status).toBe(200);
    expect(sim.store.resourceVersion()).toBe(rv);
    const replay = await k.watchReady(`/api/v1/pods?watch=1&resourceVersion=${Number(rv) - 1}`);
    expect((await replay.waitCount(1))[0]!.object.metadata.name).toBe("survivor");
    await replay.cancel();
  });

  test("stop refuses connections; restart after stop serves again", async () => {
    const s2 = await start();
    s2.store.create(pod("x"));
    await s2.stop();
    await expect(api(s2).fetch("/version")).rejects.toThrow();
    await s2.restart();
    expect((await api(s2).json("/api/v1/namespaces/default/pods/x")).status).toBe(200);
    await s2.stop();
  });

  test("stats count requests and watches", async () => {
    const before = sim.stats();
    await k.json("/api/v1/pods");
    const w = await k.watchReady("/api/v1/pods?watch=1");
    const mid = sim.stats();
    expect(mid.requests).toBe(before.requests + 2);
    expect(mid.watches).toBe(before.watches + 1);
    expect(mid.openWatches).toBe(before.openWatches + 1);
    await w.cancel();
    await waitFor(() => sim.stats().openWatches === before.openWatches, { message: "open watch count did not drop" });
  });
});

import { afterEach, describe, expect, test } from "bun:test";
import { defineControllerMetrics } from "../../../src/http/metrics.ts";
import { parseHostPort, startHttpServer, type HttpServer, type Readiness } from "../../../src/http/server.ts";

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function start(ready: () => Readiness, alive?: () => boolean) {
  const m = defineControllerMetrics();
  server = startHttpServer({ addr: "127.0.0.1:0", registry: m.registry, ready, alive });
  return m;
}

describe("HTTP server", () => {
  test("ephemeral port and /healthz", async () => {
    start(() => ({ ok: true, reasons: [] }));
    expect(server!.port).toBeGreaterThan(0);
    expect(server!.url).toBe(`http://127.0.0.1:${server!.port}`);
    const res = await fetch(`${server!.url}/healthz`);
    expect([res.status, await res.text()]).toEqual([200, "ok\n"]);
  });

  test("hostname + port instead of addr", async () => {
    server = startHttpServer({
      hostname: "127.0.0.1",
      port: 0,
      registry: defineControllerMetrics().registry,
      ready: () => ({ ok: true, reasons: [] }),
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test("/healthz is 503 when the process loop is not alive", async () => {
    start(
      () => ({ ok: true, reasons: [] }),
      () => false,
    );
    expect((await fetch(`${server!.url}/healthz`)).status).toBe(503);
  });

  test("/readyz: 200 when ready, 503 with the reasons when not (text or JSON)", async () => {
    let state: Readiness = { ok: false, reasons: ["informers not synced: pods", "not the leader"] };
    start(() => state);
    const text = await fetch(`${server!.url}/readyz`);
    expect(text.status).toBe(503);
    expect(await text.text()).toBe("not ready:\n- informers not synced: pods\n- not the leader\n");
    const json = await fetch(`${server!.url}/readyz`, { headers: { accept: "application/json" } });
    expect([json.status, await json.json()]).toEqual([503, { ...state, status: "not ready", degraded: [] }]);
    state = { ok: true, reasons: [] };
    const ok = await fetch(`${server!.url}/readyz`);
    expect([ok.status, await ok.text()]).toEqual([200, "ok\n"]);
  });

  test("/readyz degraded: still 200, the impaired outputs listed (text and JSON)", async () => {
    start(() => ({ ok: true, reasons: [], degraded: ["cleaned_events.log not writable: ENOSPC; 3 line(s) pending"] }));
    const text = await fetch(`${server!.url}/readyz`);
    expect([text.status, await text.text()]).toEqual([200, "ok (degraded):\n- cleaned_events.log not writable: ENOSPC; 3 line(s) pending\n"]);
    const json = await (await fetch(`${server!.url}/readyz?json`)).json();
    expect(json).toEqual({ ok: true, status: "degraded", reasons: [], degraded: ["cleaned_events.log not writable: ENOSPC; 3 line(s) pending"] });
  });

  test("/metrics serves the registry in text format 0.0.4", async () => {
    const m = start(() => ({ ok: true, reasons: [] }));
    m.isLeader.set(1);
    const res = await fetch(`${server!.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    expect(await res.text()).toContain("\nneurocontroller_is_leader 1\n");
  });

  test("unknown paths 404, other methods 405, a throwing probe 500", async () => {
    start(() => {
      throw new Error("boom");
    });
    expect((await fetch(`${server!.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server!.url}/metrics`, { method: "POST" })).status).toBe(405);
    const res = await fetch(`${server!.url}/readyz`);
    expect([res.status, await res.text()]).toEqual([500, "internal error: boom\n"]);
  });

  test("parseHostPort", () => {
    expect(parseHostPort("127.0.0.1:9873")).toEqual({ hostname: "127.0.0.1", port: 9873 });
    expect(parseHostPort("[::1]:0")).toEqual({ hostname: "::1", port: 0 });
    expect(parseHostPort(":8080")).toEqual({ hostname: "0.0.0.0", port: 8080 });
    expect(() => parseHostPort("nope")).toThrow(/host:port/);
  });
});

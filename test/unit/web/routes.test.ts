import { afterEach, describe, expect, test } from "bun:test";
import { Registry } from "../../../src/http/metrics.ts";
import { startHttpServer, type HttpServer } from "../../../src/http/server.ts";
import { buildStatusView, type StatusView } from "../../../src/status/view-model.ts";
import { webAccess } from "../../../src/web/access.ts";
import { esc, renderPage } from "../../../src/web/page.ts";
import { StatusWeb } from "../../../src/web/routes.ts";
import { waitFor } from "../../../testkit/wait.ts";

let server: HttpServer | undefined;
let web: StatusWeb | undefined;
afterEach(async () => {
  web?.stop();
  await server?.stop();
});

const view = (summaryNodes = 1): StatusView =>
  buildStatusView({
    clusterId: "home",
    node: "pi-1",
    role: "leader",
    leader: "pi-1",
    now: Date.now(),
    incidents: [],
    nodes: Array.from(
      { length: summaryNodes },
      (_, i) => ({ metadata: { name: `pi-${i}` }, status: { conditions: [{ type: "Ready", status: "True" }] } }) as never,
    ),
    hosts: new Map(),
    actions: [],
    silences: [],
    lastAlerts: [],
  });

function start(access = webAccess("127.0.0.1", "127.0.0.1:0", ""), current: () => StatusView = () => view()) {
  const counts: number[] = [];
  web = new StatusWeb({ access, view: current, updateMs: 50, maxClients: 2, onClients: (n) => counts.push(n) });
  server = startHttpServer({ port: 0, registry: new Registry(), ready: () => ({ ok: true, reasons: [] }), routes: web.routes });
  return { url: server.url, counts };
}

describe("status page routes", () => {
  test("probes are not swallowed by the page's / route", async () => {
    const { url } = start();
    expect(await (await fetch(`${url}/healthz`)).text()).toBe("ok\n");
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/`)).status).toBe(200);
  });

  test("live clients are bounded and counted; a change is pushed to a connected client", async () => {
    let nodes = 1;
    const { url, counts } = start(undefined, () => view(nodes));
    const a = new AbortController();
    const b = new AbortController();
    const r1 = await fetch(`${url}/api/v1/events`, { signal: a.signal });
    const r2 = await fetch(`${url}/api/v1/events`, { signal: b.signal });
    expect([r1.status, r2.status]).toEqual([200, 200]);
    const third = await fetch(`${url}/api/v1/events`);
    expect(third.status).toBe(503);
    expect(await third.text()).toContain("WEB_SSE_MAX_CLIENTS=2");
    expect(web!.liveClients).toBe(2);
    const reader = r1.body!.getReader();
    let text = "";
    const dec = new TextDecoder();
    const readUntil = async (s: string) => {
      while (!text.includes(s)) text += dec.decode((await reader.read()).value);
    };
    await readUntil("1 node Ready");
    nodes = 3;
    await readUntil("3 nodes Ready");
    a.abort();
    b.abort();
    await waitFor(() => web!.liveClients === 0, { message: "closed streams dropped" });
    expect(counts.at(-1)).toBe(0);
    expect(Math.max(...counts)).toBe(2);
  });

  test("token mode: bearer or cookie login; the token param is compared, never echoed", async () => {
    const { url } = start(webAccess("0.0.0.0", "0.0.0.0:0", "s3cret-token-value"));
    expect((await fetch(`${url}/api/v1/status`)).status).toBe(401);
    expect((await fetch(`${url}/api/v1/status`, { headers: { authorization: "Bearer s3cret-token-valuX" } })).status).toBe(401);
    expect((await fetch(`${url}/api/v1/status`, { headers: { authorization: "Bearer s3cret-token-value" } })).status).toBe(200);
    const wrong = await fetch(`${url}/?token=${encodeURIComponent("<b>guess</b>")}`, { redirect: "manual" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("guess");
  });

  test("a short token is refused, not trusted", async () => {
    const { url } = start(webAccess("127.0.0.1", "127.0.0.1:0", "short"));
    const res = await fetch(`${url}/api/v1/status`, { headers: { authorization: "Bearer short" } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("WEB_TOKEN is shorter than 16 characters");
  });

  test("every value is escaped in the HTML", () => {
    const v = view();
    v.clusterId = '<img src=x onerror="alert(1)">';
    const html = renderPage(v);
    expect(html).not.toContain("<img src=x");
    expect(html).toContain(esc(v.clusterId));
  });
});

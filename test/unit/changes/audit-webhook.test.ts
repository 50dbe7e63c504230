// The audit webhook route on the real HTTP server: authentication, refusals (counted), and bounded memory
// under a flood of 100k events.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditWebhookRoute } from "../../../src/changes/audit-webhook.ts";
import { ChangeTracker, PENDING_AUDIT_MAX } from "../../../src/changes/tracker.ts";
import { Registry } from "../../../src/http/metrics.ts";
import { startHttpServer, type HttpServer } from "../../../src/http/server.ts";
import { ChangeStore } from "../../../src/store/change-store.ts";

const TOKEN = "t0ken-for-the-audit-webhook";
const MAX_ROWS = 500;

function event(i: number, over: Record<string, unknown> = {}) {
  const t = new Date(Date.parse("2026-12-04T10:00:00Z") + i).toISOString();
  return {
    level: "Metadata",
    auditID: `id-${i}`,
    stage: "ResponseComplete",
    verb: "patch",
    user: { username: `user-${i % 7}` },
    objectRef: { resource: "configmaps", namespace: "ns", name: `cm-${i}`, apiVersion: "v1" },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: t,
    stageTimestamp: t,
    ...over,
  };
}
const list = (items: unknown[]) => JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "EventList", items });

describe("audit webhook", () => {
  let server: HttpServer;
  let store: ChangeStore;
  let tracker: ChangeTracker;
  const rejects: string[] = [];
  const counts = new Map<string, number>();
  const post = (body: string, token: string | null = TOKEN) =>
    fetch(`${server.url}/audit/webhook`, { method: "POST", body, headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(() => {
    store = new ChangeStore(new Database(":memory:"), MAX_ROWS);
    tracker = new ChangeTracker(store, () => Date.parse("2026-12-04T10:00:00Z"));
    server = startHttpServer({
      addr: "127.0.0.1:0",
      registry: new Registry(),
      ready: () => ({ ok: true, reasons: [], degraded: [] }),
      routes: [
        auditWebhookRoute({
          token: TOKEN,
          maxBodyBytes: 2 * 1024 * 1024,
          sink: { reject: (source, reason) => void rejects.push(`${source}: ${reason}`) },
          onWrite: (w) => tracker.audited(w),
          count: (o, n = 1) => void counts.set(o, (counts.get(o) ?? 0) + n),
        }),
      ],
    });
  });
  afterAll(() => server?.stop());

  test("refuses a missing or wrong token (401), bad bodies (400) and oversized ones (413), each counted", async () => {
    expect((await post(list([event(1)]), null)).status).toBe(401);
    expect((await post(list([event(1)]), "wrong-token-of-same-len-xx")).status).toBe(401);
    expect((await post("{not json")).status).toBe(400);
    expect((await post(JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "Event", items: [] }))).status).toBe(400);
    expect((await post(JSON.stringify({ kind: "EventList", items: "x" }))).status).toBe(400);
    expect((await post("x".repeat(3 * 1024 * 1024))).status).toBe(413);
    expect(counts.get("unauthorized")).toBe(2);
    expect(counts.get("bad_request")).toBe(3);
    expect(counts.get("too_large")).toBe(1);
    expect(rejects.length).toBe(6);
    // a malformed item is skipped and counted; the good ones in the same batch are kept
    const r = await post(list([{ stage: 5 }, event(2, { verb: "delete" }), event(3, { stage: "RequestReceived" })]));
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("accepted 1 of 3");
    expect(counts.get("malformed")).toBe(1);
  });

  test("keeps writes on tracked kinds and pod sessions; ignores reads, failures and other kinds", async () => {
    const before = store.count();
    const items = [
      event(10, { verb: "get" }),
      event(11, { responseStatus: { code: 403 } }),
      event(12, { objectRef: { resource: "leases", namespace: "ns", name: "x" } }),
      event(13, { verb: "create", objectRef: { resource: "pods", namespace: "ns", name: "web-1", subresource: "exec" } }),
      event(14, { verb: "create", objectRef: { resource: "pods", namespace: "ns", name: "web-1", subresource: "eviction" } }),
    ];
    expect(await (await post(list(items))).text()).toContain("accepted 2 of 5");
    const stored = store.list().slice(before);
    expect(stored.map((c) => `${c.verb} ${c.kind}/${c.name} by ${c.user}`)).toEqual(["exec Pod/web-1 by user-6", "evicted Pod/web-1 by user-0"]);
  });

  test("a flood of 100k events keeps memory bounded (retained counts)", async () => {
    const batch = 5000;
    for (let start = 0; start < 100_000; start += batch) {
      const items = Array.from({ length: batch }, (_, k) => {
        const i = 1000 + start + k;
        return i % 2
          ? event(i)
          : event(i, { verb: "create", objectRef: { resource: "pods", namespace: "ns", name: `p-${i}`, subresource: "portforward" } });
      });
      expect((await post(list(items))).status).toBe(200);
    }
    store.prune(0);
    expect(tracker.pendingAudit).toBe(PENDING_AUDIT_MAX);
    expect(store.count()).toBeLessThanOrEqual(MAX_ROWS);
    expect(store.count()).toBeGreaterThan(MAX_ROWS / 2);
  }, 60_000);
});

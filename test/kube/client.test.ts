// KubeClient against the simulator over HTTPS that demands a client certificate: the Bun TLS
// transport (CA, client cert/key, skip-verify), errors, list/watch and the CRUD helpers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeApiError } from "../../src/kube/api-error.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadConnection, type Connection } from "../../src/kube/kubeconfig.ts";
import type { WatchEvent } from "../../src/kube/types.ts";
import { ensureCerts } from "../../src/sim/certs.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { pod, start } from "../sim/helpers.ts";
import { waitFor } from "../../testkit/wait.ts";
import { CONFIGMAPS, PODS } from "./refs.ts";

let sim: Simulator;
let conn: Connection;
let client: KubeClient;
const other = () => ensureCerts(mkdtempSync(join(tmpdir(), "kube-other-ca-")), "127.0.0.1");

beforeAll(async () => {
  sim = await start();
  conn = loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!;
  client = new KubeClient(conn);
});
afterAll(() => sim.stop());

async function rejection(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubeApiError);
    return e as KubeApiError;
  }
  throw new Error("expected a KubeApiError");
}

describe("TLS transport (kubeconfig CA + client certificate under Bun)", () => {
  test("the simulator's kubeconfig works: CA verified, client certificate accepted", async () => {
    expect(conn.tls.ca).toContain("BEGIN CERTIFICATE");
    expect(conn.tls.cert).toContain("BEGIN CERTIFICATE");
    const v = await client.version();
    expect(v.gitVersion).toContain("k3s");
  });

  test("a wrong CA fails the handshake: status 0 with the cause", async () => {
    const bad = new KubeClient({ ...conn, tls: { ...conn.tls, ca: other().ca } });
    const e = await rejection(bad.version());
    expect(e.status).toBe(0);
    expect(e.reason).toBe("NetworkError");
    expect(e.cause).toBeDefined();
  });

  test("no CA at all (system roots) fails too", async () => {
    const e = await rejection(new KubeClient({ ...conn, tls: { ...conn.tls, ca: undefined } }).version());
    expect(e.status).toBe(0);
  });

  test("insecure-skip-tls-verify works with a wrong or no CA", async () => {
    const skip = new KubeClient({ ...conn, tls: { cert: conn.tls.cert, key: conn.tls.key, rejectUnauthorized: false } });
    expect((await skip.version()).major).toBe("1");
  });

  test("no client certificate → 401 Unauthorized Status", async () => {
    const anon = new KubeClient({ ...conn, tls: { ca: conn.tls.ca, rejectUnauthorized: true } });
    const e = await rejection(anon.list(PODS));
    expect(e.status).toBe(401);
    expect(e.reason).toBe("Unauthorized");
    expect((e.body as { kind: string }).kind).toBe("Status");
  });

  test("a client certificate from a foreign CA → 401", async () => {
    const o = other();
    const e = await rejection(new KubeClient({ ...conn, tls: { ...conn.tls, cert: o.cert, key: o.key } }).list(PODS));
    expect(e.status).toBe(401);
  });

  test("tls-server-name: verified against the name given, not the URL's host", async () => {
    const byName = new KubeClient({ ...conn, tls: { ...conn.tls, serverName: "localhost" } });
    expect((await byName.version()).major).toBe("1");
    const wrong = new KubeClient({ ...conn, tls: { ...conn.tls, serverName: "not-in-the-cert.example" } });
    expect((await rejection(wrong.version())).status).toBe(0);
  });

  test("connection refused → status 0 NetworkError naming the server", async () => {
    const dead = new KubeClient({ ...conn, server: "https://127.0.0.1:1" });
    const e = await rejection(dead.version());
    expect(e.status).toBe(0);
    expect(e.message).toContain("127.0.0.1:1");
  });
});

describe("bearer token and basic auth", () => {
  let tsim: Simulator;
  beforeAll(async () => {
    tsim = await start({ token: "s3cret-token" });
  });
  afterAll(() => tsim.stop());

  test("a token (string or re-read function) authenticates without a client certificate", async () => {
    const base = { server: tsim.url, tls: { ca: tsim.certs!.ca, rejectUnauthorized: true }, namespace: "default", source: "test" };
    expect((await new KubeClient({ ...base, token: "s3cret-token" }).list(PODS)).items).toEqual([]);
    expect((await new KubeClient({ ...base, token: () => "s3cret-token" }).list(PODS)).items).toEqual([]);
    expect((await rejection(new KubeClient({ ...base, token: "wrong" }).list(PODS))).status).toBe(401);
    // Basic auth is sent as an Authorization header; this server only knows tokens, so it is refused.
    expect((await rejection(new KubeClient({ ...base, basic: { username: "u", password: "p" } }).list(PODS))).status).toBe(401);
  });
});

describe("requests", () => {
  test("CRUD helpers, patch types, Status errors", async () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c1", namespace: "default" }, data: { a: "1" } };
    const created = await client.create(CONFIGMAPS, cm);
    expect(created.metadata.resourceVersion).toBeTruthy();
    expect((await client.get(CONFIGMAPS, "c1", "default")).data).toEqual({ a: "1" });
    const e409 = await rejection(client.create(CONFIGMAPS, cm));
    expect(e409.status).toBe(409);
    expect(e409.reason).toBe("AlreadyExists");
    const replaced = await client.replace(CONFIGMAPS, { ...created, data: { a: "2" } });
    expect(replaced.data.a).toBe("2");
    const stale = await rejection(client.replace(CONFIGMAPS, { ...created, data: { a: "3" } }));
    expect(stale.status).toBe(409);
    expect(stale.reason).toBe("Conflict");
    expect((await client.patch(CONFIGMAPS, "c1", { data: { b: "x" } }, "merge", "default")).data).toEqual({ a: "2", b: "x" });
    expect((await client.patch(CONFIGMAPS, "c1", { data: { c: "y" } }, "strategic", "default")).data).toEqual({ a: "2", b: "x", c: "y" });
    expect((await client.patch(CONFIGMAPS, "c1", [{ op: "remove", path: "/data/a" }], "json", "default")).data).toEqual({ b: "x", c: "y" });
    await client.delete(CONFIGMAPS, "c1", "default");
    const e404 = await rejection(client.get(CONFIGMAPS, "c1", "default"));
    expect(e404.status).toBe(404);
    expect(e404.reason).toBe("NotFound");
    expect(e404.message).toContain("404");
  });

  test("list returns items with kind/apiVersion and the list resourceVersion; selectors pass through", async () => {
    sim.store.create(pod("l1", { app: "x" }));
    sim.store.create(pod("l2", { app: "y" }));
    const all = await client.list(PODS, { namespace: "default" });
    expect(all.items.map((p) => p.metadata.name).sort()).toEqual(["l1", "l2"]);
    expect(all.items[0]!.kind).toBe("Pod");
    expect(all.items[0]!.apiVersion).toBe("v1");
    expect(all.resourceVersion).toBe(sim.store.resourceVersion());
    expect((await client.list(PODS, { labelSelector: "app=x" })).items.map((p) => p.metadata.name)).toEqual(["l1"]);
    expect((await client.list(PODS, { fieldSelector: "metadata.name=l2" })).items.map((p) => p.metadata.name)).toEqual(["l2"]);
  });

  test("lists page by page (limit/continue); a continue token expired by a compaction starts the list over in one answer", async () => {
    for (const n of ["g1", "g2", "g3", "g4", "g5"]) sim.store.create(pod(n, { paged: "yes" }));
    const opts = { namespace: "default", labelSelector: "paged=yes", pageSize: 2 };
    const before = sim.stats().requests;
    const paged = await client.list(PODS, opts);
    expect(paged.items.map((p) => p.metadata.name)).toEqual(["g1", "g2", "g3", "g4", "g5"]);
    expect(paged.items.every((p) => p.kind === "Pod")).toBe(true);
    expect(paged.resourceVersion).toBe(sim.store.resourceVersion());
    expect(sim.stats().requests - before).toBe(3);
    const pages: { names: string[]; restarted: boolean }[] = [];
    for await (const page of client.listPages(PODS, opts)) {
      pages.push({ names: page.items.map((p) => p.metadata.name), restarted: page.restarted });
      if (pages.length === 1) {
        sim.store.delete("pods", "default", "g1");
        sim.store.create(pod("g6", { paged: "yes" }));
        sim.faults.compact();
      }
    }
    expect(pages).toEqual([
      { names: ["g1", "g2"], restarted: false },
      { names: ["g2", "g3", "g4", "g5", "g6"], restarted: true },
    ]);
  });

  test("an injected 500 becomes KubeApiError 500 with the Status message", async () => {
    sim.faults.failNext("GET /version", 500);
    const e = await rejection(client.version());
    expect(e.status).toBe(500);
    expect(e.message).toContain("injected fault");
  });

  test("health(): /readyz", async () => {
    expect(await client.health()).toEqual({ ok: true, endpoint: "/readyz", detail: "ok" });
    sim.faults.failNext("GET /readyz", 404);
    expect(await client.health()).toMatchObject({ ok: true, endpoint: "/healthz" });
    sim.faults.failNext("GET /readyz", 500);
    expect(await client.health()).toMatchObject({ ok: false, endpoint: "/readyz" });
    expect(await new KubeClient({ ...conn, server: "https://127.0.0.1:1" }).health()).toMatchObject({ ok: false });
  });
});

describe("watch", () => {
  test("streams events from a resourceVersion, then resolves when the server ends the stream", async () => {
    const { resourceVersion } = await client.list(PODS);
    const seen: WatchEvent[] = [];
    const done = client.watch(PODS, { resourceVersion, allowWatchBookmarks: true }, (e) => seen.push(e));
    sim.store.create(pod("w1"));
    sim.store.mutate("pods", "default", "w1", (p) => void (p.metadata.labels = { v: "2" }));
    sim.store.delete("pods", "default", "w1");
    await waitFor(() => seen.filter((e) => e.type !== "BOOKMARK").length >= 3, { message: () => JSON.stringify(seen.map((e) => e.type)) });
    expect(seen.filter((e) => e.type !== "BOOKMARK").map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual([
      "ADDED:w1",
      "MODIFIED:w1",
      "DELETED:w1",
    ]);
    await waitFor(() => seen.some((e) => e.type === "BOOKMARK")); // helpers start the sim with 50 ms bookmarks
    sim.faults.closeWatches();
    await done; // resolves, does not reject
  });

  test("a killed socket rejects with status 0", async () => {
    const done = client.watch(PODS, { resourceVersion: sim.store.resourceVersion() }, () => {});
    await waitFor(() => sim.stats().openWatches > 0);
    sim.faults.killSockets();
    const e = await rejection(done);
    expect(e.status).toBe(0);
  });

  test("a non-200 answer rejects with its status", async () => {
    sim.faults.failNext(/watch=true/, 500);
    expect((await rejection(client.watch(PODS, {}, () => {}))).status).toBe(500);
  });

  test("410 Expired comes as an ERROR event in a 200 stream", async () => {
    const rv = sim.store.resourceVersion();
    sim.store.create(pod("gone-soon"));
    sim.faults.compact();
    const seen: WatchEvent[] = [];
    await client.watch(PODS, { resourceVersion: rv }, (e) => seen.push(e));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.type).toBe("ERROR");
    expect(seen[0]!.object.code).toBe(410);
  });

  test("aborting the signal resolves quietly", async () => {
    const ac = new AbortController();
    const done = client.watch(PODS, { resourceVersion: sim.store.resourceVersion(), signal: ac.signal }, () => {});
    await waitFor(() => sim.stats().openWatches > 0);
    ac.abort();
    await done;
  });
});

describe("watch framing over a hand-made chunked stream", () => {
  test("lines split across chunks, several per chunk, malformed ones counted and skipped", async () => {
    const a = JSON.stringify({ type: "ADDED", object: { kind: "Pod", metadata: { name: "a", namespace: "default", resourceVersion: "5" } } });
    const b = JSON.stringify({ type: "MODIFIED", object: { kind: "Pod", metadata: { name: "a", namespace: "default", resourceVersion: "6" } } });
    const c = JSON.stringify({ type: "BOOKMARK", object: { kind: "Pod", metadata: { resourceVersion: "7" } } });
    const chunks = [a.slice(0, 10), a.slice(10) + "\n{not json\n" + b.slice(0, 3), b.slice(3) + "\n" + c + "\n", '{"type":"ADDED"}\n'];
    const server = Bun.serve({
      port: 0,
      fetch() {
        return new Response(
          new ReadableStream({
            async pull(ctl) {
              const next = chunks.shift();
              if (next === undefined) return ctl.close();
              ctl.enqueue(new TextEncoder().encode(next));
              await Bun.sleep(1); // force separate chunks on the wire
            },
          }),
          { headers: { "content-type": "application/json" } },
        );
      },
    });
    try {
      const plain = new KubeClient({
        server: `http://127.0.0.1:${server.port}`,
        tls: { rejectUnauthorized: true },
        namespace: "default",
        source: "test",
      });
      const seen: string[] = [];
      const malformed: string[] = [];
      await plain.watch(PODS, { onMalformed: (l) => malformed.push(l) }, (e) => seen.push(`${e.type}:${e.object.metadata.resourceVersion}`));
      expect(seen).toEqual(["ADDED:5", "MODIFIED:6", "BOOKMARK:7"]);
      expect(plain.stats.malformedLines).toBe(2);
      expect(malformed).toEqual(["{not json", '{"type":"ADDED"}']);
    } finally {
      server.stop(true);
    }
  });
});

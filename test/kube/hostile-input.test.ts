// Issue 10 items 8 and 9 at the Kubernetes boundary, against real HTTP servers that send what a broken
// or hostile API server can: list items with no metadata or null, non-string names, a watch stream
// with no newline, 1 MiB messages. Each is counted (by source kube.<resource>) and bounded; none
// restarts an informer forever or blocks readiness.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RejectSink } from "../../src/boundary/reject.ts";
import { Config } from "../../src/config/load.ts";
import { ruleSettings } from "../../src/watchers/settings.ts";
import { MAX_ANOMALY_MESSAGE_LENGTH, MAX_FIELD_LENGTH } from "../../src/kube/bounds.ts";
import { KubeApiError } from "../../src/kube/api-error.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { Informer } from "../../src/kube/informer.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import { evaluateEvent } from "../../src/watchers/event.ts";
import { waitFor } from "../../testkit/wait.ts";
import { PODS } from "./refs.ts";

interface Fake {
  list: unknown;
  /** Watch lines sent, then the stream stays open (or `endless` chunks without a newline). */
  watch?: string[];
  endless?: string;
}

const servers: { stop(force?: boolean): void }[] = [];
const informers: Informer[] = [];
afterEach(async () => {
  await Promise.all(informers.splice(0).map((i) => i.stop()));
  for (const s of servers.splice(0)) s.stop(true);
});

/** A plain HTTP server that answers lists with `fake.list` and watches with `fake.watch` lines. */
function fakeApi(fake: Fake) {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const url = new URL(req.url);
      if (url.searchParams.get("watch") !== "true") return Response.json(fake.list);
      const enc = new TextEncoder();
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (fake.endless !== undefined) return ctrl.enqueue(enc.encode(fake.endless));
          if (!sent) ctrl.enqueue(enc.encode((fake.watch ?? []).map((l) => `${l}\n`).join("")));
          sent = true;
          return new Promise<void>(() => {}); // stays open, as a quiet watch does
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
  servers.push(server);
  const file = join(mkdtempSync(join(tmpdir(), "nc-hostile-")), "kubeconfig");
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server.url.origin}"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
  );
  return loadConnection({ kubeconfig: file, env: {} })!;
}

function recordingSink() {
  const rejected: { source: string; reason: string }[] = [];
  const sink: RejectSink = { reject: (source, reason) => void rejected.push({ source, reason }) };
  return { sink, rejected };
}

const meta = (name: string, rv = "1") => ({ name, namespace: "default", uid: `uid-${name}`, resourceVersion: rv });

describe("list items and watch lines that cannot be used", () => {
  test("items with no metadata, null or an object for a name are counted and skipped; the informer syncs without restarting", async () => {
    const { sink, rejected } = recordingSink();
    const list = {
      kind: "PodList",
      metadata: { resourceVersion: "10" },
      items: [
        null,
        {},
        { metadata: null },
        { metadata: { name: { evil: true } } },
        { metadata: meta("good") },
        42,
        // Kubernetes itself writes null for unset optional fields: absent, not malformed.
        { metadata: { ...meta("nullish"), creationTimestamp: null, generation: null, labels: null } },
      ],
    };
    const client = new KubeClient(fakeApi({ list }), { rejects: sink });
    const inf = new Informer(client, PODS, { backoff: { initialMs: 10, maxMs: 50 } });
    informers.push(inf);
    inf.start();
    await inf.waitForSync();
    expect([...inf.cache.keys()]).toEqual(["default/good", "default/nullish"]);
    expect(client.stats.malformedItems).toBe(5);
    expect(rejected.filter((r) => r.source === "kube.pods")).toHaveLength(5);
    expect(inf.stats.restarts).toBe(0);
  });

  test("watch: a number for a name is coerced; metadata null / missing / an array is counted and skipped; later events still arrive", async () => {
    const { sink, rejected } = recordingSink();
    const watch = [
      JSON.stringify({ type: "ADDED", object: { metadata: { ...meta("x"), name: 5, resourceVersion: 11 } } }),
      JSON.stringify({ type: "ADDED", object: { metadata: null } }),
      JSON.stringify({ type: "ADDED", object: { spec: {} } }),
      JSON.stringify({ type: "MODIFIED", object: { metadata: [] } }),
      JSON.stringify({ type: "ADDED", object: null }),
      "not json at all",
      JSON.stringify({ type: "ADDED", object: { metadata: meta("after", "12"), spec: { nodeName: 5 } } }),
    ];
    const client = new KubeClient(fakeApi({ list: { items: [], metadata: { resourceVersion: "10" } }, watch }), { rejects: sink });
    const inf = new Informer(client, PODS, { backoff: { initialMs: 10, maxMs: 50 } });
    informers.push(inf);
    inf.start();
    await waitFor(() => inf.cache.has("default/after"), { message: "the event after the malformed ones" });
    expect(inf.cache.get("default/5")?.metadata.name).toBe("5");
    expect(inf.cache.get("default/5")?.metadata.resourceVersion).toBe("11");
    expect(client.stats.malformedLines).toBe(5);
    expect(rejected.filter((r) => r.source === "kube.pods")).toHaveLength(5);
    expect(inf.stats.restarts).toBe(0);
  });
});

describe("sizes", () => {
  test("a watch stream without a newline is cut at the maximum line length: counted, the watch ends with an error (restarted by the informer)", async () => {
    const { sink, rejected } = recordingSink();
    const client = new KubeClient(fakeApi({ list: { items: [] }, endless: "x".repeat(64 * 1024) }), {
      rejects: sink,
      maxWatchLineLength: 1024 * 1024,
    });
    const err = await client.watch(PODS, {}, () => {}).catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.reason).toBe("LineTooLong");
    expect(client.stats.oversizeLines).toBe(1);
    expect(rejected[0]?.source).toBe("kube.pods");

    const inf = new Informer(client, PODS, { backoff: { initialMs: 10, maxMs: 50 } });
    informers.push(inf);
    inf.start();
    await waitFor(() => inf.stats.restarts >= 2, { message: "the informer restarting its watch" });
    expect(inf.lastError).toContain("exceeds the maximum");
  });

  test("1 MiB messages and annotations are cut to the field bound with an ellipsis (counted); the anomaly message is bounded", async () => {
    const huge = "A".repeat(1024 * 1024);
    const now = Date.now();
    const event = {
      metadata: { ...meta("ev"), annotations: { note: huge }, creationTimestamp: new Date(now).toISOString() },
      involvedObject: { kind: "Pod", name: "web", namespace: "default" },
      reason: "BackOff",
      type: "Warning",
      message: huge,
      count: 3,
      firstTimestamp: new Date(now - 60_000).toISOString(),
      lastTimestamp: new Date(now).toISOString(),
    };
    const client = new KubeClient(
      fakeApi({
        list: { items: [event], metadata: { resourceVersion: "1" } },
        watch: [JSON.stringify({ type: "MODIFIED", object: { ...event, metadata: { ...event.metadata, resourceVersion: "2" } } })],
      }),
    );
    const { items } = await client.list({ ...PODS, plural: "events", kind: "Event" });
    const cached = items[0]!;
    expect(cached.message).toHaveLength(MAX_FIELD_LENGTH);
    expect(cached.message.endsWith("…")).toBe(true);
    expect(cached.metadata.annotations?.note).toHaveLength(MAX_FIELD_LENGTH);
    expect(client.stats.truncatedFields).toBe(2);
    const seen: string[] = [];
    await client
      .watch({ ...PODS, plural: "events", kind: "Event" }, { signal: AbortSignal.timeout(5000) }, (ev) => {
        seen.push(ev.object.message);
        throw new Error("stop after the first event"); // a handler's exception ends the watch
      })
      .catch(() => {});
    expect(seen[0]).toHaveLength(MAX_FIELD_LENGTH);
    const [anomaly] = evaluateEvent(cached, {
      now,
      settings: ruleSettings(Config.load({ env: {} })),
      cache: { get: () => undefined, list: () => [] },
      memo: {},
    });
    expect(anomaly!.message.length).toBeLessThanOrEqual(MAX_ANOMALY_MESSAGE_LENGTH);
    expect(anomaly!.message).toContain("AAAA");
  });
});

describe("scan with unusable list items", () => {
  test("the good objects are evaluated and the skipped ones are counted on stderr", async () => {
    const now = Date.now();
    const answers: Record<string, unknown> = {
      "/version": { major: "1", minor: "31", gitVersion: "v1.31.0" },
      "/api": { kind: "APIVersions", versions: ["v1"] },
      "/api/v1": {
        kind: "APIResourceList",
        groupVersion: "v1",
        resources: [{ name: "pods", kind: "Pod", namespaced: true, verbs: ["list", "watch"] }],
      },
      "/api/v1/pods": {
        kind: "PodList",
        metadata: { resourceVersion: "5" },
        items: [
          null,
          { spec: {} },
          {
            metadata: { ...meta("evicted"), creationTimestamp: new Date(now - 60_000).toISOString() },
            spec: { nodeName: "pi-1" },
            status: { phase: "Failed", reason: "Evicted", message: "low on memory" },
          },
        ],
      },
    };
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => {
        const body = answers[new URL(req.url).pathname];
        return body ? Response.json(body) : new Response("404 page not found", { status: 404 });
      },
    });
    servers.push(server);
    const kc = join(mkdtempSync(join(tmpdir(), "nc-hostile-")), "kubeconfig");
    writeFileSync(
      kc,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server.url.origin}"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
    );
    const main = join(import.meta.dir, "..", "..", "src", "main.ts");
    const p = Bun.spawn(["bun", main, "scan", "--kubeconfig", kc, "--output", "json"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(3);
    expect(
      out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).reason),
    ).toEqual(["Evicted"]);
    expect(err).toContain("skipped 2 listed objects without usable metadata");
  });
});

describe("backoff", () => {
  test("a watch that sends one event and then ERROR backs off exponentially (an event is no proof of health)", async () => {
    const watch = [
      JSON.stringify({ type: "ADDED", object: { metadata: meta("flap", "2") } }),
      JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 500, reason: "InternalError", message: "etcd hiccup" } }),
    ];
    const client = new KubeClient(fakeApi({ list: { items: [], metadata: { resourceVersion: "1" } }, watch }));
    const delays: number[] = [];
    const inf = new Informer(client, PODS, {
      backoff: { initialMs: 10, maxMs: 160 },
      random: () => 1, // no jitter: the delay is the full base
      onRestart: () => delays.push(inf.lastBackoffMs!),
    });
    informers.push(inf);
    inf.start();
    await waitFor(() => delays.length >= 6, { message: () => `six restarts (delays ${delays})` });
    expect(delays.slice(0, 6)).toEqual([10, 20, 40, 80, 160, 160]);
    expect(inf.stats.relists).toBe(1); // a 500 is retried by re-watching, not relisting
  });
});

import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { ChangeTracker, managerOf } from "../../../src/changes/tracker.ts";
import { likelyTrigger } from "../../../src/changes/trigger.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { CacheView } from "../../../src/kube/objects.ts";
import type { Incident } from "../../../src/model/incident.ts";
import { ChangeStore } from "../../../src/store/change-store.ts";

const T0 = Date.parse("2026-12-04T10:00:00Z");

function deployment(image: string, rv: string, extra: { replicas?: number; env?: string[]; manager?: string; memory?: string } = {}): KubeObject {
  return {
    metadata: {
      name: "web",
      namespace: "shop",
      resourceVersion: rv,
      managedFields: [
        { manager: "k3s", operation: "Update", time: "2026-12-04T09:00:00Z", subresource: "status" },
        { manager: extra.manager ?? "kubectl", operation: "Update", time: "2026-12-04T09:59:00Z" },
      ],
    },
    spec: {
      replicas: extra.replicas ?? 2,
      template: {
        spec: {
          containers: [
            {
              name: "web",
              image,
              env: (extra.env ?? ["A"]).map((name) => ({ name, value: "v" })),
              resources: extra.memory ? { limits: { memory: extra.memory } } : undefined,
              envFrom: [{ configMapRef: { name: "web-config" } }],
            },
          ],
        },
      },
    },
  };
}

function setup() {
  let now = T0;
  const store = new ChangeStore(new Database(":memory:"), 100);
  const tracker = new ChangeTracker(store, () => now);
  return { store, tracker, at: (t: number) => (now = t) };
}

describe("change tracking", () => {
  test("the first list is a baseline; an image update records the field manager and the diff", () => {
    const { store, tracker, at } = setup();
    expect(tracker.observe("Deployment", deployment("web:1.4", "1"), false)).toBeUndefined();
    at(T0 + 1000);
    const c = tracker.observe("Deployment", deployment("web:1.5", "2", { env: ["A", "B"], memory: "256Mi" }), true)!;
    expect(c.verb).toBe("updated");
    expect(c.lines).toEqual(["image web:1.4 → web:1.5", "env +B", "limits.memory none → 256Mi"]);
    expect(c.manager).toBe("kubectl");
    expect(c.operation).toBe("Update");
    expect(store.list().map((x) => x.id)).toEqual([c.id]);
    // the same version again (a relist) records nothing
    expect(tracker.observe("Deployment", deployment("web:1.5", "2", { env: ["A", "B"], memory: "256Mi" }), true)).toBeUndefined();
    const scaled = tracker.observe("Deployment", deployment("web:1.5", "3", { env: ["A", "B"], memory: "256Mi", replicas: 5 }), true)!;
    expect(scaled.verb).toBe("scaled");
    expect(scaled.lines).toEqual(["replicas 2 → 5"]);
  });

  test("status-only writes are not changes; the status subresource's manager is not the actor", () => {
    expect(managerOf(deployment("x", "1", { manager: "helm" }))).toEqual({ manager: "helm", operation: "Update" });
    const { tracker } = setup();
    tracker.observe("Deployment", deployment("web:1", "1"), false);
    const same = deployment("web:1", "2");
    same.status = { readyReplicas: 1 };
    expect(tracker.observe("Deployment", same, true)).toBeUndefined();
  });

  test("a Secret change keeps key names and a digest, never the value", () => {
    const { store, tracker } = setup();
    const secret = (v: string, rv: string): KubeObject => ({
      metadata: { name: "db", namespace: "shop", resourceVersion: rv },
      data: { password: btoa(v) },
    });
    tracker.observe("Secret", secret("planted-secret-value-1", "1"), false);
    const c = tracker.observe("Secret", secret("planted-secret-value-2", "2"), true)!;
    expect(c.lines[0]).toBe("data password changed");
    expect(c.lines[1]).toMatch(/^hash [0-9a-f]{8} → [0-9a-f]{8}$/);
    const stored = JSON.stringify(store.list());
    expect(stored).not.toContain("planted-secret-value");
    expect(stored).not.toContain(btoa("planted-secret-value-2"));
  });

  test("node cordon, taint and label changes", () => {
    const { tracker } = setup();
    const node = (unschedulable: boolean, taints: unknown[], labels: Record<string, string>, rv: string): KubeObject => ({
      metadata: { name: "pi-3", resourceVersion: rv, labels },
      spec: { unschedulable, taints },
    });
    tracker.observe("Node", node(false, [], { zone: "a" }, "1"), false);
    const c = tracker.observe("Node", node(true, [{ key: "k", value: "v", effect: "NoSchedule" }], { zone: "b" }, "2"), true)!;
    expect(c.verb).toBe("cordoned");
    expect(c.lines).toEqual(["cordoned", "taint +k=v:NoSchedule", "label zone a → b"]);
  });

  test("an audit event that arrives after the watch event attributes the stored change; one before waits for it", () => {
    const { store, tracker, at } = setup();
    tracker.observe("Deployment", deployment("web:1", "1"), false);
    at(T0 + 1000);
    tracker.observe("Deployment", deployment("web:2", "2"), true);
    tracker.audited({ time: T0 + 900, user: "alice", verb: "patch", kind: "Deployment", namespace: "shop", name: "web" });
    expect(store.list()[0]!.user).toBe("alice");
    tracker.audited({ time: T0 + 5000, user: "bob", verb: "patch", kind: "Deployment", namespace: "shop", name: "web" });
    expect(tracker.pendingAudit).toBe(1);
    at(T0 + 5200);
    const c = tracker.observe("Deployment", deployment("web:3", "3"), true)!;
    expect(c.user).toBe("bob");
    expect(tracker.pendingAudit).toBe(0);
  });

  test("pending audit events are bounded", () => {
    const { tracker } = setup();
    for (let i = 0; i < 5000; i++) tracker.audited({ time: T0, user: "u", verb: "update", kind: "ConfigMap", namespace: "n", name: `cm-${i}` });
    expect(tracker.pendingAudit).toBe(1000);
  });
});

describe("likely trigger", () => {
  const pod: KubeObject = {
    metadata: {
      name: "web-abc-1",
      namespace: "shop",
      ownerReferences: [{ kind: "ReplicaSet", name: "web-abc", controller: true } as never],
      labels: { "pod-template-hash": "abc" },
    },
    spec: { nodeName: "pi-1", containers: [{ name: "web", envFrom: [{ configMapRef: { name: "web-config" } }] }] },
  };
  const cache: CacheView = {
    get: (kind, ns, name) => (kind === "Pod" && ns === "shop" && name === "web-abc-1" ? pod : undefined),
    list: () => [],
  };
  const incident: Incident = {
    id: "i1",
    status: "open",
    openedAt: T0 + 60_000,
    updatedAt: T0 + 60_000,
    members: [
      {
        key: "Pod/shop/web-abc-1/CrashLoopBackOff",
        fingerprint: "f",
        joinedAt: T0 + 60_000,
        anomaly: {
          kind: "Pod",
          namespace: "shop",
          name: "web-abc-1",
          node: "pi-1",
          reason: "CrashLoopBackOff",
          severity: "critical",
          message: "",
          eventTime: new Date(T0 + 50_000).toISOString(),
        } as never,
      },
    ],
    scope: { pods: 1, nodes: ["pi-1"], namespaces: ["shop"], workloadsDown: [] },
  };
  const change = (kind: string, name: string, t: number, namespace = "shop") => ({
    id: `${kind}${name}${t}`,
    time: t,
    kind,
    namespace,
    name,
    verb: "updated",
    lines: [kind === "Deployment" ? "image web:1.4 → web:1.5" : "data app.yaml changed"],
    manager: "kubectl",
    user: "kube-admin",
  });

  test("owner beats config beats node; the summary names actor and diff", () => {
    const t = likelyTrigger(
      incident,
      [change("Node", "pi-1", T0 + 40_000, ""), change("ConfigMap", "web-config", T0 + 30_000), change("Deployment", "web", T0 - 70_000)],
      cache,
      30 * 60_000,
    )!;
    expect(t.relation).toBe("owner");
    expect(t.summary).toBe("Started 2 min after Deployment web was updated by kube-admin (kubectl): image web:1.4 → web:1.5");
    expect(t.actor).toBe("kube-admin (kubectl)");
  });

  test("config is named when no owner changed; a change after the start or before the lookback is not blamed", () => {
    const t = likelyTrigger(
      incident,
      [change("ConfigMap", "web-config", T0 + 30_000), change("Deployment", "web", T0 + 65_000)],
      cache,
      30 * 60_000,
    )!;
    expect(t.kind).toBe("ConfigMap");
    expect(t.relation).toBe("config");
    expect(likelyTrigger(incident, [change("Deployment", "web", T0 + 65_000)], cache, 30 * 60_000)).toBeUndefined();
    expect(likelyTrigger(incident, [change("Deployment", "web", T0 - 40 * 60_000)], cache, 30 * 60_000)).toBeUndefined();
    expect(likelyTrigger(incident, [change("Deployment", "other", T0)], cache, 30 * 60_000)).toBeUndefined();
  });
});

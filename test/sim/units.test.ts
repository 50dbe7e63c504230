// Pure parts without a server: patch algebra, selector grammar, history ring; plus a load run.
import { describe, expect, test } from "bun:test";
import { EventRing } from "../../src/sim/history.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from "../../src/sim/patch.ts";
import { mustResource } from "../../src/sim/resources.ts";
import { labelSelectorMatcher, parseFieldSelector, parseLabelSelector } from "../../src/sim/selectors.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { waitFor } from "../../testkit/wait.ts";
import { api, start } from "./helpers.ts";

describe("patch", () => {
  test("JSON patch move/copy, pointer escapes, append with -", () => {
    const out = applyJsonPatch({ a: { "x/y": 1 }, l: [1] }, [
      { op: "copy", from: "/a/x~1y", path: "/b" },
      { op: "move", from: "/a", path: "/c" },
      { op: "add", path: "/l/-", value: 2 },
    ]);
    expect(out).toEqual({ b: 1, c: { "x/y": 1 }, l: [1, 2] });
  });

  test("merge patch is RFC 7386", () => {
    expect(applyMergePatch({ a: "b", c: { d: "e", f: "g" } }, { a: "z", c: { f: null } })).toEqual({ a: "z", c: { d: "e" } });
    expect(applyMergePatch({ l: [1, 2] }, { l: [3] })).toEqual({ l: [3] });
  });

  test("strategic merge: keyed lists, $patch replace, primitive set lists, deleteFromPrimitiveList", () => {
    const base = {
      metadata: { finalizers: ["a"], ownerReferences: [{ uid: "1", name: "x" }] },
      spec: { taints: [{ key: "k1", effect: "NoSchedule" }], tolerations: [{ key: "t" }], ports: [{ port: 80, name: "http" }] },
    };
    const out = applyStrategicMergePatch(base, {
      metadata: { finalizers: ["b"], ownerReferences: [{ uid: "1", name: "y" }] },
      spec: { taints: [{ key: "k2", effect: "NoExecute" }], tolerations: [{ key: "u" }], ports: [{ port: 80, targetPort: 8080 }] },
    });
    expect(out.metadata.finalizers).toEqual(["a", "b"]);
    expect(out.metadata.ownerReferences).toEqual([{ uid: "1", name: "y" }]);
    expect(out.spec.taints.map((t: any) => t.key)).toEqual(["k1", "k2"]);
    expect(out.spec.tolerations).toEqual([{ key: "u" }]);
    expect(out.spec.ports).toEqual([{ port: 80, name: "http", targetPort: 8080 }]);
    const replaced = applyStrategicMergePatch(base, { spec: { taints: [{ $patch: "replace" }, { key: "only" }] }, $setElementOrder: {} });
    expect(replaced.spec.taints).toEqual([{ key: "only" }]);
    const removed = applyStrategicMergePatch(base, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } });
    expect(removed.metadata.finalizers).toEqual([]);
  });
});

describe("selectors", () => {
  test("label selector grammar and metav1.LabelSelector", () => {
    expect(parseLabelSelector("a>3")({ a: "5" })).toBe(true);
    expect(parseLabelSelector("")({})).toBe(true);
    expect(() => parseLabelSelector("a in b")).toThrow();
    const m = labelSelectorMatcher({ matchLabels: { app: "x" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] });
    expect(m({ app: "x" })).toBe(true);
    expect(m({ app: "x", tier: "db" })).toBe(false);
    expect(labelSelectorMatcher(undefined)({})).toBe(false);
    expect(labelSelectorMatcher({})({ any: "thing" })).toBe(true);
  });

  test("field selector escapes and supported fields per resource", () => {
    const ev = mustResource("events");
    const m = parseFieldSelector("reason=a\\,b,source=kubelet", ev);
    expect(m({ metadata: { name: "e" }, reason: "a,b", source: { component: "kubelet" } })).toBe(true);
    expect(() => parseFieldSelector("spec.nodeName=x", ev)).toThrow("field label not supported");
  });
});

describe("history ring", () => {
  test("keeps the newest events and reports expiry below the floor", () => {
    const ring = new EventRing(3, 0);
    for (let rv = 1; rv <= 5; rv++) ring.push({ rv, type: "ADDED", object: { metadata: { name: String(rv) } } });
    expect(ring.since(2)!.map((e) => e.rv)).toEqual([3, 4, 5]);
    expect(ring.since(4)!.map((e) => e.rv)).toEqual([5]);
    expect(ring.since(1)).toBeUndefined();
    ring.compact(5);
    expect(ring.since(5)).toEqual([]);
    expect(ring.since(4)).toBeUndefined();
  });
});

describe("load", () => {
  test("3,000+ objects and 5,000 updates reach 10 watchers completely and in order", async () => {
    const sim: Simulator = await start();
    try {
      seedHealthyCluster(sim.store, { nodes: 10, deployments: 150, replicasPerDeployment: 20 });
      expect(sim.store.count("pods")).toBe(3000);
      const k = api(sim);
      const from = sim.store.resourceVersion();
      const watchers = await Promise.all(Array.from({ length: 10 }, () => k.watchReady(`/api/v1/pods?watch=1&resourceVersion=${from}`)));
      const pods = sim.store.list("pods");
      for (let i = 0; i < 5000; i++) {
        const p = pods[i % pods.length]!;
        sim.store.mutate("pods", p.metadata.namespace, p.metadata.name, (o) => void (o.metadata.annotations = { n: String(i) }));
      }
      await waitFor(() => watchers.every((w) => w.events.length >= 5000), {
        timeoutMs: 30_000,
        message: () => `received ${watchers.map((w) => w.events.length)}`,
      });
      for (const w of watchers) {
        const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
        expect(rvs.every((rv, i) => i === 0 || rv > rvs[i - 1]!)).toBe(true);
        await w.cancel();
      }
      const list = await k.json("/api/v1/pods");
      expect(list.body.items).toHaveLength(3000);
    } finally {
      await sim.stop();
    }
  }, 60_000);
});

// The evaluator's periodic tick re-evaluates only what time can change: objects whose rules reported
// a due duration or window (RuleContext.recheckAt). Evaluations are counted with a spy, never timed.
import { describe, expect, test } from "bun:test";
import { Config } from "../../../src/config/load.ts";
import { Caches, Evaluator } from "../../../src/controller/evaluator.ts";
import { Collector, type Transition } from "../../../src/diagnosis/collector.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { objectKey } from "../../../src/kube/types.ts";
import { PLUGINS } from "../../../src/watchers/registry.ts";
import type { WatcherPlugin } from "../../../src/watchers/types.ts";
import { T0, at, condition, container, deployment, endpointSlice, event, min, node, pod, sec, service } from "../../support/fixtures.ts";
import { ruleSettings } from "../../../src/watchers/settings.ts";

const config = Config.with({});
const TICK = sec(5);

/** PLUGINS with every evaluate() counted per object ("Kind/ns/name"). */
function counted(plugins: WatcherPlugin[] = PLUGINS) {
  const counts = new Map<string, number>();
  const wrapped = plugins.map((p) => ({
    ...p,
    evaluate: (obj: KubeObject, ctx: Parameters<WatcherPlugin["evaluate"]>[1]) => {
      const key = `${p.kind}/${objectKey(obj)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return p.evaluate(obj, ctx);
    },
  }));
  return { plugins: wrapped, counts, total: () => [...counts.values()].reduce((a, b) => a + b, 0) };
}

/** An evaluator over real caches: `apply` stores the object and delivers the event, as an informer does. */
function harness(plugins: WatcherPlugin[] = PLUGINS) {
  const caches = new Caches();
  const byKind = new Map<string, Map<string, KubeObject>>();
  for (const kind of ["Pod", "Node", "Deployment", "ReplicaSet", "Service", "EndpointSlice", "Event", "StatefulSet", "DaemonSet", "Job", "Widget"]) {
    const m = new Map<string, KubeObject>();
    byKind.set(kind, m);
    caches.register(kind, m);
  }
  const collector = new Collector();
  const evaluator = new Evaluator(plugins, ruleSettings(config), caches, collector);
  return {
    evaluator,
    collector,
    caches,
    apply(kind: string, obj: KubeObject, now: number, type: "ADDED" | "MODIFIED" | "DELETED" = "MODIFIED") {
      if (type === "DELETED") byKind.get(kind)!.delete(objectKey(obj));
      else byKind.get(kind)!.set(objectKey(obj), obj);
      evaluator.onEvent(kind, type, obj, now);
    },
    firing: () => [...collector.desired().keys()].sort(),
  };
}

describe("evaluation tick", () => {
  test("a duration that matures fires on the tick with no new watch event", () => {
    const { plugins, counts } = counted();
    const h = harness(plugins);
    // Each condition began at T0 and is seen once, 10 s later; nothing changes afterwards.
    h.apply(
      "Pod",
      pod({ name: "slow", conditions: [condition("Ready", "False", 0, "ContainersNotReady")], containers: [container({ ready: false })] }),
      T0 + sec(10),
      "ADDED",
    );
    h.apply("Node", node("pi-9", { ready: "Unknown", readySinceMs: 0 }), T0 + sec(10), "ADDED");
    h.apply("Service", service({ name: "lonely" }), T0 + sec(10), "ADDED");
    h.apply(
      "Deployment",
      deployment({ name: "short", replicas: 3, ready: 2, available: 2, conditions: [condition("Available", "False", 0)] }),
      T0 + sec(10),
      "ADDED",
    );
    expect(h.firing()).toEqual([]);

    const firedAt = new Map<string, number>();
    for (let now = T0 + sec(15); now <= T0 + min(3); now += TICK) {
      h.evaluator.evaluateDue(now);
      for (const k of h.firing()) if (!firedAt.has(k)) firedAt.set(k, now - T0);
    }
    // The first tick at or after each rule's duration: Node 40 s, Deployment 1 m, Pod 2 m from their
    // conditions' timestamps; the Service 10 s from when it was first seen empty (endpoints carry no time).
    expect(Object.fromEntries(firedAt)).toEqual({
      "Endpoints/default/lonely/NoReadyAddress": sec(20),
      "Node//pi-9/NodeNotReady": sec(40),
      "Deployment/default/short/UnavailableReplica": min(1),
      "Pod/default/slow/NotReady": min(2),
    });
    // Once firing, nothing about them changes with time: the ticks stop re-evaluating them.
    const before = new Map(counts);
    for (let now = T0 + min(3) + TICK; now <= T0 + min(30); now += TICK) h.evaluator.evaluateDue(now);
    expect(counts).toEqual(before);
    expect(h.evaluator.dueCount).toBe(0);
  });

  test("objects without a time-dependent condition are evaluated once per watch event, never by the tick", () => {
    const { plugins, counts, total } = counted();
    const h = harness(plugins);
    for (let i = 0; i < 300; i++) h.apply("Pod", pod({ name: `ok-${i}`, node: `pi-${i % 10}` }), T0, "ADDED");
    for (let i = 0; i < 10; i++) h.apply("Node", node(`pi-${i}`), T0, "ADDED");
    h.apply("Deployment", deployment({ name: "web" }), T0, "ADDED");
    h.apply("Service", service({ name: "web" }), T0, "ADDED");
    h.apply("EndpointSlice", endpointSlice("web", [true, true]), T0, "ADDED");
    // One pod inside a duration: the only object the ticks may touch.
    h.apply("Pod", pod({ name: "pending", phase: "Pending", createdMs: 0, conditions: [condition("PodScheduled", "True", 0)] }), T0, "ADDED");
    const afterEvents = total();
    for (let now = T0 + TICK; now <= T0 + min(10); now += TICK) h.evaluator.evaluateDue(now);
    expect(counts.get("Pod/default/ok-0")).toBe(1);
    expect(counts.get("Node/pi-3")).toBe(1);
    expect(counts.get("Deployment/default/web")).toBe(1);
    expect(counts.get("Service/default/web")).toBe(2); // its ADDED, then its EndpointSlice's
    // The pending pod: its ADDED, then once more on the tick at 5 m when PendingTooLong is due, then never again.
    expect(counts.get("Pod/default/pending")).toBe(2);
    expect(total() - afterEvents).toBe(1);
    expect(h.firing()).toEqual(["Pod/default/pending/PendingTooLong"]);
    // A watch event still evaluates its object at once.
    h.apply("Pod", pod({ name: "ok-0", containers: [container({ waiting: "CrashLoopBackOff", restartCount: 3 })] }), T0 + min(11));
    expect(counts.get("Pod/default/ok-0")).toBe(2);
    expect(h.firing()).toContain("Pod/default/ok-0/CrashLoopBackOff");
  });

  test("what time clears resolves on the tick: a crash out of its window, a Warning event too old", () => {
    const h = harness();
    h.apply(
      "Pod",
      pod({ name: "oom", containers: [container({ restartCount: 1, lastTerminated: { reason: "OOMKilled", exitCode: 137, finishedMs: 0 } })] }),
      T0 + sec(1),
      "ADDED",
    );
    h.apply("Event", event({ name: "web-1.backoff", lastMs: 0 }), T0 + sec(1), "ADDED");
    expect(h.firing()).toEqual(["Pod/default/oom/OOMKilled", "Pod/default/web-1/BackOff"]);
    const resolvedAt = new Map<string, number>();
    for (let now = T0 + TICK; now <= T0 + min(15); now += TICK) {
      const was = new Set(h.firing());
      h.evaluator.evaluateDue(now);
      const is = new Set(h.firing());
      for (const k of was) if (!is.has(k)) resolvedAt.set(k, now - T0);
    }
    // Both windows are 10 m (RULE_POD_RESTART_WINDOW, RULE_EVENT_MAX_AGE) and strict: gone on the tick after.
    expect(Object.fromEntries(resolvedAt)).toEqual({ "Pod/default/oom/OOMKilled": min(10) + TICK, "Pod/default/web-1/BackOff": min(10) + TICK });
    expect(h.evaluator.dueCount).toBe(0);
  });

  test("a plugin that does not report its time dependence is re-evaluated on every tick", () => {
    let calls = 0;
    const widget: WatcherPlugin = {
      kind: "Widget",
      resources: [{ group: "x", version: "v1", plural: "widgets", kind: "Widget", namespaced: true }],
      evaluate: () => (calls++, []),
    };
    const h = harness([...PLUGINS, widget]);
    h.apply("Widget", { metadata: { name: "w", namespace: "default" } }, T0, "ADDED");
    for (let i = 1; i <= 4; i++) h.evaluator.evaluateDue(T0 + i * TICK);
    expect(calls).toBe(5);
  });

  test("a deleted object leaves the tick's due set", () => {
    const h = harness();
    const p = pod({ name: "pending", phase: "Pending", createdMs: 0, conditions: [condition("PodScheduled", "True", 0)] });
    h.apply("Pod", p, T0, "ADDED");
    expect(h.evaluator.dueCount).toBe(1);
    h.apply("Pod", p, T0 + sec(1), "DELETED");
    expect(h.evaluator.dueCount).toBe(0);
    expect(h.evaluator.evaluateDue(T0 + min(10)).evaluated).toBe(0);
  });
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("the due-only tick logs exactly what a full pass over every object logs (2 h of random churn, every kind)", () => {
  for (const seed of [1, 2, 3]) {
    const r = rng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    const full = harness();
    const due = harness();
    const log: Record<string, string[]> = { full: [], due: [] };
    const watch = (name: "full" | "due", _c: Collector) => (t: Transition) =>
      log[name]!.push(`${t.at} ${t.type} ${t.key} ${t.anomaly.eventTime} ${t.anomaly.message}`);
    // Transitions are recorded through a second collector-level hook: wrap observe/forget.
    for (const [name, h] of [
      ["full", full],
      ["due", due],
    ] as const) {
      const c = h.collector;
      const hook = watch(name, c);
      const observe = c.observe.bind(c);
      const forget = c.forget.bind(c);
      c.observe = (k, a, now) => observe(k, a, now).map((t) => (hook(t), t));
      c.forget = (k, now) => forget(k, now).map((t) => (hook(t), t));
    }
    const apply = (kind: string, obj: KubeObject, now: number, type?: "ADDED" | "MODIFIED" | "DELETED") => {
      full.apply(kind, structuredClone(obj), now, type);
      due.apply(kind, structuredClone(obj), now, type);
    };
    const restarts = new Map<string, number>();
    const podNames = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const nodeNames = ["n0", "n1", "n2"];
    let eventCount = 0;
    const start = T0;
    for (let now = start; now < start + min(120); now += 1000) {
      const off = now - T0;
      if (r() < 0.35) {
        const kind = pick(["Pod", "Pod", "Pod", "Node", "Deployment", "Service", "EndpointSlice", "Event", "DaemonSet"]);
        const name = kind === "Pod" ? pick(podNames) : kind === "Node" ? pick(nodeNames) : pick(["a", "b"]);
        const since = off - Math.floor(r() * min(6));
        if (kind === "Pod") {
          const rc = (restarts.get(name) ?? 0) + (r() < 0.5 ? 1 : 0);
          restarts.set(name, rc);
          const variant = pick(["ok", "notReady", "crash", "oom", "pending", "unschedulable", "evicted", "deleting", "delete"]);
          const p =
            variant === "notReady"
              ? pod({ name, conditions: [condition("Ready", "False", since)], containers: [container({ ready: false, restartCount: rc })] })
              : variant === "crash"
                ? pod({
                    name,
                    conditions: [condition("Ready", "False", since)],
                    containers: [container({ waiting: "CrashLoopBackOff", restartCount: rc })],
                  })
                : variant === "oom"
                  ? pod({
                      name,
                      containers: [container({ restartCount: rc, lastTerminated: { reason: "OOMKilled", exitCode: 137, finishedMs: since } })],
                    })
                  : variant === "pending"
                    ? pod({ name, phase: "Pending", createdMs: since, conditions: [condition("PodScheduled", "True", since)] })
                    : variant === "unschedulable"
                      ? pod({
                          name,
                          phase: "Pending",
                          createdMs: since,
                          conditions: [condition("PodScheduled", "False", since, "Unschedulable", "0/3 nodes")],
                        })
                      : variant === "evicted"
                        ? pod({
                            name,
                            phase: "Failed",
                            extra: { status: { reason: "Evicted", message: "low memory" } },
                            containers: [container({ terminated: { reason: "Error", exitCode: 137, finishedMs: since } })],
                          })
                        : variant === "deleting"
                          ? pod({ name, extra: { metadata: { deletionTimestamp: at(since) } } })
                          : pod({ name, containers: [container({ restartCount: rc })] });
          if (variant === "delete") {
            apply("Pod", p, now, "DELETED");
            restarts.delete(name);
          } else apply("Pod", p, now);
        } else if (kind === "Node") {
          apply("Node", node(name, { ready: pick(["True", "True", "False", "Unknown"]), readySinceMs: since, unschedulable: r() < 0.2 }), now);
        } else if (kind === "Deployment") {
          const ready = pick([3, 3, 2, 0]);
          const gen = pick([1, 2]);
          apply(
            "Deployment",
            deployment({
              name,
              replicas: 3,
              ready,
              available: ready,
              generation: gen,
              observedGeneration: pick([1, gen]),
              conditions: [condition("Available", ready < 3 ? "False" : "True", since)],
            }),
            now,
          );
        } else if (kind === "Service") {
          apply("Service", service({ name }), now);
        } else if (kind === "EndpointSlice") {
          apply(
            "EndpointSlice",
            endpointSlice(name, pick([[true], [false], [], [true, false]]), { lastChangeMs: pick([undefined, since]) }),
            now,
            pick(["MODIFIED", "MODIFIED", "DELETED"]),
          );
        } else if (kind === "Event") {
          eventCount++;
          const reason = pick(["BackOff", "Unhealthy", "FailedMount", "Started"]);
          apply(
            "Event",
            event({
              name: `ev-${eventCount % 5}`,
              reason,
              type: reason === "Started" ? "Normal" : "Warning",
              count: 1 + (eventCount % 7),
              firstMs: since,
              lastMs: off - Math.floor(r() * sec(30)),
              involved: { kind: "Pod", name: pick(podNames), namespace: "default" },
            }),
            now,
          );
        } else {
          const desired = 3;
          const ready = pick([3, 1]);
          apply(
            "DaemonSet",
            {
              apiVersion: "apps/v1",
              kind: "DaemonSet",
              metadata: { name, namespace: "default", generation: 1 },
              status: {
                desiredNumberScheduled: desired,
                numberReady: ready,
                numberAvailable: ready,
                numberMisscheduled: pick([0, 0, 1]),
                observedGeneration: 1,
              },
            },
            now,
          );
        }
      }
      if ((now - start) % TICK === 0) {
        full.evaluator.evaluateAll(now);
        due.evaluator.evaluateDue(now);
        expect(due.collector.desired()).toEqual(full.collector.desired());
      }
    }
    // Same firing/resolved transitions, at the same instants, with the same logged content.
    expect(log.due!.length).toBeGreaterThan(50);
    expect([...log.due!].sort()).toEqual([...log.full!].sort());
    // And far fewer evaluations.
    expect(due.evaluator.evaluations).toBeLessThan(full.evaluator.evaluations / 3);
  }
});

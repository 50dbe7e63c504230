import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../src/kube/types.ts";
import { decideRollback, rollbackPatch } from "../../../src/slo/rollback-decision.ts";

const T0 = Date.parse("2026-12-04T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();
const settings = { watchMs: 10 * 60_000, readinessGraceMs: 2 * 60_000 };

function deployment(revision: number, annotations: Record<string, string> = {}): KubeObject {
  return {
    metadata: {
      name: "web",
      namespace: "shop",
      uid: "dep-1",
      resourceVersion: "42",
      annotations: { "deployment.kubernetes.io/revision": String(revision), ...annotations },
    },
    spec: { template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:2" }] } } },
  };
}
function replicaSet(hash: string, revision: number, image: string, created: number): KubeObject {
  return {
    metadata: {
      name: `web-${hash}`,
      namespace: "shop",
      uid: `rs-${hash}`,
      creationTimestamp: iso(created),
      labels: { app: "web", "pod-template-hash": hash },
      annotations: { "deployment.kubernetes.io/revision": String(revision) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-1", controller: true }],
    },
    spec: { template: { metadata: { labels: { app: "web", "pod-template-hash": hash } }, spec: { containers: [{ name: "web", image }] } } },
  };
}
function pod(rs: KubeObject, created: number, state: { waiting?: string; ready?: boolean }): KubeObject {
  return {
    metadata: {
      name: `${rs.metadata.name}-p`,
      namespace: "shop",
      creationTimestamp: iso(created),
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid!, controller: true }],
    },
    status: {
      conditions: [{ type: "Ready", status: state.ready ? "True" : "False" }],
      containerStatuses: [{ name: "web", restartCount: 3, state: state.waiting ? { waiting: { reason: state.waiting } } : { running: {} } }],
    },
  };
}

describe("rollback decision (pure)", () => {
  const old = replicaSet("aaa", 1, "web:1", T0 - 86_400_000);
  const bad = replicaSet("bbb", 2, "web:2", T0);

  test("crash-looping new Pods within the watch window → previous revision's template, hash label removed", () => {
    const d = decideRollback(deployment(2), [old, bad], [pod(bad, T0, { waiting: "CrashLoopBackOff" })], T0 + 60_000, settings);
    expect(d?.kind).toBe("rollback");
    if (d?.kind !== "rollback" || !("template" in d.to)) throw new Error("expected a template rollback");
    expect(d.from).toEqual({ replicaSet: "web-bbb", revision: 2, hash: "bbb" });
    expect(d.to.revision).toBe(1);
    expect(d.to.template).toEqual({ metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } });
    expect(d.evidence).toBe("1 of 1 new Pods failing: Pod web-bbb-p: container web CrashLoopBackOff (3 restarts)");
    const ops = rollbackPatch(deployment(2), d) as { op: string; path: string; value: unknown }[];
    expect(ops[0]).toEqual({ op: "test", path: "/metadata/resourceVersion", value: "42" });
    expect(ops.map((o) => o.path)).toContain("/metadata/annotations/neurocontroller.io~1rolled-back-from");
  });

  test("no decision: healthy Pods, not yet past the readiness grace, outside the watch window, opted out", () => {
    expect(decideRollback(deployment(2), [old, bad], [pod(bad, T0, { ready: true })], T0 + 60_000, settings)).toBeUndefined();
    expect(decideRollback(deployment(2), [old, bad], [pod(bad, T0, {})], T0 + 60_000, settings)).toBeUndefined();
    expect(decideRollback(deployment(2), [old, bad], [pod(bad, T0, {})], T0 + 3 * 60_000, settings)?.evidence).toContain(
      "not ready 180s after creation",
    );
    expect(decideRollback(deployment(2), [old, bad], [pod(bad, T0, { waiting: "CrashLoopBackOff" })], T0 + 11 * 60_000, settings)).toBeUndefined();
    const optOut = deployment(2, { "neurocontroller.io/rollback": "false" });
    expect(decideRollback(optOut, [old, bad], [pod(bad, T0, { waiting: "ImagePullBackOff" })], T0 + 60_000, settings)).toBeUndefined();
    // An old revision whose Pod was just re-created (node reboot) and crashes is no rollout.
    expect(decideRollback(deployment(1), [old], [pod(old, T0, { waiting: "CrashLoopBackOff" })], T0 + 60_000, settings)).toBeUndefined();
    const older = replicaSet("bbb", 2, "web:2", T0 - 86_400_000 + 1000);
    expect(decideRollback(deployment(2), [old, older], [pod(older, T0, { waiting: "CrashLoopBackOff" })], T0 + 60_000, settings)).toBeUndefined();
  });

  test("never twice to the same revision: a restored revision that fails too, or a target we rolled back from, is refused", () => {
    // We rolled back from bbb to aaa (now revision 3); aaa fails as well.
    const restored = replicaSet("aaa", 3, "web:1", T0);
    const stillBad = decideRollback(
      deployment(3, { "neurocontroller.io/rolled-back-from": "bbb", "neurocontroller.io/rolled-back-to": "aaa" }),
      [restored, bad],
      [pod(restored, T0, { waiting: "CrashLoopBackOff" })],
      T0 + 60_000,
      settings,
    );
    expect(stillBad?.kind).toBe("refuse");
    expect(stillBad && "limit" in stillBad && stillBad.limit).toContain("already rolled back to this revision");
    // A new revision ccc fails; going back would mean bbb, which we already left as bad.
    const c = replicaSet("ccc", 4, "web:3", T0);
    const again = decideRollback(
      deployment(4, { "neurocontroller.io/rolled-back-from": "bbb", "neurocontroller.io/rolled-back-to": "zzz" }),
      [replicaSet("bbb", 3, "web:2", T0 - 1000), c],
      [pod(c, T0, { waiting: "CrashLoopBackOff" })],
      T0 + 60_000,
      settings,
    );
    expect(again?.kind).toBe("refuse");
  });

  test("without ReplicaSet history: the neurocontroller.version.previous image, else a refusal that says so", () => {
    const only = replicaSet("bbb", 1, "web:2", T0);
    const p = [pod(only, T0, { waiting: "ErrImagePull" })];
    const withPrev = decideRollback(deployment(1, { "neurocontroller.version.previous": "web:1" }), [only], p, T0 + 60_000, settings);
    expect(withPrev?.kind === "rollback" && withPrev.to).toEqual({ image: "web:1", container: "web" });
    const ops = rollbackPatch(deployment(1), withPrev as never) as { path: string; value: unknown }[];
    expect(ops[1]).toEqual({ op: "replace", path: "/spec/template/spec/containers/0/image", value: "web:1" } as never);
    expect(decideRollback(deployment(1), [only], p, T0 + 60_000, settings)).toBeUndefined(); // a first revision is no rollout
    const pruned = replicaSet("bbb", 5, "web:2", T0); // revisionHistoryLimit 0: older ReplicaSets gone
    const none = decideRollback(deployment(5), [pruned], [pod(pruned, T0, { waiting: "ErrImagePull" })], T0 + 60_000, settings);
    expect(none?.kind === "refuse" && none.limit).toContain("no previous revision");
  });

  test("an SLO burning within the watch window counts as a failure of the new revision", () => {
    const d = decideRollback(
      deployment(2),
      [old, bad],
      [pod(bad, T0, { ready: true })],
      T0 + 60_000,
      settings,
      "p99 900 ms over 1h and 950 ms over 5m",
    );
    expect(d?.kind).toBe("rollback");
    expect(d?.evidence).toBe("SLO burning within the rollout watch: p99 900 ms over 1h and 950 ms over 5m");
  });
});

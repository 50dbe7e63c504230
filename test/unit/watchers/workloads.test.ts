// StatefulSet, DaemonSet, Job and the ReplicaSet ownership helpers.
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../src/kube/types.ts";
import { evaluateDaemonSet } from "../../../src/watchers/daemonset.ts";
import { evaluateJob } from "../../../src/watchers/job.ts";
import { ownerChain, owningWorkload } from "../../../src/kube/objects.ts";
import { replicaSetPlugin } from "../../../src/watchers/replicaset.ts";
import { evaluateStatefulSet } from "../../../src/watchers/statefulset.ts";
import { at, condition, memCache, merge, min, pod, ruleContext, sec } from "../../support/fixtures.ts";

const meta = (name: string) => ({ name, namespace: "default", uid: `uid-${name}`, generation: 1, creationTimestamp: at(-min(600)) });
const statefulSet = (replicas: number, ready: number): KubeObject => ({
  kind: "StatefulSet",
  metadata: meta("db"),
  spec: { replicas },
  status: { observedGeneration: 1, replicas, readyReplicas: ready, availableReplicas: ready },
});
const daemonSet = (desired: number, ready: number, extra: object = {}): KubeObject =>
  merge(
    {
      kind: "DaemonSet",
      metadata: meta("agent"),
      spec: {},
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: desired,
        currentNumberScheduled: desired,
        numberReady: ready,
        numberAvailable: ready,
        numberUnavailable: desired - ready,
        numberMisscheduled: 0,
      },
    },
    extra,
  );
const owned = (kind: string, name: string) => ({ ownerReferences: [{ apiVersion: "apps/v1", kind, name, uid: `uid-${name}`, controller: true }] });

describe("StatefulSet", () => {
  test("readyReplicas < replicas fires after the deployment threshold, then clears", () => {
    const r = ruleContext();
    expect(evaluateStatefulSet(statefulSet(3, 2), r.at(0))).toEqual([]);
    const [a] = evaluateStatefulSet(statefulSet(3, 2), r.at(sec(61)));
    expect(a).toMatchObject({ kind: "StatefulSet", name: "db", reason: "UnavailableReplica" });
    expect(a!.message).toContain("1 of 3 replicas unavailable");
    expect(a!.eventTime).toBe(at(0));
    expect(evaluateStatefulSet(statefulSet(3, 3), r.at(sec(70)))).toEqual([]);
    expect(evaluateStatefulSet(statefulSet(0, 0), r.at(sec(80)))).toEqual([]);
  });
});

describe("DaemonSet", () => {
  test("unavailable daemon Pods fire after the threshold and name the nodes", () => {
    const bad = pod({
      name: "agent-x",
      node: "pi-3",
      conditions: [condition("Ready", "False", -min(5))],
      extra: { metadata: owned("DaemonSet", "agent") },
    });
    const good = pod({ name: "agent-y", node: "pi-1", extra: { metadata: owned("DaemonSet", "agent") } });
    const r = ruleContext({ cache: memCache([bad, good]) });
    expect(evaluateDaemonSet(daemonSet(4, 3), r.at(0))).toEqual([]);
    const [a] = evaluateDaemonSet(daemonSet(4, 3), r.at(min(2)));
    expect(a!.reason).toBe("UnavailableReplica");
    expect(a!.message).toContain("1 of 4 daemon Pods unavailable");
    expect(a!.message).toContain("pi-3");
    expect(a!.message).not.toContain("pi-1");
    expect(evaluateDaemonSet(daemonSet(4, 4), r.at(min(3)))).toEqual([]);
  });

  test("misscheduled daemon Pods", () => {
    const r = ruleContext();
    const ds = daemonSet(2, 2, { status: { numberMisscheduled: 1 } });
    expect(evaluateDaemonSet(ds, r.at(0))).toEqual([]);
    const [a] = evaluateDaemonSet(ds, r.at(min(2)));
    expect(a).toMatchObject({ reason: "Misscheduled", category: "Scheduling" });
  });

  test("a DaemonSet with no eligible node is healthy", () => {
    expect(evaluateDaemonSet(daemonSet(0, 0), ruleContext().at(min(5)))).toEqual([]);
  });
});

describe("Job", () => {
  const job = (cond?: ReturnType<typeof condition>): KubeObject => ({
    kind: "Job",
    metadata: meta("backup"),
    spec: { backoffLimit: 4 },
    status: { failed: 5, conditions: cond ? [cond] : [] },
  });
  test("Failed=True raises JobFailed with the BackoffLimitExceeded details", () => {
    const [a] = evaluateJob(
      job(condition("Failed", "True", -min(1), "BackoffLimitExceeded", "Job has reached the specified backoff limit")),
      ruleContext().ctx,
    );
    expect(a).toMatchObject({ kind: "Job", name: "backup", reason: "JobFailed", category: "Condition" });
    expect(a!.message).toContain("BackoffLimitExceeded: 5 failed Pods, backoffLimit 4");
    expect(a!.eventTime).toBe(at(-min(1)));
  });
  test("running or complete jobs, and RULE_JOB_FAILED=false, raise nothing", () => {
    expect(evaluateJob(job(), ruleContext().ctx)).toEqual([]);
    expect(evaluateJob(job(condition("Complete", "True", -min(1))), ruleContext().ctx)).toEqual([]);
    expect(
      evaluateJob(job(condition("Failed", "True", -min(1), "BackoffLimitExceeded")), ruleContext({ config: { RULE_JOB_FAILED: "false" } }).ctx),
    ).toEqual([]);
  });
});

describe("ReplicaSet ownership", () => {
  const rs: KubeObject = { kind: "ReplicaSet", metadata: { ...meta("web-5d4f8"), ...owned("Deployment", "web") } };
  const webPod = pod({
    name: "web-5d4f8-abcde",
    extra: { metadata: { labels: { "pod-template-hash": "5d4f8" }, ...owned("ReplicaSet", "web-5d4f8") } },
  });

  test("Pod -> ReplicaSet -> Deployment through the cache", () => {
    const cache = memCache([rs]);
    expect(ownerChain(webPod, cache)).toEqual([
      { kind: "ReplicaSet", namespace: "default", name: "web-5d4f8" },
      { kind: "Deployment", namespace: "default", name: "web" },
    ]);
    expect(owningWorkload(webPod, cache)).toEqual({ kind: "Deployment", namespace: "default", name: "web" });
  });

  test("the Deployment is recovered from the pod-template-hash when the ReplicaSet is not cached", () => {
    expect(owningWorkload(webPod, memCache())).toEqual({ kind: "Deployment", namespace: "default", name: "web" });
  });

  test("StatefulSet, DaemonSet and Job Pods; bare Pods have no owner", () => {
    expect(owningWorkload(pod({ extra: { metadata: owned("StatefulSet", "db") } }), memCache())?.kind).toBe("StatefulSet");
    const cronPod = pod({ extra: { metadata: owned("Job", "backup-2901") } });
    const jobObj: KubeObject = { kind: "Job", metadata: { ...meta("backup-2901"), ...owned("CronJob", "backup") } };
    expect(ownerChain(cronPod, memCache([jobObj])).map((r) => r.kind)).toEqual(["Job", "CronJob"]);
    expect(owningWorkload(cronPod, memCache([jobObj]))?.name).toBe("backup-2901");
    expect(ownerChain(pod(), memCache())).toEqual([]);
  });

  test("the ReplicaSet plugin raises nothing", () => {
    expect(replicaSetPlugin.evaluate(rs, ruleContext().ctx)).toEqual([]);
  });
});

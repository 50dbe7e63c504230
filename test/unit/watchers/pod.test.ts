import { describe, expect, test } from "bun:test";
import type { Anomaly } from "../../../src/model/anomaly.ts";
import { evaluatePod } from "../../../src/watchers/pod.ts";
import { at, condition, container, min, pod, ruleContext, sec } from "../../support/fixtures.ts";

const reasons = (a: { reason: string }[]) => a.map((x) => x.reason).sort();

describe("Pod stuck waiting reasons", () => {
  for (const reason of [
    "CrashLoopBackOff",
    "CreateContainerError",
    "CreateContainerConfigError",
    "RunContainerError",
    "ContainerCannotRun",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
  ]) {
    test(`${reason} on a container fires, names the container`, () => {
      const { ctx } = ruleContext();
      const p = pod({
        containers: [container({ name: "api", waiting: reason, restartCount: 2 })],
        conditions: [condition("ContainersReady", "False", -min(3)), condition("Ready", "False", -min(3))],
      });
      const [a, ...rest] = evaluatePod(p, ctx).filter((x) => x.reason === reason);
      expect(rest).toHaveLength(0);
      expect(a!.message).toContain("Container api");
      expect(a!.kind).toBe("Pod");
      expect(a!.node).toBe("pi-1");
      expect(a!.eventTime).toBe(at(-min(3)));
    });
  }

  test("init containers are covered and called init containers", () => {
    const { ctx } = ruleContext();
    const p = pod({
      phase: "Pending",
      initContainers: [container({ name: "migrate", waiting: "CrashLoopBackOff", restartCount: 4 })],
      containers: [container({ name: "app", waiting: "PodInitializing" })],
      conditions: [condition("Initialized", "False", -min(2), "ContainersNotInitialized")],
    });
    const a = evaluatePod(p, ctx).find((x) => x.reason === "CrashLoopBackOff")!;
    expect(a.message).toContain("Init container migrate");
    expect(a.message).toContain("4 restarts");
    expect(a.eventTime).toBe(at(-min(2)));
  });

  test("resolves when the container runs again; eventTime stable meanwhile", () => {
    const r = ruleContext();
    const stuck = pod({ containers: [container({ waiting: "ImagePullBackOff" })], conditions: [] }); // no timestamps: memo
    const first = evaluatePod(stuck, r.at(0))[0]!;
    const later = evaluatePod(stuck, r.at(sec(30)))[0]!;
    expect(later.eventTime).toBe(first.eventTime);
    expect(evaluatePod(pod(), r.at(sec(40)))).toEqual([]);
  });

  test("a healthy running pod yields nothing", () => {
    expect(evaluatePod(pod(), ruleContext().ctx)).toEqual([]);
  });
});

describe("Pod recent crashes (lastState.terminated)", () => {
  test("OOMKilled in lastState fires while recent, with exit code, then clears", () => {
    const r = ruleContext();
    const p = pod({ containers: [container({ restartCount: 1, lastTerminated: { reason: "OOMKilled", exitCode: 137, finishedMs: -min(1) } })] });
    const a = evaluatePod(p, r.at(0)).find((x) => x.reason === "OOMKilled")!;
    expect(a.message).toContain("exit code 137");
    expect(a.message).toContain("memory");
    expect(a.category).toBe("Restart");
    expect(a.eventTime).toBe(at(-min(1)));
    expect(evaluatePod(p, r.at(min(10))).find((x) => x.reason === "OOMKilled")).toBeUndefined();
  });

  test("Error and StartError in state or lastState", () => {
    const { ctx } = ruleContext();
    const p = pod({
      containers: [
        container({ name: "a", lastTerminated: { reason: "Error", exitCode: 1, finishedMs: -sec(30) } }),
        container({ name: "b", terminated: { reason: "StartError", exitCode: 128, finishedMs: -sec(10) } }),
      ],
    });
    expect(reasons(evaluatePod(p, ctx))).toEqual(["ContainerError", "StartError"]);
  });

  test("Completed (exit 0) is not a crash", () => {
    const p = pod({
      phase: "Succeeded",
      containers: [container({ terminated: { reason: "Completed", exitCode: 0, finishedMs: -sec(5) } })],
      conditions: [condition("Ready", "False", -sec(5), "PodCompleted")],
    });
    expect(evaluatePod(p, ruleContext().ctx)).toEqual([]);
  });
});

describe("Pod restart rate", () => {
  const withRestarts = (n: number, createdMs = -min(600)) => pod({ createdMs, containers: [container({ restartCount: n })] });
  const rate = (a: Anomaly[]) => a.find((x) => x.reason === "HighRestartRate");

  test("5 restarts within 10m fires; 4 does not", () => {
    const r = ruleContext();
    evaluatePod(withRestarts(10), r.at(0)); // old pod, baseline 10
    expect(rate(evaluatePod(withRestarts(14), r.at(min(3))))).toBeUndefined();
    const a = rate(evaluatePod(withRestarts(15), r.at(min(4))))!;
    expect(a.message).toContain("restarted 5 times");
  });

  test("restarts spread beyond the window do not fire, and firing clears as the window slides", () => {
    const r = ruleContext();
    evaluatePod(withRestarts(0), r.at(0));
    for (let i = 1; i <= 4; i++) expect(rate(evaluatePod(withRestarts(i), r.at(min(i * 4))))).toBeUndefined();
    // 5 restarts total, but only 3 within the last 10m at t=20m
    expect(rate(evaluatePod(withRestarts(5), r.at(min(20))))).toBeUndefined();
    // a burst fires...
    const fired = rate(evaluatePod(withRestarts(10), r.at(min(21))))!;
    expect(fired).toBeDefined();
    const again = rate(evaluatePod(withRestarts(10), r.at(min(25))))!;
    expect(again.eventTime).toBe(fired.eventTime);
    // ...and clears 10m later without new restarts
    expect(rate(evaluatePod(withRestarts(10), r.at(min(32))))).toBeUndefined();
  });

  test("a young pod's restarts all count on first sight (restart-safe)", () => {
    const r = ruleContext();
    expect(rate(evaluatePod(withRestarts(6, -min(5)), r.at(0)))).toBeDefined();
    const r2 = ruleContext();
    expect(rate(evaluatePod(withRestarts(6, -min(60)), r2.at(0)))).toBeUndefined(); // old pod: unknown when they happened
  });

  test("memo stays bounded", () => {
    const r = ruleContext();
    for (let i = 0; i < 500; i++) evaluatePod(withRestarts(i), r.at(sec(i)));
    expect((r.ctx.memo.restarts as unknown[]).length).toBeLessThanOrEqual(32);
  });
});

describe("Pod NotReady", () => {
  const unready = (sinceMs: number, phase = "Running") =>
    pod({
      phase,
      conditions: [condition("Ready", "False", sinceMs, "ContainersNotReady", "containers with unready status: [app]")],
      containers: [container({ ready: false })],
    });

  test("fires after RULE_POD_NOT_READY_FOR from lastTransitionTime, not before", () => {
    const r = ruleContext();
    expect(evaluatePod(unready(-min(1)), r.at(0))).toEqual([]);
    const a = evaluatePod(unready(-min(3)), r.at(0))[0]!;
    expect(a.reason).toBe("NotReady");
    expect(a.eventTime).toBe(at(-min(3)));
    expect(a.message).toContain("app");
  });

  test("resolves when Ready again; completed pods are not flagged", () => {
    const { ctx } = ruleContext();
    expect(evaluatePod(pod(), ctx)).toEqual([]);
    expect(evaluatePod(unready(-min(30), "Succeeded"), ctx)).toEqual([]);
  });
});

describe("Pod Pending", () => {
  test("PendingTooLong from creationTimestamp", () => {
    const r = ruleContext();
    const p = (createdMs: number) => pod({ phase: "Pending", createdMs, conditions: [condition("PodScheduled", "True", createdMs)], containers: [] });
    expect(evaluatePod(p(-min(4)), r.at(0))).toEqual([]);
    const a = evaluatePod(p(-min(6)), r.at(0))[0]!;
    expect(a.reason).toBe("PendingTooLong");
    expect(a.category).toBe("Scheduling");
  });

  test("Unschedulable with the scheduler's message", () => {
    const { ctx } = ruleContext();
    const p = pod({
      phase: "Pending",
      node: "",
      createdMs: -min(10),
      conditions: [condition("PodScheduled", "False", -min(9), "Unschedulable", "0/3 nodes are available: 3 Insufficient memory.")],
      containers: [],
      extra: { spec: { nodeName: undefined } },
    });
    const [a] = evaluatePod(p, ctx);
    expect(a!.reason).toBe("Unschedulable");
    expect(a!.message).toContain("Insufficient memory");
    expect(a!.node).toBe("");
    expect(a!.eventTime).toBe(at(-min(9)));
  });
});

describe("Pod eviction and deletion", () => {
  test("Evicted fires, then stops after RULE_POD_EVICTED_WINDOW", () => {
    const r = ruleContext();
    const p = pod({
      phase: "Failed",
      conditions: [condition("DisruptionTarget", "True", -min(2), "TerminationByKubelet")],
      extra: { status: { reason: "Evicted", message: "The node was low on resource: memory." } },
    });
    const a = evaluatePod(p, r.at(0)).find((x) => x.reason === "Evicted")!;
    expect(a.message).toContain("low on resource: memory");
    expect(a.eventTime).toBe(at(-min(2)));
    expect(evaluatePod(p, r.at(min(70))).find((x) => x.reason === "Evicted")).toBeUndefined();
  });

  test("a deleting pod reports nothing but a stuck termination", () => {
    const r = ruleContext();
    const crashing = { containers: [container({ waiting: "CrashLoopBackOff" })] };
    expect(evaluatePod(pod({ ...crashing, extra: { metadata: { deletionTimestamp: at(-sec(10)) } } }), r.at(0))).toEqual([]);
    const stuck = evaluatePod(
      pod({ ...crashing, extra: { metadata: { deletionTimestamp: at(-min(6)), finalizers: ["example.com/cleanup"] } } }),
      r.at(0),
    );
    expect(reasons(stuck)).toEqual(["StuckTerminating"]);
    expect(stuck[0]!.message).toContain("example.com/cleanup");
  });
});

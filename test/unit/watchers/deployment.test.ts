import { describe, expect, test } from "bun:test";
import type { Anomaly } from "../../../src/model/anomaly.ts";
import { evaluateDeployment } from "../../../src/watchers/deployment.ts";
import { at, condition, deployment, min, ruleContext, sec } from "../../support/fixtures.ts";

const find = (a: Anomaly[], reason: string) => a.find((x) => x.reason === reason);

describe("Deployment UnavailableReplica", () => {
  test("fires after RULE_DEPLOYMENT_UNAVAILABLE_FOR from Available=False lastTransitionTime", () => {
    const d = (sinceMs: number) =>
      deployment({ replicas: 4, ready: 3, conditions: [condition("Available", "False", sinceMs, "MinimumReplicasUnavailable")] });
    expect(find(evaluateDeployment(d(-sec(30)), ruleContext().ctx), "UnavailableReplica")).toBeUndefined();
    const a = find(evaluateDeployment(d(-min(2)), ruleContext().ctx), "UnavailableReplica")!;
    expect(a.eventTime).toBe(at(-min(2)));
    expect(a.message).toContain("1 of 4 replicas unavailable");
    expect(a.category).toBe("Warning");
  });

  test("without Available=False the duration is first-observed, stable, and clears when ready", () => {
    const r = ruleContext();
    const d = deployment({ replicas: 4, ready: 3, conditions: [condition("Available", "True", -min(60))] });
    expect(evaluateDeployment(d, r.at(0))).toEqual([]);
    expect(evaluateDeployment(d, r.at(sec(59)))).toEqual([]);
    const a = find(evaluateDeployment(d, r.at(sec(61))), "UnavailableReplica")!;
    expect(a.eventTime).toBe(at(0));
    expect(find(evaluateDeployment(d, r.at(min(5))), "UnavailableReplica")!.eventTime).toBe(at(0));
    expect(evaluateDeployment(deployment({ replicas: 4 }), r.at(min(6)))).toEqual([]);
  });

  test("scaled to zero is healthy", () => {
    expect(evaluateDeployment(deployment({ replicas: 0, ready: 0 }), ruleContext().ctx)).toEqual([]);
  });
});

describe("Deployment UnreadyReplicaRatio", () => {
  test("3 of 4 unready for longer than the threshold is critical and states the ratio", () => {
    const r = ruleContext();
    const d = deployment({ replicas: 4, ready: 1, conditions: [condition("Available", "True", -min(60))] });
    expect(find(evaluateDeployment(d, r.at(0)), "UnreadyReplicaRatio")).toBeUndefined();
    const a = find(evaluateDeployment(d, r.at(sec(8))), "UnreadyReplicaRatio")!;
    expect(a.severity).toBe("critical");
    expect(a.message).toContain("3 of 4 replicas unready (75%, threshold 60%)");
  });

  test("below the ratio does not fire", () => {
    const d = deployment({ replicas: 4, ready: 2, conditions: [condition("Available", "False", -min(10))] });
    expect(find(evaluateDeployment(d, ruleContext().ctx), "UnreadyReplicaRatio")).toBeUndefined();
    expect(
      find(evaluateDeployment(d, ruleContext({ config: { DIAGNOSIS_UNREADY_REPLICA_PERCENT: "0.5" } }).ctx), "UnreadyReplicaRatio")!.message,
    ).toContain("2 of 4 replicas unready (50%, threshold 50%)");
  });
});

describe("Deployment rollout", () => {
  test("ProgressDeadlineExceeded is critical", () => {
    const d = deployment({
      conditions: [
        condition("Available", "True", -min(60)),
        condition("Progressing", "False", -min(3), "ProgressDeadlineExceeded", 'ReplicaSet "web-5d4" has timed out progressing.'),
      ],
    });
    const a = find(evaluateDeployment(d, ruleContext().ctx), "ProgressDeadlineExceeded")!;
    expect(a.severity).toBe("critical");
    expect(a.message).toContain("timed out progressing");
    expect(a.eventTime).toBe(at(-min(3)));
  });

  test("GenerationNotObserved after the grace period only", () => {
    const r = ruleContext();
    const d = deployment({ generation: 3, observedGeneration: 2 });
    expect(evaluateDeployment(d, r.at(0))).toEqual([]);
    expect(evaluateDeployment(d, r.at(sec(30)))).toEqual([]);
    const a = find(evaluateDeployment(d, r.at(sec(61))), "GenerationNotObserved")!;
    expect(a.severity).toBe("warning");
    expect(evaluateDeployment(deployment({ generation: 3 }), r.at(sec(70)))).toEqual([]);
  });
});

import { describe, expect, test } from "bun:test";
import type { Anomaly } from "../../../src/model/anomaly.ts";
import { evaluateNode } from "../../../src/watchers/node.ts";
import { at, condition, min, node, ruleContext, sec } from "../../support/fixtures.ts";

const reasons = (a: { reason: string }[]) => a.map((x) => x.reason).sort();

describe("Node NotReady", () => {
  test("Ready=False longer than RULE_NODE_NOT_READY_FOR is critical NodeNotReady", () => {
    const r = ruleContext();
    expect(evaluateNode(node("pi-2", { ready: "False", readySinceMs: -sec(20) }), r.at(0)).filter((a) => a.reason === "NodeNotReady")).toEqual([]);
    const a = evaluateNode(node("pi-2", { ready: "False", readySinceMs: -sec(50) }), r.at(0)).find((x) => x.reason === "NodeNotReady")!;
    expect(a.severity).toBe("critical");
    expect(a.node).toBe("pi-2");
    expect(a.kind).toBe("Node");
    expect(a.namespace).toBe("");
    expect(a.eventTime).toBe(at(-sec(50)));
  });

  test("Ready=Unknown counts too and says the node is not reporting", () => {
    const a = evaluateNode(node("pi-3", { ready: "Unknown", readySinceMs: -min(2) }), ruleContext().ctx).find((x) => x.reason === "NodeNotReady")!;
    expect(a.message).toContain("not reporting");
  });

  test("resolves when Ready again", () => {
    expect(evaluateNode(node("pi-1"), ruleContext().ctx)).toEqual([]);
  });
});

describe("Node pressure and network", () => {
  for (const type of ["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"]) {
    test(`${type}=True fires; False does not`, () => {
      const n = (status: string) => node("pi-1", { conditions: [condition("Ready", "True", -min(100)), condition(type, status, -min(1))] });
      const a = evaluateNode(n("True"), ruleContext().ctx);
      expect(reasons(a)).toEqual([type]);
      expect(a[0]!.eventTime).toBe(at(-min(1)));
      expect(evaluateNode(n("False"), ruleContext().ctx)).toEqual([]);
    });
  }
});

describe("Node readiness flapping", () => {
  const flapping = (a: Anomaly[]) => a.find((x) => x.reason === "NodeReadyFlapping");
  test("3 Ready transitions within 10m fire; 2 do not; clears when the window passes", () => {
    const r = ruleContext();
    // first sighting: the current state, not a transition
    expect(flapping(evaluateNode(node("pi-1", { ready: "True", readySinceMs: -sec(30) }), r.at(0)))).toBeUndefined();
    expect(flapping(evaluateNode(node("pi-1", { ready: "False", readySinceMs: sec(1) }), r.at(sec(1))))).toBeUndefined();
    expect(flapping(evaluateNode(node("pi-1", { ready: "True", readySinceMs: min(1) }), r.at(min(1))))).toBeUndefined();
    const a = flapping(evaluateNode(node("pi-1", { ready: "False", readySinceMs: min(2) }), r.at(min(2))))!;
    expect(a).toBeDefined();
    expect(a.message).toContain("3 times");
    // re-evaluating the same state does not count as a transition, and eventTime is stable
    const b = flapping(evaluateNode(node("pi-1", { ready: "False", readySinceMs: min(2) }), r.at(min(3))))!;
    expect(b.eventTime).toBe(a.eventTime);
    expect(b.message).toContain("3 times");
    expect(flapping(evaluateNode(node("pi-1", { ready: "True", readySinceMs: min(4) }), r.at(min(11))))).toBeDefined();
    expect(flapping(evaluateNode(node("pi-1", { ready: "True", readySinceMs: min(4) }), r.at(min(13))))).toBeUndefined();
  });

  test("a node that went down and came back once is not flapping, even right after it joined", () => {
    const r = ruleContext();
    evaluateNode(node("pi-1", { ready: "True", readySinceMs: -sec(10) }), r.at(0));
    evaluateNode(node("pi-1", { ready: "Unknown", readySinceMs: sec(5) }), r.at(sec(5)));
    expect(flapping(evaluateNode(node("pi-1", { ready: "True", readySinceMs: sec(20) }), r.at(sec(20))))).toBeUndefined();
  });

  test("transitions are placed at the node's own lastTransitionTime, so old ones do not count", () => {
    const r = ruleContext();
    evaluateNode(node("pi-1", { ready: "False", readySinceMs: -min(30) }), r.at(0));
    evaluateNode(node("pi-1", { ready: "True", readySinceMs: -min(20) }), r.at(sec(5)));
    expect(flapping(evaluateNode(node("pi-1", { ready: "False", readySinceMs: 0 }), r.at(sec(10))))).toBeUndefined();
  });
});

describe("Node cordon", () => {
  test("a cordoned Ready node is an info Cordoned note", () => {
    const [a, ...rest] = evaluateNode(node("pi-1", { unschedulable: true }), ruleContext().ctx);
    expect(rest).toEqual([]);
    expect(a!.reason).toBe("Cordoned");
    expect(a!.severity).toBe("info");
    expect(a!.eventTime).toBe(at(-min(5)));
  });

  test("cordoned + NotReady gives exactly one anomaly, NodeNotReady mentioning the cordon", () => {
    const all = evaluateNode(node("pi-1", { unschedulable: true, ready: "Unknown", readySinceMs: -min(5) }), ruleContext().ctx);
    expect(reasons(all)).toEqual(["NodeNotReady"]);
    expect(all[0]!.message).toContain("cordoned");
  });
});

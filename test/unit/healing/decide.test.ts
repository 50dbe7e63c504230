// The pure healing decision with an injected clock: limits at their boundaries, hostile annotations,
// determinism of ids, and the action notifications' rendering (Slack Block Kit limits, email escaping).
import { describe, expect, test } from "bun:test";
import { actionNotifications } from "../../../src/actions/announce.ts";
import { CountingRejectSink } from "../../../src/boundary/reject.ts";
import { renderEmail } from "../../../src/channels/email-template.ts";
import { renderSlackMessage } from "../../../src/channels/slack-message.ts";
import { HEALING_ANNOTATION, type HealingState, readHealingState } from "../../../src/healing/annotation.ts";
import { decide, type HealingInput } from "../../../src/healing/decide.ts";
import { supportsOutOfService } from "../../../src/healing/facts.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { blockKitProblems, loadBlockKitLimits } from "../../support/block-kit.ts";
import { TEST_SETTINGS } from "../../support/healing-cluster.ts";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function node(name: string, ready: boolean, since = T0, extra: Partial<KubeObject["metadata"]> = {}, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, ...extra },
    spec,
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "Unknown", lastTransitionTime: iso(since) }] },
  };
}

function pod(name: string, nodeName: string, owner?: string, extra: Partial<KubeObject["metadata"]> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      ...(owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: owner, name: `${name}-owner`, uid: "o", controller: true }] } : {}),
      ...extra,
    },
    spec: { nodeName },
    status: { phase: "Running" },
  };
}

function input(over: Partial<HealingInput> = {}): HealingInput {
  return {
    now: T0 + 61_000,
    settings: TEST_SETTINGS,
    clusterId: "c",
    nodes: [node("a", true), node("b", true), node("c", false)],
    pods: [],
    states: new Map(),
    outOfService: false,
    backoff: new Map(),
    ...over,
  };
}

const cordoned = (over: Partial<HealingState> = {}): HealingState => ({
  v: 1,
  phase: "cordoned",
  episode: iso(T0),
  cordonedByUs: true,
  cordonedAt: iso(T0 + 61_000),
  pods: 2,
  ...over,
});

describe("healing decision", () => {
  test("nothing before HEALING_NODE_NOTREADY_AFTER, cordon right after; same input → same ids", () => {
    expect(decide(input({ now: T0 + 60_000 }))).toEqual({ notices: [] });
    const d = decide(input());
    expect(d.step?.kind).toBe("cordon");
    expect(decide(input()).step?.record.id).toBe(d.step!.record.id);
    expect(d.step!.record.id).toBe(`healing:Node//c:cordon:${iso(T0)}`);
  });

  test("HEALING_MIN_HEALTHY_PERCENT at its boundary: 51% of 2 nodes with 1 Ready refuses, 50% allows", () => {
    const two = [node("a", true), node("c", false)];
    expect(decide(input({ nodes: two, settings: { ...TEST_SETTINGS, controlPlane: true } })).notices[0]?.step).toBe("refused-min-healthy");
    expect(decide(input({ nodes: two, settings: { ...TEST_SETTINGS, minHealthyPercent: 50 } })).step?.kind).toBe("cordon");
  });

  test("cooldown: a node recovered recently waits; after HEALING_COOLDOWN it is cordoned again", () => {
    const recovered = new Map([["c", cordoned({ phase: "recovered", recoveredAt: iso(T0 - 60_000) })]]);
    const d = decide(input({ states: recovered }));
    expect(d.step).toBeUndefined();
    expect(d.notices.map((n) => `${n.step}:${n.outcome}`)).toEqual(["refused-cooldown:waiting"]);
    expect(decide(input({ states: recovered, now: T0 + 600_000 })).step?.kind).toBe("cordon");
  });

  test("drain: DaemonSet, mirror and unmanaged pods are not evicted (unmanaged only when allowed); backoff respected", () => {
    const pods = [
      pod("ds", "c", "DaemonSet"),
      pod("mirror", "c", undefined, { annotations: { "kubernetes.io/config.mirror": "x" } }),
      pod("bare", "c"),
      pod("web", "c", "ReplicaSet"),
    ];
    const states = new Map([["c", cordoned()]]);
    const d = decide(input({ pods, states, now: T0 + 70_000 }));
    expect(d.step).toMatchObject({ kind: "evict", pod: { name: "web" } });
    const waiting = decide(input({ pods, states, now: T0 + 70_000, backoff: new Map([["uid-web", { until: T0 + 80_000, pdb: "web-pdb" }]]) }));
    expect(waiting.step).toBeUndefined();
    expect(waiting.notices[0]).toMatchObject({
      step: "drained",
      outcome: "waiting",
      summary: "Node c cordoned and drained: 1 pod evicted, 1 waiting on PDB web-pdb",
    });
    const unmanaged = decide(input({ pods: [pod("bare", "c")], states, now: T0 + 70_000, settings: { ...TEST_SETTINGS, drainUnmanaged: true } }));
    expect(unmanaged.step).toMatchObject({ kind: "evict", pod: { name: "bare" } });
  });

  test("drain timeout: no more evictions, told once as drain-timeout", () => {
    const states = new Map([["c", cordoned()]]);
    const d = decide(input({ pods: [pod("web", "c", "ReplicaSet")], states, now: T0 + 61_000 + TEST_SETTINGS.drainTimeoutMs }));
    expect(d.step).toBeUndefined();
    expect(d.notices.map((n) => n.step)).toEqual(["drain-timeout"]);
  });

  test("release: taint on ≥ 1.28, force delete one pod at a time otherwise, then marked released", () => {
    const states = new Map([["c", cordoned()]]);
    const late = T0 + 61_000 + TEST_SETTINGS.forceAfterMs;
    const terminating = pod("db-0", "c", "StatefulSet", { deletionTimestamp: iso(T0) });
    expect(decide(input({ pods: [terminating], states, now: late, outOfService: true })).step?.kind).toBe("release-taint");
    expect(decide(input({ pods: [terminating], states, now: late })).step).toMatchObject({ kind: "force-delete", pod: { name: "db-0" } });
    expect(decide(input({ pods: [], states, now: late })).step?.kind).toBe("mark-released");
  });

  test("recovery undoes only what we did: an operator's cordon stays", () => {
    const ready = [node("a", true), node("b", true), node("c", true, T0 + 100_000)];
    const ours = decide(input({ nodes: ready, states: new Map([["c", cordoned({ taint: true })]]), now: T0 + 131_000 }));
    expect(ours.step).toMatchObject({ kind: "uncordon", clearUnschedulable: true, removeTaint: true });
    const operator = decide(input({ nodes: ready, states: new Map([["c", cordoned({ cordonedByUs: false })]]), now: T0 + 131_000 }));
    expect(operator.step).toMatchObject({ kind: "uncordon", clearUnschedulable: false, removeTaint: false });
    expect(decide(input({ nodes: ready, states: new Map([["c", cordoned()]]), now: T0 + 120_000 })).step).toBeUndefined();
  });

  test("hostile annotations are refused, counted, and read as no state", () => {
    const counts: Record<string, number> = {};
    const sink = new CountingRejectSink({ inc: (l) => void (counts[l.source!] = (counts[l.source!] ?? 0) + 1) }, { warn() {} });
    for (const raw of [
      "{",
      "[]",
      JSON.stringify({ ...cordoned(), phase: "evil" }),
      JSON.stringify({ ...cordoned(), pods: -1 }),
      "x".repeat(5000),
      JSON.stringify({ ...cordoned(), cordonedAt: "yesterday" }),
    ])
      expect(readHealingState({ [HEALING_ANNOTATION]: raw }, sink)).toBeUndefined();
    expect(counts["kube.node.healing-annotation"]).toBe(6);
    expect(readHealingState({ [HEALING_ANNOTATION]: JSON.stringify(cordoned()) }, sink)).toEqual(cordoned());
  });

  test("server version parsing for the out-of-service taint", () => {
    expect(supportsOutOfService({ major: "1", minor: "28" })).toBe(true);
    expect(supportsOutOfService({ major: "1", minor: "31+" })).toBe(true);
    expect(supportsOutOfService({ major: "1", minor: "27" })).toBe(false);
    expect(supportsOutOfService({ major: "1", minor: "" })).toBe(false);
    expect(supportsOutOfService(undefined)).toBe(false);
  });
});

describe("action notifications", () => {
  const record = decide(input()).step!.record;
  test("every record to MQTT; Slack and email only when announced; ids deterministic", () => {
    const quiet = { ...record, announce: false };
    expect(actionNotifications(quiet, "c", ["mqtt", "slack", "email"], 1).map((n) => n.channel)).toEqual(["mqtt"]);
    const loud = actionNotifications(record, "c", ["mqtt", "slack", "email"], 1);
    expect(loud.map((n) => n.id)).toEqual(["mqtt", "slack", "email"].map((ch) => `action:${record.id}:${ch}`));
  });

  test("Slack stays within Block Kit limits and email escapes hostile names", () => {
    const hostile = { ...record, summary: `Node <script>alert(1)</script> ${"x".repeat(5000)}`, reason: "r".repeat(5000) };
    const [n] = actionNotifications(hostile, "c", ["slack"], 1);
    expect(blockKitProblems(renderSlackMessage(n!.payload), loadBlockKitLimits())).toEqual([]);
    const mail = renderEmail(n!.payload);
    expect(mail.html).not.toContain("<script>");
    expect(mail.subject.length).toBeLessThanOrEqual(200);
    expect(mail.subject.startsWith("[ACTION][c]")).toBe(true);
  });
});

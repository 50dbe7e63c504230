// Every count a rule message states must be true of the object and add up with the other counts in the
// same message: "1 of 1 replicas unavailable (1 ready)" (a stuck rollout: the new Pod is unavailable,
// the old one serves) reads as a contradiction. Judged on the real-world fixtures and on the simulator's
// scenarios (the demo story step by step, stuck rollouts of 1 and 2 replicas) through scan's single pass.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Config } from "../../../src/config/load.ts";
import { scanCluster } from "../../../src/controller/snapshot.ts";
import { KubeClient } from "../../../src/kube/client.ts";
import { loadConnection } from "../../../src/kube/kubeconfig.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { Anomaly } from "../../../src/model/anomaly.ts";
import { type Simulator, startSimulator } from "../../../src/sim/index.ts";
import { stuckRollout } from "../../../src/sim/rollout.ts";
import { seedHealthyCluster } from "../../../src/sim/scenarios.ts";
import { demoStory } from "../../../src/sim/story.ts";

const REAL_WORLD = join(import.meta.dir, "../../fixtures/real-world");
const PLURAL: Record<string, string> = {
  Deployment: "deployments",
  StatefulSet: "statefulsets",
  DaemonSet: "daemonsets",
  Pod: "pods",
  Node: "nodes",
  Service: "services",
  Endpoints: "endpoints",
  Job: "jobs",
  ReplicaSet: "replicasets",
};
const HOUR = 3_600_000;

/** Counts a workload's status makes true, by name. */
function workloadCounts(o: KubeObject): Record<string, number> {
  const s = (o.status ?? {}) as Record<string, number | undefined>;
  if (o.kind === "DaemonSet")
    return {
      desired: s.desiredNumberScheduled ?? 0,
      ready: s.numberReady ?? 0,
      available: s.numberAvailable ?? 0,
      unavailable: s.numberUnavailable ?? 0,
    };
  const desired = (o.spec?.replicas as number | undefined) ?? 1;
  const available = s.availableReplicas ?? 0;
  const ready = Math.max(s.readyReplicas ?? 0, available);
  const total = s.replicas ?? desired;
  const updated = s.updatedReplicas ?? total;
  const unavailable = o.kind === "Deployment" ? (s.unavailableReplicas ?? Math.max(0, desired - available)) : Math.max(0, desired - available);
  return { desired, ready, available, unavailable, total, updated, old: Math.max(0, total - updated) };
}

/** What is wrong with the counts of one message about `obj` (empty: nothing). */
export function countProblems(a: Anomaly, obj: KubeObject | undefined): string[] {
  const problems: string[] = [];
  const m = a.message;
  // "X of Y": a part never exceeds its whole.
  for (const [, x, y] of m.matchAll(/\b(\d+) of (\d+)\b/g)) if (Number(x) > Number(y)) problems.push(`"${x} of ${y}"`);
  // "X of Y … unavailable/unready/missing (R ready)" or "…, R ready": the parts add up to at most the whole.
  for (const [text, x, y, r] of m.matchAll(/\b(\d+) of (\d+) [^.;()]*?(?:unavailable|unready|missing)\W+(\d+) ready\b/g))
    if (Number(x) + Number(r) > Number(y)) problems.push(`"${text}": ${x} + ${r} > ${y}`);
  if (a.reason === "UnavailableReplica" && obj) {
    const c = workloadCounts(obj);
    const true_ = new Set(Object.values(c));
    const missing = Math.max(0, c.desired! - c.ready!);
    true_.add(missing);
    const head = m.split(". ")[0]!.replace(/ for [^(:;]*?(?= \(|:|;|$)/, "");
    for (const [, n] of head.matchAll(/\b(\d+)\b/g))
      if (!true_.has(Number(n))) problems.push(`${n} is none of the object's counts ${JSON.stringify(c)}`);
    const ready = /(\d+) ready\b/.exec(head)?.[1];
    if (ready !== undefined && Number(ready) !== c.ready) problems.push(`says ${ready} ready, the object has ${c.ready}`);
  }
  return problems;
}

let sim: Simulator;
let client: KubeClient;
const sims: Simulator[] = [];
/** A fresh, empty simulated cluster for each case. */
beforeEach(async () => {
  sim = await startSimulator({ tls: false });
  sims.push(sim);
  client = new KubeClient(loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!);
});
afterAll(async () => {
  for (const s of sims) await s.stop();
});

/** scan one hour from now (every duration threshold passed); each anomaly with its object. */
async function judged(): Promise<{ anomaly: Anomaly; obj: KubeObject | undefined }[]> {
  const { anomalies } = await scanCluster(client, Config.with({}), Date.now() + HOUR);
  return anomalies.map((anomaly) => ({
    anomaly,
    obj: PLURAL[anomaly.kind] ? sim.store.get(PLURAL[anomaly.kind]!, anomaly.namespace || undefined, anomaly.name) : undefined,
  }));
}

function expectConsistent(seen: { anomaly: Anomaly; obj: KubeObject | undefined }[]): void {
  const bad = seen.flatMap(({ anomaly, obj }) =>
    countProblems(anomaly, obj).map((p) => `${anomaly.kind} ${anomaly.name} ${anomaly.reason}: ${p}\n  ${anomaly.message}`),
  );
  expect(bad).toEqual([]);
}

describe("rule messages state counts that are true and add up", () => {
  test("the checker catches the contradiction it is for (control)", () => {
    const dep = {
      kind: "Deployment",
      metadata: { name: "w" },
      spec: { replicas: 1 },
      status: { replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 1 },
    } as KubeObject;
    const anomaly = {
      kind: "Deployment",
      name: "w",
      reason: "UnavailableReplica",
      message: "Deployment has 1 of 1 replicas unavailable (1 ready) for 5m.",
    } as Anomaly;
    expect(countProblems(anomaly, dep).length).toBeGreaterThan(0);
    expect(countProblems({ ...anomaly, message: "Deployment has 3 of 2 replicas unavailable (0 ready)." }, dep).length).toBeGreaterThan(0);
  });

  test("real-world fixtures", async () => {
    for (const f of readdirSync(REAL_WORLD).filter((n) => n.endsWith(".json")))
      sim.store.create(JSON.parse(readFileSync(join(REAL_WORLD, f), "utf8")));
    const seen = await judged();
    expectConsistent(seen);
    // The rollouts are reported, in words that hold: two revisions, more Pods than desired.
    const surge = seen.find((s) => s.anomaly.name === "comcast-microservice" && s.anomaly.reason === "UnavailableReplica")?.anomaly.message;
    expect(surge).toContain("rollout has not finished");
    expect(surge).toMatch(/\(wants 2 replicas\): 1 updated, 2 old still running; 3 of 3 Pods unavailable .*, 0 ready\./);
    const old = seen.find((s) => s.anomaly.name === "pykube-surge" && s.anomaly.reason === "UnavailableReplica")?.anomaly.message;
    expect(old).toContain("1 of 2 replicas unavailable (1 ready)");
  });

  test("the demo story, step by step", async () => {
    seedHealthyCluster(sim.store);
    let reported = 0;
    for (const step of demoStory(sim.store)) {
      step.apply();
      const seen = await judged();
      reported += seen.length;
      expectConsistent(seen);
    }
    expect(reported).toBeGreaterThan(0);
  });

  for (const replicas of [1, 2]) {
    test(`a stuck rollout of ${replicas} replica(s): the new Pod is unavailable while the old ones serve`, async () => {
      seedHealthyCluster(sim.store, { deployments: 1, replicasPerDeployment: replicas });
      const name = sim.store.list("deployments")[0]!.metadata.name;
      stuckRollout(sim.store, "default", name);
      const seen = await judged();
      expectConsistent(seen);
      const message = seen.find((s) => s.anomaly.name === name && s.anomaly.reason === "UnavailableReplica")?.anomaly.message;
      expect(message).toContain(
        `rollout has not finished (wants ${replicas === 1 ? "1 replica" : "2 replicas"}): 1 updated, ${replicas} old still running`,
      );
      expect(message).toMatch(new RegExp(`; 1 of ${replicas + 1} Pods unavailable .*, ${replicas} ready\\.`));
      expect(seen.some((s) => s.anomaly.name === name && s.anomaly.reason === "ProgressDeadlineExceeded")).toBe(true);
    });
  }
});

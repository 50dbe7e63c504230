// Node self-healing against the HTTPS simulator with dead-node semantics (issue 13's acceptance list):
// cordon, drain honouring a PDB, DaemonSet and unmanaged pods untouched, release (force delete < 1.28,
// out-of-service taint ≥ 1.28) with the StatefulSet pod recreated elsewhere, recovery, an operator's cordon
// kept, every limit, dry-run without any write, and a failover mid-drain. A fake clock drives the durations.
import { afterEach, describe, expect, test } from "bun:test";
import { HEALING_ANNOTATION } from "../../src/healing/annotation.ts";
import { nodeNotReady, nodeReady } from "../../src/sim/injectors.ts";
import { waitFor } from "../../testkit/wait.ts";
import { barePod, type HealingCluster, newJournal, pdb, S, startHealingCluster, TEST_SETTINGS, V1_27, workload } from "../support/healing-cluster.ts";

const DEAD = "pi-node-3";
let cluster: HealingCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const state = (c: HealingCluster, node: string) => JSON.parse(c.node(node).metadata.annotations?.[HEALING_ANNOTATION] ?? "null");
const steps = (records: { step: string; outcome: string; target: { name: string } }[]) =>
  records.map((r) => `${r.step}:${r.outcome}:${r.target.name}`);

function seedDeadNodeWorkloads(c: HealingCluster) {
  workload(c.store, "ReplicaSet", "web", DEAD, 1);
  workload(c.store, "ReplicaSet", "db", DEAD, 1);
  pdb(c.store, "db-pdb", "db", 1);
  workload(c.store, "StatefulSet", "store", DEAD, 1);
  workload(c.store, "DaemonSet", "agent", DEAD, 1);
  barePod(c.store, "bare", DEAD);
}

describe("healing on the simulator", () => {
  test("cordon → drain (PDB waits, DaemonSet and unmanaged untouched) → force release < 1.28 → StatefulSet recreated → uncordon", async () => {
    const c = (cluster = await startHealingCluster(5, V1_27));
    seedDeadNodeWorkloads(c);
    const { engine, records } = c.engine();
    nodeNotReady(c.store, DEAD);
    c.advance(30 * S);
    await engine.tick();
    expect(c.node(DEAD).spec.unschedulable).toBeUndefined(); // not past HEALING_NODE_NOTREADY_AFTER yet
    expect(records).toHaveLength(0);

    c.advance(31 * S);
    await engine.tick();
    expect(c.node(DEAD).spec.unschedulable).toBe(true);
    expect(state(c, DEAD)).toMatchObject({ phase: "cordoned", cordonedByUs: true, pods: 3 });
    expect(c.pod("default", "web-0x")?.metadata.deletionTimestamp).toBeTruthy(); // evicted; Terminating on the dead node
    expect(c.pod("default", "store-0")?.metadata.deletionTimestamp).toBeTruthy();
    expect(c.pod("default", "db-0x")?.metadata.deletionTimestamp).toBeUndefined(); // its PDB said no (429)
    expect(c.pod("default", "agent-0x")?.metadata.deletionTimestamp).toBeUndefined();
    expect(c.pod("default", "bare")?.metadata.deletionTimestamp).toBeUndefined();
    const web = await waitFor(() => c.store.list("pods", "default").find((p) => p.metadata.name.startsWith("web-") && !p.metadata.deletionTimestamp));
    expect(web.spec.nodeName).not.toBe(DEAD);
    expect(steps(records)).toEqual(
      expect.arrayContaining([
        "cordon:done:pi-node-3",
        "evict:done:web-0x",
        "evict:done:store-0",
        "evict-waiting:waiting:db-0x",
        "drained:waiting:pi-node-3",
      ]),
    );
    const summary = records.find((r) => r.step === "drained")!;
    expect(summary.summary).toBe("Node pi-node-3 cordoned and drained: 2 pods evicted, 1 waiting on PDB db-pdb");
    expect(summary.announce).toBe(true);

    // The budget allows it now: the next try (after the backoff) evicts it.
    c.store.mutate("poddisruptionbudgets", "default", "db-pdb", (o) => {
      o.spec.minAvailable = 0;
    });
    c.advance(5 * S);
    await engine.tick();
    expect(c.pod("default", "db-0x")?.metadata.deletionTimestamp).toBeTruthy();

    // Still dead past HEALING_FORCE_AFTER: force delete (1.27 has no out-of-service taint) → recreated elsewhere.
    expect(c.pod("default", "store-0")?.spec.nodeName).toBe(DEAD);
    c.advance(300 * S);
    await engine.tick();
    const store0 = await waitFor(() => {
      const p = c.pod("default", "store-0");
      return p && p.spec.nodeName !== DEAD ? p : undefined;
    });
    expect(store0.metadata.deletionTimestamp).toBeUndefined();
    expect(c.pod("default", "agent-0x")).toBeDefined(); // DaemonSet pod never touched
    expect(c.pod("default", "bare")).toBeDefined(); // no controller: never deleted without HEALING_DRAIN_UNMANAGED
    expect(state(c, DEAD).phase).toBe("released");
    expect(
      records
        .filter((r) => r.step === "force-delete")
        .map((r) => r.target.name)
        .sort(),
    ).toEqual(["db-0x", "store-0", "web-0x"]);

    nodeReady(c.store, DEAD);
    c.advance(10 * S);
    await engine.tick();
    expect(c.node(DEAD).spec.unschedulable).toBe(true); // not Ready for HEALING_UNCORDON_AFTER yet
    c.advance(25 * S);
    await engine.tick();
    expect(c.node(DEAD).spec.unschedulable).toBeFalsy();
    expect(state(c, DEAD).phase).toBe("recovered");
    // Every decision once: no id twice.
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  });

  test("≥ 1.28: the out-of-service taint releases the pods and is removed on recovery", async () => {
    const c = (cluster = await startHealingCluster(5));
    workload(c.store, "StatefulSet", "store", DEAD, 1);
    const { engine, records } = c.engine();
    nodeNotReady(c.store, DEAD);
    c.advance(61 * S);
    await engine.tick();
    c.advance(301 * S);
    await engine.tick();
    const taints = () => (c.node(DEAD).spec.taints ?? []).map((t: { key: string }) => t.key);
    expect(taints()).toContain("node.kubernetes.io/out-of-service");
    await waitFor(() => c.pod("default", "store-0")?.spec.nodeName !== DEAD && c.pod("default", "store-0"));
    expect(records.find((r) => r.step === "release")?.detail?.method).toBe("out-of-service-taint");
    nodeReady(c.store, DEAD);
    c.advance(31 * S);
    await engine.tick();
    expect(taints()).not.toContain("node.kubernetes.io/out-of-service");
    expect(c.node(DEAD).spec.unschedulable).toBeFalsy();
  });

  test("HEALING_FORCE_AFTER=0: a StatefulSet pod on a dead node is never released", async () => {
    const c = (cluster = await startHealingCluster(5, V1_27));
    workload(c.store, "StatefulSet", "store", DEAD, 1);
    const { engine, records } = c.engine({ forceAfterMs: 0 });
    nodeNotReady(c.store, DEAD);
    c.advance(61 * S);
    await engine.tick();
    c.advance(3600 * S);
    await engine.tick();
    expect(c.pod("default", "store-0")?.spec.nodeName).toBe(DEAD);
    expect(c.pod("default", "store-0")?.metadata.deletionTimestamp).toBeTruthy();
    expect(records.some((r) => r.step === "force-delete" || r.step === "release")).toBe(false);
  });

  test("an operator's cordon is kept: drained, but never uncordoned by us", async () => {
    const c = (cluster = await startHealingCluster(5, V1_27));
    workload(c.store, "ReplicaSet", "web", DEAD, 1);
    c.store.mutate("nodes", undefined, DEAD, (n) => {
      n.spec.unschedulable = true;
    });
    const { engine } = c.engine();
    nodeNotReady(c.store, DEAD);
    c.advance(61 * S);
    await engine.tick();
    expect(state(c, DEAD)).toMatchObject({ phase: "cordoned", cordonedByUs: false });
    expect(c.pod("default", "web-0x")?.metadata.deletionTimestamp).toBeTruthy();
    nodeReady(c.store, DEAD);
    c.advance(31 * S);
    await engine.tick();
    expect(state(c, DEAD).phase).toBe("recovered");
    expect(c.node(DEAD).spec.unschedulable).toBe(true);
  });
});

describe("healing limits", () => {
  test("3 of 5 nodes down: no node or pod written, one refusal that says why", async () => {
    const c = (cluster = await startHealingCluster(5));
    for (const n of ["pi-node-3", "pi-node-4", "pi-node-5"]) nodeNotReady(c.store, n);
    workload(c.store, "ReplicaSet", "web", "pi-node-3", 1);
    const { engine, records } = c.engine();
    c.advance(61 * S);
    const before = c.workloadVersions(); // healing's own ConfigMap (told ids) may change, nodes and pods not
    await engine.tick();
    c.advance(10 * S);
    await engine.tick();
    expect(c.workloadVersions()).toEqual(before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ step: "refused-min-healthy", outcome: "refused", announce: true, target: { kind: "Cluster" } });
    expect(records[0]!.reason).toContain("HEALING_MIN_HEALTHY_PERCENT: 2 of 5 nodes Ready");
  });

  test("a refusal told by one leader is not told again by the next (ids shared in the healing ConfigMap)", async () => {
    const c = (cluster = await startHealingCluster(5));
    for (const n of ["pi-node-3", "pi-node-4", "pi-node-5"]) nodeNotReady(c.store, n);
    c.advance(61 * S);
    const first = c.engine();
    await first.engine.tick();
    expect(steps(first.records)).toEqual(["refused-min-healthy:refused:test"]);
    const next = c.engine(TEST_SETTINGS, { journal: newJournal().journal });
    await next.engine.tick();
    expect(next.records).toEqual([]);
    // A new condition (another set of nodes down) is told by the new leader.
    nodeReady(c.store, "pi-node-5");
    nodeNotReady(c.store, "pi-node-5");
    nodeNotReady(c.store, "pi-node-2");
    await next.engine.tick();
    expect(steps(next.records)).toEqual(["refused-min-healthy:refused:test"]);
  });

  test("two nodes failing at once: one at a time, the other waits (told once)", async () => {
    const c = (cluster = await startHealingCluster(5));
    nodeNotReady(c.store, "pi-node-4");
    c.advance(1 * S);
    nodeNotReady(c.store, "pi-node-5");
    const { engine, records } = c.engine();
    c.advance(61 * S);
    await engine.tick();
    await engine.tick();
    expect(c.node("pi-node-4").spec.unschedulable).toBe(true);
    expect(c.node("pi-node-5").spec.unschedulable).toBeUndefined();
    expect(steps(records).filter((s) => s.startsWith("waiting-max-concurrent"))).toEqual(["waiting-max-concurrent:waiting:pi-node-5"]);
  });

  test("the last schedulable node, a control-plane node and an excluded node are never cordoned", async () => {
    const c = (cluster = await startHealingCluster(3));
    // pi-node-1 is the control plane; pi-node-2 excluded by label; pi-node-3 is the only other schedulable one.
    c.store.mutate("nodes", undefined, "pi-node-2", (n) => {
      n.metadata.labels = { ...n.metadata.labels, "neurocontroller.io/healing": "disabled" };
    });
    nodeNotReady(c.store, "pi-node-1");
    nodeNotReady(c.store, "pi-node-2");
    const { engine, records } = c.engine({ minHealthyPercent: 0 });
    c.advance(61 * S);
    const before = c.workloadVersions(); // healing's own ConfigMap (told ids) may change, nodes and pods not
    await engine.tick();
    expect(c.workloadVersions()).toEqual(before);
    expect(steps(records).sort()).toEqual(["refused-control-plane:refused:pi-node-1", "refused-excluded:refused:pi-node-2"]);
    // The only Ready node cordoned by an operator: pi-node-3 down too would leave nothing schedulable.
    const one = await startHealingCluster(2);
    try {
      nodeNotReady(one.store, "pi-node-2");
      const e = one.engine({ minHealthyPercent: 0, controlPlane: true });
      one.store.mutate("nodes", undefined, "pi-node-1", (n) => {
        n.spec.unschedulable = true;
      });
      one.advance(61 * S);
      await e.engine.tick();
      expect(steps(e.records)).toEqual(["refused-last-schedulable:refused:pi-node-2"]);
      expect(one.node("pi-node-2").spec.unschedulable).toBeUndefined();
    } finally {
      await one.stop();
    }
  });

  test("dry-run makes no write at all (not even our ConfigMap) yet announces the same decisions", async () => {
    const c = (cluster = await startHealingCluster(5, V1_27));
    seedDeadNodeWorkloads(c);
    nodeNotReady(c.store, DEAD);
    const { engine, records } = c.engine({ mode: "dry-run" });
    c.advance(61 * S);
    const rv = c.store.resourceVersion();
    await engine.tick();
    await engine.tick();
    c.advance(301 * S);
    await engine.tick();
    expect(c.store.resourceVersion()).toBe(rv);
    expect(records.every((r) => r.mode === "dry-run" && r.summary.startsWith("[dry-run]"))).toBe(true);
    expect(steps(records)).toEqual(
      expect.arrayContaining([
        "cordon:planned:pi-node-3",
        "evict:planned:web-0x",
        "evict:planned:db-0x",
        "evict:planned:store-0",
        "force-delete:planned:store-0",
      ]),
    );
    expect(steps(records).some((s) => s.includes("agent") || s.includes("bare"))).toBe(false);
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  });

  test("paused: refused once, nothing written", async () => {
    const c = (cluster = await startHealingCluster(5));
    nodeNotReady(c.store, DEAD);
    const { engine, records } = c.engine({}, { pause: () => ({ paused: true, by: "alice", at: "2026-03-01T09:00:00Z" }) });
    c.advance(61 * S);
    const before = c.workloadVersions(); // healing's own ConfigMap (told ids) may change, nodes and pods not
    await engine.tick();
    await engine.tick();
    expect(c.workloadVersions()).toEqual(before);
    expect(steps(records)).toEqual(["healing-pause:done:test", "refused-paused:refused:pi-node-3"]);
    expect(records[0]).toMatchObject({ source: "operator", actor: "alice", announce: true });
  });
});

describe("failover mid-drain", () => {
  test("the new leader resumes from the annotation: no eviction repeated, no second node started", async () => {
    const c = (cluster = await startHealingCluster(5, V1_27));
    for (const n of ["a", "b", "c", "d"]) workload(c.store, "ReplicaSet", n, DEAD, 1);
    nodeNotReady(c.store, DEAD);
    c.advance(1 * S);
    nodeNotReady(c.store, "pi-node-4");
    c.advance(61 * S);
    let writes = 0;
    // The first leader loses its lease after the cordon and one eviction.
    const first = c.engine(TEST_SETTINGS, { stillLeading: () => writes++ < 2 });
    await first.engine.tick();
    expect(steps(first.records)).toEqual(["cordon:done:pi-node-3", "evict:done:a-0x"]);
    const second = c.engine(TEST_SETTINGS, { journal: newJournal().journal });
    await second.engine.tick();
    const evicted = second.records.filter((r) => r.step === "evict").map((r) => r.target.name);
    expect(evicted.sort()).toEqual(["b-0x", "c-0x", "d-0x"]);
    expect(second.records.some((r) => r.step === "cordon")).toBe(false);
    expect(c.node("pi-node-4").spec.unschedulable).toBeUndefined();
    expect(steps(second.records)).toContain("waiting-max-concurrent:waiting:pi-node-4");
  });
});

describe("heal CLI", () => {
  test("heal pause is persisted in the cluster and stops the engine; heal resume lets it act; heal status shows the node", async () => {
    const { HealingPauseStore } = await import("../../src/healing/pause.ts");
    const c = (cluster = await startHealingCluster(5));
    const env = { ...process.env, NEURO_STATE_DIR: "/tmp", NEURO_LOG_DIR: "/tmp" };
    // Async: the simulator runs in this process and must keep answering while the CLI waits on it.
    const cli = async (...a: string[]) => {
      const p = Bun.spawn(["bun", "src/main.ts", "heal", ...a, "--kubeconfig", c.sim.kubeconfig()], { env, stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { code, out, err };
    };
    expect((await cli("pause", "--reason", "maintenance")).code).toBe(0);
    const store = new HealingPauseStore(c.client, "kube-system", "neurocontroller-healing");
    nodeNotReady(c.store, DEAD);
    const records: { step: string }[] = [];
    const withStore = new (await import("../../src/healing/engine.ts")).HealingEngine({
      client: c.client,
      record: (r) => records.push(r) > 0,
      settings: TEST_SETTINGS,
      clusterId: "test",
      logger: (await import("../../src/log.ts")).silentLogger,
      clock: () => c.clock.now,
      readShared: () => store.readShared(),
      stillLeading: () => true,
    });
    c.advance(61 * S);
    await withStore.tick();
    expect(c.node(DEAD).spec.unschedulable).toBeUndefined();
    expect(records.map((r) => r.step)).toEqual(["healing-pause", "refused-paused"]);
    expect((await cli("resume")).code).toBe(0);
    await withStore.tick();
    expect(c.node(DEAD).spec.unschedulable).toBe(true);
    const status = await cli("status", "--json");
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.out);
    expect(parsed).toMatchObject({ mode: "dry-run", paused: false, nodes: [{ node: DEAD, phase: "cordoned", cordonedByUs: true }] });
  }, 30_000);
});

// The controller survives what edge clusters do to it: the API server going away and coming back,
// watch streams expiring (410) or failing (500), and its own restart — reporting each anomaly once. Against the
// simulator and a real kube-apiserver (test/support/cluster.ts); the HTTP 500 fault exists only in the simulator.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { crashLoopPod, healPod, nodeNotReady, seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";
import { CLUSTER_CASES, startCluster, type Cluster } from "../support/cluster.ts";
import { ControllerProcess, count } from "../support/controller.ts";
import { waitFor } from "../../testkit/wait.ts";

for (const { cluster: kind, flavor } of CLUSTER_CASES) {
  describe(`recovery (${kind}, ${flavor})`, () => {
    let cluster: Cluster;
    let seeded: SeededCluster;
    let ctl: ControllerProcess;

    beforeAll(async () => {
      cluster = await startCluster(kind);
      seeded = seedHealthyCluster(cluster.store, { nodes: 3, deployments: 4, replicasPerDeployment: 2 });
      await cluster.settle();
      ctl = await ControllerProcess.start(flavor, cluster.kubeconfig(), { LEADER_ELECTION: "true", ...cluster.env });
      await ctl.ready();
      await waitFor(async () => (await ctl.metric("neurocontroller_is_leader")) === 1, { message: "leadership" });
    });
    afterAll(async () => {
      await ctl?.stop();
      await cluster?.stop();
    });

    test("API server killed and restarted: outage reported, informers recover, a change made meanwhile is logged exactly once", async () => {
      const pod = seeded.deployments[1]!.pods[0]!;
      await cluster.stopApi();
      await ctl.line({ kind: "Cluster", reason: "APIServerUnreachable", status: "firing" });
      crashLoopPod(cluster.store, "default", pod); // happens while the controller cannot see it
      await cluster.startApi();
      await ctl.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" });
      await ctl.line({ kind: "Cluster", reason: "APIServerUnreachable", status: "resolved" });
      await waitFor(async () => (await ctl.metric("neurocontroller_is_leader")) === 1, { message: "leadership regained" });
      const restarts = await ctl.metric("neurocontroller_informer_restarts_total");
      expect(restarts ?? 0).toBeGreaterThan(0);
      // a later write cycle must not repeat it
      healPod(cluster.store, "default", pod);
      await ctl.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "resolved" });
      expect(count(ctl.lines(), { name: pod, reason: "CrashLoopBackOff", status: "firing" })).toBe(1);
    });

    test("watch history compacted (410 Gone): the informer relists and sees the change", async () => {
      const pod = seeded.deployments[2]!.pods[1]!;
      await cluster.expireWatches(); // re-watch from an RV that is now too old → 410 → relist
      crashLoopPod(cluster.store, "default", pod);
      await ctl.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" });
      healPod(cluster.store, "default", pod);
      await ctl.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "resolved" });
    });

    // A fault hook only the simulator has: a real kube-apiserver cannot be told to answer a watch with 500.
    (kind === "simulator" ? test : test.skip)("watch answered with HTTP 500: the informer restarts with backoff and sees the change", async () => {
      const node = seeded.nodes[1]!;
      const before = (await ctl.metric("neurocontroller_informer_restarts_total")) ?? 0;
      cluster.sim!.faults.failNext(/watch/, 500, 3);
      cluster.sim!.faults.closeWatches();
      nodeNotReady(cluster.store, node);
      await ctl.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" });
      expect((await ctl.metric("neurocontroller_informer_restarts_total")) ?? 0).toBeGreaterThan(before);
    });

    test("controller restarted: nothing already logged is repeated; what changed while it was down is logged once", async () => {
      const node = seeded.nodes[1]!; // still NotReady from the previous test (which runs against the simulator only)
      if (kind !== "simulator") {
        nodeNotReady(cluster.store, node);
        await ctl.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" });
      }
      const podDown = seeded.deployments[3]!.pods[0]!;
      expect(await ctl.stop("SIGTERM")).toBe(0);
      const linesBefore = ctl.lines().length;
      crashLoopPod(cluster.store, "default", podDown);
      const restarted = new ControllerProcess(flavor, ctl.kubeconfig, ctl.port, ctl.env, { logDir: ctl.logDir, stateDir: ctl.stateDir });
      restarted.spawn();
      ctl = restarted;
      await ctl.ready();
      await ctl.line({ kind: "Pod", name: podDown, reason: "CrashLoopBackOff", status: "firing" });
      await waitFor(async () => ((await ctl.metric("neurocontroller_log_lines_written_total")) ?? 0) > 0, { message: "a write cycle after restart" });
      const lines = ctl.lines();
      expect(count(lines, { kind: "Node", name: node, reason: "NodeNotReady", status: "firing" })).toBe(1);
      expect(count(lines.slice(linesBefore), { status: "firing", kind: "Pod", name: podDown })).toBeGreaterThanOrEqual(1);
      // across the restart every key's lines still alternate firing/resolved: nothing was repeated
      const last = new Map<string, string>();
      for (const l of lines) {
        const key = `${l.kind}/${l.namespace}/${l.name}/${l.reason}`;
        expect(`${key} ${l.status}`).not.toBe(`${key} ${last.get(key)}`);
        last.set(key, l.status);
      }
    });
  });
}

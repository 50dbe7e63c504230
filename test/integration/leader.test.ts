// Two controllers against one cluster: exactly one is active; when it dies the standby takes over
// within the lease time and does not repeat what the first one already logged. Against the simulator and a real
// kube-apiserver (test/support/cluster.ts: the Lease through coordination.k8s.io/v1 under deploy/rbac.yaml).
import { afterAll, describe, expect, test } from "bun:test";
import { crashLoopPod, nodeNotReady, seedHealthyCluster } from "../../src/sim/kit.ts";
import { CLUSTER_CASES, startCluster } from "../support/cluster.ts";
import { ControllerProcess, count, FAST_ENV, type LogLine } from "../support/controller.ts";
import { waitFor } from "../../testkit/wait.ts";

const leaseMs = 3000; // FAST_ENV.LEADER_LEASE_DURATION
const retryMs = 500; // FAST_ENV.LEADER_RETRY_PERIOD

for (const { cluster: kind, flavor } of CLUSTER_CASES) {
  describe(`leader election (${kind}, ${flavor})`, () => {
    const started: ControllerProcess[] = [];
    const stops: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const c of started) c.proc.kill("SIGKILL");
      for (const s of stops) await s();
    });

    test("one leads, the standby takes over after the leader is killed, nothing is logged twice", async () => {
      expect(FAST_ENV.LEADER_LEASE_DURATION).toBe(`${leaseMs / 1000}s`);
      const cluster = await startCluster(kind);
      stops.push(() => cluster.stop());
      const seeded = seedHealthyCluster(cluster.store, { nodes: 3, deployments: 3, replicasPerDeployment: 2 });
      await cluster.settle();
      const ns = cluster.leaderNamespace;
      const lease = () => cluster.get(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/neurocontroller`);
      const env = { LEADER_ELECTION: "true", LEADER_IDENTITY: "", ...cluster.env };
      const a = await ControllerProcess.start(flavor, cluster.kubeconfig(), { ...env, LEADER_IDENTITY: "node-a" });
      const b = await ControllerProcess.start(flavor, cluster.kubeconfig(), { ...env, LEADER_IDENTITY: "node-b" });
      started.push(a, b);
      await Promise.all([a.ready(), b.ready()]);

      const leaderFlags = async () => [await a.metric("neurocontroller_is_leader"), await b.metric("neurocontroller_is_leader")];
      const flags = await waitFor(
        async () => {
          const f = await leaderFlags();
          return f[0]! + f[1]! === 1 ? f : undefined;
        },
        { message: "exactly one leader" },
      );
      const [leader, standby] = flags[0] === 1 ? [a, b] : [b, a];
      expect((await lease()).spec.holderIdentity).toBe(leader === a ? "node-a" : "node-b");

      const pod = seeded.deployments[1]!.pods[0]!;
      crashLoopPod(cluster.store, "default", pod);
      await leader.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" });
      // the leader publishes what it logged before the standby could need it
      await waitFor(
        async () =>
          (await cluster.get(`/api/v1/namespaces/${ns}/configmaps/neurocontroller-state`))?.data?.["logged.json"]?.includes(
            `Pod/default/${pod}/CrashLoopBackOff`,
          ),
        {
          message: "shared logged state",
        },
      );
      expect(standby.lines()).toEqual([]); // a standby evaluates but never writes

      leader.proc.kill("SIGKILL"); // a crash: the lease is not released
      await waitFor(async () => (await standby.metric("neurocontroller_is_leader")) === 1, {
        timeoutMs: leaseMs + 4 * retryMs + 10_000,
        message: "standby takes over",
      });
      const node = seeded.nodes[0]!;
      nodeNotReady(cluster.store, node);
      await standby.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" });

      const all: LogLine[] = [...leader.lines(), ...standby.lines()];
      expect(count(all, { kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" })).toBe(1);
      expect(count(all, { kind: "Node", name: node, reason: "NodeNotReady", status: "firing" })).toBe(1);
      const keys = all.filter((l) => l.status === "firing").map((l) => `${l.kind}/${l.namespace}/${l.name}/${l.reason}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect((await lease()).spec.holderIdentity).toBe(standby === a ? "node-a" : "node-b");
    });
  });
}

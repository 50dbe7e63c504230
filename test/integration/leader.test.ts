// Two controllers against one cluster: exactly one is active; when it dies the standby takes over
// within the lease time and does not repeat what the first one already logged.
import { afterAll, describe, expect, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import { crashLoopPod, nodeNotReady, seedHealthyCluster } from "../../src/sim/kit.ts";
import { ControllerProcess, count, FAST_ENV, FLAVORS, type LogLine } from "../support/controller.ts";
import { waitFor } from "../../testkit/wait.ts";

const leaseMs = 3000; // FAST_ENV.LEADER_LEASE_DURATION
const retryMs = 500; // FAST_ENV.LEADER_RETRY_PERIOD

for (const flavor of FLAVORS) {
  describe(`leader election (${flavor})`, () => {
    const started: ControllerProcess[] = [];
    const stops: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const c of started) c.proc.kill("SIGKILL");
      for (const s of stops) await s();
    });

    test("one leads, the standby takes over after the leader is killed, nothing is logged twice", async () => {
      expect(FAST_ENV.LEADER_LEASE_DURATION).toBe(`${leaseMs / 1000}s`);
      const sim = await startSimulator({ tls: true, clientCertAuth: true });
      stops.push(() => sim.stop());
      const seeded = seedHealthyCluster(sim.store, { nodes: 3, deployments: 3, replicasPerDeployment: 2 });
      const env = { LEADER_ELECTION: "true", LEADER_IDENTITY: "" };
      const a = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...env, LEADER_IDENTITY: "node-a" });
      const b = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...env, LEADER_IDENTITY: "node-b" });
      started.push(a, b);
      await Promise.all([a.ready(), b.ready()]);

      const leaderFlags = async () => [await a.metric("neurocontroller_is_leader"), await b.metric("neurocontroller_is_leader")];
      const flags = await waitFor(async () => {
        const f = await leaderFlags();
        return f[0]! + f[1]! === 1 ? f : undefined;
      }, { message: "exactly one leader" });
      const [leader, standby] = flags[0] === 1 ? [a, b] : [b, a];
      const lease = sim.store.get("leases", "kube-system", "neurocontroller")!;
      expect(lease.spec.holderIdentity).toBe(leader === a ? "node-a" : "node-b");

      const pod = seeded.deployments[1]!.pods[0]!;
      crashLoopPod(sim.store, "default", pod);
      await leader.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" });
      // the leader publishes what it logged before the standby could need it
      await waitFor(() => sim.store.get("configmaps", "kube-system", "neurocontroller-state")?.data?.["logged.json"]?.includes(`Pod/default/${pod}/CrashLoopBackOff`), {
        message: "shared logged state",
      });
      expect(standby.lines()).toEqual([]); // a standby evaluates but never writes

      leader.proc.kill("SIGKILL"); // a crash: the lease is not released
      await waitFor(async () => (await standby.metric("neurocontroller_is_leader")) === 1, {
        timeoutMs: leaseMs + 4 * retryMs + 10_000,
        message: "standby takes over",
      });
      const node = seeded.nodes[0]!;
      nodeNotReady(sim.store, node);
      await standby.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" });

      const all: LogLine[] = [...leader.lines(), ...standby.lines()];
      expect(count(all, { kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" })).toBe(1);
      expect(count(all, { kind: "Node", name: node, reason: "NodeNotReady", status: "firing" })).toBe(1);
      const keys = all.filter((l) => l.status === "firing").map((l) => `${l.kind}/${l.namespace}/${l.name}/${l.reason}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(sim.store.get("leases", "kube-system", "neurocontroller")!.spec.holderIdentity).toBe(standby === a ? "node-a" : "node-b");
    });
  });
}

// Two LeaderElectors on one Lease in the simulator: exactly one leads; hand-over on release and on crash.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { KubeClient } from "../../src/kube/client.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import { LeaderElector } from "../../src/kube/leader.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { start } from "../sim/helpers.ts";
import { waitFor } from "../../testkit/wait.ts";

const LEASE_MS = 1500; // written as leaseDurationSeconds 2 (whole seconds, rounded up)
const RENEW_MS = 1000;
const RETRY_MS = 200;
/** Hand-over bound after a crash: the record's lease (2 s) + a retry period with jitter + margin. */
const TAKEOVER_MS = 2000 + 2 * RETRY_MS * 1.2 + 1000;

let sim: Simulator;
let client: KubeClient;
const electors: LeaderElector[] = [];
let leaseN = 0;

beforeAll(async () => {
  sim = await start();
  client = new KubeClient(loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!);
});
afterEach(async () => {
  sim.faults.reset();
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});
afterAll(() => sim.stop());

function pair() {
  const name = `neuro-${++leaseN}`;
  const log: string[] = [];
  const make = (identity: string) => {
    const e = new LeaderElector(client, {
      name,
      namespace: "kube-system",
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: RENEW_MS,
      retryPeriodMs: RETRY_MS,
      onStartedLeading: ({ resumed }) => log.push(`${identity}:start${resumed ? ":resumed" : ""}`),
      onStoppedLeading: (why) => log.push(`${identity}:stop:${why}`),
      onNewLeader: (id) => log.push(`${identity}:sees:${id}`),
    });
    electors.push(e);
    return e;
  };
  const a = make("node-a");
  const b = make("node-b");
  const lease = () => sim.store.get("leases", "kube-system", name);
  return { a, b, log, lease };
}

describe("LeaderElector against the simulator", () => {
  test("exactly one of two leads, and keeps leading while it renews", async () => {
    const { a, b, lease, log } = pair();
    a.start();
    b.start();
    await waitFor(() => a.isLeader || b.isLeader);
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    const holder = leader === a ? "node-a" : "node-b";
    expect(lease()!.spec.holderIdentity).toBe(holder);
    expect(lease()!.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(lease()!.spec.leaseDurationSeconds).toBe(2);
    await waitFor(() => standby.leader === holder);
    // Several renewals later: still one leader, the same one.
    const renewedFrom = leader.stats.renewals;
    await waitFor(() => leader.stats.renewals >= renewedFrom + 5, { timeoutMs: 5000 });
    expect(leader.isLeader).toBe(true);
    expect(standby.isLeader).toBe(false);
    expect(log.filter((l) => l.endsWith(":start"))).toHaveLength(1);
  });

  test("stop() releases the lease: the standby takes over at its next retry", async () => {
    const { a, b, lease } = pair();
    a.start();
    await waitFor(() => a.isLeader);
    b.start();
    await waitFor(() => b.leader === "node-a");
    const transitions = lease()!.spec.leaseTransitions;
    await a.stop();
    expect(a.isLeader).toBe(false);
    // Released: holder cleared, no need to wait out the lease.
    await waitFor(() => b.isLeader, { timeoutMs: RETRY_MS * 1.2 + 1000 });
    expect(lease()!.spec.holderIdentity).toBe("node-b");
    expect(lease()!.spec.leaseTransitions).toBe(transitions + 1);
  });

  test("a crashed leader (stops renewing, no release) is replaced after the lease expires", async () => {
    const { a, b, lease } = pair();
    a.start();
    await waitFor(() => a.isLeader);
    b.start();
    await waitFor(() => b.leader === "node-a");
    await a.stop({ release: false });
    expect(lease()!.spec.holderIdentity).toBe("node-a");
    await waitFor(() => b.isLeader, { timeoutMs: TAKEOVER_MS, message: "standby did not take over within lease + retry" });
    expect(lease()!.spec.holderIdentity).toBe("node-b");
  });

  test("a leader that cannot renew steps down within renewDeadline, and the other takes over", async () => {
    const { a, b, log } = pair();
    a.start();
    await waitFor(() => a.isLeader);
    b.start();
    await waitFor(() => b.leader === "node-a");
    // Only node-a's renewals fail: its PUTs are refused (the standby never PUTs while the lease is valid).
    sim.faults.failNext(/^PUT \/apis\/coordination.k8s.io/, 500, 1000);
    await waitFor(() => !a.isLeader, { timeoutMs: RENEW_MS + 2 * RETRY_MS + 1000 });
    expect(log).toContain("node-a:stop:deadline");
    sim.faults.reset();
    await waitFor(() => a.isLeader !== b.isLeader && (a.isLeader || b.isLeader), { timeoutMs: TAKEOVER_MS });
  });

  test("an API server restart: the leader stops acting at its renew deadline, never overlaps, and resumes its term after", async () => {
    const { a, b, log } = pair();
    a.start();
    await waitFor(() => a.isLeader);
    b.start();
    await waitFor(() => b.leader === "node-a");
    // Sample who may act every few ms for the whole test: never both.
    let both = 0;
    let samples = 0;
    const sampler = setInterval(() => {
      samples++;
      if (a.canAct() && b.canAct()) both++;
    }, 5);
    try {
      await sim.stop(); // connections refused from now on
      await waitFor(() => !a.canAct(), { timeoutMs: RENEW_MS + 1000, message: "leader stops acting at its renew deadline" });
      await waitFor(() => log.includes("node-a:stop:deadline"), { timeoutMs: 2000 });
      // Down for longer than a lease: by the record alone the standby could take over at once.
      await waitFor(() => a.stats.failures >= 8 && b.stats.failures >= 8, { timeoutMs: 10_000 });
      await sim.restart();
      await waitFor(() => a.canAct() || b.canAct(), { timeoutMs: TAKEOVER_MS + LEASE_MS, message: "a leader after the restart" });
      expect(a.isLeader).toBe(true); // the standby could not see the record for a while: it waits, the holder resumes
      expect(log).toContain("node-a:start:resumed");
      expect(log.filter((l) => l.startsWith("node-b:start"))).toEqual([]);
    } finally {
      clearInterval(sampler);
    }
    expect(samples).toBeGreaterThan(50);
    expect(both).toBe(0);
  });

  test("a stalled API server (requests hang): the leader's renewals are cut off and it stops acting at the deadline", async () => {
    const { a, b } = pair();
    a.start();
    await waitFor(() => a.isLeader);
    b.start();
    await waitFor(() => b.leader === "node-a");
    sim.faults.delayMs(60_000);
    await waitFor(() => !a.isLeader, { timeoutMs: RENEW_MS + 1000, message: "leader steps down although its renewal never answers" });
    expect(a.canAct()).toBe(false);
    expect(b.canAct()).toBe(false);
  });

  test("a leader whose lease was taken over steps down at once", async () => {
    const { a, lease } = pair();
    a.start();
    await waitFor(() => a.isLeader);
    sim.store.mutate("leases", "kube-system", lease()!.metadata.name, (l) => void (l.spec.holderIdentity = "intruder"));
    await waitFor(() => !a.isLeader, { timeoutMs: RETRY_MS * 3 + 1000 });
    expect(a.leader).toBe("intruder");
  });
});

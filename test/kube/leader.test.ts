// The leader-election algorithm step by step, with an injected clock, against an in-memory fake of
// the Lease API (FakeLeaseApi: resourceVersion checks, 404, 409 — no network).
import { describe, expect, test } from "bun:test";
import { waitFor } from "../../testkit/wait.ts";
import { LeaderElector, microTime, type Lease, type LeaseApi } from "../../src/kube/leader.ts";

class FakeApiError extends Error {
  constructor(readonly status: number) {
    super(`fake lease api: ${status}`);
  }
}

/** An in-memory fake of the Lease API with optimistic concurrency, for the algorithm tests. */
class FakeLeaseApi implements LeaseApi {
  lease?: Lease;
  rv = 1;
  failAll = false;
  writes = 0;
  async get(): Promise<Lease> {
    if (this.failAll) throw new FakeApiError(500);
    if (!this.lease) throw new FakeApiError(404);
    return structuredClone(this.lease);
  }
  async create(l: Lease): Promise<Lease> {
    if (this.failAll) throw new FakeApiError(500);
    if (this.lease) throw new FakeApiError(409);
    this.writes++;
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  async update(l: Lease): Promise<Lease> {
    if (this.failAll) throw new FakeApiError(500);
    if (!this.lease) throw new FakeApiError(404);
    if (l.metadata.resourceVersion !== this.lease.metadata.resourceVersion) throw new FakeApiError(409);
    this.writes++;
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

function setup(api: FakeLeaseApi, identity: string, clock: { t: number }) {
  const events: string[] = [];
  const e = new LeaderElector(api, {
    name: "neuro",
    namespace: "kube-system",
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    now: () => clock.t,
    onNewLeader: (id) => events.push(`new:${id}`),
  });
  return { e, events };
}

describe("LeaderElector algorithm (FakeLeaseApi, injected clock)", () => {
  test("microTime has six fractional digits", () => {
    expect(microTime(Date.UTC(2026, 10, 29, 6, 0, 0, 123))).toBe("2026-11-29T06:00:00.123000Z");
  });

  test("creates the lease when absent", async () => {
    const api = new FakeLeaseApi();
    const clock = { t: Date.UTC(2026, 10, 29, 6) };
    const { e, events } = setup(api, "a", clock);
    expect(await e.tryAcquireOrRenew()).toBe(true);
    expect(api.lease!.spec).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: "2026-11-29T06:00:00.000000Z",
      renewTime: "2026-11-29T06:00:00.000000Z",
      leaseTransitions: 0,
    });
    expect(events).toEqual(["new:a"]);
  });

  test("a standby waits a full lease from when IT observed the last change, whatever renewTime says", async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 1_000_000 };
    const a = setup(api, "a", clock).e;
    const b = setup(api, "b", { t: 0 }); // b's clock is skewed far behind: must not matter
    const bClock = { t: 5_000_000 }; // ...or far ahead
    const b2 = setup(api, "b2", bClock).e;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.e.tryAcquireOrRenew()).toBe(false);
    expect(await b2.tryAcquireOrRenew()).toBe(false); // renewTime is ~4000 s old by b2's clock, still valid
    expect(b.events).toEqual(["new:a"]);
    bClock.t += 14_999;
    expect(await b2.tryAcquireOrRenew()).toBe(false);
    bClock.t += 1; // 15 s after b2 first saw this record
    expect(await b2.tryAcquireOrRenew()).toBe(true);
    expect(api.lease!.spec!.holderIdentity).toBe("b2");
    expect(api.lease!.spec!.leaseTransitions).toBe(1);
  });

  test("a renewal restarts the standby's expiry window", async () => {
    const api = new FakeLeaseApi();
    const ca = { t: 0 };
    const cb = { t: 0 };
    const a = setup(api, "a", ca).e;
    const b = setup(api, "b", cb).e;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    ca.t = 10_000;
    cb.t = 10_000;
    expect(await a.tryAcquireOrRenew()).toBe(true); // renew: new renewTime
    expect(await b.tryAcquireOrRenew()).toBe(false); // b observes the change at 10 s
    cb.t = 24_000;
    expect(await b.tryAcquireOrRenew()).toBe(false); // 14 s after observation: still valid
    cb.t = 25_000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });

  test("renewing keeps acquireTime and leaseTransitions", async () => {
    const api = new FakeLeaseApi();
    const clock = { t: Date.UTC(2026, 0, 1) };
    const a = setup(api, "a", clock).e;
    await a.tryAcquireOrRenew();
    const acquired = api.lease!.spec!.acquireTime;
    clock.t += 2000;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(api.lease!.spec!.acquireTime).toBe(acquired);
    expect(api.lease!.spec!.renewTime).toBe(microTime(clock.t));
    expect(api.lease!.spec!.leaseTransitions).toBe(0);
  });

  test("a lease with no holder (released) is taken at once", async () => {
    const api = new FakeLeaseApi();
    api.lease = {
      metadata: { name: "neuro", namespace: "kube-system", resourceVersion: "7" },
      spec: { holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 4, renewTime: microTime(0) },
    };
    const b = setup(api, "b", { t: 0 }).e;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(api.lease!.spec!.leaseTransitions).toBe(5);
  });

  test("optimistic concurrency: of two candidates racing for an expired lease exactly one wins (409 for the other)", async () => {
    const api = new FakeLeaseApi();
    api.lease = {
      metadata: { name: "neuro", namespace: "kube-system", resourceVersion: "7" },
      spec: { holderIdentity: "", leaseDurationSeconds: 1 },
    };
    const clock = { t: 0 };
    const a = setup(api, "a", clock).e;
    const b = setup(api, "b", clock).e;
    const results = await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(a.stats.conflicts + b.stats.conflicts).toBe(1);
  });

  test("API errors are failures, not exceptions", async () => {
    const api = new FakeLeaseApi();
    api.failAll = true;
    const a = setup(api, "a", { t: 0 }).e;
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.lastError).toContain("500");
  });

  test("a leader may act only until renewDeadline after the START of its last successful write", async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 100_000 };
    const a = setup(api, "a", clock).e;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    (a as unknown as { isLeader: boolean }).isLeader = true; // as run() does after a successful acquire
    expect(a.canAct()).toBe(true);
    clock.t += 9_999;
    expect(a.canAct()).toBe(true);
    expect(a.actWindowMs()).toBe(1);
    clock.t += 1; // renewDeadline (10 s) since the acquire began: a standby could take over 5 s later
    expect(a.canAct()).toBe(false);
    expect(a.actWindowMs()).toBe(0);
    // A renewal whose answer arrives late counts from when it was sent, never from when it returned.
    clock.t = 200_000;
    class SlowAnswers extends FakeLeaseApi {
      override async update(l: Lease): Promise<Lease> {
        const written = await super.update(l);
        clock.t += 8_000; // the answer takes 8 s
        return written;
      }
    }
    const a2 = setup(new SlowAnswers(), "a", clock).e;
    expect(await a2.tryAcquireOrRenew()).toBe(true); // created (answered at once)
    clock.t += 2_000;
    expect(await a2.tryAcquireOrRenew()).toBe(true); // renewed (the update answers 8 s later)
    (a2 as unknown as { isLeader: boolean }).isLeader = true;
    expect(a2.actWindowMs()).toBe(2_000);
  });

  test("resumed: re-acquiring a lease nobody wrote since our own last write continues the term", async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 0 };
    const starts: boolean[] = [];
    const make = (identity: string) =>
      new LeaderElector(api, {
        name: "neuro",
        namespace: "kube-system",
        identity,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        now: () => clock.t,
        onStartedLeading: ({ resumed }) => starts.push(resumed),
      });
    const a = make("a");
    const internals = a as unknown as { isLeader: boolean; setLeader(on: boolean): void };
    expect(await a.tryAcquireOrRenew()).toBe(true);
    internals.setLeader(true);
    internals.setLeader(false); // the renew deadline passed (the API was away)
    clock.t += 30_000;
    expect(await a.tryAcquireOrRenew()).toBe(true); // the Lease is exactly as a left it
    internals.setLeader(true);
    internals.setLeader(false);
    // Someone else wrote the Lease in between (took it, then released it): a new term.
    const b = make("b");
    expect(await b.tryAcquireOrRenew()).toBe(false); // b first sees a's record now...
    clock.t += 15_000;
    expect(await b.tryAcquireOrRenew()).toBe(true); // ...and takes it a lease later
    api.lease!.spec!.holderIdentity = "a"; // even a record that names a again is not "untouched"
    expect(await a.tryAcquireOrRenew()).toBe(true);
    internals.setLeader(true);
    expect(starts).toEqual([false, true, false]);
  });

  test("after a blind spot (gets failing) a standby waits a full lease from its next sight of the record", async () => {
    const api = new FakeLeaseApi();
    const ca = { t: 0 };
    const cb = { t: 0 };
    const a = setup(api, "a", ca).e;
    const b = setup(api, "b", cb).e;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false); // b sees a's record at 0
    api.failAll = true; // the API server restarts
    cb.t = 5_000;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    api.failAll = false;
    cb.t = 20_000; // 20 s after b first saw the record: expired by the record alone...
    expect(await b.tryAcquireOrRenew()).toBe(false); // ...but b could not see it for a while: it waits
    cb.t = 34_999;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    cb.t = 35_000; // a never came back: b takes over a full lease after it could see again
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });

  test("an acquire slower than the renew deadline does not make a leader for no time: it renews first", async () => {
    const clock = { t: 0 };
    class SlowFirstGet extends FakeLeaseApi {
      gets = 0;
      override async get(): Promise<Lease> {
        if (++this.gets === 1) clock.t += 11_000; // the API server answers the first call after 11 s
        return super.get();
      }
    }
    const api = new SlowFirstGet();
    const events: string[] = [];
    const e = new LeaderElector(api, {
      name: "neuro",
      namespace: "kube-system",
      identity: "a",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: () => clock.t,
      onStartedLeading: () => events.push("start"),
      onStoppedLeading: (why) => events.push(`stop:${why}`),
    });
    e.start();
    await waitFor(() => e.isLeader);
    expect(e.canAct()).toBe(true);
    expect(api.writes).toBe(2); // the slow create, then the renewal that may be acted on
    await e.stop();
    expect(events).toEqual(["start", "stop:stopped"]);
  });

  test("a constructor rejects inconsistent durations", () => {
    const api = new FakeLeaseApi();
    const base = { name: "n", namespace: "ns", identity: "a", leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
    expect(() => new LeaderElector(api, { ...base, renewDeadlineMs: 15_000 })).toThrow(/leaseDuration must be greater/);
    expect(() => new LeaderElector(api, { ...base, retryPeriodMs: 10_000 })).toThrow(/renewDeadline must be greater/);
  });
});

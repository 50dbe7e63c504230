// Leader election on a coordination.k8s.io/v1 Lease, the client-go leaderelection algorithm:
// acquire when the lease is absent, released (no holder), expired, or ours; optimistic concurrency
// on metadata.resourceVersion (409 = lost the race); renew every retryPeriod; step down when no renew
// succeeded within renewDeadline; release on stop() so a standby takes over at once.
// Expiry is measured from when THIS elector observed the lease record change (local clock), never
// from the renewTime written by another node, so clock skew between Pis cannot cause two leaders.
// Never two actors: a leader may act (canAct) only until renewDeadline after the START of its last
// successful write — a standby cannot acquire before leaseDuration after it SAW that write, and
// leaseDuration > renewDeadline. Renewals are cut off at that deadline, so a stalled API server
// cannot keep a leader acting past it.
import { KubeApiError } from "./api-error.ts";
import type { KubeClient } from "./client.ts";
import { abortableSleep } from "./abortable-sleep.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** The three calls the elector needs; errors carry `status` (404 absent, 409 conflict). */
export interface LeaseApi {
  get(namespace: string, name: string, signal?: AbortSignal): Promise<Lease>;
  create(lease: Lease, signal?: AbortSignal): Promise<Lease>;
  update(lease: Lease, signal?: AbortSignal): Promise<Lease>;
}

export function kubeLeaseApi(client: KubeClient, timeoutMs?: number): LeaseApi {
  const path = (ns: string, name?: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases${name ? `/${encodeURIComponent(name)}` : ""}`;
  return {
    get: (ns, name, signal) => client.request("GET", path(ns, name), { signal, timeoutMs }),
    create: (lease, signal) => client.request("POST", path(lease.metadata.namespace!), { body: lease, signal, timeoutMs }),
    update: (lease, signal) => client.request("PUT", path(lease.metadata.namespace!, lease.metadata.name), { body: lease, signal, timeoutMs }),
  };
}

export interface LeaderElectorOptions {
  name: string;
  namespace: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  now?: () => number;
  random?: () => number;
  /** Extra wait between acquire attempts, as a fraction of retryPeriod (client-go: 1.2). Default 0.2. */
  jitter?: number;
  /**
   * resumed: nobody wrote the Lease since this elector's last write (its own term went on with no
   * other leader in between, e.g. across an API server restart), so its local state is still current.
   */
  onStartedLeading?: (info: { resumed: boolean }) => void;
  /** deadline: no renewal within renewDeadline; taken: another holder; stopped: stop() was called. */
  onStoppedLeading?: (why: StopReason) => void;
  onNewLeader?: (identity: string) => void;
  onError?: (error: unknown) => void;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, UTC. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export type StopReason = "deadline" | "taken" | "stopped";

const statusOf = (e: unknown) => (e instanceof KubeApiError ? e.status : (e as { status?: number })?.status);

export class LeaderElector {
  isLeader = false;
  /** Holder as last observed ("" when none). */
  leader = "";
  lastError?: string;
  readonly stats = { acquired: 0, renewals: 0, failures: 0, conflicts: 0, steppedDown: 0 };
  private readonly api: LeaseApi;
  private readonly now: () => number;
  private readonly random: () => number;
  private observedKey = "";
  private observedTime = 0;
  private observed?: Lease;
  private stopped = false;
  private running?: Promise<void>;
  private abort = new AbortController();
  /** Local-clock ms until which this elector may act: start of its last successful write + renewDeadline. */
  private validUntil = 0;
  /** resourceVersion of the Lease as this elector last wrote it. */
  private lastWrittenRV?: string;
  /** The last acquisition found the Lease exactly as this elector had left it. */
  private resumed = false;
  /** A get failed since the last successful one: this elector could not see the record for a while. */
  private blind = false;

  constructor(
    client: KubeClient | LeaseApi,
    private readonly opts: LeaderElectorOptions,
  ) {
    if (opts.leaseDurationMs <= opts.renewDeadlineMs) throw new Error("leader election: leaseDuration must be greater than renewDeadline");
    if (opts.renewDeadlineMs <= opts.retryPeriodMs) throw new Error("leader election: renewDeadline must be greater than retryPeriod");
    this.api = "request" in client ? kubeLeaseApi(client, Math.max(1000, opts.renewDeadlineMs)) : client;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  private get leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000));
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.run();
  }

  /**
   * Stops campaigning. With release (default) a held lease is handed back (holder cleared,
   * leaseDurationSeconds 1) so a standby takes over at its next retry; release:false simulates a crash.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return this.running;
    this.stopped = true;
    if (!this.running) return; // never campaigned (stopped during start-up): nothing to hand back
    this.abort.abort();
    await this.running;
    // Stop acting before handing the lease back: the next leader may act as soon as it is released.
    if (this.isLeader) this.setLeader(false, "stopped");
    if (opts.release !== false) await this.release();
  }

  /** True while this elector leads AND its renew deadline has not passed: the only time it may act. */
  canAct(): boolean {
    return this.isLeader && this.now() < this.validUntil;
  }

  /** How long this leader may still act without another renewal (0 when it may not act). */
  actWindowMs(): number {
    return this.isLeader ? Math.max(0, this.validUntil - this.now()) : 0;
  }

  private setLeader(on: boolean, why: StopReason = "deadline"): void {
    if (this.isLeader === on) return;
    this.isLeader = on;
    if (on) this.stats.acquired++;
    else this.stats.steppedDown++;
    const { onStartedLeading, onStoppedLeading } = this.opts;
    const resumed = this.resumed;
    this.safe(on ? onStartedLeading && (() => onStartedLeading({ resumed })) : onStoppedLeading && (() => onStoppedLeading(why)));
  }

  private safe(fn?: () => void): void {
    try {
      fn?.();
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  private fail(e: unknown): false {
    if (this.abort.signal.aborted) return false; // stop() interrupted the call: not an error
    this.stats.failures++;
    this.lastError = (e as Error)?.message ?? String(e);
    this.opts.onError?.(e);
    return false;
  }

  private observe(lease: Lease, at: number): void {
    const spec = lease.spec ?? {};
    const key = JSON.stringify([spec.holderIdentity ?? "", spec.renewTime, spec.acquireTime, spec.leaseDurationSeconds, spec.leaseTransitions]);
    this.observed = lease;
    // After a blind spot (the API was unreachable) the record is judged as if first seen now: its holder
    // may have been renewing all along without us seeing it. Waiting one more lease duration lets the
    // previous leader resume its term after an API server restart instead of racing it for the Lease.
    if (key !== this.observedKey || this.blind) {
      this.blind = false;
      this.observedKey = key;
      this.observedTime = at;
    }
    const holder = spec.holderIdentity ?? "";
    if (holder !== this.leader) {
      this.leader = holder;
      if (holder) {
        const fn = this.opts.onNewLeader;
        this.safe(fn && (() => fn(holder)));
      }
    }
  }

  private wrote(lease: Lease, startedAt: number): true {
    this.observe(lease, this.now());
    this.lastWrittenRV = lease.metadata.resourceVersion;
    this.validUntil = startedAt + this.opts.renewDeadlineMs;
    return true;
  }

  /** One round of client-go's tryAcquireOrRenew. True when we hold the lease afterwards. */
  async tryAcquireOrRenew(signal: AbortSignal = this.abort.signal): Promise<boolean> {
    const now = this.now();
    const { name, namespace, identity } = this.opts;
    const fresh: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.leaseSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    let current: Lease;
    try {
      current = await this.api.get(namespace, name, signal);
    } catch (e) {
      if (statusOf(e) !== 404) {
        this.blind = true;
        return this.fail(e);
      }
      try {
        const created = await this.api.create(
          { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: fresh },
          signal,
        );
        this.resumed = false;
        return this.wrote(created, now);
      } catch (e2) {
        if (statusOf(e2) === 409) this.stats.conflicts++;
        return this.fail(e2);
      }
    }
    this.observe(current, now);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000;
    if (holder && holder !== identity && this.observedTime + durationMs > now) return false; // held by another, valid
    const mine = holder === identity;
    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        ...fresh,
        acquireTime: mine ? (spec.acquireTime ?? fresh.acquireTime) : fresh.acquireTime,
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    // Untouched since our own last write: nobody else can have led in between.
    const untouched = mine && !!this.lastWrittenRV && current.metadata.resourceVersion === this.lastWrittenRV;
    try {
      const updated = await this.api.update(next, signal); // carries metadata.resourceVersion: 409 if someone beat us
      if (!this.isLeader) this.resumed = untouched;
      return this.wrote(updated, now);
    } catch (e) {
      if (statusOf(e) === 409) this.stats.conflicts++;
      return this.fail(e);
    }
  }

  private sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.abort.signal);
  }

  /** One renewal that gives up when `ms` have passed: past the deadline its answer no longer matters. */
  private async renewWithin(ms: number): Promise<boolean> {
    const cutoff = new AbortController();
    const timer = setTimeout(() => cutoff.abort(), ms);
    try {
      return await this.tryAcquireOrRenew(AbortSignal.any([this.abort.signal, cutoff.signal]));
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(): Promise<void> {
    const { retryPeriodMs, identity } = this.opts;
    const jitter = this.opts.jitter ?? 0.2;
    while (!this.stopped) {
      // Candidate: try every retryPeriod (+ jitter).
      if (!(await this.tryAcquireOrRenew())) {
        await this.sleep(retryPeriodMs * (1 + jitter * this.random()));
        continue;
      }
      if (this.stopped) break;
      // The acquire itself took longer than the renew deadline (a slow API server coming back): the
      // lease is ours but may not be acted on. Renew at once rather than lead for no time at all.
      if (this.now() >= this.validUntil) continue;
      this.setLeader(true);
      // Leader: renew every retryPeriod; step down when the renew deadline passes without a successful
      // renew (each attempt is cut off at that deadline), or at once when the lease shows another holder.
      while (!this.stopped) {
        await this.sleep(Math.min(retryPeriodMs, this.actWindowMs()));
        if (this.stopped) break;
        const left = this.actWindowMs();
        if (left > 0 && (await this.renewWithin(left))) {
          this.stats.renewals++;
          continue;
        }
        if (this.stopped) break;
        const takenOver = !!this.leader && this.leader !== identity;
        if (takenOver || this.now() >= this.validUntil) {
          this.setLeader(false, takenOver ? "taken" : "deadline");
          break;
        }
      }
    }
  }

  /**
   * Hands the lease back if we hold it. Never throws. Retried a few times: a renew aborted by stop()
   * may still land on the server after our read (409 Conflict), and a lease left held makes every
   * standby wait a full lease duration.
   */
  private async release(): Promise<void> {
    const { name, namespace, identity } = this.opts;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const current = await this.api.get(namespace, name);
        if (current.spec?.holderIdentity !== identity) return;
        const now = microTime(this.now());
        await this.api.update({
          ...current,
          spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
        });
        return;
      } catch (e) {
        if (statusOf(e) === 409) this.stats.conflicts++;
        this.stats.failures++;
        this.lastError = (e as Error)?.message ?? String(e);
        this.opts.onError?.(e);
      }
    }
  }

  /** The lease record as last observed (for status output). */
  get observedLease(): Lease | undefined {
    return this.observed;
  }
}

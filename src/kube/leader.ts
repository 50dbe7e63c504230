// Leader election on a coordination.k8s.io/v1 Lease, the client-go leaderelection algorithm:
// acquire when the lease is absent, released (no holder), expired, or ours; optimistic concurrency
// on metadata.resourceVersion (409 = lost the race); renew every retryPeriod; step down when no renew
// succeeded within renewDeadline; release on stop() so a standby takes over at once.
// Expiry is measured from when THIS elector observed the lease record change (local clock), never
// from the renewTime written by another node, so clock skew between Pis cannot cause two leaders.
import { KubeApiError, type KubeClient } from "./client.ts";
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
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
  onError?: (error: unknown) => void;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, UTC. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

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
    if (opts.release !== false) await this.release();
    if (this.isLeader) this.setLeader(false);
  }

  private setLeader(on: boolean): void {
    if (this.isLeader === on) return;
    this.isLeader = on;
    if (on) this.stats.acquired++;
    else this.stats.steppedDown++;
    this.safe(on ? this.opts.onStartedLeading : this.opts.onStoppedLeading);
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
    if (key !== this.observedKey) {
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

  /** One round of client-go's tryAcquireOrRenew. True when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    const { name, namespace, identity } = this.opts;
    const signal = this.abort.signal;
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
      if (statusOf(e) !== 404) return this.fail(e);
      try {
        const created = await this.api.create(
          { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: fresh },
          signal,
        );
        this.observe(created, this.now());
        return true;
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
    try {
      const updated = await this.api.update(next, signal); // carries metadata.resourceVersion: 409 if someone beat us
      this.observe(updated, this.now());
      return true;
    } catch (e) {
      if (statusOf(e) === 409) this.stats.conflicts++;
      return this.fail(e);
    }
  }

  private sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.abort.signal);
  }

  private async run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, identity } = this.opts;
    const jitter = this.opts.jitter ?? 0.2;
    while (!this.stopped) {
      // Candidate: try every retryPeriod (+ jitter).
      if (!(await this.tryAcquireOrRenew())) {
        await this.sleep(retryPeriodMs * (1 + jitter * this.random()));
        continue;
      }
      if (this.stopped) break;
      this.setLeader(true);
      // Leader: renew every retryPeriod; step down after renewDeadline without a successful renew,
      // or at once when the lease shows another holder (someone judged ours expired).
      let lastRenew = this.now();
      while (!this.stopped) {
        await this.sleep(retryPeriodMs);
        if (this.stopped) break;
        if (await this.tryAcquireOrRenew()) {
          this.stats.renewals++;
          lastRenew = this.now();
          continue;
        }
        if (this.stopped) break;
        const takenOver = !!this.leader && this.leader !== identity;
        if (takenOver || this.now() - lastRenew >= renewDeadlineMs) {
          this.setLeader(false);
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

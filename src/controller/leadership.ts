// Who acts: the leader election (the Lease), the term hand-over (adopt what the previous leader logged,
// publish what this one logs) and the leader-only services, which run exactly while this controller acts.
import { hostname } from "node:os";
import type { Config } from "../config/load.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { KubeClient } from "../kube/client.ts";
import { LeaderElector } from "../kube/leader.ts";
import { parseTime } from "../kube/objects.ts";
import type { Logger } from "../log.ts";
import { anomalyKey } from "../model/anomaly.ts";
import type { StateStore } from "../store/state-store.ts";
import type { Handover } from "./handover.ts";
import type { LeaderServices } from "./leader-services.ts";

export interface LeadershipParts {
  client: KubeClient;
  config: Config;
  logger: Logger;
  metrics: ControllerMetrics;
  store: StateStore;
  handover: Handover;
  leaderServices: LeaderServices;
  /** The controller is stopping: the services stay off. */
  stopped: () => boolean;
  /** A lease renewal failed (the Lease call's error). */
  onLeaseError: (e: unknown) => void;
  /** This term's logged set was adopted from the previous leader: re-evaluate with that evidence. */
  onSeeded: () => void;
}

export class Leadership {
  /** Absent with LEADER_ELECTION off: this controller is then the only one and always leads. */
  readonly elector?: LeaderElector;
  private leading: boolean;
  /** The API server was unreachable before any leader was seen (start-up): nobody else can report it. */
  private apiLostBeforeLeader = false;
  private everLed = false;
  private servicesOn = false;

  constructor(private readonly parts: LeadershipParts) {
    const { client, config, logger, metrics } = parts;
    const identity = config.str("LEADER_IDENTITY") || `${hostname()}-${process.pid}`;
    this.leading = !config.bool("LEADER_ELECTION");
    if (config.bool("LEADER_ELECTION")) {
      this.elector = new LeaderElector(client, {
        name: config.str("LEADER_LEASE_NAME"),
        namespace: config.str("LEADER_LEASE_NAMESPACE"),
        identity,
        leaseDurationMs: config.ms("LEADER_LEASE_DURATION"),
        renewDeadlineMs: config.ms("LEADER_RENEW_DEADLINE"),
        retryPeriodMs: config.ms("LEADER_RETRY_PERIOD"),
        onStartedLeading: ({ resumed }) => {
          // Resumed: nobody else wrote the Lease since our last renewal, so nobody else led: our
          // local state (lines logged while the API was away included) is still the truth.
          logger.info(resumed ? "resumed leading (no other leader in between)" : "became leader", { identity });
          if (!resumed) parts.handover.newTerm();
          this.leading = true;
          this.everLed = true;
          metrics.isLeader.set(1);
          this.syncServices();
        },
        onStoppedLeading: (why) => {
          if (why === "stopped") logger.info("leadership handed back", { identity });
          else if (why === "taken") logger.warn("lost leadership to another controller; standing by", { identity });
          else logger.warn("lost leadership: lease not renewed within LEADER_RENEW_DEADLINE; stopped acting, standing by", { identity });
          this.leading = false;
          metrics.isLeader.set(0);
          this.syncServices();
        },
        onNewLeader: (holder: string) => logger.info("leader is", { holder }),
        onError: parts.onLeaseError,
      });
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Only a leader that can prove its lease acts (logs, alerts, writes shared state): with election,
   * until its renew deadline passes without a renewal — before any other node could acquire. One
   * exception: an API server unreachable before any leader was ever seen (start-up) — nobody holds a
   * lease then, and somebody must report the outage.
   */
  get acting(): boolean {
    return (this.elector ? this.elector.canAct() : this.leading) || this.apiLostBeforeLeader;
  }

  /** The leader-only services (channels, trace bridge) run exactly while this controller acts. */
  syncServices(): void {
    const on = this.acting && !this.parts.stopped();
    if (on === this.servicesOn) return;
    this.servicesOn = on;
    this.parts.leaderServices.set(on);
  }

  /** A health check answered (ok) or failed: the start-up exception of `acting` may begin or end. */
  apiHealthChanged(ok: boolean): void {
    // Nobody has been seen leading since start-up, so nobody else will report this outage.
    this.apiLostBeforeLeader = !ok && this.elector !== undefined && !this.everLed && !this.elector.leader;
    this.syncServices();
  }

  /** RuleContext.loggedSince: only once this term's logged set is the truth (seeded), and only while acting. */
  loggedSince(a: Parameters<typeof anomalyKey>[0]): number | undefined {
    if (!this.leading || (this.elector && !this.parts.handover.isSeeded)) return undefined;
    const entry = this.parts.store.getLogged(anomalyKey(a));
    return entry?.status === "firing" ? parseTime(entry.anomaly.eventTime) : undefined;
  }

  /**
   * Once per term, before the new leader logs or alerts anything: adopt what the previous leader
   * logged, then re-evaluate every object with that evidence (RuleContext.loggedSince) so anomalies
   * it reported continue with their eventTime instead of resolving and firing again.
   */
  async seedFromSharedState(): Promise<void> {
    if (!this.elector || !this.leading) return;
    if (await this.parts.handover.seed()) this.parts.onSeeded();
  }

  /** What this leader logged, for the next one; only while the lease is provably held, bounded by it. */
  async publish(now: number): Promise<void> {
    if (this.elector?.canAct()) await this.parts.handover.publish(now, AbortSignal.timeout(Math.max(1, this.elector.actWindowMs())));
  }

  /** Releases the Lease (a standby takes over at once) and turns the leader-only services off. */
  async stop(): Promise<void> {
    await this.elector?.stop();
    this.leading = false;
    this.apiLostBeforeLeader = false;
    this.servicesOn = false;
    this.parts.leaderServices.set(false);
  }
}

// The controller: informers → rules → collector/cleaner → cleaned_events.log, with leader
// election, persisted state, API health and the HTTP endpoint. Wiring and the periodic cycles
// only; the leader-only services, handover, external anomalies and gauges have their own rooms.
import { hostname } from "node:os";
import type { Config } from "../config/load.ts";
import { httpListen } from "../config/effective.ts";
import { Cleaner } from "../diagnosis/cleaner.ts";
import { Collector } from "../diagnosis/collector.ts";
import { LogWriter } from "../diagnosis/log-writer.ts";
import { reconcile } from "../diagnosis/reconcile.ts";
import { defineControllerMetrics } from "../http/metrics.ts";
import { startHttpServer } from "../http/server.ts";
import { KubeClient } from "../kube/client.ts";
import { chooseResource } from "../kube/discovery.ts";
import { ApiHealthMonitor } from "../kube/health.ts";
import type { Connection } from "../kube/kubeconfig.ts";
import { Informer } from "../kube/informer.ts";
import { LeaderElector } from "../kube/leader.ts";
import { ApiOutageLog, isUnreachable } from "../kube/outage.ts";
import type { Logger } from "../log.ts";
import { StateStore } from "../store/state-store.ts";
import { parseTime } from "../watchers/util.ts";
import { anomalyKey } from "../watchers/types.ts";
import { PLUGINS } from "../watchers/registry.ts";
import { SilenceStore } from "../alerting/silence-store.ts";
import { AlertingRuntime } from "./alerting-runtime.ts";
import { TrimmedCache } from "./cache-trim.ts";
import { Caches, Evaluator } from "./evaluator.ts";
import { API_SOURCE, apiUnreachable, LatencyAnomalies } from "./external-anomalies.ts";
import { publishGauges } from "./gauges.ts";
import { Handover } from "./handover.ts";
import { LeaderServices } from "./leader-services.ts";
import { SharedLoggedState } from "./shared-state.ts";

export interface RuntimeOptions {
  config: Config;
  connection: Connection;
  logger: Logger;
  clock?: () => number;
  /** Called with every line written to cleaned_events.log (demo prints them). */
  onLogged?: (line: Record<string, unknown>) => void;
}

export class ControllerRuntime {
  readonly client: KubeClient;
  readonly caches = new Caches();
  readonly collector: Collector;
  readonly cleaner: Cleaner;
  readonly evaluator: Evaluator;
  readonly metrics = defineControllerMetrics();
  readonly alerting: AlertingRuntime;
  readonly informers: Informer[] = [];
  private readonly latency: LatencyAnomalies;
  private readonly leaderServices: LeaderServices;
  private readonly handover: Handover;
  private readonly store: StateStore;
  private readonly writer: LogWriter;
  private readonly health: ApiHealthMonitor;
  private readonly leader?: LeaderElector;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private http?: { url: string; stop(): Promise<void> };
  private leading: boolean;
  /** Quiet retries: one warning per API outage, one summary when it ends. */
  readonly outage: ApiOutageLog;
  private writing = false;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly opts: RuntimeOptions) {
    const { config, connection, logger } = opts;
    this.now = opts.clock ?? Date.now;
    this.client = new KubeClient(connection);
    this.cleaner = new Cleaner({
      rawRetentionMs: config.ms("DIAGNOSIS_RETENTION_RAW_DURATION"),
      cleanedRetentionMs: config.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION"),
      rawMax: config.num("NEURO_RAW_POOL_MAX"),
    });
    this.collector = new Collector(this.cleaner, (t) => {
      if (t.type === "firing") this.metrics.anomaliesTotal.inc({ reason: t.anomaly.reason });
    });
    this.evaluator = new Evaluator(
      PLUGINS,
      config,
      this.caches,
      this.collector,
      (kind, obj, err) => {
        this.metrics.ruleErrors.inc({ kind });
        logger.warn("rule failed on malformed object", { kind, object: `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`, error: String(err) });
      },
      (a) => this.loggedSince(a),
    );
    this.outage = new ApiOutageLog(logger, this.now);
    this.latency = new LatencyAnomalies(this.collector, config.ms("RULE_EVENT_MAX_AGE"));
    this.store = StateStore.open(config.str("NEURO_STATE_DIR"));
    this.writer = new LogWriter({
      dir: config.str("NEURO_LOG_DIR"),
      maxBytes: config.num("NEURO_LOG_MAX_SIZE"),
      maxFiles: config.num("NEURO_LOG_MAX_FILES"),
      logger,
    });
    const ns = config.str("LEADER_LEASE_NAMESPACE");
    const leaseName = config.str("LEADER_LEASE_NAME");
    this.alerting = new AlertingRuntime(config, this.store, new SilenceStore(this.client, ns, `${leaseName}-silences`), this.metrics, logger);
    this.handover = new Handover(new SharedLoggedState(this.client, ns, `${leaseName}-state`), this.store, this.alerting);
    this.leaderServices = new LeaderServices(config, logger, this.alerting, (a) => this.latency.record(a, this.now()));
    const identity = config.str("LEADER_IDENTITY") || `${hostname()}-${process.pid}`;
    this.leading = !config.bool("LEADER_ELECTION");
    if (config.bool("LEADER_ELECTION")) {
      this.leader = new LeaderElector(this.client, {
        name: leaseName,
        namespace: ns,
        identity,
        leaseDurationMs: config.ms("LEADER_LEASE_DURATION"),
        renewDeadlineMs: config.ms("LEADER_RENEW_DEADLINE"),
        retryPeriodMs: config.ms("LEADER_RETRY_PERIOD"),
        onStartedLeading: ({ resumed }) => {
          // Resumed: nobody else wrote the Lease since our last renewal, so nobody else led: our
          // local state (lines logged while the API was away included) is still the truth.
          logger.info(resumed ? "resumed leading (no other leader in between)" : "became leader", { identity });
          if (!resumed) this.handover.newTerm();
          this.leading = true;
          this.metrics.isLeader.set(1);
          this.leaderServices.set(true);
        },
        onStoppedLeading: (why) => {
          if (why === "stopped") logger.info("leadership handed back", { identity });
          else if (why === "taken") logger.warn("lost leadership to another controller; standing by", { identity });
          else logger.warn("lost leadership: lease not renewed within LEADER_RENEW_DEADLINE; stopped acting, standing by", { identity });
          this.leading = false;
          this.metrics.isLeader.set(0);
          this.leaderServices.set(false);
        },
        onNewLeader: (holder: string) => logger.info("leader is", { holder }),
        onError: (e) => {
          if (this.outage.failed("lease", e)) this.health.checkNow(); // evidence now, while this leader may still act
          else if (!this.stopped) logger.warn("lease renewal failed", { error: String(e) });
        },
      });
    }
    this.health = new ApiHealthMonitor(this.client, {
      intervalMs: config.ms("KUBERNETES_API_HEALTH_CHECK_INTERVAL"),
      onChange: (ok: boolean, detail: string) => this.onApiHealth(ok, detail),
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get synced(): boolean {
    return this.informers.length > 0 && this.informers.every((i) => i.synced);
  }

  async start(): Promise<void> {
    const { config, logger } = this.opts;
    const listen = httpListen(config);
    if (listen) {
      this.http = startHttpServer({
        hostname: listen.hostname,
        port: listen.port,
        registry: this.metrics.registry,
        ready: () => this.readiness(),
      });
      logger.info("http endpoint listening", { url: this.http.url });
    }
    for (const plugin of PLUGINS) {
      const ref = await this.chooseWithRetry(plugin.resources);
      if (!ref) {
        logger.warn("kind not served by this API server; its rules are off", { kind: plugin.kind });
        continue;
      }
      const informer = new Informer(this.client, ref, {
        cache: new TrimmedCache(),
        logger,
        onEvent: (type: "ADDED" | "MODIFIED" | "DELETED", obj) => {
          this.metrics.eventsProcessed.inc({ kind: ref.kind });
          this.evaluator.onEvent(ref.kind, type, obj, this.now());
        },
        onRestart: () => this.metrics.informerRestarts.inc({ resource: ref.plural }),
        outage: this.outage,
      });
      this.caches.register(ref.kind, informer.cache);
      this.informers.push(informer);
    }
    for (const informer of this.informers) informer.start();
    this.health.start();
    if (this.leader) this.leader.start();
    else this.leaderServices.set(true);
    this.every(config.ms("NEURO_EVALUATE_INTERVAL"), () => this.evaluateTick());
    this.every(config.ms("DIAGNOSIS_CLEAN_INTERVAL"), () => this.cleaner.clean(this.now()));
    this.every(config.ms("DIAGNOSIS_WRITE_INTERVAL"), () => void this.writeCycle());
    this.every(config.ms("DIAGNOSIS_ALERT_DISPATCH_INTERVAL"), () => void this.alertCycle());
    logger.info("controller started", { server: this.opts.connection.server, informers: this.informers.map((i) => i.ref.plural) });
  }

  /**
   * Every NEURO_EVALUATE_INTERVAL: what time alone can change. Watch events evaluate their object at
   * once; the tick re-evaluates only objects whose rules reported a due duration or window.
   */
  evaluateTick(): void {
    const now = this.now();
    this.withdrawContradictedOutage();
    if (this.synced) this.evaluator.evaluateDue(now);
    if (this.latency.size) this.latency.refresh(now);
  }

  /** Discovery fails while the API server is away; keep trying rather than exiting. */
  private async chooseWithRetry(candidates: Parameters<typeof chooseResource>[1]) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await chooseResource(this.client, candidates);
      } catch (e) {
        if (this.stopped) return null;
        const waitMs = Math.min(30_000, 500 * 2 ** attempt);
        if (!this.outage.failed("discovery", e)) this.opts.logger.warn("discovery failed; retrying", { error: String(e), retryInMs: waitMs });
        await Bun.sleep(waitMs);
      }
    }
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  /** APIServerUnreachable comes only from failed health checks (evidence), and resolves on their success. */
  private onApiHealth(ok: boolean, detail: string): void {
    const now = this.now();
    if (ok) this.outage.answered();
    this.opts.logger[ok ? "info" : "error"](ok ? "API server reachable" : "API server unreachable", { detail });
    const anomaly = apiUnreachable(this.opts.config.str("CLUSTER_ID"), this.opts.connection.server, detail, now);
    this.collector.observe(API_SOURCE, ok ? [] : [anomaly], now);
  }

  /**
   * A call answered after the failed check began (the lease was just renewed, an informer listed):
   * the outage that check reported is over. Withdraw it at once and confirm with a new check, so no
   * write cycle logs APIServerUnreachable right after a successful API call.
   */
  private withdrawContradictedOutage(): void {
    if (!this.health.checked || this.health.ok || this.client.lastOkAt < this.health.lastCheckStartedAt) return;
    this.collector.observe(API_SOURCE, [], this.now());
    this.health.checkNow();
  }

  /** RuleContext.loggedSince: only once this term's logged set is the truth (seeded), and only while acting. */
  private loggedSince(a: Parameters<typeof anomalyKey>[0]): number | undefined {
    if (!this.leading || (this.leader && !this.handover.isSeeded)) return undefined;
    const entry = this.store.getLogged(anomalyKey(a));
    return entry?.status === "firing" ? parseTime(entry.anomaly.eventTime) : undefined;
  }

  private readiness(): { ok: boolean; reasons: string[] } {
    const reasons: string[] = [];
    for (const i of this.informers) if (!i.synced) reasons.push(`informer ${i.ref.plural} not synced`);
    if (!this.health.ok) reasons.push(`API server unreachable: ${this.health.lastError ?? "unknown"}`);
    return { ok: reasons.length === 0, reasons };
  }

  /**
   * Only a leader that can prove its lease acts (logs, alerts, writes shared state): with election,
   * until its renew deadline passes without a renewal — before any other node could acquire.
   */
  private get acting(): boolean {
    return this.leader ? this.leader.canAct() : this.leading;
  }

  /**
   * Once per term, before the new leader logs or alerts anything: adopt what the previous leader
   * logged, then re-evaluate every object with that evidence (RuleContext.loggedSince) so anomalies
   * it reported continue with their eventTime instead of resolving and firing again.
   */
  private async seedFromSharedState(): Promise<void> {
    if (!this.leader || !this.leading) return;
    if (await this.handover.seed()) this.evaluator.evaluateAll(this.now());
  }

  /**
   * Decides what to log from the desired (active) and logged sets, appends the lines, then
   * persists. Only the leader logs, and only once every informer has synced — before that the
   * active set is incomplete and would look like everything resolved.
   */
  async writeCycle(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      const now = this.now();
      publishGauges(this.metrics, { cleaner: this.cleaner, collector: this.collector, writer: this.writer, alerting: this.alerting, informers: this.informers, leading: this.leading, now });
      if (!this.acting || !this.synced) {
        this.store.flush();
        return;
      }
      await this.seedFromSharedState();
      this.withdrawContradictedOutage();
      if (!this.acting) return; // the renew deadline passed while the shared state loaded
      // The collector's desired set is current at once; the cleaner's view lags until its next clean().
      const result = reconcile(this.collector.desired(), this.store.loadLogged(), now, this.opts.config.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION"));
      const flushed = this.writer.append(result.lines, now);
      for (const line of flushed.lines) this.opts.onLogged?.(line as unknown as Record<string, unknown>);
      this.metrics.logLinesWritten.inc(flushed.lines.length);
      if (flushed.error) this.metrics.logWriteErrors.inc();
      for (const [key, entry] of result.changed) this.store.setLogged(key, entry);
      for (const key of result.removed) this.store.deleteLogged(key);
      this.store.flush();
      if (this.leader && this.acting) await this.handover.publish(now, AbortSignal.timeout(Math.max(1, this.leader.actWindowMs())));
    } catch (e) {
      if (!this.outage.failed("shared-state", e)) this.opts.logger.error("write cycle failed; will retry", { error: String(e) });
    } finally {
      this.writing = false;
    }
  }

  /** Incidents and notifications from the active set, every DIAGNOSIS_ALERT_DISPATCH_INTERVAL. */
  async alertCycle(): Promise<void> {
    if (this.alerting.busy || !this.acting || !this.synced) return;
    this.alerting.busy = true;
    try {
      await this.seedFromSharedState();
      if (!this.acting) return;
      const submitted = await this.alerting.tick(this.collector.desired(), this.caches, this.now(), () => this.acting);
      if (submitted > 0) this.store.flush(); // the incident ids behind those notifications must survive a crash
    } catch (e) {
      this.opts.logger.error("alert cycle failed; will retry", { error: String(e) });
    } finally {
      this.alerting.busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.writeCycle();
    this.leaderServices.set(false);
    await this.leaderServices.settled();
    await this.leader?.stop();
    this.health.stop();
    for (const i of this.informers) i.stop();
    await this.http?.stop();
    this.store.close();
  }
}

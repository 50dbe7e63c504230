// The controller: informers → rules → collector/cleaner → cleaned_events.log, with leader
// election, persisted state, API health and the HTTP endpoint. Wiring and the periodic cycles
// only; the leader-only services, handover, external anomalies and gauges have their own rooms.
import { hostname } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/load.ts";
import { httpListen } from "../config/effective.ts";
import { Cleaner } from "../diagnosis/cleaner.ts";
import { Collector } from "../diagnosis/collector.ts";
import { LogWriter } from "../diagnosis/log-writer.ts";
import { defineControllerMetrics } from "../http/metrics.ts";
import { startHttpServer } from "../http/server.ts";
import { KubeClient } from "../kube/client.ts";
import { CountingRejectSink } from "../boundary/reject.ts";
import { chooseResource, verifyKubernetes } from "../kube/discovery.ts";
import { ApiHealthMonitor } from "../kube/health.ts";
import type { Connection } from "../kube/kubeconfig.ts";
import { NotKubernetesError } from "../kube/schemas.ts";
import { Informer } from "../kube/informer.ts";
import { abortableSleep } from "../kube/abortable-sleep.ts";
import { LeaderElector } from "../kube/leader.ts";
import { ApiOutageLog } from "../kube/outage.ts";
import { parseTime } from "../kube/objects.ts";
import { anomalyKey } from "../model/anomaly.ts";
import type { Logger } from "../log.ts";
import { STATE_FILE_NAME } from "../store/db.ts";
import { StoreLogQueue } from "../store/log-queue.ts";
import { StateStore } from "../store/state-store.ts";
import { PLUGINS } from "../watchers/registry.ts";
import { SilenceStore } from "../alerting/silence-store.ts";
import { AlertingRuntime } from "./alerting-runtime.ts";
import { TrimmedCache } from "./cache-trim.ts";
import { Caches, Evaluator } from "./evaluator.ts";
import { API_SOURCE, apiUnreachable, LatencyAnomalies } from "./external-anomalies.ts";
import { publishGauges } from "./gauges.ts";
import { Handover } from "./handover.ts";
import { LeaderServices } from "./leader-services.ts";
import { activeSet, LogOutput } from "./log-output.ts";
import { SharedLoggedState } from "./shared-state.ts";
import { ruleSettings } from "../watchers/settings.ts";
import { traceBridgeOptionsFromConfig } from "../trace/bridge.ts";

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
  private readonly sharedState: SharedLoggedState;
  private readonly store: StateStore;
  private readonly writer: LogWriter;
  private readonly health: ApiHealthMonitor;
  private readonly leader?: LeaderElector;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private http?: { url: string; stop(): Promise<void> };
  private leading: boolean;
  /** Quiet retries: one warning per API outage, one summary when it ends. */
  readonly outage: ApiOutageLog;
  /** The API server was unreachable before any leader was seen (start-up): nobody else can report it. */
  private apiLostBeforeLeader = false;
  private everLed = false;
  private servicesOn = false;
  private writing = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly log: LogOutput;
  /** Discovery finished (the server is Kubernetes and the informers exist); until then not ready. */
  private discovered = false;
  /** Why discovery has not finished (unreachable, or a server that is not Kubernetes). */
  private discoveryProblem?: string;
  private readonly now: () => number;

  constructor(private readonly opts: RuntimeOptions) {
    const { config, connection, logger } = opts;
    this.now = opts.clock ?? Date.now;
    this.client = new KubeClient(connection, { rejects: new CountingRejectSink(this.metrics.malformedInput, logger) });
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
      ruleSettings(config),
      this.caches,
      this.collector,
      (kind, obj, err) => {
        this.metrics.ruleErrors.inc({ kind });
        logger.warn("rule failed on malformed object", {
          kind,
          object: `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`,
          error: String(err),
        });
      },
      (a) => this.loggedSince(a),
    );
    this.outage = new ApiOutageLog(logger, this.now);
    this.latency = new LatencyAnomalies(this.collector, config.ms("RULE_EVENT_MAX_AGE"));
    this.store = StateStore.open(config.str("NEURO_STATE_DIR"), {
      recoverCorrupt: true,
      onRecovered: (movedTo, reason) =>
        logger.error(
          `state.db was corrupt (${reason}); moved aside to ${movedTo} and started with empty state. ` +
            "Anomalies already logged may be logged again; notifications that were pending are in the moved file.",
          { path: join(config.str("NEURO_STATE_DIR"), STATE_FILE_NAME), movedTo },
        ),
    });
    this.store.onBadRow = (table, key, error) => logger.warn("unreadable row in state.db skipped", { table, key, error, path: this.store.path });
    this.writer = LogWriter.fromConfig(config, logger, new StoreLogQueue(this.store));
    const ns = config.str("LEADER_LEASE_NAMESPACE");
    const leaseName = config.str("LEADER_LEASE_NAME");
    this.alerting = new AlertingRuntime(config, this.store, new SilenceStore(this.client, ns, `${leaseName}-silences`), this.metrics, logger);
    this.sharedState = new SharedLoggedState(this.client, ns, `${leaseName}-state`);
    this.handover = new Handover(this.sharedState, this.store, this.alerting);
    this.leaderServices = new LeaderServices(
      traceBridgeOptionsFromConfig(config, logger),
      logger,
      this.alerting,
      (a) => this.latency.record(a, this.now()),
      {
        rejects: new CountingRejectSink(this.metrics.malformedInput, logger),
        onHandlerError: (subscription) => this.metrics.handlerErrors.inc({ handler: `mqtt:${subscription}` }),
      },
    );
    const identity = config.str("LEADER_IDENTITY") || `${hostname()}-${process.pid}`;
    // Named after the node (stable across restarts), not the process: one LogWriteFailing per node's log.
    this.log = new LogOutput(this.store, this.writer, this.collector, this.metrics, config.str("LEADER_IDENTITY") || hostname(), opts.onLogged);
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
          this.everLed = true;
          this.metrics.isLeader.set(1);
          this.syncServices();
        },
        onStoppedLeading: (why) => {
          if (why === "stopped") logger.info("leadership handed back", { identity });
          else if (why === "taken") logger.warn("lost leadership to another controller; standing by", { identity });
          else logger.warn("lost leadership: lease not renewed within LEADER_RENEW_DEADLINE; stopped acting, standing by", { identity });
          this.leading = false;
          this.metrics.isLeader.set(0);
          this.syncServices();
        },
        onNewLeader: (holder: string) => logger.info("leader is", { holder }),
        onError: (e) => {
          if (this.outage.failed("lease", e))
            this.health.checkNow(); // evidence now, while this leader may still act
          else if (!this.stopped) logger.warn("lease renewal failed", { error: String(e) });
        },
      });
    }
    this.health = new ApiHealthMonitor(this.client, {
      intervalMs: config.ms("KUBERNETES_API_HEALTH_CHECK_INTERVAL"),
      onChange: (ok: boolean, detail: string) => this.onApiHealth(ok, detail),
      onListenerError: (e) => {
        this.metrics.handlerErrors.inc({ handler: "api-health" });
        logger.error("API health handler failed", { error: String(e) });
      },
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get synced(): boolean {
    return this.informers.length > 0 && this.informers.every((i) => i.synced);
  }

  /**
   * Everything that must work from the first second runs before discovery (which retries for as
   * long as the API server is away): the HTTP endpoint, the API health check, the write and alert
   * cycles (so an outage at start-up is logged and alerted) and, with election off, the channels.
   */
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
    try {
      this.writer.repair();
    } catch (e) {
      logger.warn("cannot check cleaned_events.log at start-up; will retry at the first write", { error: String(e) });
    }
    this.health.start();
    this.syncServices();
    this.every(config.ms("DIAGNOSIS_WRITE_INTERVAL"), () => void this.writeCycle());
    this.every(config.ms("DIAGNOSIS_ALERT_DISPATCH_INTERVAL"), () => void this.alertCycle());
    await this.discoverWithRetry("checking the API server", () => verifyKubernetes(this.client));
    for (const plugin of PLUGINS) {
      if (this.stopped) return;
      const ref = await this.discoverWithRetry("discovery", () => chooseResource(this.client, plugin.resources));
      if (this.stopped) return;
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
        onHandlerError: () => this.metrics.handlerErrors.inc({ handler: `informer/${ref.plural}` }),
        outage: this.outage,
      });
      this.caches.register(ref.kind, informer.cache);
      this.informers.push(informer);
    }
    this.discovered = true;
    this.discoveryProblem = undefined;
    for (const informer of this.informers) informer.start();
    this.leader?.start();
    this.every(config.ms("NEURO_EVALUATE_INTERVAL"), () => this.evaluateTick());
    this.every(config.ms("DIAGNOSIS_CLEAN_INTERVAL"), () => this.cleaner.clean(this.now()));
    logger.info("controller started", { server: this.opts.connection.server, informers: this.informers.map((i) => i.ref.plural) });
  }

  /**
   * Every NEURO_EVALUATE_INTERVAL: what time alone can change. Watch events evaluate their object at
   * once; the tick re-evaluates only objects whose rules reported a due duration or window.
   */
  evaluateTick(): void {
    const now = this.now();
    if (this.synced) this.evaluator.evaluateDue(now);
    if (this.latency.size) this.latency.refresh(now);
  }

  /**
   * Discovery fails while the API server is away, or while something that is not Kubernetes answers
   * at its address: keep trying rather than exiting, and say why in /readyz until it succeeds.
   */
  private async discoverWithRetry<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (this.stopped) return null;
        const waitMs = Math.min(30_000, 500 * 2 ** attempt);
        this.discoveryProblem = `${what} failed: ${(e as Error)?.message ?? e}`;
        if (e instanceof NotKubernetesError) this.opts.logger.error(`${what} failed; retrying`, { error: String(e), retryInMs: waitMs });
        else if (!this.outage.failed("discovery", e)) this.opts.logger.warn(`${what} failed; retrying`, { error: String(e), retryInMs: waitMs });
        await abortableSleep(waitMs, this.abort.signal);
        if (this.stopped) return null;
      }
    }
  }

  private every(ms: number, fn: () => void): void {
    if (this.stopped) return;
    this.timers.push(setInterval(fn, ms));
  }

  /** The leader-only services (channels, trace bridge) run exactly while this controller acts. */
  private syncServices(): void {
    const on = this.acting && !this.stopped;
    if (on === this.servicesOn) return;
    this.servicesOn = on;
    this.leaderServices.set(on);
  }

  /** APIServerUnreachable comes only from failed health checks (evidence), and resolves on their success. */
  private onApiHealth(ok: boolean, detail: string): void {
    const now = this.now();
    if (ok) this.outage.answered();
    // Nobody has been seen leading since start-up, so nobody else will report this outage.
    this.apiLostBeforeLeader = !ok && this.leader !== undefined && !this.everLed && !this.leader.leader;
    this.syncServices();
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

  /**
   * Not ready (503) while the controller cannot see the cluster. Degraded (still 200, reasons
   * listed) while it watches and decides correctly but an output is impaired — cleaned_events.log
   * unwritable, an alert channel failed: restarting or unscheduling it would not help, and the
   * condition is alerted on and counted in /metrics.
   */
  private readiness(): { ok: boolean; reasons: string[]; degraded: string[] } {
    const reasons: string[] = [];
    if (!this.discovered) reasons.push(this.discoveryProblem ?? "discovering the API server's resources");
    else if (this.informers.length === 0) reasons.push("the API server serves none of the watched kinds");
    for (const i of this.informers) if (!i.synced) reasons.push(`informer ${i.ref.plural} not synced`);
    if (!this.health.ok) reasons.push(`API server unreachable: ${this.health.lastError ?? "not checked yet"}`);
    const degraded: string[] = [];
    const log = this.log.degradedReason();
    if (log) degraded.push(log);
    for (const [channel, why] of this.alerting.failedChannels) degraded.push(`alert channel ${channel} failed: ${why}`);
    return { ok: reasons.length === 0, reasons, degraded };
  }

  /**
   * Only a leader that can prove its lease acts (logs, alerts, writes shared state): with election,
   * until its renew deadline passes without a renewal — before any other node could acquire. One
   * exception: an API server unreachable before any leader was ever seen (start-up) — nobody holds a
   * lease then, and somebody must report the outage.
   */
  private get acting(): boolean {
    return (this.leader ? this.leader.canAct() : this.leading) || this.apiLostBeforeLeader;
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
   * persists. Only the acting controller logs. Before every informer has synced only its own
   * anomalies (API server, log writer) are decided: the rest of the active set is incomplete and
   * would look like everything resolved.
   */
  async writeCycle(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      const now = this.now();
      if (!this.acting) {
        this.store.flush();
        return;
      }
      await this.seedFromSharedState();
      if (this.stopped) return; // stop() writes the last lines itself
      this.withdrawContradictedOutage();
      if (!this.acting) return; // the renew deadline passed while the shared state loaded
      // Queued writes (handover seeds, bookmarks) first: the logged set read below must be the committed one.
      this.store.flush();
      const logged = this.log.loggedView();
      // The collector's desired set is current at once; the cleaner's view lags until its next clean().
      const active = activeSet(this.collector, logged, this.synced);
      if (active) this.log.decide(active, logged, now, this.opts.config.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION"));
      this.log.flush(now);
      this.store.flush();
      if (this.leader?.canAct()) await this.handover.publish(now, AbortSignal.timeout(Math.max(1, this.leader.actWindowMs())));
    } catch (e) {
      if (!this.outage.failed("shared-state", e)) this.opts.logger.error("write cycle failed; will retry", { error: String(e) });
    } finally {
      this.writing = false;
      // After the write, so the gauges show what is still pending now.
      publishGauges(this.metrics, {
        cleaner: this.cleaner,
        collector: this.collector,
        writer: this.writer,
        alerting: this.alerting,
        informers: this.informers,
        leading: this.leading,
        store: this.store,
        now: this.now(),
        kube: this.client.stats,
        sharedStateDropped: this.sharedState.lastDropped,
      });
    }
  }

  /** Incidents and notifications from the active set, every DIAGNOSIS_ALERT_DISPATCH_INTERVAL. */
  async alertCycle(): Promise<void> {
    if (this.alerting.busy || !this.acting) return;
    const active = activeSet(this.collector, this.log.loggedView(), this.synced);
    if (!active) return;
    this.alerting.busy = true;
    try {
      await this.seedFromSharedState();
      if (this.stopped) return;
      if (!this.acting) return;
      const submitted = await this.alerting.tick(active, this.caches, this.now(), () => this.acting);
      if (submitted > 0 && !this.stopped) this.store.flush(); // the incident ids behind those notifications must survive a crash
    } catch (e) {
      this.opts.logger.error("alert cycle failed; will retry", { error: String(e) });
    } finally {
      this.alerting.busy = false;
    }
  }

  /**
   * Stops in the order that matters when time runs out (the caller bounds it by
   * NEURO_SHUTDOWN_TIMEOUT and then calls finalFlush()): the Lease is released first so a standby
   * takes over at once, then the channels and bridge stop, then what is pending is written.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    this.health.stop();
    // Without election nobody takes over: decide what is still undecided, as a last write cycle would.
    // With election the new leader decides it; deciding here after the release could log it twice.
    if (!this.leader) this.decideLast();
    await this.leader?.stop();
    this.leading = false;
    this.apiLostBeforeLeader = false;
    this.servicesOn = false;
    this.leaderServices.set(false);
    await Promise.all([this.leaderServices.settled(), ...this.informers.map((i) => i.stop())]);
    await this.http?.stop();
    this.finalFlush();
  }

  private decideLast(): void {
    if (!this.synced) return;
    try {
      const logged = this.log.loggedView();
      this.log.decide(this.collector.desired(), logged, this.now(), this.opts.config.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION"));
    } catch (e) {
      this.opts.logger.error("cannot decide the last lines at shutdown; they are decided at the next start", { error: String(e) });
    }
  }

  /** Synchronous last words: lines already decided are written, queued state committed, state.db closed. Safe to call twice. */
  finalFlush(): void {
    try {
      this.log.flush(this.now());
    } catch (e) {
      this.opts.logger.error("final write of cleaned_events.log failed; lines stay pending in state.db", { error: String(e) });
    }
    try {
      this.store.close();
    } catch (e) {
      this.opts.logger.error("cannot commit the last state changes", { error: String(e) });
    }
  }
}

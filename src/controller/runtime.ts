// The controller: informers → rules → collector/cleaner → cleaned_events.log, with leader
// election, persisted state, API health and the HTTP endpoint. Wiring, start and stop only; leadership,
// discovery, the output (write and alert) cycles, the leader-only services, handover, external anomalies
// and gauges have their own rooms.
import { hostname } from "node:os";
import type { Config } from "../config/load.ts";
import { httpListen } from "../config/effective.ts";
import { Cleaner } from "../diagnosis/cleaner.ts";
import { Collector } from "../diagnosis/collector.ts";
import { LogWriter } from "../diagnosis/log-writer.ts";
import { defineControllerMetrics } from "../http/metrics.ts";
import { startHttpServer } from "../http/server.ts";
import { KubeClient } from "../kube/client.ts";
import { CountingRejectSink } from "../boundary/reject.ts";
import { ApiHealthMonitor } from "../kube/health.ts";
import type { Connection } from "../kube/kubeconfig.ts";
import { Informer } from "../kube/informer.ts";
import { ApiOutageLog } from "../kube/outage.ts";
import type { Logger } from "../log.ts";
import { StoreLogQueue } from "../store/log-queue.ts";
import type { StateStore } from "../store/state-store.ts";
import type { ActionJournal } from "../actions/journal.ts";
import { openControllerState } from "./state-open.ts";
import { PLUGINS } from "../watchers/registry.ts";
import { SilenceStore } from "../alerting/silence-store.ts";
import { AlertingRuntime } from "./alerting-runtime.ts";
import { ClusterDiscovery } from "./cluster-discovery.ts";
import { Caches, Evaluator, ruleErrorReporter } from "./evaluator.ts";
import { API_SOURCE, apiUnreachable, LatencyAnomalies } from "./external-anomalies.ts";
import { publishGauges } from "./gauges.ts";
import { Handover } from "./handover.ts";
import { LeaderServices } from "./leader-services.ts";
import { Leadership } from "./leadership.ts";
import { LogOutput } from "./log-output.ts";
import { OutputCycles } from "./output-cycles.ts";
import { SharedLoggedState } from "./shared-state.ts";
import { ruleSettings } from "../watchers/settings.ts";
import { traceBridgeOptionsFromConfig } from "../trace/bridge.ts";
import { Features } from "./features.ts";
import { attachHealing } from "../healing/service.ts";
import { startHostHealth, type HostHealthService } from "../hosts/service.ts";
import type { ChangeService } from "../changes/service.ts";
import { wireChanges } from "./change-wiring.ts";
import { ObservedCache } from "./observed-cache.ts";
import { StatusFeatures } from "../web/features.ts";
import { statusParts } from "../status/source.ts";

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
  /** Every action decision (healing, SLO, operator commands): history, log, listeners (docs/actions.md). */
  readonly actions: ActionJournal;
  readonly informers: Informer[] = [];
  /** Change tracking, the audit webhook and incidents' likely triggers (docs/changes.md). */
  readonly changes: ChangeService;
  private readonly latency: LatencyAnomalies;
  private readonly leaderServices: LeaderServices;
  private readonly handover: Handover;
  private readonly sharedState: SharedLoggedState;
  private readonly store: StateStore;
  private readonly writer: LogWriter;
  private readonly health: ApiHealthMonitor;
  private readonly leadership: Leadership;
  private readonly output: OutputCycles;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private http?: { url: string; stop(): Promise<void> };
  /** Host anomalies from the agents' snapshots (docs/host-health.md); undefined without MQTT. */
  hosts?: HostHealthService;
  /** The status page, its API and Home Assistant discovery (src/web/, src/ha/). */
  readonly status: StatusFeatures;
  /** Quiet retries: one warning per API outage, one summary when it ends. */
  readonly outage: ApiOutageLog;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly log: LogOutput;
  /** Discovery finished (the server is Kubernetes and the informers exist); until then not ready. */
  private discovered = false;
  private readonly discovery: ClusterDiscovery;
  private readonly now: () => number;
  /** OTLP intake, SLO engine and the other optional features (features.ts). */
  readonly features: Features;

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
    this.evaluator = new Evaluator(PLUGINS, ruleSettings(config), this.caches, this.collector, ruleErrorReporter(this.metrics, logger), (a) =>
      this.leadership.loggedSince(a),
    );
    this.outage = new ApiOutageLog(logger, this.now);
    this.discovery = new ClusterDiscovery(this.client, logger, this.outage, this.abort.signal);
    this.latency = new LatencyAnomalies(this.collector, config.ms("RULE_EVENT_MAX_AGE"));
    ({ store: this.store, actions: this.actions } = openControllerState(config, logger));
    this.writer = LogWriter.fromConfig(config, logger, new StoreLogQueue(this.store));
    const ns = config.str("LEADER_LEASE_NAMESPACE");
    const leaseName = config.str("LEADER_LEASE_NAME");
    this.alerting = new AlertingRuntime(config, this.store, new SilenceStore(this.client, ns, `${leaseName}-silences`), this.metrics, logger);
    const { store, client, metrics, outage, now, alerting, actions } = this;
    this.changes = wireChanges({ config, store, client, metrics, logger, outage, now, alerting, actions });
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
        onBatch: (batch) => this.features.syscallBatch(batch),
      },
    );
    attachHealing({ runtime: this, services: this.leaderServices, leadership: () => this.leadership, config, logger, clock: this.now });
    // Named after the node (stable across restarts), not the process: one LogWriteFailing per node's log.
    this.log = new LogOutput(this.store, this.writer, this.collector, this.metrics, config.str("LEADER_IDENTITY") || hostname(), opts.onLogged);
    this.leadership = new Leadership({
      client: this.client,
      config,
      logger,
      metrics: this.metrics,
      store: this.store,
      handover: this.handover,
      leaderServices: this.leaderServices,
      stopped: () => this.stopped,
      onLeaseError: (e) => {
        if (this.outage.failed("lease", e))
          this.health.checkNow(); // evidence now, while this leader may still act
        else if (!this.stopped) logger.warn("lease renewal failed", { error: String(e) });
      },
      onSeeded: () => this.evaluator.evaluateAll(this.now()),
    });
    this.output = new OutputCycles({
      config,
      logger,
      now: this.now,
      store: this.store,
      log: this.log,
      collector: this.collector,
      alerting: this.alerting,
      caches: this.caches,
      outage: this.outage,
      leadership: this.leadership,
      synced: () => this.synced,
      stopped: () => this.stopped,
      withdrawContradictedOutage: () => this.withdrawContradictedOutage(),
      // After the write, so the gauges show what is still pending now.
      afterWrite: () =>
        publishGauges(this.metrics, {
          cleaner: this.cleaner,
          collector: this.collector,
          writer: this.writer,
          alerting: this.alerting,
          informers: this.informers,
          leading: this.leadership.isLeader,
          store: this.store,
          now: this.now(),
          kube: this.client.stats,
          sharedStateDropped: this.sharedState.lastDropped,
        }),
    });
    this.features = new Features(this, config, logger, this.now);
    const sharedHosts = () => this.hosts?.intake.snapshots();
    this.status = new StatusFeatures(config, logger, this.metrics, statusParts(config, this, this.leadership, this.now), sharedHosts);
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
    return this.leadership.isLeader;
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
        routes: [...this.features.routes(), ...this.changes.routes(), ...this.status.routes],
      });
      logger.info("http endpoint listening", { url: this.http.url });
    }
    try {
      this.writer.repair();
    } catch (e) {
      logger.warn("cannot check cleaned_events.log at start-up; will retry at the first write", { error: String(e) });
    }
    this.health.start();
    const apiClockOffsetMs = () => this.client.apiClockOffsetMs; // node clocks are judged against the API server's
    this.hosts = startHostHealth({
      config,
      logger,
      sink: this.collector,
      cache: this.caches,
      now: this.now,
      metrics: this.metrics,
      apiClockOffsetMs,
    });
    this.status.start(); // after host health: the page reads its snapshots
    this.leadership.syncServices();
    this.every(config.ms("DIAGNOSIS_WRITE_INTERVAL"), () => void this.output.writeCycle());
    this.every(config.ms("DIAGNOSIS_ALERT_DISPATCH_INTERVAL"), () => void this.output.alertCycle());
    const discovered = await this.discovery.discover(PLUGINS, (ref) => {
      const informer: Informer = new Informer(this.client, ref, {
        cache: new ObservedCache(this.changes.observerFor(ref.kind, (): boolean => informer.synced)),
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
    });
    if (!discovered) return;
    this.discovered = true;
    for (const informer of this.informers) informer.start();
    void this.changes.start(this.abort.signal);
    this.leadership.elector?.start();
    this.every(config.ms("NEURO_EVALUATE_INTERVAL"), () => this.evaluateTick());
    this.every(config.ms("DIAGNOSIS_CLEAN_INTERVAL"), () => this.cleaner.clean(this.now()));
    for (const tick of this.features.ticks()) this.every(tick.intervalMs, tick.run);
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
    this.hosts?.evaluate(now);
  }

  private every(ms: number, fn: () => void): void {
    if (this.stopped) return;
    this.timers.push(setInterval(fn, ms));
  }

  /** APIServerUnreachable comes only from failed health checks (evidence), and resolves on their success. */
  private onApiHealth(ok: boolean, detail: string): void {
    const now = this.now();
    if (ok) this.outage.answered();
    this.leadership.apiHealthChanged(ok);
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

  /**
   * Not ready (503) while the controller cannot see the cluster. Degraded (still 200, reasons
   * listed) while it watches and decides correctly but an output is impaired — cleaned_events.log
   * unwritable, an alert channel failed: restarting or unscheduling it would not help, and the
   * condition is alerted on and counted in /metrics.
   */
  private readiness(): { ok: boolean; reasons: string[]; degraded: string[] } {
    const reasons: string[] = [];
    if (!this.discovered) reasons.push(this.discovery.problem ?? "discovering the API server's resources");
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
    if (!this.leadership.elector) this.output.decideLast();
    await this.leadership.stop();
    await Promise.all([this.leaderServices.settled(), this.changes.stop(), ...this.informers.map((i) => i.stop()), this.hosts?.stop()]);
    await this.status.stop();
    await this.http?.stop();
    this.finalFlush();
  }

  /** Synchronous last words: lines already decided are written, queued state committed, state.db closed. Safe to call twice. */
  finalFlush(): void {
    this.output.finalFlush();
  }
}

// Change tracking in the controller (docs/changes.md): one object the runtime wires in a few lines. It
// gives the controller's informers caches that report changes, watches ConfigMaps, Secrets and HPAs itself
// (metadata-light caches), stores changes in state.db, serves the audit webhook, and answers the likely
// trigger of an incident for the alerting runtime.
import type { Database } from "../store/db.ts";
import { CountingRejectSink, type RejectSink } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { HttpRoute } from "../http/routes.ts";
import type { KubeClient } from "../kube/client.ts";
import { chooseResource } from "../kube/discovery.ts";
import { Informer } from "../kube/informer.ts";
import type { CacheView } from "../kube/objects.ts";
import type { OutageSink } from "../kube/outage.ts";
import type { ResourceRef } from "../kube/types.ts";
import type { Logger } from "../log.ts";
import type { Incident, LikelyTrigger } from "../model/incident.ts";
import { ChangeStore } from "../store/change-store.ts";
import { auditWebhookRoute, type AuditWebhookOptions } from "./audit-webhook.ts";
import { startAuditListener, type AuditListener } from "./audit-listener.ts";
import { observerFor, StubCache, type CacheObserver } from "./caches.ts";
import { ChangeTracker } from "./tracker.ts";
import { incidentStart, likelyTrigger } from "./trigger.ts";
import { describeChange } from "../model/change.ts";

const core = (plural: string, kind: string): ResourceRef => ({ group: "", version: "v1", plural, kind, namespaced: true });
const OWN_KINDS: ResourceRef[][] = [
  [core("configmaps", "ConfigMap")],
  [core("secrets", "Secret")],
  [
    { group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler", namespaced: true },
    { group: "autoscaling", version: "v1", plural: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler", namespaced: true },
  ],
];

export interface ChangeServiceDeps {
  config: Config;
  db: Database;
  client: KubeClient;
  logger: Logger;
  metrics: ControllerMetrics;
  rejects: RejectSink;
  outage: OutageSink;
  now: () => number;
}

export class ChangeService {
  readonly store: ChangeStore;
  readonly tracker: ChangeTracker;
  readonly enabled: boolean;
  private readonly informers: Informer[] = [];
  private readonly log: Logger;
  private readonly gauges;
  private listener?: AuditListener;
  private timer?: ReturnType<typeof setInterval>;

  /** The runtime's one line: rejects are counted in neurocontroller_malformed_input_total like every boundary's. */
  static create(config: Config, db: Database, client: KubeClient, metrics: ControllerMetrics, logger: Logger, outage: OutageSink, now: () => number) {
    const rejects = new CountingRejectSink(metrics.malformedInput, logger);
    return new ChangeService({ config, db, client, logger, metrics, rejects, outage, now });
  }

  constructor(private readonly deps: ChangeServiceDeps) {
    const { config, metrics } = deps;
    this.enabled = config.bool("CHANGES_ENABLE");
    this.log = deps.logger.child({ component: "changes" });
    this.store = new ChangeStore(deps.db, config.num("CHANGES_MAX_ROWS"), (id, error) =>
      this.log.warn("unreadable change row in state.db skipped", { id, error }),
    );
    const r = metrics.registry;
    this.gauges = {
      recorded: r.counter("neurocontroller_changes_recorded_total", "Changes recorded (change tracking), per kind.", ["kind"]),
      stored: r.gauge("neurocontroller_changes_stored", "Changes kept in state.db (bounded by CHANGES_MAX_ROWS and CHANGES_RETENTION)."),
      audit: r.counter("neurocontroller_audit_events_total", "Audit webhook events and requests, per outcome.", ["outcome"]),
      pending: r.gauge("neurocontroller_audit_pending_attributions", "Audit events kept in memory waiting for their watch event (bounded)."),
    };
    this.tracker = new ChangeTracker(this.store, deps.now, (c) => {
      this.gauges.recorded.inc({ kind: c.kind });
      this.log.info(`change: ${describeChange(c)}`, { kind: c.kind, namespace: c.namespace, name: c.name, verb: c.verb });
    });
  }

  /** What one of the controller's informer caches reports to (undefined when tracking is off). */
  observerFor(kind: string, synced: () => boolean): CacheObserver | undefined {
    return this.enabled ? observerFor(this.tracker, kind, synced, (e) => this.observeFailed(kind, e)) : undefined;
  }

  /** Routes for the controller's HTTP server (the bearer-token audit webhook when a token is set). */
  routes(): HttpRoute[] {
    return this.enabled && this.deps.config.str("AUDIT_WEBHOOK_TOKEN") ? [auditWebhookRoute(this.auditOptions())] : [];
  }

  /** After discovery: the own informers, the client-certificate listener, the retention tick. */
  async start(signal: AbortSignal): Promise<void> {
    if (!this.enabled) return;
    const { config } = this.deps;
    if (config.str("AUDIT_WEBHOOK_ADDR")) {
      try {
        this.listener = startAuditListener(config, this.auditOptions(), (e) =>
          this.log.error("audit webhook listener failed", { addr: config.str("AUDIT_WEBHOOK_ADDR"), error: String(e) }),
        );
        this.log.info("audit webhook listening (client certificates)", { url: this.listener.url });
      } catch (e) {
        this.log.error("audit webhook listener not started: check AUDIT_WEBHOOK_CERT_FILE, _KEY_FILE and _CLIENT_CA_FILE", {
          addr: config.str("AUDIT_WEBHOOK_ADDR"),
          error: String(e),
        });
      }
    }
    this.timer = setInterval(() => this.prune(), 60_000);
    this.prune();
    for (const candidates of OWN_KINDS) {
      if (candidates[0]!.kind === "Secret" && !config.bool("CHANGES_SECRETS")) continue;
      let ref: ResourceRef | null = null;
      try {
        ref = await chooseResource(this.deps.client, candidates);
      } catch (e) {
        this.log.warn("cannot discover a kind for change tracking; its changes are not tracked", { kind: candidates[0]!.kind, error: String(e) });
      }
      if (signal.aborted) return;
      if (!ref) continue;
      const cache = new StubCache();
      const informer = new Informer(this.deps.client, ref, { cache, logger: this.deps.logger, outage: this.deps.outage });
      cache.observer = observerFor(
        this.tracker,
        ref.kind,
        () => informer.synced,
        (e) => this.observeFailed(ref.kind, e),
      );
      this.informers.push(informer);
      informer.start();
    }
    try {
      await Promise.all(this.informers.map((i) => i.waitForSync()));
      this.log.info("change tracking watching", { kinds: this.informers.map((i) => i.ref.kind) });
    } catch {
      // stopped before the first list finished
    }
  }

  /** The likely trigger of an incident (undefined when tracking is off or nothing fits). */
  triggerFor(incident: Incident, cache: CacheView): LikelyTrigger | undefined {
    if (!this.enabled) return undefined;
    const start = incidentStart(incident);
    const lookback = this.deps.config.ms("CHANGES_LOOKBACK");
    return likelyTrigger(incident, this.store.list({ sinceMs: start - lookback, untilMs: start, limit: 5000 }), cache, lookback);
  }

  prune(): void {
    this.store.prune(this.deps.now() - this.deps.config.ms("CHANGES_RETENTION"));
    this.tracker.expire();
    this.gauges.stored.set(this.store.count());
    this.gauges.pending.set(this.tracker.pendingAudit);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.listener?.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  private auditOptions(): AuditWebhookOptions {
    return {
      token: this.deps.config.str("AUDIT_WEBHOOK_TOKEN"),
      maxBodyBytes: this.deps.config.num("AUDIT_WEBHOOK_MAX_BODY"),
      sink: this.deps.rejects,
      onWrite: (w) => this.tracker.audited(w),
      count: (outcome, n = 1) => {
        if (n > 0) this.gauges.audit.inc({ outcome }, n);
        if (outcome === "kept") {
          this.gauges.pending.set(this.tracker.pendingAudit);
          this.gauges.stored.set(this.store.count());
        }
      },
    };
  }

  private observeFailed(kind: string, e: unknown): void {
    this.deps.metrics.handlerErrors.inc({ handler: `changes/${kind}` });
    this.log.warn("change tracking skipped an object", { kind, error: String(e) });
  }
}

// The features beside the watch → log → alert path, built from config in one room: the OTLP trace
// intake with its RED windows and the SLO engine (rollback, scaling). Each contributes HTTP routes and
// periodic ticks; the runtime asks this room for them instead of wiring every feature itself.
import type { CountingRejectSink } from "../boundary/reject.ts";
import { CountingRejectSink as Rejects } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import type { Registry } from "../http/metrics.ts";
import type { HttpRoute } from "../http/routes.ts";
import type { Logger } from "../log.ts";
import type { SpanBatch } from "../trace/types.ts";
import { type OtlpIntake, otlpIntakeFromConfig } from "../slo/intake.ts";
import { type SloHost, type SloService, sloServiceFor } from "../slo/service.ts";
import { sloStatusRoute } from "../slo/status-route.ts";

/** What the runtime offers its features (ControllerRuntime satisfies it; leadership and sync are read live). */
export interface FeatureHost extends Omit<SloHost, "red" | "metrics"> {
  metrics: { malformedInput: ConstructorParameters<typeof CountingRejectSink>[0]; registry: Registry };
}

export interface Tick {
  intervalMs: number;
  run(): void;
}

export class Features {
  /** OTLP/HTTP trace intake and its RED windows (docs/otlp.md); undefined when SLO_OTLP_ENABLED is off. */
  readonly otlp?: OtlpIntake;
  /** Rollback of bad rollouts and bounded scaling (SLO_MODE, docs/slo.md); leader only. */
  readonly slo: SloService;

  constructor(
    host: FeatureHost,
    private readonly config: Config,
    logger: Logger,
    now: () => number,
  ) {
    this.otlp = otlpIntakeFromConfig(config, host.metrics.registry, new Rejects(host.metrics.malformedInput, logger));
    const sloHost: SloHost = {
      client: host.client,
      caches: host.caches,
      actions: host.actions,
      metrics: host.metrics,
      get isLeader() {
        return host.isLeader;
      },
      get synced() {
        return host.synced;
      },
      red: this.otlp?.red,
    };
    this.slo = sloServiceFor(sloHost, config, logger, now);
  }

  /** The agents' syscall span batches (leader's trace bridge), joined to OTLP services by trace id. */
  syscallBatch(batch: SpanBatch): void {
    this.otlp?.syscallBatch(batch);
  }

  routes(): HttpRoute[] {
    return [...(this.otlp ? [this.otlp.route()] : []), sloStatusRoute(this.slo)];
  }

  /** Started once the informers exist (after discovery). */
  ticks(): Tick[] {
    return [{ intervalMs: this.config.ms("SLO_INTERVAL"), run: () => void this.slo.tick() }];
  }
}

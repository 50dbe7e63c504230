// Wires host health into the controller: subscribes to <prefix>/hosts/+ on every replica (a standby holds
// the same host state, so a takeover loses nothing; retained snapshots arrive at once on subscribing) and
// runs the Host rules after each snapshot and on each evaluation tick.
import { CountingRejectSink } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import { findCondition, type CacheView } from "../kube/objects.ts";
import type { Logger } from "../log.ts";
import { MqttConnection } from "../mqtt/connection.ts";
import { mqttOptionsFromConfig } from "../mqtt/options.ts";
import { HostHealthIntake, type HostSink } from "./intake.ts";
import type { HostThresholds } from "./rules.ts";

export interface HostHealthService {
  readonly intake: HostHealthIntake;
  evaluate(now: number): void;
  stop(): Promise<void>;
}

export function hostThresholdsFromConfig(cfg: Config): HostThresholds {
  return {
    temperatureWarning: cfg.num("HOST_TEMPERATURE_WARNING"),
    temperatureCritical: Math.max(cfg.num("HOST_TEMPERATURE_CRITICAL"), cfg.num("HOST_TEMPERATURE_WARNING")),
    diskWarningPercent: cfg.num("HOST_DISK_WARNING_PERCENT"),
    diskCriticalPercent: Math.max(cfg.num("HOST_DISK_CRITICAL_PERCENT"), cfg.num("HOST_DISK_WARNING_PERCENT")),
    clockSkewMaxMs: cfg.ms("HOST_CLOCK_SKEW_MAX"),
    unreportedAfter: cfg.num("HOST_UNREPORTED_AFTER"),
  };
}

/** The Node's Ready condition from the informer cache: true/false, undefined when the Node is unknown. */
export function nodeReadyIn(cache: CacheView): (node: string) => boolean | undefined {
  return (node) => {
    const obj = cache.get("Node", "", node);
    if (!obj) return undefined;
    return findCondition(obj, "Ready")?.status === "True";
  };
}

/** Starts the host-health intake when MQTT_URL is set and HOST_HEALTH_ENABLE is on; undefined otherwise. */
export function startHostHealth(deps: {
  config: Config;
  logger: Logger;
  sink: HostSink;
  cache: CacheView;
  now: () => number;
  /** Refused snapshots are counted in malformedInput{source}, handler exceptions in handlerErrors. */
  metrics: Pick<ControllerMetrics, "malformedInput" | "handlerErrors">;
  /** The API server's clock minus the controller's (KubeClient.apiClockOffsetMs): node clocks are judged against it. */
  apiClockOffsetMs?: () => number | undefined;
}): HostHealthService | undefined {
  const { config, logger, now, metrics } = deps;
  if (!config.bool("HOST_HEALTH_ENABLE") || !config.str("MQTT_URL").trim()) return undefined;
  const log = logger.child({ component: "host-health" });
  const intake = new HostHealthIntake(
    deps.sink,
    hostThresholdsFromConfig(config),
    nodeReadyIn(deps.cache),
    new CountingRejectSink(metrics.malformedInput, logger),
    deps.apiClockOffsetMs,
  );
  const connection = new MqttConnection(
    mqttOptionsFromConfig(config, {
      announceStatus: false,
      clientIdSuffix: "hosts",
      logger: log,
      onHandlerError: (f) => metrics.handlerErrors.inc({ handler: `mqtt:${f}` }),
    }),
  );
  const topics = connection.topics;
  connection
    .subscribe(topics.hostsAll, (topic, payload, retained) => {
      const node = topics.nodeOf(topic);
      if (node === undefined) return;
      const t = now();
      if (intake.accept(node, payload, retained === true, t) || payload.length === 0) intake.evaluate(t);
    })
    .catch((e) => log.warn("cannot subscribe to the host-health topics", { error: String(e) }));
  return {
    intake,
    evaluate: (t) => intake.evaluate(t),
    stop: () => connection.close(),
  };
}

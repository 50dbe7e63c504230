// The healing loop on the leader: one engine tick every HEALING_INTERVAL (ticks never overlap), started
// when this controller starts leading and stopped when it stops. Wired into the runtime by one call.
import type { Config } from "../config/load.ts";
import { CountingRejectSink, type RejectSink } from "../boundary/reject.ts";
import type { ActionRecord } from "../model/action.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log.ts";
import type { ActionJournal } from "../actions/journal.ts";
import { HealingEngine } from "./engine.ts";
import { HealingPauseStore, healingConfigMapName } from "./pause.ts";
import { healingSettings } from "./settings.ts";
import { COMMAND_KEY_MIN_LENGTH, CommandVerifier } from "../mqtt/signed-command.ts";
import type { MqttConnection } from "../mqtt/connection.ts";
import { handleHealingCommand, type HealingCommandResult } from "./pause-command.ts";

export interface HealingServiceDeps {
  /** The active MQTT channel's connection (the signed command topic is subscribed on it), if any. */
  mqtt?: () => MqttConnection | undefined;
  config: Config;
  client: KubeClient;
  journal: ActionJournal;
  logger: Logger;
  clock: () => number;
  stillLeading: () => boolean;
  rejects: RejectSink;
}

export class HealingService {
  readonly engine: HealingEngine;
  private timer?: ReturnType<typeof setInterval>;
  private running?: Promise<void>;
  private readonly intervalMs: number;
  private readonly pause: HealingPauseStore;
  private verifier?: CommandVerifier;
  private unsubscribe?: () => Promise<void>;
  private failing = false;
  private subscribing = false;

  constructor(private readonly d: HealingServiceDeps) {
    const settings = healingSettings(d.config);
    this.intervalMs = settings.intervalMs;
    const pause = new HealingPauseStore(
      d.client,
      d.config.str("LEADER_LEASE_NAMESPACE"),
      healingConfigMapName(d.config.str("LEADER_LEASE_NAME")),
      d.rejects,
    );
    this.pause = pause;
    this.engine = new HealingEngine({
      client: d.client,
      record: (r) => d.journal.record(r),
      settings,
      clusterId: d.config.str("CLUSTER_ID"),
      logger: d.logger,
      clock: d.clock,
      readShared: () => pause.readShared(),
      saveTold: (ids) => pause.addTold(ids, d.clock()),
      stillLeading: d.stillLeading,
      rejects: d.rejects,
    });
    if (settings.mode !== "off") d.logger.info("healing enabled", { mode: settings.mode });
  }

  /** Leader switch: on starts the loop, off stops it after the tick in progress. */
  async set(on: boolean): Promise<void> {
    if (on && !this.timer && this.d.config.str("HEALING_MODE") !== "off") {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      // Not awaited: a subscription waits for the broker, and a broker outage must not hold up the leader switch.
      this.subscribeCommands().catch((e) => this.d.logger.warn("cannot subscribe to the healing command topic", { error: String(e) }));
    } else if (!on && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      await this.unsubscribe?.().catch(() => {});
      this.unsubscribe = undefined;
      await this.running;
    }
  }

  /** <prefix>/healing/set, only when MQTT is on and MQTT_COMMAND_KEY is usable (an unsigned command has no authority). */
  private async subscribeCommands(): Promise<void> {
    const conn = this.d.mqtt?.();
    const keys = [this.d.config.str("MQTT_COMMAND_KEY"), this.d.config.str("MQTT_COMMAND_KEY_PREVIOUS")].filter(
      (k) => k.length >= COMMAND_KEY_MIN_LENGTH,
    );
    if (!conn || keys.length === 0 || this.unsubscribe || this.subscribing) return;
    this.verifier ??= new CommandVerifier({ keys, maxAgeMs: this.d.config.ms("MQTT_COMMAND_MAX_AGE"), sink: this.d.rejects, source: "mqtt.command" });
    const deps = {
      verifier: this.verifier,
      store: this.pause,
      sink: this.d.rejects,
      log: this.d.logger.child({ audit: "command" }),
      publishResult: (r: HealingCommandResult) => conn.publish(conn.topics.healingResult, JSON.stringify(r)),
    };
    this.subscribing = true;
    try {
      const unsubscribe = await conn.subscribe(conn.topics.healingSet, (_t, payload, retained) => void handleHealingCommand(deps, payload, retained));
      if (this.timer) this.unsubscribe = unsubscribe;
      else await unsubscribe(); // stepped down meanwhile
    } finally {
      this.subscribing = false;
    }
  }

  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.engine
      .tick()
      .then(() => {
        if (this.failing) this.d.logger.info("healing reads the cluster again");
        this.failing = false;
      })
      .catch((e) => {
        // Once per outage, not every interval: the API outage itself is alerted by the controller.
        this.d.logger[this.failing ? "debug" : "warn"]("healing tick failed; retried every interval", { error: String(e) });
        this.failing = true;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}

/** What the runtime hands over (structural: no import of the runtime here). */
export interface HealingWiring {
  runtime: {
    client: KubeClient;
    actions: ActionJournal;
    alerting: { submitAction(r: ActionRecord, now: number): number; readonly mqttConnection: MqttConnection | undefined };
    metrics: { malformedInput: ConstructorParameters<typeof CountingRejectSink>[0] };
  };
  services: { attach(s: { set(on: boolean): Promise<void> }): void };
  leadership: () => { isLeader: boolean; elector?: { canAct(): boolean } };
  config: Config;
  logger: Logger;
  clock: () => number;
}

/**
 * The runtime's one call: every action record goes to the alert pipeline (the outbox: <prefix>/actions,
 * announcements), and the healing loop runs as a leader-only switch.
 */
export function attachHealing(w: HealingWiring): HealingService {
  const { runtime, config, logger, clock } = w;
  runtime.actions.listen((record) => void runtime.alerting.submitAction(record, clock()));
  const service = new HealingService({
    config,
    client: runtime.client,
    journal: runtime.actions,
    logger: logger.child({ component: "healing" }),
    clock,
    stillLeading: () => w.leadership().isLeader && (w.leadership().elector?.canAct() ?? true),
    rejects: new CountingRejectSink(runtime.metrics.malformedInput, logger),
    mqtt: () => runtime.alerting.mqttConnection,
  });
  w.services.attach(service);
  return service;
}

// The alerting half of the controller: active anomalies → incidents → pipeline → outbox → channels.
// Only the leader runs it. Incident and pipeline state persist in state.db (a restart re-announces
// nothing) and travel with the shared state ConfigMap (a new leader on another node neither).
import type { Config } from "../config/load.ts";
import { alertingConfig, type AlertingConfig } from "../alerting/config.ts";
import { emptyPipelineState, step, type PipelineState } from "../alerting/pipeline.ts";
import { silenceSchema, tooBroad, type Silence } from "../alerting/silence.ts";
import { handleSilenceCommand, type SilenceCommandDeps } from "../alerting/silence-command.ts";
import type { SilenceStore } from "../alerting/silence-store.ts";
import { CountingRejectSink, type RejectSink } from "../boundary/reject.ts";
import { COMMAND_KEY_MIN_LENGTH, CommandVerifier } from "../mqtt/signed-command.ts";
import type { Channel as ChannelName } from "../model/alert.ts";
import { buildChannels, dispatcherFromConfig, UnavailableChannel } from "../channels/from-config.ts";
import type { Dispatcher } from "../channels/dispatcher.ts";
import { MqttChannel } from "../channels/mqtt.ts";
import { mqttTopics, type MqttTopics } from "../mqtt/topics.ts";
import { topicPrefixFromConfig } from "../mqtt/options.ts";
import type { Channel } from "../channels/types.ts";
import { correlate, emptyIncidentState, type IncidentState } from "../correlation/incidents.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { Logger } from "../log.ts";
import { Outbox } from "../store/outbox.ts";
import type { StateStore } from "../store/state-store.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { CacheView } from "../kube/objects.ts";
import type { ActionRecord } from "../model/action.ts";
import { actionNotifications } from "../actions/announce.ts";
import type { Incident, LikelyTrigger } from "../model/incident.ts";
import { RecentAlerts } from "../status/recent-alerts.ts";

const STATE_KEY = "alerting";

export interface AlertingSnapshot {
  incidents: IncidentState;
  pipeline: PipelineState;
}

export class AlertingRuntime {
  private incidents: IncidentState;
  private pipeline: PipelineState;
  private readonly cfg: AlertingConfig;
  private readonly outbox: Outbox;
  private channels: Channel[] = [];
  /** Enabled channels that could not be started, with why (for /readyz and channel_up). */
  private failed = new Map<ChannelName, string>();
  private dispatcher?: Dispatcher;
  private silences: Silence[] = [];
  private unsubscribe?: () => Promise<void>;
  readonly topics: MqttTopics;
  private readonly rejects: RejectSink;
  /** Kept across leadership terms: a command replayed after a step-down and re-election is still refused. */
  private verifier?: CommandVerifier;
  private commandTopicNoted = false;
  /** Names an incident's likely trigger when it opens (change tracking, docs/changes.md); computed outside the pure stages. */
  triggerFor?: (incident: Incident, cache: CacheView) => LikelyTrigger | undefined;
  /** Told each loaded silence list (the audit trail records new and edited silences, docs/audit.md). */
  onSilences?: (silences: readonly Silence[]) => void;
  /** Set by the caller while a tick runs (ticks never overlap). */
  busy = false;
  /** The last notifications decided, for the status page and Home Assistant (src/status/). */
  readonly recent = new RecentAlerts();

  constructor(
    private readonly config: Config,
    private readonly store: StateStore,
    private readonly silenceStore: SilenceStore,
    private readonly metrics: ControllerMetrics,
    private readonly logger: Logger,
  ) {
    const saved = store.getKv(STATE_KEY);
    const snapshot = saved ? store.parseRow<AlertingSnapshot>("kv", STATE_KEY, saved) : undefined;
    this.incidents = snapshot?.incidents ?? emptyIncidentState();
    this.pipeline = snapshot?.pipeline ?? emptyPipelineState();
    this.outbox = new Outbox(store.db, (table, key, error) => store.badRow(table, key, error));
    this.cfg = alertingConfig(config);
    this.topics = mqttTopics(topicPrefixFromConfig(config));
    this.rejects = new CountingRejectSink(metrics.malformedInput, logger);
  }

  get channelNames(): ChannelName[] {
    return this.dispatcher?.channelNames ?? [];
  }

  get failedChannels(): ReadonlyMap<ChannelName, string> {
    return this.failed;
  }

  /** Every enabled channel while active: true when it started, false when its settings made it fail. */
  channelStates(): [ChannelName, boolean][] {
    return this.channelNames.map((ch) => [ch, !this.failed.has(ch)]);
  }

  /** The silences read at the last tick (the leader's; empty on a standby). */
  get knownSilences(): readonly Silence[] {
    return this.silences;
  }

  get openIncidents(): number {
    return Object.keys(this.incidents.incidents).length;
  }

  /** Persisted, unacknowledged notifications per channel. */
  pendingByChannel(): Record<string, number> {
    const counts = this.outbox.counts();
    return Object.fromEntries(this.channelNames.map((ch) => [ch, counts[ch]?.pending ?? 0]));
  }

  snapshot(): AlertingSnapshot {
    return { incidents: this.incidents, pipeline: this.pipeline };
  }

  /** A new leader takes over the previous leader's view (when it published one). */
  adopt(snapshot: AlertingSnapshot | undefined): void {
    if (!snapshot) return;
    this.incidents = snapshot.incidents;
    this.pipeline = snapshot.pipeline;
  }

  /** On gaining leadership: connect the channels and resume the outbox (pending rows are resent). */
  async activate(): Promise<void> {
    if (this.dispatcher) return;
    const m = this.metrics;
    const built = buildChannels(this.config, {
      logger: this.logger,
      onHandlerError: (subscription) => m.handlerErrors.inc({ handler: `mqtt:${subscription}` }),
    });
    this.channels = built.channels;
    this.failed = new Map(built.failed.map((f) => [f.channel, f.reason]));
    for (const f of built.failed) {
      this.logger.error("alert channel not started; the other channels go on, its notifications are kept and retried", {
        channel: f.channel,
        reason: f.reason,
      });
    }
    const all = [...this.channels, ...built.failed.map((f) => new UnavailableChannel(f.channel, f.reason))];
    this.dispatcher = dispatcherFromConfig(this.config, this.outbox, all, {
      logger: this.logger,
      hooks: {
        sent: (channel) => m.notificationsSent.inc({ channel }),
        retry: (channel) => m.notificationRetries.inc({ channel }),
        failed: (channel) => m.notificationsFailed.inc({ channel }),
      },
    }).start();
    const mqtt = this.channels.find((c): c is MqttChannel => c instanceof MqttChannel);
    const commands = mqtt ? this.commandDeps(mqtt) : undefined;
    if (mqtt && commands) {
      this.unsubscribe = await mqtt.connection.subscribe(this.topics.silencesSet, (_t, payload, retained) =>
        handleSilenceCommand(commands, payload, retained),
      );
    }
    this.logger.info("alerting active", { channels: this.channelNames });
  }

  async deactivate(): Promise<void> {
    await this.unsubscribe?.().catch(() => {});
    this.unsubscribe = undefined;
    await this.dispatcher?.close();
    this.dispatcher = undefined;
    this.failed = new Map();
  }

  /** One pipeline step: pure stages decide, the outbox persists before anything is sent. */
  async tick(active: ReadonlyMap<string, Anomaly>, cache: CacheView, now: number, stillActing: () => boolean = () => true): Promise<number> {
    try {
      this.silences = this.validSilences(await this.silenceStore.list());
      this.onSilences?.(this.silences);
    } catch (e) {
      this.logger.warn("cannot read silences; using the last known list", { error: String(e) });
    }
    if (!stillActing()) return 0; // the renew deadline passed while the silences loaded: another node may lead now
    const correlated = correlate(this.incidents, active, cache, now);
    for (const c of correlated.changes) {
      if (c.type === "resolved" || c.incident.trigger || !this.triggerFor) continue;
      try {
        const trigger = this.triggerFor(c.incident, cache);
        if (trigger) c.incident.trigger = trigger;
      } catch (e) {
        this.logger.warn("cannot name the likely trigger of an incident", { incident: c.incident.id, error: String(e) });
      }
    }
    const out = step(this.pipeline, { incidentChanges: correlated.changes, silences: this.silences }, now, this.cfg);
    let submitted = 0;
    for (const n of out.notifications) {
      // Channels not configured here are skipped by the dispatcher (submit returns false).
      if (this.dispatcher?.submit(n)) submitted++;
    }
    this.incidents = correlated.state;
    this.pipeline = out.state;
    this.recent.remember(out.notifications, now);
    this.store.setKv(STATE_KEY, JSON.stringify(this.snapshot()));
    this.metrics.incidentsOpen.set(this.openIncidents);
    this.metrics.alertCycles.inc();
    return submitted;
  }

  /**
   * An action of ours (docs/actions.md) → the outbox: every record to MQTT (<prefix>/actions), announced
   * ones to Slack and email too. Ids are deterministic, so a record submitted twice is delivered once.
   */
  submitAction(record: ActionRecord, now: number): number {
    if (!this.dispatcher) {
      this.logger.warn("action not announced: the alert channels are not active on this controller", { action: record.id });
      return 0;
    }
    let submitted = 0;
    for (const n of actionNotifications(record, this.config.str("CLUSTER_ID"), this.dispatcher.channelNames, now))
      if (this.dispatcher.submit(n)) submitted++;
    return submitted;
  }

  /** The MQTT connection of the active MQTT channel (command topics of other features share it). */
  get mqttConnection(): MqttChannel["connection"] | undefined {
    return this.channels.find((c): c is MqttChannel => c instanceof MqttChannel)?.connection;
  }

  /**
   * What the silence command topic needs, or undefined (logged once) when MQTT_COMMAND_KEY is not set
   * or too short: then the topic is not subscribed at all, since an unsigned command has no authority.
   */
  private commandDeps(mqtt: MqttChannel): SilenceCommandDeps | undefined {
    const keys = [this.config.str("MQTT_COMMAND_KEY"), this.config.str("MQTT_COMMAND_KEY_PREVIOUS")].filter(Boolean);
    if (!keys.some((k) => k.length >= COMMAND_KEY_MIN_LENGTH)) {
      if (!this.commandTopicNoted) {
        const why = keys.length ? `is shorter than ${COMMAND_KEY_MIN_LENGTH} characters` : "is not set";
        this.logger.warn(`MQTT_COMMAND_KEY ${why}: the silence command topic is not subscribed (use the CLI with a kubeconfig)`, {
          topic: this.topics.silencesSet,
        });
        this.commandTopicNoted = true;
      }
      return undefined;
    }
    this.verifier ??= new CommandVerifier({
      keys,
      maxAgeMs: this.config.ms("MQTT_COMMAND_MAX_AGE"),
      sink: this.commandSink(),
      source: "mqtt.command",
    });
    return {
      verifier: this.verifier,
      store: this.silenceStore,
      sink: this.commandSink(),
      log: this.logger.child({ audit: "command" }),
      silenceOptions: { maxDurationMs: this.config.ms("SILENCE_MAX_DURATION") },
      publishResult: (r) => mqtt.connection.publish(this.topics.silencesResult, JSON.stringify(r)),
    };
  }

  /** Refused commands: counted by source (and in the older malformed_commands_total), audited once per window. */
  private commandSink(): RejectSink {
    return { reject: (source, reason, payload) => (this.metrics.malformedCommands.inc(), this.rejects.reject(source, reason, payload)) };
  }

  /** The stored silences, each checked again (a hand-edited ConfigMap too): one that fails is counted and ignored, never fatal. */
  private validSilences(list: unknown): Silence[] {
    if (!Array.isArray(list)) {
      this.rejects.reject("configmap.silences", "silences.json is not a list", list);
      return [];
    }
    const out: Silence[] = [];
    for (const s of list) {
      const r = silenceSchema.safeParse(s);
      const broad = r.success ? tooBroad(r.data.matchers) : undefined;
      if (r.success && !broad) out.push(r.data);
      else this.rejects.reject("configmap.silences", `stored silence ignored: ${broad ?? r.error?.issues[0]?.message ?? "invalid"}`, s);
    }
    return out;
  }
}

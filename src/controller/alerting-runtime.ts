// The alerting half of the controller: active anomalies → incidents → pipeline → outbox → channels.
// Only the leader runs it. Incident and pipeline state persist in state.db (a restart re-announces
// nothing) and travel with the shared state ConfigMap (a new leader on another node neither).
import type { Config } from "../config/load.ts";
import { alertingConfig, type AlertingConfig } from "../alerting/config.ts";
import { emptyPipelineState, step, type PipelineState } from "../alerting/pipeline.ts";
import type { Silence } from "../alerting/silence.ts";
import { SilenceError } from "../alerting/silence.ts";
import type { SilenceStore } from "../alerting/silence-store.ts";
import type { Channel as ChannelName } from "../alerting/types.ts";
import { dispatcherFromConfig, channelsFromConfig } from "../channels/from-config.ts";
import type { Dispatcher } from "../channels/dispatcher.ts";
import { MqttChannel } from "../channels/mqtt.ts";
import { mqttTopics, type MqttTopics } from "../channels/mqtt-topics.ts";
import { topicPrefixFromConfig } from "../channels/from-config.ts";
import type { Channel } from "../channels/types.ts";
import { correlate, emptyIncidentState, type IncidentState } from "../diagnosis/incidents.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { Logger } from "../log.ts";
import { Outbox } from "../store/outbox.ts";
import type { StateStore } from "../store/state-store.ts";
import type { Anomaly, CacheView } from "../watchers/types.ts";

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
  private dispatcher?: Dispatcher;
  private silences: Silence[] = [];
  private unsubscribe?: () => Promise<void>;
  readonly topics: MqttTopics;
  /** Set by the caller while a tick runs (ticks never overlap). */
  busy = false;

  constructor(
    private readonly config: Config,
    private readonly store: StateStore,
    private readonly silenceStore: SilenceStore,
    private readonly metrics: ControllerMetrics,
    private readonly logger: Logger,
  ) {
    const saved = store.getKv(STATE_KEY);
    const snapshot = saved ? (JSON.parse(saved) as AlertingSnapshot) : undefined;
    this.incidents = snapshot?.incidents ?? emptyIncidentState();
    this.pipeline = snapshot?.pipeline ?? emptyPipelineState();
    this.outbox = new Outbox(store.db);
    this.cfg = alertingConfig(config);
    this.topics = mqttTopics(topicPrefixFromConfig(config));
  }

  get channelNames(): ChannelName[] {
    return this.dispatcher?.channelNames ?? [];
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
    this.channels = channelsFromConfig(this.config, { logger: this.logger });
    this.dispatcher = dispatcherFromConfig(this.config, this.outbox, this.channels, {
      logger: this.logger,
      hooks: {
        sent: (channel) => m.notificationsSent.inc({ channel }),
        retry: (channel) => m.notificationRetries.inc({ channel }),
        failed: (channel) => m.notificationsFailed.inc({ channel }),
      },
    }).start();
    const mqtt = this.channels.find((c): c is MqttChannel => c instanceof MqttChannel);
    if (mqtt) this.unsubscribe = await mqtt.connection.subscribe(this.topics.silencesSet, (_t, payload) => void this.onSilenceCommand(payload));
    this.logger.info("alerting active", { channels: this.channelNames });
  }

  async deactivate(): Promise<void> {
    await this.unsubscribe?.().catch(() => {});
    this.unsubscribe = undefined;
    await this.dispatcher?.close();
    this.dispatcher = undefined;
  }

  /** One pipeline step: pure stages decide, the outbox persists before anything is sent. */
  async tick(active: ReadonlyMap<string, Anomaly>, cache: CacheView, now: number, stillActing: () => boolean = () => true): Promise<number> {
    try {
      this.silences = await this.silenceStore.list();
    } catch (e) {
      this.logger.warn("cannot read silences; using the last known list", { error: String(e) });
    }
    if (!stillActing()) return 0; // the renew deadline passed while the silences loaded: another node may lead now
    const correlated = correlate(this.incidents, active, cache, now);
    const out = step(this.pipeline, { incidentChanges: correlated.changes, silences: this.silences }, now, this.cfg);
    let submitted = 0;
    for (const n of out.notifications) {
      // Channels not configured here are skipped by the dispatcher (submit returns false).
      if (this.dispatcher?.submit(n)) submitted++;
    }
    this.incidents = correlated.state;
    this.pipeline = out.state;
    this.store.setKv(STATE_KEY, JSON.stringify(this.snapshot()));
    this.metrics.incidentsOpen.set(this.openIncidents);
    this.metrics.alertCycles.inc();
    return submitted;
  }

  /** `<prefix>/silences/set`: {"action":"add","matchers":"namespace=shop","duration":"2h","createdBy":"…","comment":"…"} or {"action":"expire","id":"…"}. */
  private async onSilenceCommand(payload: Buffer): Promise<void> {
    const now = Date.now();
    try {
      const cmd = JSON.parse(payload.toString("utf8")) as { action?: string; id?: string } & Record<string, unknown>;
      if (cmd.action === "expire" && typeof cmd.id === "string") {
        const expired = await this.silenceStore.expire(cmd.id, now);
        this.logger.info("silence expired via MQTT", { ids: expired.map((s) => s.id), by: cmd.createdBy ?? "mqtt" });
      } else if (cmd.action === "add" || cmd.action === undefined) {
        const s = await this.silenceStore.add({ createdBy: "mqtt", ...cmd } as never, now);
        this.logger.info("silence added via MQTT", { id: s.id, createdBy: s.createdBy, comment: s.comment, endsAt: new Date(s.endsAt).toISOString() });
      } else {
        throw new Error(`unknown action ${JSON.stringify(cmd.action)} (expected add or expire)`);
      }
    } catch (e) {
      this.metrics.malformedCommands.inc();
      this.logger.warn("rejected silence command", { error: e instanceof SilenceError ? e.problems.join("; ") : String(e) });
    }
  }
}

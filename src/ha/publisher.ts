// Publishes Home Assistant discovery while this controller leads: the retained configs (discovery.ts),
// the retained states they read, and an empty retained config for every entity of a node that left the
// cluster. It subscribes to its own config topics first, so it knows what earlier leaders published:
// identical configs are not sent again, and a node that left while another controller led is still
// cleared. Removals wait for the informers' first full list (before it, "no such node" means "not known").
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { MqttConnection } from "../mqtt/connection.ts";
import { mqttOptionsFromConfig, topicPrefixFromConfig } from "../mqtt/options.ts";
import type { RecentAlert, StatusView } from "../status/view-model.ts";
import { configFilter, discoveryConfigs, haId, stateMessages, type HaTopics, type HostField } from "./discovery.ts";

/** Discovery configs kept in memory (ours only, by the subscription filter); a flood past this is ignored. */
const MAX_RETAINED = 10_000;
const MAX_CONFIG_BYTES = 64 * 1024;

export class HaDiscovery {
  readonly topics: HaTopics;
  private conn?: MqttConnection;
  /** Config topic → payload as the broker holds it (what any leader published). */
  private readonly retained = new Map<string, string>();
  private readonly sentStates = new Map<string, string>();
  private readonly hostFields = new Map<string, Set<HostField>>();
  private subscribedAt = 0;
  private busy = false;
  /** Shut down for good (the controller stops): no step connects again. */
  private closed = false;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly view: () => StatusView,
    private readonly synced: () => boolean,
    private readonly lastAlert: () => RecentAlert | undefined = () => undefined,
  ) {
    this.topics = {
      discoveryPrefix: config.str("HA_DISCOVERY_PREFIX").replace(/\/+$/, ""),
      prefix: topicPrefixFromConfig(config),
      clusterId: config.str("CLUSTER_ID"),
    };
  }

  /** One step: leading → connect (once) and reconcile; not leading → disconnect. Never throws. */
  async tick(leading: boolean): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      if (!leading) {
        await this.stop();
        return;
      }
      this.conn ??= this.connect();
      if (!this.conn.connected) return; // mqtt.js reconnects; the connection logs the outage once
      if (this.subscribedAt === 0) {
        await this.subscribeConfigs(this.conn);
        return; // the retained configs arrive after the subscription: reconcile at the next step
      }
      await this.reconcile(this.view());
    } catch (e) {
      this.logger.warn("Home Assistant discovery step failed; retrying", { error: String(e) });
    } finally {
      this.busy = false;
    }
  }

  /** Shutdown: disconnects and never reconnects. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /** Step-down: disconnects (the next leader takes over from the retained configs). */
  async stop(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    this.subscribedAt = 0;
    this.retained.clear();
    this.sentStates.clear();
    await conn?.close();
  }

  private connect(): MqttConnection {
    // Availability is <prefix>/status: the MQTT alert channel announces it; without that channel this connection does.
    const alertChannelAnnounces = this.config.bool("ENABLE_MQTT_ALERT");
    return new MqttConnection(
      mqttOptionsFromConfig(this.config, { announceStatus: !alertChannelAnnounces, clientIdSuffix: "ha", logger: this.logger }),
    );
  }

  private async subscribeConfigs(conn: MqttConnection): Promise<void> {
    await conn.subscribe(configFilter(this.topics), (topic, payload) => {
      if (payload.byteLength === 0) this.retained.delete(topic);
      else if (payload.byteLength <= MAX_CONFIG_BYTES && (this.retained.size < MAX_RETAINED || this.retained.has(topic)))
        this.retained.set(topic, payload.toString("utf8"));
    });
    this.subscribedAt = Date.now();
    this.logger.info("Home Assistant discovery active", { prefix: this.topics.discoveryPrefix });
  }

  /** Publishes what differs from the broker's retained state; clears entities of nodes that left. */
  async reconcile(view: StatusView): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    for (const n of view.nodes) {
      const set = this.hostFields.get(n.name) ?? new Set<HostField>();
      if (n.host?.temperatureCelsius != null) set.add("temperature");
      if (n.host?.underVoltageNow != null) set.add("throttled");
      if (n.host?.rootFsUsedPercent != null) set.add("rootFs");
      this.hostFields.set(n.name, set);
    }
    const wanted = discoveryConfigs(this.topics, view, (node) => this.hostFields.get(node) ?? new Set());
    const wantedTopics = new Set(wanted.map((m) => m.topic));
    for (const m of wanted) {
      if (this.retained.get(m.topic) === m.payload) continue;
      await conn.publish(m.topic, m.payload, { retain: true });
      this.retained.set(m.topic, m.payload);
    }
    const synced = this.synced();
    if (synced) {
      const present = view.nodes.map((n) => `node_${haId(n.name)}_`);
      for (const topic of [...this.retained.keys()]) {
        if (wantedTopics.has(topic)) continue;
        const object = topic.split("/").at(-2) ?? "";
        // A host entity of a node still here whose snapshot this leader has not seen yet: keep it.
        if (object.startsWith("node_") && present.some((p) => object.startsWith(p))) continue;
        if (!object.startsWith("node_")) continue; // the cluster's entities always exist
        await conn.publish(topic, "", { retain: true });
        this.retained.delete(topic);
        this.logger.info("Home Assistant entity removed (its node left the cluster)", { topic });
      }
      for (const n of [...this.hostFields.keys()]) if (!view.nodes.some((v) => v.name === n)) this.hostFields.delete(n);
    }
    const states = stateMessages(this.topics, view, this.lastAlert());
    const stateTopics = new Set(states.map((s) => s.topic));
    for (const s of states) {
      if (this.sentStates.get(s.topic) === s.payload) continue;
      await conn.publish(s.topic, s.payload, { retain: true });
      this.sentStates.set(s.topic, s.payload);
    }
    if (synced)
      for (const topic of [...this.sentStates.keys()]) {
        if (stateTopics.has(topic) || !topic.includes("/ha/nodes/")) continue;
        await conn.publish(topic, "", { retain: true });
        this.sentStates.delete(topic);
      }
  }
}

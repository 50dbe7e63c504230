// The status features of one controller, wired by the runtime with one call: the host-snapshot feed
// (every node, when MQTT_URL is set), the status page routes (WEB_ENABLED) and Home Assistant discovery
// (HA_DISCOVERY, leader only). Each reads the same view-model (src/status/).
import { CountingRejectSink } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import { httpListen } from "../config/effective.ts";
import { HaDiscovery } from "../ha/publisher.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { HttpRoute } from "../http/routes.ts";
import type { Logger } from "../log.ts";
import { MqttConnection } from "../mqtt/connection.ts";
import { mqttOptionsFromConfig } from "../mqtt/options.ts";
import { type HostSnapshot, HostSnapshots } from "../status/hosts.ts";
import { currentStatus, type StatusParts } from "../status/source.ts";
import type { StatusView } from "../status/view-model.ts";
import { webAccess } from "./access.ts";
import { StatusWeb } from "./routes.ts";

export class StatusFeatures {
  readonly hosts: HostSnapshots;
  readonly web?: StatusWeb;
  private readonly ha?: HaDiscovery;
  private feed?: MqttConnection;
  private haTimer?: ReturnType<typeof setInterval>;
  private readonly refusal?: string;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    metrics: ControllerMetrics,
    private readonly parts: StatusParts,
    /** The host-health intake's snapshots when it runs (HOST_HEALTH_ENABLE); else this opens its own feed. */
    private readonly sharedHosts: () => ReadonlyMap<string, HostSnapshot> | undefined = () => undefined,
  ) {
    const rejects = new CountingRejectSink(metrics.malformedInput, logger);
    this.hosts = new HostSnapshots(rejects);
    const listen = httpListen(config);
    if (config.bool("WEB_ENABLED") && listen) {
      const access = webAccess(listen.hostname, config.str("NEURO_HTTP_ADDR"), config.str("WEB_TOKEN"));
      if (access.mode === "refused") this.refusal = access.reason;
      const gauge = metrics.registry.gauge("neurocontroller_web_live_clients", "Status page live-update (Server-Sent Events) connections open now.");
      this.web = new StatusWeb({
        access,
        view: () => this.view(),
        updateMs: config.ms("WEB_UPDATE_INTERVAL"),
        maxClients: config.num("WEB_SSE_MAX_CLIENTS"),
        onClients: (n) => gauge.set(n),
      });
    }
    if (config.bool("HA_DISCOVERY")) {
      if (!config.str("MQTT_URL").trim()) logger.warn("HA_DISCOVERY is on but MQTT_URL is not set: nothing is published to Home Assistant");
      else
        this.ha = new HaDiscovery(
          config,
          logger.child({ component: "home-assistant" }),
          () => this.view(),
          () => parts.synced(),
          () => parts.lastAlerts().at(-1),
        );
    }
  }

  get routes(): HttpRoute[] {
    return this.web?.routes ?? [];
  }

  view(): StatusView {
    return currentStatus(this.parts, this.sharedHosts() ?? this.hosts.all());
  }

  /**
   * After the HTTP server and host health started: says why the page is refused, opens a host feed of its
   * own only when host health does not run, starts the HA loop.
   */
  start(): void {
    if (this.refusal) this.logger.error(this.refusal);
    const wantsHosts = (!!this.web || !!this.ha) && !this.sharedHosts();
    if (wantsHosts && this.config.str("MQTT_URL").trim()) {
      this.feed = new MqttConnection(mqttOptionsFromConfig(this.config, { announceStatus: false, clientIdSuffix: "status", logger: this.logger }));
      this.hosts.subscribe(this.feed).catch((e) => this.logger.warn("cannot subscribe to host snapshots", { error: String(e) }));
    }
    if (this.ha) this.haTimer = setInterval(() => void this.ha?.tick(this.parts.isLeader()), this.config.ms("WEB_UPDATE_INTERVAL"));
  }

  async stop(): Promise<void> {
    if (this.haTimer) clearInterval(this.haTimer);
    this.web?.stop();
    await this.ha?.close();
    await this.feed?.close();
  }
}

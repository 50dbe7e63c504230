// MQTT channel: each notification becomes the incident's retained state on <prefix>/incidents/<id>
// (cleared with an empty retained payload when resolved) and one QoS 1 message on <prefix>/alerts.
// send() resolves when the broker acknowledged both (PUBACK).
import { MqttConnection, type MqttConnectionOptions } from "../mqtt/connection.ts";
import { PermanentError, type Channel, type Notification } from "./types.ts";

export class MqttChannel implements Channel {
  readonly name = "mqtt" as const;
  readonly connection: MqttConnection;

  /** Owns a connection that announces online/offline; or shares one (then close() leaves it open). */
  constructor(
    connection: MqttConnection | MqttConnectionOptions,
    private readonly ownsConnection = !(connection instanceof MqttConnection),
  ) {
    this.connection = connection instanceof MqttConnection ? connection : new MqttConnection({ announceStatus: true, ...connection });
  }

  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    const g = n.payload;
    if (g.action) return this.sendAction(n, signal);
    if (!g.incidentId) throw new PermanentError("mqtt: notification without incidentId");
    const topics = this.connection.topics;
    // The notification id travels as an MQTT 5 user property so consumers can drop the rare
    // redelivered duplicate (at-least-once: a crash between PUBACK and the outbox commit resends).
    const properties = { "notification-id": n.id, fingerprint: g.fingerprint };
    // Incident state first: it is idempotent (retained, replaced), so a retry after a failed
    // alerts publish repeats only the harmless part.
    const state = g.status === "resolved" ? "" : JSON.stringify(g);
    await this.connection.publish(topics.incident(g.incidentId), state, { retain: true, properties }, signal);
    await this.connection.publish(topics.alerts, JSON.stringify(g), { properties }, signal);
  }

  /** An action of ours: the record on <prefix>/actions; when announced, the notification on <prefix>/alerts too (docs/actions.md). */
  private async sendAction(n: Notification, signal?: AbortSignal): Promise<void> {
    const action = n.payload.action!;
    const properties = { "notification-id": n.id, "action-id": action.id };
    const topics = this.connection.topics;
    await this.connection.publish(topics.actions, JSON.stringify(action), { properties }, signal);
    if (action.announce) await this.connection.publish(topics.alerts, JSON.stringify(n.payload), { properties }, signal);
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }
}

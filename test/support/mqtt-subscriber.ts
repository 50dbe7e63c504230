// A plain mqtt.js subscriber standing in for a user's dashboard: records every message it receives.
import mqtt, { type MqttClient } from "mqtt";
import type { TestMosquitto } from "../../testkit/mosquitto.ts";

export interface SeenMessage {
  topic: string;
  payload: string;
  retain: boolean;
  userProperties: Record<string, string | string[]>;
}

export class TestSubscriber {
  readonly messages: SeenMessage[] = [];
  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) =>
      this.messages.push({
        topic,
        payload: payload.toString(),
        retain: packet.retain,
        userProperties: (packet.properties?.userProperties ?? {}) as Record<string, string>,
      }),
    );
  }

  /** `persistent`: a fixed client id with clean=false, so the broker queues QoS 1 messages while it is away (and across broker restarts). */
  static async connect(broker: TestMosquitto, filters: string[], opts: { clientId?: string; persistent?: boolean } = {}): Promise<TestSubscriber> {
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      username: broker.username,
      password: broker.password,
      clientId: opts.clientId ?? `test-sub-${Math.random().toString(16).slice(2)}`,
      clean: !opts.persistent,
      properties: opts.persistent ? { sessionExpiryInterval: 3600 } : undefined,
      reconnectPeriod: 100,
    });
    const sub = new TestSubscriber(client);
    await client.subscribeAsync(filters, { qos: 1 });
    return sub;
  }

  on(topic: string): SeenMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

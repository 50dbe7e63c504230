// Run as a separate process by the MQTT tests: connects like the controller does (retained "online",
// Last Will "offline") and waits to be killed, so the broker sees a real unexpected disconnect.
import { MqttConnection } from "../../src/channels/mqtt-connection.ts";

const conn = new MqttConnection({
  url: process.env.MQTT_URL!,
  username: process.env.MQTT_USERNAME,
  password: process.env.MQTT_PASSWORD,
  prefix: process.env.MQTT_TOPIC_PREFIX!,
  clientId: process.env.MQTT_CLIENT_ID,
  announceStatus: true,
});
await conn.waitConnected();
console.log("connected");
setInterval(() => {}, 1 << 30);

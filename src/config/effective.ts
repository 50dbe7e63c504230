// Decisions derived from several keys at once, shared by the controller and check-config.
import type { Config } from "./load.ts";

/** Why each alert channel is on or off; unset mail settings simply leave email off. */
export function channelStatus(config: Config): Record<string, string> {
  const missingMail: string[] = (["MAIL_SMTP_HOST", "MAIL_FROM"] as const).filter((k) => config.str(k) === "");
  if (config.list("MAIL_TO").length === 0) missingMail.push("MAIL_TO");
  const email = !config.bool("ENABLE_EMAIL_ALERT")
    ? "off (ENABLE_EMAIL_ALERT=false)"
    : missingMail.length
      ? `off (not configured: ${missingMail.join(", ")} unset)`
      : `on (${config.str("MAIL_SMTP_HOST")}:${config.num("MAIL_SMTP_PORT")} → ${config.list("MAIL_TO").length} recipient(s))`;
  const slack = !config.bool("ENABLE_SLACK_ALERT")
    ? "off (ENABLE_SLACK_ALERT=false)"
    : config.str("SLACK_WEBHOOK_URL") === ""
      ? "off (not configured: SLACK_WEBHOOK_URL unset)"
      : "on (webhook set)";
  const mqttUrl = config.str("MQTT_URL").trim();
  let broker = "";
  try {
    const u = new URL(mqttUrl);
    broker = `${u.protocol}//${u.host}`; // never the user:password part
  } catch {}
  const mqtt = !config.bool("ENABLE_MQTT_ALERT")
    ? "off (ENABLE_MQTT_ALERT=false)"
    : mqttUrl === ""
      ? "off (not configured: MQTT_URL unset)"
      : `on (${broker || "invalid MQTT_URL"})`;
  return { email, slack, mqtt };
}

export function httpListen(config: Config): { hostname: string; port: number } | null {
  const addr = config.str("NEURO_HTTP_ADDR");
  const i = addr.lastIndexOf(":");
  const port = Number(addr.slice(i + 1));
  if (port === 0) return null;
  return { hostname: addr.slice(0, i).replace(/^\[|\]$/g, "") || "127.0.0.1", port };
}

// Issue 10 item 9 (config part): secrets never reach check-config's output, its error messages or the
// controller's log — including the password inside MQTT_URL (or any URL) and each header value of a
// list-type secret such as TRACE_OTLP_HEADERS. Planted values are grepped for in everything printed.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Config, ConfigError } from "../../../src/config/load.ts";
import { createLogger, secretsOf } from "../../../src/log.ts";

const ROOT = join(import.meta.dir, "../../..");
const PLANTED = {
  mqttUser: "planted-mqtt-user",
  mqttPass: "planted-mqtt-pass-7Qx",
  otlpBearer: "planted-otlp-bearer-3Kd",
  otlpKey: "planted-otlp-key-9Wz",
  apmPass: "planted-apm-pass-5Rt",
  slackToken: "planted-slack-token-2Mn",
  smtpPass: "planted-smtp-pass-8Yv",
};
const ENV = {
  MQTT_URL: `mqtt://${PLANTED.mqttUser}:${PLANTED.mqttPass}@broker.example:1883`,
  TRACE_OTLP_ENDPOINT: "https://otlp.example:4318",
  TRACE_OTLP_HEADERS: `authorization=Bearer ${PLANTED.otlpBearer},x-api-key=${PLANTED.otlpKey}`,
  TRACE_APM_SERVER_URL: `https://elastic:${PLANTED.apmPass}@apm.example:8200`,
  SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/T0/B0/${PLANTED.slackToken}`,
  MAIL_PASSWORD: PLANTED.smtpPass,
};
const leaked = (text: string) => Object.values(PLANTED).filter((s) => text.includes(s) || text.includes(encodeURIComponent(s)));

async function checkConfig(env: Record<string, string>, json = false) {
  const args = [process.execPath, join(ROOT, "src/main.ts"), "check-config", ...(json ? ["--json"] : [])];
  const p = Bun.spawn(args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe("secrets in the configuration", () => {
  test("check-config (text and --json) prints none of the planted secrets, and shows where they were redacted", async () => {
    for (const json of [false, true]) {
      const r = await checkConfig(ENV, json);
      expect(r.code).toBe(0);
      expect(leaked(r.out + r.err)).toEqual([]);
      expect(r.out).toContain("mqtt://<redacted>@broker.example:1883");
      expect(r.out).toContain("https://<redacted>@apm.example:8200");
      expect(r.out).toContain("broker.example"); // positive control: the non-secret parts are still shown
    }
  });

  test("invalid values that embed credentials are refused without echoing them", async () => {
    const bad = {
      MQTT_URL: `mqtt//${PLANTED.mqttUser}:${PLANTED.mqttPass}@broker.example:1883`,
      TRACE_APM_SERVER_URL: `ftp://elastic:${PLANTED.apmPass}@apm.example`,
      TRACE_OTLP_HEADERS: `authorization=Bearer ${PLANTED.otlpBearer},bad header=${PLANTED.otlpKey}`,
      SLACK_WEBHOOK_URL: `http://hooks.slack.com/services/T0/B0/${PLANTED.slackToken}`,
    };
    const r = await checkConfig(bad);
    expect(r.code).toBe(2);
    for (const key of Object.keys(bad)) expect(r.err).toContain(`${key}=`);
    expect(leaked(r.out + r.err)).toEqual([]);
    try {
      Config.load({ env: bad });
      throw new Error("expected ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(leaked((e as Error).message)).toEqual([]);
    }
  });

  test("the log's redaction covers URL credentials and every header value of a list-type secret", () => {
    const cfg = Config.load({ env: ENV });
    const lines: string[] = [];
    const log = createLogger({ secrets: secretsOf(cfg), write: (l) => lines.push(l) });
    // What an error from a client library might say: each secret alone, in a URL, percent-encoded.
    log.error("connect failed", { url: ENV.MQTT_URL, detail: `auth ${PLANTED.mqttUser}:${PLANTED.mqttPass} refused` });
    log.error(`password ${PLANTED.mqttPass} wrong`);
    log.error("otlp export failed", { headers: { authorization: `Bearer ${PLANTED.otlpBearer}`, "x-api-key": PLANTED.otlpKey } });
    log.error(`token ${PLANTED.otlpBearer} expired`);
    log.error("apm", { url: ENV.TRACE_APM_SERVER_URL, pw: PLANTED.apmPass });
    log.error(`POST /services/T0/B0/${PLANTED.slackToken} failed`);
    log.error("smtp", { pass: PLANTED.smtpPass });
    expect(lines.length).toBe(7);
    expect(leaked(lines.join(""))).toEqual([]);
    expect(lines.join("")).toContain("<redacted>");
  });

  test("a percent-encoded password in a URL is redacted in both forms", () => {
    const cfg = Config.load({ env: { MQTT_URL: "mqtts://nc:p%40ss%2Fw0rd-4Lq@broker:8883" } });
    const lines: string[] = [];
    const log = createLogger({ secrets: secretsOf(cfg), write: (l) => lines.push(l) });
    log.error("x", { a: "p%40ss%2Fw0rd-4Lq", b: "p@ss/w0rd-4Lq" });
    expect(lines[0]).not.toContain("w0rd-4Lq");
  });
});

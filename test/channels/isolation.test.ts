// One channel with invalid settings fails alone: the others are built and used, the failed one is
// named with the reason (no secret in it), and its notifications wait in the outbox instead of being
// dropped. The end-to-end version (a real Slack receiver next to a broken MQTT channel) is in
// test/integration/log-durability.test.ts.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildChannels, UnavailableChannel } from "../../src/channels/from-config.ts";
import { RetryableError } from "../../src/channels/types.ts";
import { Config } from "../../src/config/load.ts";
import { ensureCerts } from "../../src/sim/certs.ts";

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), "neuro-channels-"))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const SLACK = { SLACK_WEBHOOK_URL: "https://hooks.slack.invalid/services/T000/B000/s3cretWebhookToken" };
const EMAIL = { MAIL_SMTP_HOST: "127.0.0.1", MAIL_FROM: "a@example.org", MAIL_TO: "b@example.org", MAIL_PASSWORD: "mail-s3cret-pass" };

describe("channels fail one by one", () => {
  // Settings that are invalid when read are refused at start-up (check-config and the controller
  // alike) and never echo a secret; what breaks after that fails its channel alone.
  test("a bad MAIL_SMTP_TLS or a malformed MQTT_URL is refused at load, naming the key, never echoing credentials", () => {
    const refused = (env: Record<string, string>) => {
      try {
        Config.with(env);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    const tls = refused({ ...SLACK, ...EMAIL, MAIL_SMTP_TLS: "bogus" });
    expect(tls).toContain("MAIL_SMTP_TLS");
    expect(tls).not.toContain("mail-s3cret-pass");
    const url = refused({ ...SLACK, MQTT_URL: "mqtt//user:hunter2secret@host:1883" });
    expect(url).toContain("MQTT_URL");
    expect(url).not.toContain("hunter2secret");
  });

  test("an MQTT CA file that was valid at start-up but is unreadable when the channel is built fails MQTT only; Slack is built", async () => {
    const certs = ensureCerts(join(tmp, "pki"), "127.0.0.1");
    const ca = join(tmp, "ca.pem");
    writeFileSync(ca, certs.ca);
    const cfg = Config.with({ ...SLACK, MQTT_URL: "mqtts://127.0.0.1:8883", MQTT_CA_FILE: ca, MQTT_PASSWORD: "mqtt-s3cret-pass" });
    rmSync(ca);
    mkdirSync(ca); // replaced by a directory after the check, e.g. a broken config-management run
    const built = buildChannels(cfg);
    expect(built.channels.map((c) => c.name)).toEqual(["slack"]);
    expect(built.failed.map((f) => f.channel)).toEqual(["mqtt"]);
    expect(built.failed[0]!.reason).toMatch(/EISDIR|directory/i);
    expect(JSON.stringify(built.failed)).not.toContain("mqtt-s3cret-pass");
    await Promise.all(built.channels.map((c) => c.close()));
  });

  test("the stand-in for a failed channel refuses every send as retryable, so the outbox keeps its notifications", async () => {
    const ch = new UnavailableChannel("mqtt", "MQTT_CA_FILE=/x: file not found");
    const err = await ch.send().catch((e) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain("MQTT_CA_FILE");
  });
});

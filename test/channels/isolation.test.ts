// One channel with invalid settings fails alone: the others are built and used, the failed one is
// named with the reason (no secret in it), and its notifications wait in the outbox instead of being
// dropped. The end-to-end version (a real Slack receiver next to a broken MQTT channel) is in
// test/integration/log-durability.test.ts.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildChannels, UnavailableChannel } from "../../src/channels/from-config.ts";
import { RetryableError } from "../../src/channels/types.ts";
import { Config } from "../../src/config/load.ts";

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), "neuro-channels-"))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const SLACK = { SLACK_WEBHOOK_URL: "https://hooks.slack.invalid/services/T000/B000/s3cretWebhookToken" };
const EMAIL = { MAIL_SMTP_HOST: "127.0.0.1", MAIL_FROM: "a@example.org", MAIL_TO: "b@example.org", MAIL_PASSWORD: "mail-s3cret-pass" };

describe("channels fail one by one", () => {
  test("a bad MAIL_SMTP_TLS fails email only; Slack is built", async () => {
    const built = buildChannels(Config.with({ ...SLACK, ...EMAIL, MAIL_SMTP_TLS: "bogus" }));
    expect(built.channels.map((c) => c.name)).toEqual(["slack"]);
    expect(built.failed.map((f) => f.channel)).toEqual(["email"]);
    expect(built.failed[0]!.reason).toContain("MAIL_SMTP_TLS");
    expect(JSON.stringify(built.failed)).not.toContain("mail-s3cret-pass");
    await Promise.all(built.channels.map((c) => c.close()));
  });

  test("an MQTT CA file that exists but cannot be read (a directory) fails MQTT only, at construction", () => {
    const built = buildChannels(Config.with({ ...SLACK, MQTT_URL: "mqtts://127.0.0.1:8883", MQTT_CA_FILE: tmp, MQTT_PASSWORD: "mqtt-s3cret-pass" }));
    expect(built.channels.map((c) => c.name)).toEqual(["slack"]);
    expect(built.failed.map((f) => f.channel)).toEqual(["mqtt"]);
    expect(built.failed[0]!.reason).toMatch(/EISDIR|directory/i);
    expect(JSON.stringify(built.failed)).not.toContain("mqtt-s3cret-pass");
  });

  test("a malformed MQTT_URL fails MQTT only, and its reason does not echo the URL's credentials", () => {
    const built = buildChannels(Config.with({ ...SLACK, MQTT_URL: "mqtt//user:hunter2secret@host:1883" }));
    expect(built.channels.map((c) => c.name)).toEqual(["slack"]);
    expect(built.failed[0]!.channel).toBe("mqtt");
    expect(built.failed[0]!.reason).not.toContain("hunter2secret");
  });

  test("the stand-in for a failed channel refuses every send as retryable, so the outbox keeps its notifications", async () => {
    const ch = new UnavailableChannel("mqtt", "MQTT_CA_FILE=/x: file not found");
    const err = await ch.send().catch((e) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain("MQTT_CA_FILE");
  });
});

import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Config, ConfigError, parseEnvFile } from "../../../src/config/load.ts";
import { parseDuration } from "../../../src/config/units.ts";
import { channelStatus } from "../../../src/config/effective.ts";
import { SCHEMA } from "../../../src/config/schema.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "nc-config-"));

describe("config", () => {
  test("seed defaults", () => {
    const c = Config.load({ env: {} });
    expect(c.ms("DIAGNOSIS_CLEAN_INTERVAL")).toBe(5000);
    expect(c.ms("DIAGNOSIS_WRITE_INTERVAL")).toBe(6000);
    expect(c.ms("DIAGNOSIS_RETENTION_RAW_DURATION")).toBe(600_000);
    expect(c.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION")).toBe(300_000);
    expect(c.ms("DIAGNOSIS_UNREADY_THRESHOLD_DURATION")).toBe(7000);
    expect(c.num("DIAGNOSIS_UNREADY_REPLICA_PERCENT")).toBe(0.6);
    expect(c.ms("KUBERNETES_API_HEALTH_CHECK_INTERVAL")).toBe(15_000);
    expect(c.num("MAIL_SMTP_PORT")).toBe(587);
    expect(c.str("NEURO_LOG_DIR")).toBe("/var/log/neurocontroller");
    expect(c.str("NEURO_STATE_DIR")).toBe("/var/lib/neurocontroller");
  });

  test("every declared key has a doc and a valid default", () => {
    for (const k of SCHEMA) expect(k.doc.length).toBeGreaterThan(10);
    expect(new Set(SCHEMA.map((k) => k.key)).size).toBe(SCHEMA.length);
    expect(() => Config.load({ env: {} })).not.toThrow();
  });

  test("unset mail settings leave email off instead of failing", () => {
    const c = Config.load({ env: { ENABLE_EMAIL_ALERT: "true" } });
    expect(channelStatus(c).email).toContain("MAIL_SMTP_HOST");
    expect(channelStatus(c).email.startsWith("off")).toBe(true);
    const on = Config.load({ env: { MAIL_SMTP_HOST: "smtp.example", MAIL_FROM: "a@b", MAIL_TO: "x@y, z@w" } });
    expect(channelStatus(on).email).toContain("2 recipient");
  });

  test("bad values name the key and the expected form, all at once", () => {
    try {
      Config.load({ env: { DIAGNOSIS_CLEAN_INTERVAL: "soon", DIAGNOSIS_UNREADY_REPLICA_PERCENT: "60", MAIL_SMTP_PORT: "99999" } });
      throw new Error("expected ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as ConfigError).message;
      expect(msg).toContain('DIAGNOSIS_CLEAN_INTERVAL="soon": expected a duration');
      expect(msg).toContain("DIAGNOSIS_UNREADY_REPLICA_PERCENT");
      expect(msg).toContain("from 0 to 1");
      expect(msg).toContain("MAIL_SMTP_PORT");
      expect((e as ConfigError).problems.length).toBe(3);
    }
  });

  test("a secret's bad value is not echoed", () => {
    try {
      Config.load({ env: { SLACK_WEBHOOK_URL: "ftp://hooks.example/secret-token" } });
      throw new Error("expected ConfigError");
    } catch (e) {
      expect((e as Error).message).toContain("SLACK_WEBHOOK_URL");
      expect((e as Error).message).not.toContain("secret-token");
    }
  });

  test("precedence: default < file < env < flag; secrets from _FILE; describe redacts", () => {
    const dir = tmp();
    writeFileSync(join(dir, "nc.env"), '# comment\nCLUSTER_ID="from-file"\nNEURO_LOG_DIR=/file\nMAIL_PASSWORD=hunter2\n');
    writeFileSync(join(dir, "hook"), "https://hooks.slack.com/services/T/B/zq9tokenzq9\n");
    const c = Config.load({
      env: { NEURO_CONFIG_FILE: join(dir, "nc.env"), NEURO_LOG_DIR: "/env", SLACK_WEBHOOK_URL_FILE: join(dir, "hook") },
      overrides: { CLUSTER_ID: "from-flag" },
    });
    expect(c.str("CLUSTER_ID")).toBe("from-flag");
    expect(c.str("NEURO_LOG_DIR")).toBe("/env");
    expect(c.str("MAIL_PASSWORD")).toBe("hunter2");
    expect(c.str("SLACK_WEBHOOK_URL")).toBe("https://hooks.slack.com/services/T/B/zq9tokenzq9");
    const shown = JSON.stringify(c.describe());
    expect(shown).not.toContain("hunter2");
    expect(shown).not.toContain("zq9tokenzq9");
    expect(shown).toContain("<redacted>");
  });

  test("unreadable config file is reported by name", () => {
    expect(() => Config.load({ env: { NEURO_CONFIG_FILE: "/nonexistent/nc.env" } })).toThrow(
      /NEURO_CONFIG_FILE=\/nonexistent\/nc.env: cannot read \(ENOENT\)/,
    );
  });

  test("durations and env files", () => {
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("15")).toBe(15_000);
    expect(parseDuration("1h2")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
    expect(parseEnvFile("A=1\n export B='two words'\n#C=3\nbad line\n")).toEqual({ A: "1", B: "two words" });
  });
});

// Issue 10 item 4: every configuration value is validated at load time by the one zod schema, so
// check-config and the controller refuse the same bad values with the same message (exit 2) instead
// of silently disabling a channel, defaulting a level or arming a 1 ms timer. Each class is tried on
// every key of its type, not on one example.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Config, ConfigError } from "../../../src/config/load.ts";
import { formatDuration } from "../../../src/config/units.ts";
import { MAX_TIMER_MS, SCHEMA, type KeyDecl } from "../../../src/config/schema.ts";
import { ensureCerts } from "../../../src/sim/certs.ts";

const dir = mkdtempSync(join(tmpdir(), "nc-config-valid-"));
// A real CA certificate (openssl, as the simulator makes them).
const PEM = ensureCerts(join(dir, "pki"), "127.0.0.1").caFile;

/** The problems Config.load reports for `env` (empty when it loads). */
function problems(env: Record<string, string>): string[] {
  try {
    Config.load({ env });
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
}
const only = (env: Record<string, string>) => {
  const p = problems(env);
  expect(p.length).toBe(1);
  return p[0]!;
};
const of = (type: KeyDecl["type"]) => SCHEMA.filter((k) => k.type === type);

describe("config validation: the issue's reproductions", () => {
  test("MQTT_URL must be mqtt://, mqtts://, ws:// or wss:// with a host", () => {
    expect(only({ MQTT_URL: "mqtt//host:1883" })).toBe(
      'MQTT_URL="mqtt//host:1883": expected a URL with scheme mqtt://, mqtts://, ws:// or wss:// and a host',
    );
    expect(only({ MQTT_URL: "mqtt://" })).toContain("the host is missing");
    expect(only({ MQTT_URL: "mqtt:host" })).toContain("the host is missing");
    expect(only({ MQTT_URL: "http://broker:1883" })).toContain("not http://");
    for (const ok of ["mqtt://broker:1883", "mqtts://broker:8883", "ws://broker:9001/mqtt", "wss://[::1]:443", " mqtt://broker "])
      expect(problems({ MQTT_URL: ok })).toEqual([]);
    expect(Config.load({ env: { MQTT_URL: " mqtt://broker " } }).str("MQTT_URL")).toBe("mqtt://broker");
  });

  test("CA files must exist, be regular files and hold PEM", () => {
    for (const key of of("file").map((k) => k.key)) {
      expect(only({ [key]: "/nonexistent/ca.pem" })).toBe(`${key}="/nonexistent/ca.pem": expected an existing file: not found`);
      expect(only({ [key]: dir })).toContain("expected a regular file");
      const text = join(dir, "not-pem.txt");
      writeFileSync(text, "hello\n");
      expect(only({ [key]: text })).toContain("expected a PEM file");
      const garbled = join(dir, "garbled.pem");
      writeFileSync(garbled, "-----BEGIN CERTIFICATE-----\nMIIBnotacertificate\n-----END CERTIFICATE-----\n");
      expect(only({ [key]: garbled })).toContain("certificate 1 does not parse");
      const keyOnly = join(dir, "key.pem");
      writeFileSync(keyOnly, "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
      expect(only({ [key]: keyOnly })).toContain("no complete CERTIFICATE block");
      expect(problems({ [key]: PEM })).toEqual([]);
    }
    expect(
      of("file")
        .map((k) => k.key)
        .sort(),
    ).toEqual(["MAIL_SMTP_CA_FILE", "MQTT_CA_FILE"]);
  });

  test("an unreadable CA file is refused (when not root: root reads anything)", () => {
    if (process.getuid?.() === 0) return;
    const locked = join(dir, "locked.pem");
    writeFileSync(locked, readFileSync(PEM));
    chmodSync(locked, 0o000);
    expect(only({ MQTT_CA_FILE: locked })).toContain("cannot read (EACCES)");
  });

  test("enums: MAIL_SMTP_TLS, ALERT_LEVEL_STRICT_SEVERITY, NEURO_LOG_LEVEL refuse anything else", () => {
    expect(only({ MAIL_SMTP_TLS: "bogus" })).toBe('MAIL_SMTP_TLS="bogus": expected starttls, tls or none');
    expect(only({ ALERT_LEVEL_STRICT_SEVERITY: "extreme" })).toBe('ALERT_LEVEL_STRICT_SEVERITY="extreme": expected info, warning or critical');
    expect(only({ NEURO_LOG_LEVEL: "loud" })).toBe('NEURO_LOG_LEVEL="loud": expected debug, info, warn or error');
    for (const decl of of("enum")) {
      expect(decl.values?.length).toBeGreaterThan(1);
      expect(only({ [decl.key]: "no-such-value" })).toContain(`${decl.key}="no-such-value": expected `);
      for (const v of decl.values!) expect(Config.load({ env: { [decl.key]: ` ${v.toUpperCase()} ` } }).value(decl.key as never)).toBe(v);
    }
  });

  test("KUBERNETES_API_HEALTH_CHECK_INTERVAL=25d is refused with the bound, not armed as a 1 ms timer", () => {
    expect(only({ KUBERNETES_API_HEALTH_CHECK_INTERVAL: "25d" })).toBe(
      'KUBERNETES_API_HEALTH_CHECK_INTERVAL="25d": expected a duration such as "500ms", "7s", "5m" or "1h30m" of at most 1h',
    );
  });

  test("URLs of the exporters and Slack", () => {
    expect(only({ TRACE_OTLP_ENDPOINT: "collector:4318" })).toContain("TRACE_OTLP_ENDPOINT");
    expect(only({ TRACE_APM_SERVER_URL: "ftp://apm:8200" })).toContain("not ftp://");
    expect(only({ SLACK_WEBHOOK_URL: "http://hooks.slack.com/services/T/B/x" })).toBe(
      "SLACK_WEBHOOK_URL=<redacted>: expected a URL with scheme https:// (http:// to a loopback address) and a host, not http://",
    );
    for (const ok of ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:99/x", "https://hooks.slack.com/services/T/B/x"]) {
      expect(problems({ SLACK_WEBHOOK_URL: ok })).toEqual([]);
    }
  });
});

describe("config validation: every key of every type", () => {
  test("every duration, number and size has an upper bound; no timer duration bound exceeds a timer's 2^31-1 ms", () => {
    for (const decl of SCHEMA.filter((k) => ["duration", "int", "float", "size"].includes(k.type))) {
      expect(`${decl.key} max=${decl.max}`).not.toBe(`${decl.key} max=undefined`);
      // Only a duration that is never a timer delay (compared with timestamps only) may go past it.
      if (decl.type === "duration" && !decl.notTimer) expect(decl.max!).toBeLessThanOrEqual(MAX_TIMER_MS);
      expect(decl.max!).toBeGreaterThanOrEqual(decl.min ?? 0);
    }
  });

  test("durations past a timer's range are declared only for keys never used as a timer delay", () => {
    expect(
      of("duration")
        .filter((d) => (d.max ?? 0) > MAX_TIMER_MS)
        .map((d) => d.key),
    ).toEqual(["SILENCE_MAX_DURATION"]);
    expect(problems({ SILENCE_MAX_DURATION: "30d" })).toEqual([]);
    expect(only({ SILENCE_MAX_DURATION: "400d" })).toContain("of at most");
  });

  test("every duration key refuses its maximum plus one second and a value past 2^31 ms, naming the bound", () => {
    for (const decl of of("duration").filter((d) => !d.notTimer)) {
      const over = formatDuration(decl.max! + 1000);
      expect(only({ [decl.key]: over })).toBe(
        `${decl.key}=${JSON.stringify(over)}: expected a duration such as "500ms", "7s", "5m" or "1h30m" of at most ${formatDuration(decl.max!)}`,
      );
      expect(only({ [decl.key]: "25d" })).toContain("of at most");
      expect(only({ [decl.key]: "1e300" })).toContain("expected a duration");
      expect(only({ [decl.key]: "9".repeat(400) })).toContain("of at most");
    }
  });

  test("every int and size key refuses its maximum plus one, and digits beyond a double", () => {
    for (const decl of [...of("int"), ...of("size")]) {
      expect(only({ [decl.key]: String(decl.max! + 1) })).toContain(`${decl.key}="${decl.max! + 1}": expected `);
      expect(only({ [decl.key]: "9".repeat(400) })).toContain("of at most");
      expect(only({ [decl.key]: "-1" })).toContain(decl.key);
    }
  });

  test("every key refuses control characters (a newline in MAIL_FROM would forge a mail header)", () => {
    for (const decl of SCHEMA) {
      const p = only({ [decl.key]: `${decl.default}\r\nBcc: victim@example.org` });
      expect(p.startsWith(`${decl.key}=`)).toBe(true);
    }
    expect(only({ MAIL_FROM: "a@b\nBcc: x@y" })).toContain("expected no control characters");
  });

  test("every key refuses text far longer than any real value", () => {
    for (const decl of SCHEMA) expect(only({ [decl.key]: "a".repeat(20_000) }).startsWith(`${decl.key}=`)).toBe(true);
  });

  test("names that become topics, Kubernetes names and addresses", () => {
    expect(only({ CLUSTER_ID: "a/b" })).toContain("MQTT topic level");
    expect(only({ CLUSTER_ID: "" })).toBe('CLUSTER_ID="": expected a value: it must not be empty');
    expect(only({ MQTT_TOPIC_PREFIX: "home/#" })).toContain("without the wildcards");
    expect(only({ AGENT_NODE_NAME: "pi+1" })).toContain("one MQTT topic level");
    expect(only({ LEADER_LEASE_NAME: "Neuro_Controller" })).toContain("Kubernetes object name");
    expect(only({ LEADER_LEASE_NAMESPACE: "kube.system" })).toContain("Kubernetes namespace name");
    expect(only({ MAIL_TO: "ops@example.org, not-an-address" })).toBe(
      'MAIL_TO="ops@example.org, not-an-address" (item 2): expected an email address ("ops@example.org" or "Ops <ops@example.org>")',
    );
    expect(only({ ALERT_LEVEL_HIGH_RISK_KINDS: "Node,node" })).toContain("(item 2)");
    expect(only({ AGENT_SOCKET_MODE: "rw-rw----" })).toContain("octal file mode");
    expect(only({ NEURO_HTTP_ADDR: "localhost" })).toContain("expected host:port");
    expect(only({ NEURO_HTTP_ADDR: "127.0.0.1:99999" })).toContain("expected host:port");
    expect(only({ MAIL_TO: Array.from({ length: 101 }, (_, i) => `u${i}@example.org`).join(",") })).toContain("at most 100 items");
    expect(
      problems({ MAIL_FROM: "NeuroController <nc@example.org>", MAIL_TO: "a@example.org,b@example.org", NEURO_HTTP_ADDR: "[::1]:9873" }),
    ).toEqual([]);
  });

  test("relations between keys: renew < lease, retry < renew, min backoff <= max, ttl <= ttl max", () => {
    expect(only({ LEADER_RENEW_DEADLINE: "20s" })).toBe('LEADER_RENEW_DEADLINE="20s": expected a duration shorter than LEADER_LEASE_DURATION (15s)');
    expect(only({ LEADER_RETRY_PERIOD: "10s" })).toContain("shorter than LEADER_RENEW_DEADLINE");
    expect(only({ ALERT_RETRY_MIN_BACKOFF: "10m" })).toContain("at most ALERT_RETRY_MAX_BACKOFF");
    expect(only({ AGENT_BIND_TTL: "10m" })).toContain("at most AGENT_BIND_TTL_MAX");
  });

  test("all problems at once, in schema order", () => {
    const p = problems({ NEURO_LOG_LEVEL: "loud", MQTT_URL: "mqtt//x", MAIL_SMTP_TLS: "bogus", KUBERNETES_API_HEALTH_CHECK_INTERVAL: "25d" });
    expect(p.map((l) => l.split("=")[0])).toEqual(["KUBERNETES_API_HEALTH_CHECK_INTERVAL", "MAIL_SMTP_TLS", "MQTT_URL", "NEURO_LOG_LEVEL"]);
  });
});

describe("config files and unknown keys", () => {
  test("a misspelled key is reported with the key it probably meant, in the file and in the environment", () => {
    const file = join(dir, "typo.env");
    const secret = join(dir, "smtp-password");
    writeFileSync(secret, "s3cret-pass\n");
    writeFileSync(file, "MQTT_ULR=mqtt://broker:1883\nCLUSTER_ID=pi\n");
    const c = Config.load({ env: { NEURO_CONFIG_FILE: file, MAIL_PASWORD: "x", PATH: "/bin", MAIL_PASSWORD_FILE: secret } });
    expect(c.warnings).toEqual([
      `${file}: unknown key MQTT_ULR (ignored); did you mean MQTT_URL?`,
      "environment: unknown key MAIL_PASWORD (ignored); did you mean MAIL_PASSWORD?",
    ]);
    expect(Config.load({ env: { MQTT_URL: "mqtt://b", MAIL_PASSWORD_FILE: secret, HOME: "/root" } }).warnings).toEqual([]); // known keys, _FILE of a secret, not ours
  });

  test("a configuration or secret file far larger than any real one is refused before it is read", () => {
    const big = join(dir, "big");
    writeFileSync(big, "x".repeat((1 << 20) + 1));
    expect(problems({ NEURO_CONFIG_FILE: big })).toEqual([
      `NEURO_CONFIG_FILE=${big}: cannot read (${(1 << 20) + 1} bytes, more than the ${1 << 20} allowed)`,
    ]);
    expect(only({ MAIL_PASSWORD_FILE: big })).toContain(`MAIL_PASSWORD_FILE=${big}: cannot read (`);
  });
});

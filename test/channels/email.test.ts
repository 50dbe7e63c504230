import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmailChannel, type EmailChannelOptions } from "../../src/channels/email.ts";
import { emailSubject, renderEmail } from "../../src/channels/email-template.ts";
import { PermanentError, RetryableError } from "../../src/channels/types.ts";
import { createLogger } from "../../src/log.ts";
import { ensureCerts, type SimCerts } from "../../src/sim/certs.ts";
import { alertGroup, alertItem, notification } from "../support/alert-fixtures.ts";
import { addresses, TestSmtp } from "../../testkit/smtp.ts";

const TO = ["oncall@example.org", "lead@example.org", "pi-admin@example.net"];
let certDir: string;
let certs: SimCerts;
const servers: TestSmtp[] = [];
const channels: EmailChannel[] = [];

beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), "neuro-smtp-certs-"));
  certs = ensureCerts(certDir, "127.0.0.1");
});
afterEach(async () => {
  for (const c of channels.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => rmSync(certDir, { recursive: true, force: true }));

async function server(opts: ConstructorParameters<typeof TestSmtp>[0] = {}): Promise<TestSmtp> {
  const s = await TestSmtp.start(opts);
  servers.push(s);
  return s;
}

function channel(s: TestSmtp, over: Partial<EmailChannelOptions> = {}): EmailChannel {
  const c = new EmailChannel({
    host: "127.0.0.1",
    port: s.port,
    security: "none",
    username: s.username,
    password: s.password,
    from: "neuro@example.org",
    to: TO,
    timeoutMs: 5000,
    ...over,
  });
  channels.push(c);
  return c;
}

describe("email template", () => {
  test("subject leads with the top severity and cluster", () => {
    expect(emailSubject(alertGroup(3))).toBe("[CRITICAL][pi-lab] 3 alerts: web crash-looping (3)");
    expect(emailSubject(alertGroup(1, { alerts: [alertItem(1)], status: "firing" }))).toBe("[WARNING][pi-lab] 1 alert: web crash-looping (1)");
    expect(emailSubject(alertGroup(2, { status: "resolved" }))).toStartWith("[RESOLVED][pi-lab] 2 alerts");
    expect(emailSubject(alertGroup(1, { title: "a\r\nBcc: x@evil" + "t".repeat(500) })).length).toBeLessThanOrEqual(200);
    expect(emailSubject(alertGroup(1, { title: "a\r\nBcc: x@evil" }))).not.toContain("\n");
  });

  test("cluster-controlled values are HTML-escaped; big groups are capped", () => {
    const evil = alertGroup(1, { alerts: [alertItem(0, { name: "<script>alert(1)</script>", message: `"quoted" & <b>bold</b>` })] });
    const { html, text } = renderEmail(evil);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;");
    expect(text).toContain("<script>alert(1)</script>");
    const big = renderEmail(alertGroup(1000));
    expect(big.text).toContain("…and 800 more alerts");
  });
});

describe("EmailChannel against a real SMTP server", () => {
  test("every MAIL_TO recipient receives HTML + text, with SMTP auth", async () => {
    const s = await server();
    await channel(s).send(notification("email", "mail-1", alertGroup(3)));
    expect(s.received).toHaveLength(1);
    const r = s.received[0]!;
    expect(r.envelopeTo.sort()).toEqual([...TO].sort());
    expect(addresses(r.mail.to).sort()).toEqual([...TO].sort());
    expect(r.user).toBe(s.username);
    expect(s.authAttempts).toEqual([{ username: s.username, ok: true }]);
    expect(r.mail.subject).toBe("[CRITICAL][pi-lab] 3 alerts: web crash-looping (3)");
    expect(r.mail.text).toContain("Namespaces: default, shop");
    expect(r.mail.html).toContain("<table");
    expect(r.mail.messageId).toBe("<mail-1@neurocontroller>");
    expect(r.mail.headers.get("x-neurocontroller-incident")).toBe("inc-1");
  });

  test("STARTTLS with the CA from MAIL_SMTP_CA_FILE", async () => {
    const s = await server({ tls: { key: readFileSync(join(certDir, "server.key"), "utf8"), cert: certs.serverCert } });
    await channel(s, { security: "starttls", caFile: certs.caFile }).send(notification("email", "tls-1"));
    expect(s.received[0]!.secure).toBe(true);
    expect(s.received[0]!.user).toBe(s.username);
  });

  test("implicit TLS", async () => {
    const s = await server({ implicitTls: true, tls: { key: readFileSync(join(certDir, "server.key"), "utf8"), cert: certs.serverCert } });
    await channel(s, { security: "tls", ca: certs.ca }).send(notification("email", "tls-2"));
    expect(s.received[0]!.secure).toBe(true);
  });

  test("starttls refuses a server that does not offer it (no silent plain-text fallback)", async () => {
    const s = await server();
    const err = await channel(s, { security: "starttls" })
      .send(notification("email", "tls-3"))
      .catch((e) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(s.received).toHaveLength(0);
  });

  test("a wrong password is permanent, and neither the error nor the log shows it", async () => {
    const s = await server();
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l), secrets: ["wrong-password-xyz"] });
    const err = await channel(s, { password: "wrong-password-xyz", logger })
      .send(notification("email", "auth-1"))
      .catch((e) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).not.toContain("wrong-password-xyz");
    expect(s.authAttempts.at(-1)!.ok).toBe(false);
    logger.error("send failed", { error: err });
    expect(lines.join("")).not.toContain("wrong-password-xyz");
  });

  test("a server that is down or answers 4xx is retryable", async () => {
    const s = await server();
    s.failWith = { code: 451, message: "try again later" };
    const e1 = await channel(s)
      .send(notification("email", "down-1"))
      .catch((e) => e);
    expect(e1).toBeInstanceOf(RetryableError);
    await s.stop();
    const e2 = await channel(s)
      .send(notification("email", "down-2"))
      .catch((e) => e);
    expect(e2).toBeInstanceOf(RetryableError);
  });
});

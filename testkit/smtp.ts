// A real SMTP server (npm smtp-server) with AUTH and optional STARTTLS/implicit TLS. Every accepted
// message is parsed with mailparser and recorded with its envelope. Faults for outage tests: stop()
// (connection refused), stall (DATA is held until released), failWith (answer DATA with an error).
import type { AddressObject, ParsedMail } from "mailparser";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { freePort } from "./ports.ts";

export interface ReceivedMail {
  envelopeTo: string[];
  envelopeFrom: string;
  user: string | undefined;
  secure: boolean;
  mail: ParsedMail;
}

export interface TestSmtpOptions {
  username?: string;
  password?: string;
  /** PEM key/cert: STARTTLS is offered (or implicit TLS when `implicitTls`). */
  tls?: { key: string; cert: string };
  implicitTls?: boolean;
}

export class TestSmtp {
  readonly received: ReceivedMail[] = [];
  readonly authAttempts: { username: string; ok: boolean }[] = [];
  /** DATA commands seen (including stalled or failed ones). */
  dataStarted = 0;
  /** When set, DATA is answered with this error (e.g. { code: 451, message: "try later" }). */
  failWith: { code: number; message: string } | undefined;
  private stalled: ((fail: { code: number; message: string } | undefined) => void)[] = [];
  private stallOn = false;
  private server: SMTPServer | undefined;
  port = 0;
  readonly username: string;
  readonly password: string;

  constructor(private readonly opts: TestSmtpOptions = {}) {
    this.username = opts.username ?? "alerts@example.org";
    this.password = opts.password ?? "smtp-pass-123";
  }

  static async start(opts: TestSmtpOptions = {}): Promise<TestSmtp> {
    const s = new TestSmtp(opts);
    s.port = await freePort();
    await s.resume();
    return s;
  }

  /** Hold every DATA until release() (the client sees no answer: a stalled server). */
  stall(): void {
    this.stallOn = true;
  }

  /** Lets held DATA commands finish: accepted, or answered with `fail` (the mail is then not received). */
  release(fail?: { code: number; message: string }): void {
    this.stallOn = false;
    for (const r of this.stalled.splice(0)) r(fail);
  }

  async resume(): Promise<void> {
    const options: SMTPServerOptions = {
      secure: !!this.opts.implicitTls,
      key: this.opts.tls?.key,
      cert: this.opts.tls?.cert,
      hideSTARTTLS: !this.opts.tls,
      // Plain-text AUTH only for the "none" tests; with TLS configured the client must upgrade first.
      allowInsecureAuth: !this.opts.tls,
      authMethods: ["PLAIN", "LOGIN"],
      logger: false,
      onAuth: (auth, _session, cb) => {
        const ok = auth.username === this.username && auth.password === this.password;
        this.authAttempts.push({ username: auth.username ?? "", ok });
        if (!ok) return cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
        cb(null, { user: auth.username });
      },
      onData: (stream, session, cb) => {
        this.dataStarted++;
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", async () => {
          const held = this.stallOn ? await new Promise<{ code: number; message: string } | undefined>((r) => this.stalled.push(r)) : undefined;
          const fail = held ?? this.failWith;
          if (fail) return cb(Object.assign(new Error(fail.message), { responseCode: fail.code }));
          const mail = await simpleParser(Buffer.concat(chunks));
          this.received.push({
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            user: session.user as string | undefined,
            secure: session.secure,
            mail,
          });
          cb(null);
        });
      },
    };
    this.server = new SMTPServer(options);
    this.server.on("error", () => {});
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  /** Closes the listener and every open session (connections then fail: "SMTP server down"). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.release();
    // smtp-server's close waits for sessions; destroy them so stop() is an abrupt outage.
    const connections = (server as unknown as { connections?: Set<{ _socket?: { destroy(): void } }> }).connections;
    for (const c of connections ?? []) c._socket?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages by subject (duplicates show as counts > 1). */
  subjects(): string[] {
    return this.received.map((r) => r.mail.subject ?? "");
  }
}

export const addresses = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address ?? ""));

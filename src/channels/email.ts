// Email channel over SMTP (nodemailer). One mail per notification to ALL of MAIL_TO; send() resolves
// when the server answered 250 after DATA (nodemailer's sendMail resolution). nodemailer is imported at
// the first send, not at start-up: loading it costs ~6 MiB of anonymous memory, and a controller may
// never send a mail (no MAIL_* configured, or no alert yet).
import { readFileSync } from "node:fs";
import type { Transporter } from "nodemailer";
import type { Logger } from "../log.ts";
import { redact, silentLogger } from "../log.ts";
import { renderEmail } from "./email-template.ts";
import { abortable, PermanentError, RetryableError, type Channel, type Notification } from "./types.ts";

export type SmtpSecurity = "starttls" | "tls" | "none";
export const SMTP_SECURITY_VALUES: readonly SmtpSecurity[] = ["starttls", "tls", "none"];

export interface EmailChannelOptions {
  host: string;
  port: number;
  /** starttls: upgrade is required (refuses plain text); tls: implicit TLS; none: never upgrade. */
  security: SmtpSecurity;
  username?: string;
  password?: string;
  /** PEM of the CA that signed the server certificate (MAIL_SMTP_CA_FILE's content). */
  ca?: string;
  caFile?: string;
  from: string;
  to: string[];
  timeoutMs?: number;
  logger?: Logger;
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  message?: string;
}

/** A Message-ID derived from the notification id: mail systems drop a redelivered duplicate. */
export function messageIdFor(id: string): string {
  return `<${id.replace(/[^A-Za-z0-9._-]/g, "_")}@neurocontroller>`;
}

export class EmailChannel implements Channel {
  readonly name = "email" as const;
  private transport?: Promise<Transporter>;
  private readonly secrets: string[];
  private readonly log: Logger;
  private readonly ca: string | undefined;

  constructor(private readonly opts: EmailChannelOptions) {
    if (!opts.host || !opts.from || opts.to.length === 0) throw new Error("EmailChannel needs MAIL_SMTP_HOST, MAIL_FROM and MAIL_TO");
    // Read now: an unreadable CA file fails start-up, not the first alert.
    this.ca = opts.ca ?? (opts.caFile ? readFileSync(opts.caFile, "utf8") : undefined);
    this.secrets = [opts.password ?? ""].filter((s) => s.length > 0);
    this.log = (opts.logger ?? silentLogger).child({ channel: "email" });
  }

  private transporter(): Promise<Transporter> {
    const { opts, ca } = this;
    const timeout = opts.timeoutMs ?? 30_000;
    this.transport ??= import("nodemailer").then((nodemailer) =>
      nodemailer.createTransport({
        host: opts.host,
        port: opts.port,
        secure: opts.security === "tls",
        requireTLS: opts.security === "starttls",
        ignoreTLS: opts.security === "none",
        auth: opts.username ? { user: opts.username, pass: opts.password ?? "" } : undefined,
        tls: ca ? { ca } : undefined,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
      }),
    );
    return this.transport;
  }

  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    const mail = renderEmail(n.payload);
    let info: { accepted?: unknown[]; rejected?: unknown[] };
    try {
      const transport = await this.transporter();
      info = await abortable(
        transport.sendMail({
          from: this.opts.from,
          to: this.opts.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: messageIdFor(n.id),
          headers: {
            "X-NeuroController-Incident": n.payload.incidentId,
            "X-NeuroController-Fingerprint": n.payload.fingerprint,
            "X-NeuroController-Status": n.payload.status,
          },
        }),
        signal,
        "smtp",
      );
    } catch (e) {
      throw this.classify(e);
    }
    // The server took the message for the accepted recipients; resending would duplicate it for them,
    // so a partly rejected list is reported, not retried.
    if (info.rejected?.length) this.log.warn("some recipients were rejected by the SMTP server", { rejected: info.rejected.map(String), id: n.id });
  }

  private classify(e: unknown): Error {
    if (e instanceof RetryableError || e instanceof PermanentError) return e;
    const err = e as SmtpError;
    const what = `smtp ${this.opts.host}:${this.opts.port}: ${redact(err.message ?? String(e), this.secrets)}`;
    // 5xx is the server's definitive "no" (bad auth, rejected sender/recipients, message refused);
    // 4xx and connection problems are transient.
    if (err.responseCode !== undefined && err.responseCode >= 500) return new PermanentError(what);
    if (err.code === "EAUTH" && err.responseCode === undefined) return new PermanentError(what);
    return new RetryableError(what);
  }

  async close(): Promise<void> {
    (await this.transport)?.close();
  }
}

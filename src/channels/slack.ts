// Slack incoming-webhook channel. The webhook URL is a credential (anyone holding it can post to the
// channel), so it never appears in errors or logs: every error message is built here and redacted.
import { IncomingWebhook } from "@slack/webhook";
import { redact } from "../log.ts";
import { renderSlackMessage } from "./slack-message.ts";
import { abortable, PermanentError, RetryableError, type Channel, type Notification } from "./types.ts";

export interface SlackChannelOptions {
  webhookUrl: string;
  /** Per-request timeout (ms); the dispatcher also aborts on ALERT_SEND_TIMEOUT. */
  timeoutMs?: number;
  /** Used when a 429 carries no (or an unreadable) Retry-After header. */
  defaultRetryAfterMs?: number;
}

interface WebhookError {
  code?: string;
  original?: { code?: string; message?: string; response?: { status: number; headers?: Record<string, unknown>; data?: unknown } };
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class SlackChannel implements Channel {
  readonly name = "slack" as const;
  private readonly webhook: IncomingWebhook;
  private readonly secrets: string[];

  constructor(private readonly opts: SlackChannelOptions) {
    if (!opts.webhookUrl) throw new Error("SlackChannel needs a webhook URL (SLACK_WEBHOOK_URL)");
    // retries: 0 — retrying is the outbox's job (it persists, backs off and survives restarts).
    this.webhook = new IncomingWebhook(opts.webhookUrl, { timeout: opts.timeoutMs ?? 30_000, retryConfig: { retries: 0 } });
    const url = new URL(opts.webhookUrl);
    // The path holds the token; redact it alone too in case a library prints only the path.
    this.secrets = [opts.webhookUrl, url.pathname.length > 8 ? url.pathname : ""].filter(Boolean);
  }

  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    const message = renderSlackMessage(n.payload);
    try {
      await abortable(this.webhook.send(message), signal, "slack webhook");
    } catch (e) {
      throw this.classify(e);
    }
  }

  private classify(e: unknown): Error {
    if (e instanceof RetryableError || e instanceof PermanentError) return e;
    const err = e as WebhookError;
    const response = err.original?.response;
    if (response) {
      const status = response.status;
      const body = typeof response.data === "string" ? redact(response.data.slice(0, 200), this.secrets) : "";
      const what = `slack webhook answered HTTP ${status}${body ? ` (${body})` : ""}`;
      if (status === 429) {
        const hint = parseRetryAfter(response.headers?.["retry-after"]);
        return new RetryableError(what, hint ?? this.opts.defaultRetryAfterMs ?? 30_000);
      }
      if (status >= 500 || status === 408) return new RetryableError(what);
      return new PermanentError(what);
    }
    const cause = err.original?.code ?? err.original?.message ?? (e as Error)?.message ?? String(e);
    return new RetryableError(`slack webhook unreachable: ${redact(String(cause), this.secrets)}`);
  }

  async close(): Promise<void> {}
}

// Slack incoming-webhook channel. The webhook URL is a credential (anyone holding it can post to the
// channel), so it never appears in errors or logs: every error message is built here and redacted.
// An incoming webhook is one JSON POST, sent with fetch: @slack/webhook (axios, proxy agents, form-data)
// cost the controller ~8 MiB of anonymous memory just to load.
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

/** Longest part of an error answer's body kept in the message (Slack answers e.g. "no_service"). */
const MAX_ERROR_BODY = 200;

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The first MAX_ERROR_BODY characters of an answer, without reading more of it than that. */
async function headOf(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    await reader.cancel().catch(() => {});
  } catch {
    /* a broken body: the status alone says what happened */
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, MAX_ERROR_BODY);
}

export class SlackChannel implements Channel {
  readonly name = "slack" as const;
  private readonly secrets: string[];

  constructor(private readonly opts: SlackChannelOptions) {
    if (!opts.webhookUrl) throw new Error("SlackChannel needs a webhook URL (SLACK_WEBHOOK_URL)");
    const url = new URL(opts.webhookUrl);
    // The path holds the token; redact it alone too in case a library prints only the path.
    this.secrets = [opts.webhookUrl, url.pathname.length > 8 ? url.pathname : ""].filter(Boolean);
  }

  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    const body = JSON.stringify(renderSlackMessage(n.payload));
    // One attempt, no retries (retrying is the outbox's job: it persists, backs off and survives
    // restarts), no redirects followed (a 3xx is an answer, as the webhook library treated it).
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 30_000);
    let response: Response;
    try {
      response = await abortable(
        fetch(this.opts.webhookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          redirect: "manual",
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        }),
        signal,
        "slack webhook",
      );
    } catch (e) {
      if (e instanceof RetryableError || e instanceof PermanentError) throw e;
      const cause = (e as { code?: string })?.code ?? (e as Error)?.message ?? String(e);
      throw new RetryableError(`slack webhook unreachable: ${redact(String(cause), this.secrets)}`);
    }
    if (response.ok) {
      await response.body?.cancel().catch(() => {});
      return;
    }
    throw this.classify(response.status, await headOf(response), response.headers.get("retry-after"));
  }

  private classify(status: number, data: string, retryAfter: string | null): Error {
    const body = redact(data.slice(0, MAX_ERROR_BODY), this.secrets);
    const what = `slack webhook answered HTTP ${status}${body ? ` (${body})` : ""}`;
    if (status === 429) {
      const hint = parseRetryAfter(retryAfter);
      return new RetryableError(what, hint ?? this.opts.defaultRetryAfterMs ?? 30_000);
    }
    if (status >= 500 || status === 408) return new RetryableError(what);
    return new PermanentError(what);
  }

  async close(): Promise<void> {}
}

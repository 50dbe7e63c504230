// Delivers the outbox: one independent worker per channel, so a stalled SMTP server never delays
// Slack or MQTT. Each worker sends its channel's notifications in order (an incident's "resolved"
// must not overtake its "firing"), retries the head with exponential backoff + jitter (or the
// receiver's Retry-After) while the receiver is down, dead-letters it on a permanent error, and
// picks up whatever a previous process left pending when it starts.
import { silentLogger, type Logger } from "../log.ts";
import type { Outbox, OutboxEntry } from "../store/outbox.ts";
import { PermanentError, RetryableError, type Channel, type ChannelName, type Notification } from "./types.ts";

/** Counters for /metrics (the runtime wires them to its registry). */
export interface DispatcherHooks {
  sent?(channel: ChannelName, n: Notification, attempts: number): void;
  retry?(channel: ChannelName, n: Notification, error: Error, delayMs: number): void;
  /** Dead-lettered after a permanent error. */
  failed?(channel: ChannelName, n: Notification, error: Error): void;
}

export interface DispatcherOptions {
  outbox: Outbox;
  channels: Channel[];
  /** ALERT_SEND_TIMEOUT: an unacknowledged send is aborted and retried after this. */
  sendTimeoutMs?: number;
  /** ALERT_RETRY_MIN_BACKOFF / ALERT_RETRY_MAX_BACKOFF. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  hooks?: DispatcherHooks;
  logger?: Logger;
  clock?: () => number;
  random?: () => number;
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries never synchronise. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, minMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

class Worker {
  private wakeUp: (() => void) | undefined;
  private inFlight: AbortController | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly channel: Channel,
    private readonly d: Dispatcher,
  ) {
    this.done = this.loop();
  }

  wake(): void {
    this.wakeUp?.();
  }

  abort(): void {
    this.inFlight?.abort(new Error("dispatcher shutting down"));
    this.wake();
  }

  private sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(
              () => {
                this.wakeUp = undefined;
                resolve();
              },
              Math.max(0, ms),
            );
      this.wakeUp = () => {
        this.wakeUp = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    const name = this.channel.name;
    while (!this.d.stopped) {
      let entry: OutboxEntry | undefined;
      try {
        entry = this.d.outbox.head(name);
      } catch (e) {
        this.d.log.error("cannot read the outbox", { channel: name, error: e });
        await this.sleep(this.d.maxBackoffMs);
        continue;
      }
      if (!entry) {
        await this.sleep(undefined); // until submit() or close()
        continue;
      }
      const wait = entry.nextAttemptAt - this.d.clock();
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      await this.attempt(entry);
    }
  }

  private async attempt(entry: OutboxEntry): Promise<void> {
    const name = this.channel.name;
    const n = entry.notification;
    const ac = new AbortController();
    this.inFlight = ac;
    const timer = setTimeout(() => ac.abort(new Error(`no acknowledgement within ${this.d.sendTimeoutMs} ms`)), this.d.sendTimeoutMs);
    let error: Error | undefined;
    try {
      await this.channel.send(n, ac.signal);
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e));
    } finally {
      clearTimeout(timer);
      this.inFlight = undefined;
    }
    // Shut down mid-send: leave the row exactly as it was; the next process resends it.
    if (this.d.stopped && error) return;
    const now = this.d.clock();
    if (!error) {
      this.d.outbox.markDelivered(n.id, now);
      this.d.hooks.sent?.(name, n, entry.attempts + 1);
      this.d.log.debug("notification delivered", { channel: name, id: n.id, attempts: entry.attempts + 1 });
      return;
    }
    if (error instanceof PermanentError) {
      this.d.outbox.markDead(n.id, error.message, now);
      this.d.hooks.failed?.(name, n, error);
      this.d.log.error("notification dead-lettered: the receiver refused it permanently", {
        channel: name,
        id: n.id,
        incident: n.payload.incidentId,
        error: error.message,
      });
      return;
    }
    const attempt = entry.attempts + 1;
    const hinted = error instanceof RetryableError ? error.retryAfterMs : undefined;
    const delay =
      hinted !== undefined
        ? hinted + Math.round(this.d.random() * Math.min(1000, hinted * 0.1))
        : backoffDelay(attempt, this.d.minBackoffMs, this.d.maxBackoffMs, this.d.random);
    this.d.outbox.markRetry(n.id, now + delay, error.message);
    this.d.hooks.retry?.(name, n, error, delay);
    // The first failures of an outage are news; the hundredth retry is noise.
    const level = attempt <= 3 || attempt % 20 === 0 ? "warn" : "debug";
    this.d.log[level]("delivery failed; will retry", { channel: name, id: n.id, attempt, retryInMs: delay, error: error.message });
  }
}

export class Dispatcher {
  readonly outbox: Outbox;
  readonly sendTimeoutMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly hooks: DispatcherHooks;
  readonly log: Logger;
  readonly clock: () => number;
  readonly random: () => number;
  stopped = false;
  private readonly channels: Map<ChannelName, Channel>;
  private readonly workers = new Map<ChannelName, Worker>();

  constructor(opts: DispatcherOptions) {
    this.outbox = opts.outbox;
    this.channels = new Map(opts.channels.map((c) => [c.name, c]));
    this.sendTimeoutMs = opts.sendTimeoutMs ?? 30_000;
    this.minBackoffMs = opts.minBackoffMs ?? 2000;
    this.maxBackoffMs = Math.max(this.minBackoffMs, opts.maxBackoffMs ?? 300_000);
    this.hooks = opts.hooks ?? {};
    this.log = (opts.logger ?? silentLogger).child({ component: "dispatcher" });
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Names of the configured channels (the pipeline routes only to these). */
  get channelNames(): ChannelName[] {
    return [...this.channels.keys()];
  }

  /** Starts one worker per channel; notifications left pending by a previous process go first. */
  start(): this {
    if (this.stopped) throw new Error("dispatcher already closed");
    for (const [name, channel] of this.channels) if (!this.workers.has(name)) this.workers.set(name, new Worker(channel, this));
    return this;
  }

  /**
   * Persists `n` (committed before this returns) and wakes its channel's worker. Returns false for
   * a duplicate id or a channel that is not configured (then nothing is stored).
   */
  submit(n: Notification): boolean {
    if (!this.channels.has(n.channel)) {
      this.log.debug("notification for a channel that is not configured; dropped", { channel: n.channel, id: n.id });
      return false;
    }
    const fresh = this.outbox.enqueue(n, this.clock());
    if (fresh) this.workers.get(n.channel)?.wake();
    return fresh;
  }

  /** Retry every channel's head now (e.g. after the operator fixed a receiver). */
  retryNow(): void {
    this.outbox.retryAllNow(this.clock());
    for (const w of this.workers.values()) w.wake();
  }

  /**
   * Stops the workers: in-flight sends are aborted and stay in the outbox (resent by the next start),
   * then closes the channels unless `keepChannels`.
   */
  /**
   * Stops the workers. A send in flight gets `graceMs` (default 2 s) to be acknowledged, so a clean stop
   * neither loses it nor makes the next process send it again; past that it is aborted and its row is
   * left exactly as it was (the next process resends it: at-least-once, never lost).
   */
  async close(opts: { keepChannels?: boolean; graceMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const w of this.workers.values()) w.wake();
    const done = Promise.all([...this.workers.values()].map((w) => w.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.graceMs ?? 2000)))]);
    clearTimeout(timer);
    for (const w of this.workers.values()) w.abort();
    await done;
    if (!opts.keepChannels) await Promise.all([...this.channels.values()].map((c) => c.close().catch(() => {})));
  }
}

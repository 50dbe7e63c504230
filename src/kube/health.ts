// Periodic API server health (/readyz, falling back to /healthz). Never throws; reports changes.
// A failed check is evidence of an outage only when no API call succeeded since it began: a check
// that failed while (say) the Lease was renewed through the same server is re-run, not reported.
import type { KubeClient } from "./client.ts";

export interface ApiHealthOptions {
  intervalMs: number;
  /** Called on the first result and on every change of ok. */
  onChange?: (ok: boolean, detail: string) => void;
  /** onChange threw (the checks go on); for the log and metrics. */
  onListenerError?: (error: unknown) => void;
  timeoutMs?: number;
}

export class ApiHealthMonitor {
  ok = false;
  /** Known after the first check. */
  checked = false;
  lastError?: string;
  lastDetail = "";
  lastCheckAt?: number;
  /** When the last reported check was sent: a 2xx answer to any call after it contradicts a failure. */
  lastCheckStartedAt = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  private inFlight?: Promise<void>;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: ApiHealthOptions,
  ) {}

  start(): void {
    if (this.timer || this.inFlight || this.stopped) return;
    this.loop();
  }

  private loop(): void {
    this.inFlight = this.check().finally(() => {
      this.inFlight = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.opts.intervalMs);
    });
  }

  /** Checks now unless a check is running (a failed lease renewal or a contradicting success asks for one). */
  checkNow(): void {
    if (this.stopped || this.inFlight) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.loop();
  }

  /** One check now; updates state and fires onChange when ok flipped. */
  async check(retried = false): Promise<void> {
    const startedAt = Date.now();
    let ok = false;
    let detail: string;
    try {
      const r = await this.client.health(this.opts.timeoutMs ?? Math.min(10_000, Math.max(1000, this.opts.intervalMs)));
      ok = r.ok;
      detail = `${r.endpoint}: ${r.detail}`;
    } catch (e) {
      detail = (e as Error)?.message ?? String(e);
    }
    if (this.stopped) return;
    if (!ok && (this.client.lastOkAt ?? 0) >= startedAt && !retried) return this.check(true); // contradicted: ask again
    this.lastCheckAt = Date.now();
    this.lastCheckStartedAt = startedAt;
    this.lastDetail = detail;
    this.lastError = ok ? undefined : detail;
    const changed = !this.checked || ok !== this.ok;
    this.checked = true;
    this.ok = ok;
    if (changed) {
      try {
        this.opts.onChange?.(ok, detail);
      } catch (e) {
        // A listener's bug must not stop health checks.
        try {
          this.opts.onListenerError?.(e);
        } catch {}
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

// Quiet retries while the API server is away: the first failed call of an outage is logged once,
// the rest are only counted (per caller), and the first answer afterwards logs one summary. Without
// it every informer logged each backoff retry: ~60 ECONNREFUSED warnings per 10 s of an apiserver restart.
import type { Logger } from "../log.ts";
import { KubeApiError } from "./api-error.ts";

/** No answer from the server (refused, reset, timed out) or a gateway in front of it that has none. */
export function isUnreachable(e: unknown): boolean {
  return e instanceof KubeApiError && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504);
}

export interface OutageSink {
  /** A call by `source` got no answer; true when it was counted into the outage (the caller logs nothing). */
  failed(source: string, error: unknown): boolean;
  /** A call got an answer: ends the outage, if one was open. */
  answered(): void;
}

export class ApiOutageLog implements OutageSink {
  private since?: number;
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get inOutage(): boolean {
    return this.since !== undefined;
  }

  failed(source: string, error: unknown): boolean {
    if (!isUnreachable(error)) return false;
    if (this.since === undefined) {
      this.since = this.now();
      this.logger.warn("API server not answering; retrying quietly until it does", { source, error: (error as Error).message });
    }
    this.failures.set(source, (this.failures.get(source) ?? 0) + 1);
    return true;
  }

  answered(): void {
    if (this.since === undefined) return;
    const retried = [...this.failures.values()].reduce((a, b) => a + b, 0);
    this.logger.info("API server answering again", {
      outageMs: this.now() - this.since,
      failedCalls: retried,
      bySource: Object.fromEntries([...this.failures].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    });
    this.since = undefined;
    this.failures.clear();
  }
}

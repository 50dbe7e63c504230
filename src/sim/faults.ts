// Fault hooks a test or the demo can pull on a running simulator.

export interface SimFaults {
  /** End every open watch stream cleanly (terminating chunk), as an apiserver timeout does. */
  closeWatches(): void;
  /** Drop all watch history: a watch from any older resourceVersion gets ERROR 410 Expired. */
  compact(): void;
  /**
   * The next `times` requests whose "METHOD /path?query" matches answer with a Status of `status`
   * (string: substring match; RegExp: tested against that same text), e.g. failNext(/watch=/, 500).
   */
  failNext(match: RegExp | string, status: number, times?: number): void;
  /** Destroy every TCP socket abruptly (no terminating chunk, no TLS close_notify). */
  killSockets(): void;
  /** Delay every request by n ms before it is handled (0 turns it off). */
  delayMs(n: number): void;
  /** Forget pending failNext rules and the delay. */
  reset(): void;
}

interface Rule {
  match: RegExp | string;
  status: number;
  remaining: number;
}

export interface FaultHooks {
  closeWatches(): void;
  compact(): void;
  killSockets(): void;
}

export class Faults implements SimFaults {
  private rules: Rule[] = [];
  delay = 0;

  constructor(private hooks: FaultHooks) {}

  closeWatches(): void {
    this.hooks.closeWatches();
  }

  compact(): void {
    this.hooks.compact();
  }

  killSockets(): void {
    this.hooks.killSockets();
  }

  failNext(match: RegExp | string, status: number, times = 1): void {
    this.rules.push({ match, status, remaining: times });
  }

  delayMs(n: number): void {
    this.delay = Math.max(0, n);
  }

  reset(): void {
    this.rules = [];
    this.delay = 0;
  }

  /** Status code to inject for this request, consuming one use of the first matching rule. */
  take(method: string, target: string): number | undefined {
    const text = `${method} ${target}`;
    for (const rule of this.rules) {
      const hit = typeof rule.match === "string" ? text.includes(rule.match) : ((rule.match.lastIndex = 0), rule.match.test(text));
      if (!hit) continue;
      if (--rule.remaining <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
      return rule.status;
    }
    return undefined;
  }
}

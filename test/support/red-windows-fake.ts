// A STAND-IN for i14-otlp's RedWindows (src/slo/red.ts, built in parallel): the same interface, with
// every sample kept in memory (fine for a test; the real one keeps fixed-size buckets). Tests feed it
// a chosen latency/error profile per service and an injected clock.
import type { RedSource, RedWindow, ServiceKey } from "../../src/slo/burn.ts";

interface Sample {
  at: number;
  durationMs: number;
  error: boolean;
}

const keyOf = (s: ServiceKey) => `${s.namespace}/${s.service}/${s.deployment ?? ""}`;

export class FakeRedWindows implements RedSource {
  private readonly samples = new Map<string, { key: ServiceKey; list: Sample[] }>();

  record(service: ServiceKey, durationMs: number, error: boolean, endTimeMs: number): void {
    const k = keyOf(service);
    if (!this.samples.has(k)) this.samples.set(k, { key: service, list: [] });
    this.samples.get(k)!.list.push({ at: endTimeMs, durationMs, error });
  }

  /** n requests spread over [from, to), each durationMs long, errorEvery-th one an error (0: none). */
  traffic(service: ServiceKey, from: number, to: number, n: number, durationMs: number, errorEvery = 0): void {
    for (let i = 0; i < n; i++) this.record(service, durationMs, errorEvery > 0 && i % errorEvery === 0, from + ((to - from) * i) / n);
  }

  query(service: ServiceKey, windowMs: number, nowMs: number): RedWindow {
    const list = (this.samples.get(keyOf(service))?.list ?? []).filter((s) => s.at > nowMs - windowMs && s.at <= nowMs);
    const sorted = list.map((s) => s.durationMs).sort((a, b) => a - b);
    const errors = list.filter((s) => s.error).length;
    return {
      requests: list.length,
      errors,
      ratePerSecond: list.length / (windowMs / 1000),
      errorRatio: list.length ? errors / list.length : 0,
      quantile: (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : undefined),
    };
  }

  services(): ServiceKey[] {
    return [...this.samples.values()].map((s) => s.key);
  }

  retainedBuckets(): number {
    return 0;
  }
}

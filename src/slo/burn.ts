// Judging a policy against the RED windows, and the scale step that follows. Pure (time passed in).
// Error objective: burn rate = observed error ratio / allowed error ratio (the SRE workbook's budget
// consumption speed); it burns when BOTH windows of any pair reach the pair's factor, so a short spike
// (short window only) or an old, already-recovered one (long window only) does not act. Latency
// objective: the chosen quantile above the threshold in both windows of a pair. A window with fewer
// than minRequests requests is not judged. Comfortably met: over the stabilisation window the error
// ratio and the latency quantile stay below `comfort` × the objective.
import type { Policy } from "./policy.ts";

/** The i14-otlp RED windows (src/slo/red.ts), seen through the part the SLO engine reads. */
export interface ServiceKey {
  service: string;
  namespace: string;
  deployment?: string;
}
export interface RedWindow {
  requests: number;
  errors: number;
  ratePerSecond: number;
  errorRatio: number;
  quantile(q: number): number | undefined;
}
export interface RedSource {
  query(service: ServiceKey, windowMs: number, nowMs: number): RedWindow;
}

export interface PairReport {
  longMs: number;
  shortMs: number;
  factor: number;
  judged: boolean;
  errorBurn?: [number, number];
  latencyMs?: [number | undefined, number | undefined];
  burning: boolean;
}

export interface BurnReport {
  pairs: PairReport[];
  burning: boolean;
  comfortable: boolean;
  /** For people: "p99 412 ms over 1h and 530 ms over 5m (objective 300 ms)". */
  evidence: string;
}

export const serviceKeyOf = (p: Policy): ServiceKey => ({ service: p.service ?? p.deployment, namespace: p.namespace, deployment: p.deployment });
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const span = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

export function evaluateBurn(p: Policy, red: RedSource, now: number): BurnReport {
  const key = serviceKeyOf(p);
  const { latency, errorRatio } = p.objectives;
  const q = latency?.quantile ?? 0.99;
  const pName = `p${+(q * 100).toFixed(2)}`;
  const reasons: string[] = [];
  const pairs = p.burnRates.map((w): PairReport => {
    const L = red.query(key, w.long, now);
    const S = red.query(key, w.short, now);
    const judged = L.requests >= p.minRequests && S.requests >= p.minRequests;
    const r: PairReport = { longMs: w.long, shortMs: w.short, factor: w.factor, judged, burning: false };
    if (errorRatio !== undefined) r.errorBurn = [L.errorRatio / errorRatio, S.errorRatio / errorRatio];
    if (latency) r.latencyMs = [L.quantile(q), S.quantile(q)];
    if (!judged) return r;
    const errBurning = r.errorBurn !== undefined && r.errorBurn[0] >= w.factor && r.errorBurn[1] >= w.factor;
    const latBurning = latency !== undefined && r.latencyMs!.every((v) => v !== undefined && v > latency.thresholdMs);
    if (errBurning) {
      reasons.push(
        `error budget burning ${fmt(r.errorBurn![0])}× over ${span(w.long)} and ${fmt(r.errorBurn![1])}× over ${span(w.short)} (limit ${w.factor}×, objective ${fmt(errorRatio! * 100)}% errors)`,
      );
    }
    if (latBurning) {
      reasons.push(
        `${pName} ${fmt(r.latencyMs![0]!)} ms over ${span(w.long)} and ${fmt(r.latencyMs![1]!)} ms over ${span(w.short)} (objective ${latency!.thresholdMs} ms)`,
      );
    }
    r.burning = errBurning || latBurning;
    return r;
  });
  const burning = pairs.some((x) => x.burning);
  let comfortable = false;
  if (!burning && p.scale) {
    const W = red.query(key, p.scale.stabilization, now);
    const latOk = !latency || (W.quantile(q) ?? Number.POSITIVE_INFINITY) <= p.scale.comfort * latency.thresholdMs;
    const errOk = errorRatio === undefined || W.errorRatio <= p.scale.comfort * errorRatio;
    comfortable = W.requests >= p.minRequests && latOk && errOk;
    if (comfortable) {
      const parts = [latency ? `${pName} ${fmt(W.quantile(q)!)} ms` : "", errorRatio !== undefined ? `${fmt(W.errorRatio * 100)}% errors` : ""];
      reasons.push(`objectives comfortably met over ${span(p.scale.stabilization)}: ${parts.filter(Boolean).join(", ")}`);
    }
  }
  return { pairs, burning, comfortable, evidence: reasons.join("; ") };
}

export type ScaleDecision = { kind: "scale-up" | "scale-down"; from: number; to: number } | { kind: "hold"; why: string };

/** The next step within [min, max]: up by step while burning, down by step once comfortable for the stabilisation window after the last step. */
export function decideScale(
  p: Policy,
  report: BurnReport,
  replicas: number,
  lastScaleAt: number | undefined,
  now: number,
): ScaleDecision | undefined {
  if (!p.scale || !p.actions.includes("scale")) return undefined;
  const { min, max, step, stabilization } = p.scale;
  if (report.burning) {
    if (replicas >= max) return { kind: "hold", why: `already at scale.max (${max})` };
    return { kind: "scale-up", from: replicas, to: Math.min(max, Math.max(min, replicas + step)) };
  }
  if (report.comfortable && replicas > min) {
    if (lastScaleAt !== undefined && now - lastScaleAt < stabilization)
      return { kind: "hold", why: "within the stabilisation window of the last step" };
    return { kind: "scale-down", from: replicas, to: Math.max(min, replicas - step) };
  }
  return undefined;
}

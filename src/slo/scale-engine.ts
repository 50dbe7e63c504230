// Bounded scaling from SLO policies, the I/O edge around the pure judgement (burn.ts): a Deployment
// whose objectives burn (both windows of a pair agree) gets `step` more replicas up to `max`; one whose
// objectives are comfortably met for the stabilisation window gets `step` fewer down to `min`. The write
// goes through the scale subresource with the resourceVersion read. A workload that an HPA or a KEDA
// ScaledObject targets is never touched, and that is said once. Limits and recording as for rollbacks.
import type { ActionJournal } from "../actions/journal.ts";
import { KubeApiError } from "../kube/api-error.ts";
import type { KubeClient } from "../kube/client.ts";
import { apiPath, type KubeObject } from "../kube/types.ts";
import type { Logger } from "../log.ts";
import type { ActionRecord } from "../model/action.ts";
import { type BurnReport, decideScale, evaluateBurn, type RedSource } from "./burn.ts";
import type { ActionLimits } from "./limits.ts";
import type { Policy } from "./policy.ts";
import { DEPLOYMENTS, type ObjectSource, type SloMode } from "./rollback-engine.ts";

const AUTOSCALERS = [
  { label: "HorizontalPodAutoscaler", path: (ns: string) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers` },
  { label: "HorizontalPodAutoscaler", path: (ns: string) => `/apis/autoscaling/v1/namespaces/${ns}/horizontalpodautoscalers` },
  { label: "ScaledObject", path: (ns: string) => `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects` },
];

export interface ScaleEngineDeps {
  client: KubeClient;
  objects: ObjectSource;
  journal: ActionJournal;
  limits: ActionLimits;
  logger: Logger;
  red: RedSource;
  mode: () => SloMode;
  now: () => number;
}

export interface PolicyStatus {
  policy: Policy;
  replicas?: number;
  report?: BurnReport;
}

export class ScaleEngine {
  private readonly lastScaleAt = new Map<string, number>();
  /** The last judgement of each policy, for `slo status`. */
  readonly last = new Map<string, PolicyStatus>();

  constructor(private readonly d: ScaleEngineDeps) {
    for (const r of d.journal.store.list({ source: "slo", sinceMs: d.now() - 86_400_000 })) {
      if (r.step.startsWith("scale-") && (r.outcome === "done" || r.outcome === "planned"))
        this.lastScaleAt.set(`${r.target.namespace}/${r.target.name}`, Date.parse(r.time));
    }
  }

  async tick(policies: Policy[]): Promise<void> {
    const mode = this.d.mode();
    if (mode === "off") return;
    const now = this.d.now();
    this.last.clear();
    for (const p of policies) {
      const key = `${p.namespace}/${p.deployment}`;
      const dep = [...this.d.objects.list("Deployment", p.namespace)].find((o) => o.metadata.name === p.deployment);
      const report = evaluateBurn(p, this.d.red, now);
      this.last.set(key, { policy: p, replicas: dep?.spec?.replicas, report });
      if (!dep || !p.actions.includes("scale")) continue;
      const decision = decideScale(p, report, dep.spec?.replicas ?? 1, this.lastScaleAt.get(key), now);
      if (decision && decision.kind !== "hold") await this.act(dep, p, decision, report.evidence, mode, now);
    }
  }

  private async act(
    dep: KubeObject,
    p: Policy,
    s: { kind: "scale-up" | "scale-down"; from: number; to: number },
    evidence: string,
    mode: "dry-run" | "on",
    now: number,
  ) {
    const target = { kind: "Deployment", namespace: p.namespace, name: p.deployment };
    const targetText = `Deployment ${p.namespace}/${p.deployment}`;
    const prefix = `slo:Deployment/${p.namespace}/${p.deployment}`;
    const base = `${prefix}:${s.kind}:${s.from}-to-${s.to}:g${dep.metadata.generation ?? 0}`;
    const detail = { from: s.from, to: s.to, policy: p.name };
    const record = (over: Pick<ActionRecord, "id" | "outcome" | "reason" | "summary"> & Partial<ActionRecord>) =>
      this.d.journal.record({ time: new Date(now).toISOString(), source: "slo", mode, target, step: s.kind, announce: true, detail, ...over });
    if (this.d.journal.store.has(base)) return;
    let owner: string | undefined;
    try {
      owner = await this.autoscalerOf(dep);
    } catch (e) {
      // 403 (the SLO overlay's RBAC is not applied) or an outage: without knowing, never scale.
      record({
        id: `${prefix}:scale:autoscalers-unknown`,
        outcome: "refused",
        reason: `cannot list the HPAs/ScaledObjects of namespace ${p.namespace}: ${String(e)}`,
        summary: `${targetText} not scaled: cannot verify that no autoscaler targets it (deploy/slo/ RBAC applied?)`,
      });
      return;
    }
    if (owner) {
      record({
        id: `${prefix}:scale:owned-by:${owner}`,
        outcome: "refused",
        reason: `${owner} targets this Deployment: its replicas are not ours to set`,
        summary: `${targetText} not scaled: ${owner} targets it (said once)`,
      });
      return;
    }
    const limit = this.d.limits.refusal(targetText, now);
    if (limit) {
      record({
        id: `${base}:limit`,
        outcome: "refused",
        reason: `${limit}. ${evidence}`,
        summary: `${targetText}: ${s.kind} ${s.from} → ${s.to} refused by a limit`,
      });
      return;
    }
    const what = `${targetText} scaled ${s.kind === "scale-up" ? "up" : "down"} from ${s.from} to ${s.to} replicas (policy ${p.name})`;
    if (mode === "dry-run") {
      this.note(targetText, `${p.namespace}/${p.deployment}`, now);
      record({
        id: base,
        outcome: "planned",
        reason: evidence,
        summary: `dry-run: ${targetText} would be scaled from ${s.from} to ${s.to} replicas (policy ${p.name})`,
      });
      return;
    }
    try {
      const path = `${apiPath(DEPLOYMENTS, p.namespace, p.deployment)}/scale`;
      const scale = await this.d.client.request("GET", path);
      if (scale?.spec?.replicas !== s.from) throw new Error(`replicas changed meanwhile (${scale?.spec?.replicas}, expected ${s.from})`);
      await this.d.client.request("PUT", path, { body: { ...scale, spec: { ...scale.spec, replicas: s.to } } });
      this.note(targetText, `${p.namespace}/${p.deployment}`, now);
      record({ id: base, outcome: "done", reason: evidence, summary: what });
    } catch (e) {
      this.d.logger.warn("scale failed", { deployment: targetText, error: String(e) });
      record({
        id: `${base}:failed`,
        outcome: "failed",
        reason: `${String(e)}. ${evidence}`,
        summary: `${targetText}: ${s.kind} ${s.from} → ${s.to} failed`,
      });
    }
  }

  private note(targetText: string, key: string, now: number): void {
    this.d.limits.note(targetText, now);
    this.lastScaleAt.set(key, now);
  }

  /** "HorizontalPodAutoscaler shop/web" when one targets the Deployment; unknown kinds (404) mean none installed. */
  private async autoscalerOf(dep: KubeObject): Promise<string | undefined> {
    const ns = dep.metadata.namespace!;
    let hpaServed = false;
    for (const a of AUTOSCALERS) {
      if (a.label === "HorizontalPodAutoscaler" && hpaServed) continue;
      let items: KubeObject[];
      try {
        items = (await this.d.client.request("GET", a.path(ns)))?.items ?? [];
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) continue;
        throw e; // 403 and others: cannot verify, so no write this tick
      }
      if (a.label === "HorizontalPodAutoscaler") hpaServed = true;
      for (const o of items) {
        const ref = o.spec?.scaleTargetRef;
        if (ref?.name === dep.metadata.name && (ref.kind ?? "Deployment") === "Deployment") return `${a.label} ${ns}/${o.metadata.name}`;
      }
    }
    return undefined;
  }
}

// Where the policies come from each tick: the YAML policies ConfigMap (SLO_POLICY_CONFIGMAP in the
// Lease's namespace) and the `neurocontroller.io/slo-*` annotations of the cached Deployments. A
// ConfigMap policy for a Deployment wins over its annotations. Every invalid policy is logged once
// (per distinct message) with the field at fault, counted as malformed input, and skipped.
import type { RejectSink } from "../boundary/reject.ts";
import type { KubeClient } from "../kube/client.ts";
import { ConfigMapDocument } from "../kube/configmap-document.ts";
import type { Logger } from "../log.ts";
import { isPolicyError, type Policy, type PolicyError, policiesFromConfigMap, policyFromAnnotations } from "./policy.ts";
import type { ObjectSource } from "./rollback-engine.ts";

export class PolicySource {
  private readonly doc?: ConfigMapDocument;
  private readonly told = new Set<string>();
  /** The errors of the last load, for `slo status`. */
  errors: PolicyError[] = [];

  constructor(
    private readonly d: { client: KubeClient; namespace: string; configMap: string; objects: ObjectSource; logger: Logger; rejects: RejectSink },
  ) {
    if (d.configMap) this.doc = new ConfigMapDocument(d.client, d.namespace, d.configMap);
  }

  async load(): Promise<Policy[]> {
    const errors: PolicyError[] = [];
    const byTarget = new Map<string, Policy>();
    for (const dep of this.d.objects.list("Deployment")) {
      const p = policyFromAnnotations(dep);
      if (!p) continue;
      if (isPolicyError(p)) errors.push(p);
      else byTarget.set(`${p.namespace}/${p.deployment}`, p);
    }
    const cm = this.doc ? await this.doc.read() : null;
    if (cm) {
      const set = policiesFromConfigMap(`ConfigMap ${this.d.namespace}/${this.d.configMap}`, cm.data);
      errors.push(...set.errors);
      for (const p of set.policies) byTarget.set(`${p.namespace}/${p.deployment}`, p);
    }
    for (const e of errors) {
      const text = `${e.where}: ${e.message}`;
      if (this.told.has(text)) continue;
      if (this.told.size >= 1000) this.told.clear(); // bounded: an endless stream of new errors is told again, never kept
      this.told.add(text);
      this.d.rejects.reject("slo.policy", text, undefined);
      this.d.logger.warn(`invalid SLO policy skipped: ${text}`);
    }
    this.errors = errors;
    return [...byTarget.values()];
  }
}

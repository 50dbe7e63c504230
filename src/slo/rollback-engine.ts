// Rollback of bad rollouts, the I/O edge around the pure decision (rollback-decision.ts): every tick
// on the leader it reads Deployments, ReplicaSets and Pods from the informer caches, decides, checks
// the limits, writes (SLO_MODE=on) or only announces (dry-run), and records every decision and
// refusal in the action journal with an id that names the bad revision, so each is told once.
import type { ActionJournal } from "../actions/journal.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject, ResourceRef } from "../kube/types.ts";
import type { Logger } from "../log.ts";
import type { ActionRecord } from "../model/action.ts";
import type { ActionLimits } from "./limits.ts";
import { byControllerUid, decideRollback, type RollbackDecision, type RollbackSettings, rollbackPatch } from "./rollback-decision.ts";

export const DEPLOYMENTS: ResourceRef = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true };

export type SloMode = "off" | "dry-run" | "on";

export interface ObjectSource {
  list(kind: string, namespace?: string): Iterable<KubeObject>;
}

export interface RollbackEngineDeps {
  client: KubeClient;
  objects: ObjectSource;
  journal: ActionJournal;
  limits: ActionLimits;
  logger: Logger;
  settings: RollbackSettings;
  mode: () => SloMode;
  now: () => number;
}

/** "namespace/name" of a Deployment → why its SLO burns now (policies allowing rollback only). */
export type SloBurns = Map<string, string>;

export class RollbackEngine {
  constructor(private readonly d: RollbackEngineDeps) {}

  /** One pass over every Deployment; resolves when every write of this pass has finished. */
  async tick(burns: SloBurns = new Map()): Promise<void> {
    const mode = this.d.mode();
    if (mode === "off") return;
    const now = this.d.now();
    // Indexed once per pass: filtering every Pod for every Deployment was quadratic (3,000 Pods × 300
    // Deployments took most of a steady controller's CPU).
    const setsOf = byControllerUid(this.d.objects.list("ReplicaSet"));
    const podsOf = byControllerUid(this.d.objects.list("Pod"));
    for (const dep of this.d.objects.list("Deployment")) {
      const burn = burns.get(`${dep.metadata.namespace}/${dep.metadata.name}`);
      const sets = setsOf.get(dep.metadata.uid ?? "") ?? [];
      const pods = sets.flatMap((rs) => podsOf.get(rs.metadata.uid ?? "") ?? []);
      const decision = decideRollback(dep, sets, pods, now, this.d.settings, burn);
      if (decision) await this.act(dep, decision, mode, now);
    }
  }

  private async act(dep: KubeObject, d: RollbackDecision, mode: "dry-run" | "on", now: number): Promise<void> {
    const target = { kind: "Deployment", namespace: dep.metadata.namespace ?? "", name: dep.metadata.name };
    const targetText = `Deployment ${target.namespace}/${target.name}`;
    const base = `slo:Deployment/${target.namespace}/${target.name}:rollback:${d.from.hash}-r${d.from.revision}`;
    const record = (over: Partial<ActionRecord> & Pick<ActionRecord, "id" | "outcome" | "reason" | "summary">): boolean =>
      this.d.journal.record({
        time: new Date(now).toISOString(),
        source: "slo",
        mode,
        target,
        step: "rollback",
        announce: true,
        detail: { fromRevision: d.from.revision, fromReplicaSet: d.from.replicaSet },
        ...over,
      });
    if (d.kind === "refuse") {
      record({
        id: `${base}:refused`,
        outcome: "refused",
        reason: `${d.limit}. ${d.evidence}`,
        summary: `${targetText}: bad rollout not rolled back (${d.limit})`,
      });
      return;
    }
    const toText = "template" in d.to ? `revision ${d.to.revision} (ReplicaSet ${d.to.replicaSet})` : `image ${d.to.image}`;
    const detail = {
      fromRevision: d.from.revision,
      fromReplicaSet: d.from.replicaSet,
      ...("template" in d.to ? { toRevision: d.to.revision, toReplicaSet: d.to.replicaSet } : { toImage: d.to.image }),
    };
    if (this.d.journal.store.has(base)) return; // decided (and written, or announced) before
    const limit = this.d.limits.refusal(targetText, now);
    if (limit) {
      record({
        id: `${base}:limit`,
        outcome: "refused",
        reason: `${limit}. ${d.evidence}`,
        summary: `${targetText}: rollback to ${toText} refused by a limit`,
        detail,
      });
      return;
    }
    const what = `${targetText} rolled back from revision ${d.from.revision} to ${toText}`;
    const wouldBe = `dry-run: ${targetText} would be rolled back from revision ${d.from.revision} to ${toText}`;
    if (mode === "dry-run") {
      this.d.limits.note(targetText, now);
      record({ id: base, outcome: "planned", reason: d.evidence, summary: wouldBe, detail });
      return;
    }
    try {
      await this.d.client.patch(DEPLOYMENTS, target.name, rollbackPatch(dep, d), "json", target.namespace);
      this.d.limits.note(targetText, now);
      record({ id: base, outcome: "done", reason: d.evidence, summary: what, detail });
    } catch (e) {
      this.d.logger.warn("rollback failed", { deployment: targetText, error: String(e) });
      record({
        id: `${base}:failed`,
        outcome: "failed",
        reason: `${String(e)}. ${d.evidence}`,
        summary: `${targetText}: rollback to ${toText} failed`,
        detail,
      });
    }
  }
}

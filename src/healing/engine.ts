// The healing executor: observes the cluster (nodes, pods, our annotations, the pause switch, the server
// version), asks the pure decision for the next step, makes that one write through the KubeClient and
// records every decision in the action journal. Leader only; nothing is written in dry-run.
import { IGNORE_REJECTS, type RejectSink } from "../boundary/reject.ts";
import { KubeApiError } from "../kube/api-error.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject, ResourceRef } from "../kube/types.ts";
import type { Logger } from "../log.ts";
import type { ActionRecord } from "../model/action.ts";
import { HEALING_ANNOTATION, type HealingState, OUT_OF_SERVICE_TAINT, readHealingState, writeHealingState } from "./annotation.ts";
import { decide, type HealingInput, type HealingStep, type PodRef } from "./decide.ts";
import { isReady, supportsOutOfService } from "./facts.ts";
import type { PauseState, SharedHealing } from "./pause.ts";
import type { HealingSettings } from "./settings.ts";
import { simulate } from "./simulate.ts";

const NODES: ResourceRef = { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false };
const PODS: ResourceRef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };
/** Writes per tick in "on" mode (each re-reads the cluster first); dry-run plans at most this many steps. */
const MAX_STEPS_PER_TICK = 20;
const MAX_PLANNED_STEPS = 500;
const BACKOFF_MAX_MS = 60_000;

export interface HealingEngineDeps {
  client: KubeClient;
  record: (r: ActionRecord) => boolean;
  settings: HealingSettings;
  clusterId: string;
  logger: Logger;
  clock: () => number;
  /** The pause switch and the ids already told by any leader (ConfigMap <lease>-healing). */
  readShared: () => Promise<SharedHealing>;
  /** Remembers newly told ids for the next leader ("on" mode only: dry-run writes nothing to the cluster). */
  saveTold?: (ids: string[]) => Promise<void>;
  /** Checked before every write: a leader past its renew deadline must not write. */
  stillLeading: () => boolean;
  rejects?: RejectSink;
}

export interface TickResult {
  writes: number;
  planned: number;
  step?: string;
}

/** The pause switch as an operator action: told once per change (its id carries the switch's time). */
function switchRecord(p: PauseState, clusterId: string, dryRun: boolean): ActionRecord {
  const step = p.paused ? "pause" : "resume";
  return {
    id: `operator:Cluster//${clusterId}:healing-${step}:${p.at}`,
    time: p.at,
    source: "operator",
    mode: dryRun ? "dry-run" : "on",
    target: { kind: "Cluster", namespace: "", name: clusterId },
    step: `healing-${step}`,
    outcome: "done",
    reason: p.reason ?? `${step} requested`,
    summary: `Healing ${p.paused ? "paused" : "resumed"} by ${p.by}${p.reason ? `: ${p.reason}` : ""}`,
    actor: p.by,
    announce: true,
  };
}

export class HealingEngine {
  private readonly backoff = new Map<string, { until: number; pdb?: string; attempts: number }>();
  private evictionVersion: "v1" | "v1beta1" = "v1";
  private outOfService?: boolean;
  private readonly rejects: RejectSink;
  /** The last observation (diagnostics and tests). */
  lastInput?: HealingInput;

  constructor(private readonly d: HealingEngineDeps) {
    this.rejects = d.rejects ?? IGNORE_REJECTS;
  }

  /** policy/v1 until the server showed it serves only v1beta1 (kube-apiserver < 1.22). */
  get evictionApiVersion(): string {
    return `policy/${this.evictionVersion}`;
  }

  async tick(): Promise<TickResult> {
    const result: TickResult = { writes: 0, planned: 0 };
    if (this.d.settings.mode === "off") return result;
    const dryRun = this.d.settings.mode === "dry-run";
    const shared = await this.d.readShared();
    const fresh: string[] = [];
    // Told by an earlier leader: not again. Told now: remembered for the next one.
    const record = (r: ActionRecord) => {
      if (shared.told.has(r.id) || !this.d.record(r)) return;
      fresh.push(r.id);
    };
    try {
      const pause = shared.pause;
      if (pause) record(switchRecord(pause, this.d.clusterId, dryRun));
      if (dryRun) {
        let input = await this.observe(pause);
        for (let i = 0; i < MAX_PLANNED_STEPS; i++) {
          const decision = decide(input);
          for (const n of decision.notices) record(n);
          if (!decision.step) break;
          record(decision.step.record);
          result.planned++;
          input = simulate(input, decision.step);
        }
        return result;
      }
      for (let i = 0; i < MAX_STEPS_PER_TICK; i++) {
        const input = await this.observe(pause);
        if (!this.d.stillLeading()) break; // the Lease may be someone else's by now: decide nothing, tell nothing
        const decision = decide(input);
        for (const n of decision.notices) record(n);
        if (!decision.step) break;
        result.step = decision.step.kind;
        const ok = await this.execute(decision.step, input, record);
        if (!ok) break;
        result.writes++;
      }
      return result;
    } finally {
      if (!dryRun && fresh.length && this.d.saveTold && this.d.stillLeading())
        await this.d
          .saveTold(fresh)
          .catch((e) => this.d.logger.warn("cannot remember told healing decisions for the next leader", { error: String(e) }));
    }
  }

  private async observe(pause: PauseState | undefined): Promise<HealingInput> {
    const nodes = await this.d.client.list(NODES);
    if (this.outOfService === undefined) {
      try {
        this.outOfService = supportsOutOfService(await this.d.client.version());
      } catch (e) {
        this.d.logger.warn("cannot read the server version; releasing by force delete until it answers", { error: String(e) });
      }
    }
    const states = new Map<string, HealingState>();
    for (const n of nodes.items) {
      const st = readHealingState(n.metadata.annotations, this.rejects);
      if (st) states.set(n.metadata.name, st);
    }
    // The decision reads only the pods of nodes that are not Ready or carry our annotation (every other node
    // is left alone): those are listed by spec.nodeName, usually none. Listing every pod each tick cost a
    // 30k-pod cluster ~60 MB of JSON per HEALING_INTERVAL (steady PSS 360 vs 227 MiB without it).
    const pods: KubeObject[] = [];
    for (const n of nodes.items) {
      if (isReady(n) && !states.has(n.metadata.name)) continue;
      const onNode = await this.d.client.list(PODS, { fieldSelector: `spec.nodeName=${n.metadata.name}` });
      pods.push(...onNode.items);
    }
    const seen = new Set(pods.map((p) => p.metadata.uid));
    for (const uid of this.backoff.keys()) if (!seen.has(uid)) this.backoff.delete(uid);
    this.lastInput = {
      now: this.d.clock(),
      settings: this.d.settings,
      clusterId: this.d.clusterId,
      nodes: nodes.items,
      pods,
      states,
      outOfService: this.outOfService ?? false,
      paused: pause?.paused ? { by: pause.by, at: pause.at } : undefined,
      backoff: this.backoff,
    };
    return this.lastInput;
  }

  /** Makes the step's write; records done/failed/waiting; true when the next step may follow at once. */
  private async execute(step: HealingStep, input: HealingInput, record: (r: ActionRecord) => void): Promise<boolean> {
    const now = this.d.clock();
    const done = () => record({ ...step.record, outcome: "done", time: new Date(now).toISOString() });
    try {
      switch (step.kind) {
        case "evict":
          return await this.evict(step, step.pod, done, record);
        case "force-delete":
          await this.forceDelete(step.pod);
          break;
        default:
          await this.patchNode(step, input.nodes.find((n) => n.metadata.name === step.node)!);
      }
      done();
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 409) {
        this.d.logger.info("node changed while healing decided; deciding again", { node: step.node, step: step.kind });
        return false;
      }
      this.failed(step, e, record);
      return false;
    }
  }

  private failed(step: HealingStep, e: unknown, record: (r: ActionRecord) => void): void {
    const rec = step.record;
    record({
      ...rec,
      id: rec.id.replace(`:${rec.step}:`, `:${rec.step}-failed:`),
      step: `${rec.step}-failed`,
      outcome: "failed",
      time: new Date(this.d.clock()).toISOString(),
      reason: String((e as Error)?.message ?? e).slice(0, 500),
    });
  }

  private async patchNode(step: Exclude<HealingStep, { kind: "evict" | "force-delete" }>, node: KubeObject): Promise<void> {
    const spec: Record<string, unknown> = {};
    if (step.kind === "cordon" && step.setUnschedulable) spec.unschedulable = true;
    if (step.kind === "uncordon" && step.clearUnschedulable) spec.unschedulable = null;
    const taints = (node.spec?.taints ?? []) as { key: string; effect: string }[];
    const isOurs = (t: { key: string; effect: string }) => t.key === OUT_OF_SERVICE_TAINT.key && t.effect === OUT_OF_SERVICE_TAINT.effect;
    if (step.kind === "release-taint" && !taints.some(isOurs)) spec.taints = [...taints, { ...OUT_OF_SERVICE_TAINT }];
    if (step.kind === "uncordon" && step.removeTaint) spec.taints = taints.filter((t) => !isOurs(t));
    // Guarded by the resourceVersion we decided on: another writer (an operator, a second leader) → 409, decide again.
    const patch = {
      metadata: { resourceVersion: node.metadata.resourceVersion, annotations: { [HEALING_ANNOTATION]: writeHealingState(step.state) } },
      ...(Object.keys(spec).length ? { spec } : {}),
    };
    await this.d.client.patch(NODES, step.node, patch, "merge");
  }

  /** policy/v1 first, v1beta1 where only that is served (1.20); 429 = a disruption budget says not now. */
  private async evict(step: HealingStep, pod: PodRef, done: () => void, record: (r: ActionRecord) => void): Promise<boolean> {
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/eviction`;
    const body = (v: string) => ({
      apiVersion: `policy/${v}`,
      kind: "Eviction",
      metadata: { name: pod.name, namespace: pod.namespace },
      deleteOptions: { preconditions: { uid: pod.uid } },
    });
    try {
      try {
        await this.d.client.request("POST", path, { body: body(this.evictionVersion) });
      } catch (e) {
        if (!(e instanceof KubeApiError) || this.evictionVersion !== "v1" || (e.status !== 400 && e.status !== 404)) throw e;
        await this.d.client.request("POST", path, { body: body("v1beta1") });
        this.evictionVersion = "v1beta1";
        this.d.logger.info("policy/v1 eviction not served; using policy/v1beta1");
      }
      this.backoff.delete(pod.uid);
      done();
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return true; // gone already: nothing left to evict
      if (e instanceof KubeApiError && e.status === 429) {
        this.waitOnBudget(step, pod, e, record);
        return true; // other pods may go on
      }
      this.backoffPod(pod.uid, undefined);
      this.failed(step, e, record);
      return false;
    }
  }

  private waitOnBudget(step: HealingStep, pod: PodRef, e: KubeApiError, record: (r: ActionRecord) => void): void {
    const text = JSON.stringify(e.body ?? e.message);
    const pdb = /disruption budget ([a-z0-9.-]+)/i.exec(text)?.[1];
    const retryAfter = Number((e.body as { details?: { retryAfterSeconds?: number } } | undefined)?.details?.retryAfterSeconds ?? 0) * 1000;
    this.backoffPod(pod.uid, pdb, retryAfter);
    const rec = step.record;
    record({
      ...rec,
      id: rec.id.replace(":evict:", ":evict-waiting:"),
      step: "evict-waiting",
      outcome: "waiting",
      time: new Date(this.d.clock()).toISOString(),
      reason: `429: ${pdb ? `PodDisruptionBudget ${pdb}` : "a disruption budget"} allows no disruption now; retried until HEALING_DRAIN_TIMEOUT`,
      summary: `Pod ${pod.namespace}/${pod.name} waits on ${pdb ? `PDB ${pdb}` : "its disruption budget"}`,
    });
  }

  private backoffPod(uid: string, pdb: string | undefined, atLeastMs = 0): void {
    const attempts = (this.backoff.get(uid)?.attempts ?? 0) + 1;
    const delay = Math.max(atLeastMs, Math.min(BACKOFF_MAX_MS, 1000 * 2 ** (attempts - 1)));
    this.backoff.set(uid, { until: this.d.clock() + delay, pdb, attempts });
  }

  private async forceDelete(pod: PodRef): Promise<void> {
    try {
      await this.d.client.delete(PODS, pod.name, pod.namespace, { gracePeriodSeconds: 0, preconditions: { uid: pod.uid } });
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 404)) throw e;
    }
  }
}

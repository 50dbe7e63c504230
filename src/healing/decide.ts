// The healing decision: nodes, pods, our annotations, the limits and the clock in; at most ONE next
// step out (a write for the executor), plus notices (refusals, waits, summaries) to record. Pure: no
// I/O, no clock of its own. The order of the checks is the order of the safety limits in docs/healing.md.
import type { ActionRecord } from "../model/action.ts";
import type { KubeObject } from "../kube/types.ts";
import type { HealingState } from "./annotation.ts";
import {
  isControlPlane,
  isExcluded,
  isReady,
  isTerminating,
  isUnschedulable,
  movablePods,
  readySince,
  readyTransition,
  unmanagedPods,
} from "./facts.ts";
import { episodeOf, healingRecord, nodeTarget, plural, podTarget } from "./records.ts";
import type { HealingSettings } from "./settings.ts";

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export type HealingStep =
  | { kind: "cordon"; node: string; state: HealingState; setUnschedulable: boolean; record: ActionRecord }
  | { kind: "evict"; node: string; pod: PodRef; record: ActionRecord }
  | { kind: "release-taint"; node: string; state: HealingState; record: ActionRecord }
  | { kind: "force-delete"; node: string; pod: PodRef; record: ActionRecord }
  | { kind: "mark-released"; node: string; state: HealingState; record: ActionRecord }
  | { kind: "uncordon"; node: string; state: HealingState; clearUnschedulable: boolean; removeTaint: boolean; record: ActionRecord };

export interface HealingInput {
  now: number;
  settings: HealingSettings;
  clusterId: string;
  nodes: readonly KubeObject[];
  pods: readonly KubeObject[];
  /** Our annotation per node name (validated by the caller). */
  states: ReadonlyMap<string, HealingState>;
  /** The server supports the out-of-service taint (≥ 1.28). */
  outOfService: boolean;
  /** Set while an operator paused healing. */
  paused?: { by: string; at: string };
  /** Pod uid → until when its eviction is not retried (after a 429), and the budget that refused it. */
  backoff: ReadonlyMap<string, { until: number; pdb?: string }>;
}

export interface HealingDecision {
  step?: HealingStep;
  notices: ActionRecord[];
}

const podRef = (p: KubeObject): PodRef => ({ namespace: p.metadata.namespace ?? "", name: p.metadata.name, uid: p.metadata.uid ?? "" });
const iso = (ms: number) => new Date(ms).toISOString();

interface NodeFacts {
  node: KubeObject;
  name: string;
  ready: boolean;
  since?: number;
  state?: HealingState;
}

export function decide(input: HealingInput): HealingDecision {
  const { now, settings: s } = input;
  const dryRun = s.mode === "dry-run";
  const notices: ActionRecord[] = [];
  const rec = (r: Omit<Parameters<typeof healingRecord>[0], "now" | "dryRun">) => healingRecord({ ...r, now, dryRun });
  const facts: NodeFacts[] = [...input.nodes]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((node) => ({ node, name: node.metadata.name, ready: isReady(node), since: readySince(node), state: input.states.get(node.metadata.name) }));
  const active = facts.filter((f) => f.state && f.state.phase !== "recovered");
  const pausedNotice = (f: NodeFacts, episode: string) =>
    rec({
      target: nodeTarget(f.name),
      step: "refused-paused",
      episode: `${episode}:${input.paused!.at}`,
      outcome: "refused",
      reason: `healing paused by ${input.paused!.by} at ${input.paused!.at}`,
      summary: `Node ${f.name} needs healing but healing is paused (by ${input.paused!.by})`,
      announce: true,
    });

  // 1. A node we remediated that is Ready again for long enough: undo what we did, and only that.
  for (const f of active) {
    if (!f.ready || f.since === undefined || now - f.since < s.uncordonAfterMs) continue;
    if (input.paused) return { notices: [pausedNotice(f, f.state!.episode)] };
    const st = f.state!;
    const undo = [st.cordonedByUs ? "uncordoned" : "left cordoned (an operator cordoned it)", st.taint ? "out-of-service taint removed" : ""].filter(
      Boolean,
    );
    return {
      notices,
      step: {
        kind: "uncordon",
        node: f.name,
        state: { ...st, phase: "recovered", recoveredAt: iso(now) },
        clearUnschedulable: st.cordonedByUs,
        removeTaint: st.taint === true,
        record: rec({
          target: nodeTarget(f.name),
          step: "uncordon",
          episode: st.episode,
          outcome: "planned",
          reason: `Ready for ${Math.round((now - f.since) / 1000)}s (HEALING_UNCORDON_AFTER ${s.uncordonAfterMs / 1000}s)`,
          summary: `Node ${f.name} is Ready again: ${undo.join(", ")}`,
          announce: true,
        }),
      },
    };
  }

  // 2. Too few Ready nodes: a partition or our own node cut off looks like "everything is down". No action at all.
  const due = facts.filter((f) => !f.ready && (active.includes(f) || (f.since !== undefined && now - f.since > s.notReadyAfterMs)));
  const readyCount = facts.filter((f) => f.ready).length;
  if (due.length && readyCount * 100 < s.minHealthyPercent * facts.length) {
    const down = facts.filter((f) => !f.ready);
    const clusterEpisode = episodeOf(down.map((f) => `${f.name}@${readyTransition(f.node)}`));
    notices.push(
      rec({
        target: { kind: "Cluster", namespace: "", name: input.clusterId },
        step: "refused-min-healthy",
        episode: clusterEpisode,
        outcome: "refused",
        reason: `HEALING_MIN_HEALTHY_PERCENT: ${readyCount} of ${facts.length} nodes Ready, below ${s.minHealthyPercent}%`,
        summary: `No healing: only ${readyCount} of ${facts.length} nodes are Ready (${down.map((f) => f.name).join(", ")} down); below HEALING_MIN_HEALTHY_PERCENT ${s.minHealthyPercent}%`,
        announce: true,
        detail: { ready: readyCount, nodes: facts.length },
      }),
    );
    return { notices };
  }

  // 3. Continue the remediation in progress (resumable: every fact comes from the cluster and our annotation).
  for (const f of active) {
    if (f.ready) continue;
    const st = f.state!;
    if (input.paused) return { notices: [pausedNotice(f, st.episode)] };
    if (st.phase !== "cordoned") continue; // released: nothing left but to wait for Ready
    const movable = movablePods(input.pods, f.name, s.drainUnmanaged);
    const running = movable.filter((p) => !isTerminating(p));
    const cordonedAt = Date.parse(st.cordonedAt);
    if (s.forceAfterMs > 0 && now >= cordonedAt + s.forceAfterMs) return { notices, step: releaseStep(f, st, movable, input, rec) };
    const next =
      now < cordonedAt + s.drainTimeoutMs ? running.find((p) => !((input.backoff.get(p.metadata.uid ?? "")?.until ?? 0) > now)) : undefined;
    if (next) {
      const ref = podRef(next);
      return {
        notices,
        step: {
          kind: "evict",
          node: f.name,
          pod: ref,
          record: rec({
            target: podTarget(ref.namespace, ref.name),
            step: "evict",
            episode: st.episode,
            outcome: "planned",
            reason: `draining node ${f.name} (NotReady since ${st.episode})`,
            summary: `Pod ${ref.namespace}/${ref.name} evicted from node ${f.name}`,
            detail: { node: f.name },
          }),
        },
      };
    }
    notices.push(drainSummary(f, st, running, input, rec, now >= cordonedAt + s.drainTimeoutMs));
  }

  // 4. Start on a node NotReady past the threshold, unless a limit says no (each refusal told once per episode).
  let slots = s.maxConcurrent - active.length;
  const candidates = facts
    .filter((f) => !f.ready && !active.includes(f) && f.since !== undefined && now - f.since > s.notReadyAfterMs)
    .sort((a, b) => a.since! - b.since! || a.name.localeCompare(b.name));
  for (const f of candidates) {
    const episode = readyTransition(f.node);
    const refuse = (step: string, reason: string, summary: string, outcome: "refused" | "waiting" = "refused") =>
      notices.push(rec({ target: nodeTarget(f.name), step, episode, outcome, reason, summary, announce: true }));
    const otherSchedulable = facts.filter((o) => o !== f && o.ready && !isUnschedulable(o.node)).length;
    const recoveredAt = f.state?.recoveredAt ? Date.parse(f.state.recoveredAt) : Number.NaN;
    if (isExcluded(f.node))
      refuse("refused-excluded", "label neurocontroller.io/healing=disabled", `Node ${f.name} is NotReady but excluded from healing by its label`);
    else if (isControlPlane(f.node) && !s.controlPlane)
      refuse(
        "refused-control-plane",
        "HEALING_CONTROL_PLANE=false",
        `Node ${f.name} is NotReady but is a control-plane node (HEALING_CONTROL_PLANE=false)`,
      );
    else if (now < recoveredAt + s.cooldownMs)
      refuse(
        "refused-cooldown",
        `HEALING_COOLDOWN: recovered at ${f.state!.recoveredAt}`,
        `Node ${f.name} is NotReady again within its healing cooldown; not touched until ${iso(recoveredAt + s.cooldownMs)}`,
        "waiting",
      );
    else if (otherSchedulable === 0)
      refuse(
        "refused-last-schedulable",
        "no other Ready schedulable node",
        `Node ${f.name} is NotReady but is the last schedulable node; not cordoned`,
      );
    else if (input.paused) notices.push(pausedNotice(f, episode));
    else if (slots <= 0)
      refuse(
        "waiting-max-concurrent",
        `HEALING_MAX_CONCURRENT ${s.maxConcurrent}: ${active.map((a) => a.name).join(", ") || "another node"} under remediation`,
        `Node ${f.name} is NotReady; waiting for the node under remediation to finish (HEALING_MAX_CONCURRENT ${s.maxConcurrent})`,
        "waiting",
      );
    else {
      slots--;
      return { notices, step: cordonStep(f, episode, input, rec) };
    }
  }
  return { notices };
}

type Rec = (r: Omit<Parameters<typeof healingRecord>[0], "now" | "dryRun">) => ActionRecord;

function cordonStep(f: NodeFacts, episode: string, input: HealingInput, rec: Rec): HealingStep {
  const s = input.settings;
  // In dry-run nothing is written, so each tick plans from scratch: date the plan from when the cordon was due,
  // so the release it would lead to is planned at the same time as in "on" mode.
  const cordonedAt = s.mode === "dry-run" ? f.since! + s.notReadyAfterMs : input.now;
  const pods = movablePods(input.pods, f.name, s.drainUnmanaged).filter((p) => !isTerminating(p));
  const byUs = !isUnschedulable(f.node);
  const skipped = s.drainUnmanaged ? 0 : unmanagedPods(input.pods, f.name).length;
  return {
    kind: "cordon",
    node: f.name,
    setUnschedulable: byUs,
    state: { v: 1, phase: "cordoned", episode, cordonedByUs: byUs, cordonedAt: iso(cordonedAt), pods: pods.length },
    record: rec({
      target: nodeTarget(f.name),
      step: "cordon",
      episode,
      outcome: "planned",
      reason: `NotReady since ${episode} (HEALING_NODE_NOTREADY_AFTER ${s.notReadyAfterMs / 1000}s)`,
      summary:
        `Node ${f.name} ${byUs ? "cordoned" : "already cordoned by an operator; draining"}: ${plural(pods.length, "pod")} to evict` +
        (skipped ? `, ${plural(skipped, "pod")} without a controller left alone` : ""),
      announce: true,
      detail: { pods: pods.length, unmanagedSkipped: skipped },
    }),
  };
}

function releaseStep(f: NodeFacts, st: HealingState, movable: KubeObject[], input: HealingInput, rec: Rec): HealingStep {
  const reason = `still NotReady ${input.settings.forceAfterMs / 1000}s after the cordon (HEALING_FORCE_AFTER)`;
  if (input.outOfService) {
    return {
      kind: "release-taint",
      node: f.name,
      state: { ...st, phase: "released", releasedAt: iso(input.now), taint: true },
      record: rec({
        target: nodeTarget(f.name),
        step: "release",
        episode: st.episode,
        outcome: "planned",
        reason,
        summary: `Node ${f.name} marked out-of-service: its ${plural(movable.length, "pod")} are released to be recreated on other nodes`,
        announce: true,
        detail: { pods: movable.length, method: "out-of-service-taint" },
      }),
    };
  }
  const pod = movable[0];
  if (pod) {
    const ref = podRef(pod);
    return {
      kind: "force-delete",
      node: f.name,
      pod: ref,
      record: rec({
        target: podTarget(ref.namespace, ref.name),
        step: "force-delete",
        episode: st.episode,
        outcome: "planned",
        reason: `${reason}; the server has no out-of-service taint (< 1.28)`,
        summary: `Pod ${ref.namespace}/${ref.name} force-deleted from dead node ${f.name}`,
        detail: { node: f.name },
      }),
    };
  }
  return {
    kind: "mark-released",
    node: f.name,
    state: { ...st, phase: "released", releasedAt: iso(input.now) },
    record: rec({
      target: nodeTarget(f.name),
      step: "release",
      episode: st.episode,
      outcome: "planned",
      reason,
      summary: `Node ${f.name} released: its pods were force-deleted so their controllers recreate them elsewhere`,
      announce: true,
      detail: { method: "force-delete" },
    }),
  };
}

function drainSummary(f: NodeFacts, st: HealingState, running: KubeObject[], input: HealingInput, rec: Rec, timedOut: boolean): ActionRecord {
  const evicted = Math.max(0, st.pods - running.length);
  const waiting = running.map((p) => input.backoff.get(p.metadata.uid ?? "")?.pdb ?? "").filter(Boolean);
  const pdbs = [...new Set(waiting)];
  const tail = running.length ? `, ${running.length} waiting${pdbs.length ? ` on PDB ${pdbs.join(", ")}` : ""}` : "";
  return rec({
    target: nodeTarget(f.name),
    step: timedOut && running.length ? "drain-timeout" : "drained",
    episode: st.episode,
    outcome: running.length ? "waiting" : "done",
    reason:
      timedOut && running.length ? "HEALING_DRAIN_TIMEOUT passed with pods still protected by their disruption budget" : "no pod left to evict now",
    summary: `Node ${f.name} ${st.cordonedByUs ? "cordoned" : "(cordoned by an operator)"} and drained: ${plural(evicted, "pod")} evicted${tail}`,
    announce: true,
    detail: { evicted, waiting: running.length },
  });
}

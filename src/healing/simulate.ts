// Dry-run: what a step would change, applied to a copy of the input, so the next decision plans the
// step after it (cordon → each eviction → release) and dry-run announces the decisions "on" would take.
import type { KubeObject } from "../kube/types.ts";
import type { HealingInput, HealingStep } from "./decide.ts";

export function simulate(input: HealingInput, step: HealingStep): HealingInput {
  const states = new Map(input.states);
  let nodes = input.nodes;
  let pods = input.pods;
  const stamp = new Date(input.now).toISOString();
  const samePod = (p: KubeObject, uid: string) => p.metadata.uid === uid;
  switch (step.kind) {
    case "cordon":
      states.set(step.node, step.state);
      if (step.setUnschedulable) nodes = nodes.map((n) => (n.metadata.name === step.node ? { ...n, spec: { ...n.spec, unschedulable: true } } : n));
      break;
    case "evict":
      pods = pods.map((p) => (samePod(p, step.pod.uid) ? { ...p, metadata: { ...p.metadata, deletionTimestamp: stamp } } : p));
      break;
    case "force-delete":
      pods = pods.filter((p) => !samePod(p, step.pod.uid));
      break;
    default:
      states.set(step.node, step.state);
  }
  return { ...input, states, nodes, pods };
}

// What the controller writes on a node it remediates: the annotation `neurocontroller.io/healing`
// (JSON) records what we did and when, so we only ever undo our own actions (a node an operator
// cordoned stays cordoned) and a new leader resumes a remediation from it after a failover.
// The annotation is read from the API (anyone with node write access can edit it): it is validated.
import { parseJsonAt, type RejectSink, z } from "../boundary/reject.ts";

export const HEALING_ANNOTATION = "neurocontroller.io/healing";
/** Node label that excludes a node from healing. */
export const HEALING_LABEL = "neurocontroller.io/healing";
export const OUT_OF_SERVICE_TAINT = { key: "node.kubernetes.io/out-of-service", value: "nodeshutdown", effect: "NoExecute" } as const;
const MAX_ANNOTATION_BYTES = 2048;

const stamp = z
  .string()
  .max(40)
  .refine((s) => Number.isFinite(Date.parse(s)), "not an RFC 3339 time");

export const healingStateSchema = z.object({
  v: z.literal(1),
  /** cordoned: draining (and waiting to release); released: pods released; recovered: done, only the cooldown remains. */
  phase: z.enum(["cordoned", "released", "recovered"]),
  /** The NotReady transition that started this remediation: names its actions (deterministic ids). */
  episode: stamp,
  /** false when the node was already unschedulable (an operator's cordon): then we never uncordon it. */
  cordonedByUs: z.boolean(),
  cordonedAt: stamp,
  /** Pods to drain when we cordoned (for the summary: evicted = this − still running). */
  pods: z.number().int().min(0).max(100_000),
  releasedAt: stamp.optional(),
  /** true when we added the out-of-service taint (removed again on recovery). */
  taint: z.boolean().optional(),
  recoveredAt: stamp.optional(),
});

export type HealingState = z.output<typeof healingStateSchema>;

/** Our state on the node, or undefined (none, or unreadable — counted and logged by the sink). */
export function readHealingState(annotations: Record<string, string> | undefined, sink: RejectSink): HealingState | undefined {
  const raw = annotations?.[HEALING_ANNOTATION];
  if (raw === undefined) return undefined;
  const parsed = parseJsonAt(healingStateSchema, raw, { source: "kube.node.healing-annotation", sink, maxBytes: MAX_ANNOTATION_BYTES });
  return parsed.ok ? parsed.value : undefined;
}

export const writeHealingState = (s: HealingState): string => JSON.stringify(s);

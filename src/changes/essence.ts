// What change tracking keeps of each object: a small "essence" of the fields whose change matters to an
// operator (image, env names, resources, command, replicas; ConfigMap/Secret data as per-key hashes; node
// cordon, taints, labels; HPA bounds), never the whole object. Secret values are hashed on arrival and the
// hash is all that is kept, so no value can reach the store, a log or an alert. Pure.
import { createHash } from "node:crypto";
import type { KubeObject } from "../kube/types.ts";

export const TRACKED_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ConfigMap", "Secret", "Node", "HorizontalPodAutoscaler"] as const;
export type TrackedKind = (typeof TRACKED_KINDS)[number];
export const isTracked = (kind: string): kind is TrackedKind => (TRACKED_KINDS as readonly string[]).includes(kind);

export interface ContainerEssence {
  name: string;
  image: string;
  env: string[];
  resources: string;
  command: string;
}

export type Essence =
  | { type: "workload"; replicas?: number; revision?: string; containers: ContainerEssence[] }
  | { type: "data"; keys: Record<string, string> }
  | { type: "node"; unschedulable: boolean; taints: string[]; labels: Record<string, string> }
  | { type: "hpa"; min?: number; max?: number; target: string; metrics: string };

/** A short, non-reversible digest (12 hex of SHA-256): enough to tell two values apart, useless to recover one. */
export const digest = (value: string): string => createHash("sha256").update(value).digest("hex").slice(0, 12);

const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function containers(spec: Record<string, unknown> | undefined): ContainerEssence[] {
  const list = [...(((spec?.initContainers as unknown[]) ?? []) as unknown[]), ...(((spec?.containers as unknown[]) ?? []) as unknown[])];
  return list
    .filter((c): c is Record<string, unknown> => !!c && typeof c === "object")
    .map((c) => ({
      name: str(c.name),
      image: str(c.image),
      // Names only: env values may be secret, and valueFrom references are config, not content.
      env: (Array.isArray(c.env) ? c.env : []).map((e: { name?: unknown }) => str(e?.name)).sort(),
      resources: c.resources && Object.keys(c.resources).length ? JSON.stringify(c.resources) : "",
      command: [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].map(str).join(" "),
    }));
}

function dataKeys(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of ["data", "binaryData", "stringData"]) {
    const d = obj[field as "data"] as Record<string, unknown> | undefined;
    if (d && typeof d === "object") for (const [k, v] of Object.entries(d)) out[k] = digest(str(v));
  }
  return out;
}

/** The essence of an object of a tracked kind (undefined for any other kind). */
export function essenceOf(kind: string, obj: KubeObject): Essence | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON; every read below is guarded
  const spec = obj.spec as Record<string, any> | undefined;
  switch (kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
      return {
        type: "workload",
        replicas: num(spec?.replicas),
        revision: obj.metadata.annotations?.["deployment.kubernetes.io/revision"],
        containers: containers(spec?.template?.spec),
      };
    case "ConfigMap":
    case "Secret":
      return { type: "data", keys: dataKeys(obj) };
    case "Node":
      return {
        type: "node",
        unschedulable: spec?.unschedulable === true,
        taints: (Array.isArray(spec?.taints) ? spec.taints : [])
          .map((t: { key?: unknown; value?: unknown; effect?: unknown }) => `${str(t?.key)}${t?.value ? `=${str(t.value)}` : ""}:${str(t?.effect)}`)
          .sort(),
        labels: { ...(obj.metadata.labels ?? {}) },
      };
    case "HorizontalPodAutoscaler":
      return {
        type: "hpa",
        min: num(spec?.minReplicas),
        max: num(spec?.maxReplicas),
        target: `${str(spec?.scaleTargetRef?.kind)}/${str(spec?.scaleTargetRef?.name)}`,
        // autoscaling/v2 metrics, or v1's single CPU target
        metrics: spec?.metrics ? JSON.stringify(spec.metrics) : str(spec?.targetCPUUtilizationPercentage),
      };
    default:
      return undefined;
  }
}

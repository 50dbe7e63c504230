// What the API server sends, checked with zod where it enters the process: discovery documents
// (/version, /api, /api/<v>, /apis/<g>/<v>), list bodies and the metadata of every listed or watched
// object. Kind-specific fields are read defensively by each rule; what every part of the controller
// reads (the identity of an object) must be right here, or the object is counted and skipped.
import { describeIssues, type RejectSink, z } from "../boundary/reject.ts";
import { canonicalObject } from "./fast-check.ts";
import type { KubeObject, ResourceRef } from "./types.ts";

/** A server that answers, but not as Kubernetes does (an HTML page, `{"hello":"world"}`). */
export class NotKubernetesError extends Error {
  constructor(
    readonly server: string,
    readonly detail: string,
  ) {
    super(`${server} does not answer as a Kubernetes API server: ${detail}`);
    this.name = "NotKubernetesError";
  }
}

export const VersionInfo = z.looseObject({ major: z.string(), minor: z.string(), gitVersion: z.string().min(1) });

export const APIVersions = z.looseObject({
  kind: z.literal("APIVersions").optional(),
  versions: z.array(z.string()).refine((v) => v.includes("v1"), "does not list the core version v1"),
});

export const APIResource = z.looseObject({
  name: z.string().min(1),
  kind: z.string().min(1),
  namespaced: z.boolean(),
  verbs: z.array(z.string()).optional(),
});

export const APIResourceList = z.looseObject({
  kind: z.literal("APIResourceList").optional(),
  groupVersion: z.string().min(1),
  resources: z.array(APIResource),
});

/** A string field; a number or boolean in its place is harmless and becomes its text. */
const text = z.union([z.string(), z.number().transform(String), z.boolean().transform(String)]);
/** Label/annotation values: text; null (which some clients write) becomes "". */
const textMap = z.record(z.string(), z.union([text, z.null().transform(() => "")]));

export const OwnerReference = z.looseObject({
  apiVersion: text.optional(),
  kind: text,
  name: text,
  uid: text.optional(),
  controller: z.boolean().optional(),
});

/** The metadata every part of the controller reads. Unknown fields are kept as sent. */
/** Optional, and null (which Kubernetes itself writes, e.g. `"creationTimestamp": null`) is absent. */
const absentIfNull = <S extends z.ZodType>(schema: S) => schema.nullish().transform((v) => v ?? undefined);

export const ObjectMeta = z.looseObject({
  name: text.pipe(z.string().min(1, "name is empty")),
  namespace: absentIfNull(text),
  uid: absentIfNull(text),
  resourceVersion: absentIfNull(text),
  generation: absentIfNull(z.number()),
  creationTimestamp: absentIfNull(z.string()),
  deletionTimestamp: absentIfNull(z.string()),
  labels: textMap.nullish(),
  annotations: textMap.nullish(),
  ownerReferences: z.array(OwnerReference).nullish(),
});

export const KubeObjectSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: ObjectMeta,
});

/** A list body: items is an array (its elements are checked one by one, so one bad item skips only itself). */
export const ListBody = z.looseObject({
  items: z.array(z.unknown()).nullable(),
  metadata: z.looseObject({ resourceVersion: text.optional(), continue: z.string().optional() }).optional(),
});

export const WatchLine = z.object({
  type: z.enum(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]),
  object: z.looseObject({}),
});

/** A bookmark carries only metadata.resourceVersion. */
export const BookmarkObject = z.looseObject({ metadata: z.looseObject({ resourceVersion: text.optional() }) });

export const ErrorStatus = z.looseObject({ code: z.number().optional(), reason: text.optional(), message: text.optional() });

/**
 * One listed or watched object, checked: the object with its metadata coerced, or null (reported to
 * `sink` under `source`, e.g. "kube.pods") when it cannot be used. Never throws.
 */
export function checkObject(input: unknown, source: string, sink: RejectSink): KubeObject | null {
  const fast = canonicalObject(input); // already canonical: accepted as it is, not copied (fast-check.ts)
  if (fast) return fast;
  const r = KubeObjectSchema.safeParse(input);
  if (r.success) return r.data as KubeObject;
  sink.reject(source, describeIssues(r.error), input);
  return null;
}

/**
 * A list answer, checked: its usable items (kind/apiVersion filled in, as list items carry none on the
 * wire) and how many were refused — one unusable item (no metadata, null) skips only itself — or the
 * reason the body is not a list at all (reported to `sink` under "kube.<plural>").
 */
export function checkList(
  body: unknown,
  ref: ResourceRef,
  sink: RejectSink,
): { items: KubeObject[]; resourceVersion: string; refused: number; continue?: string } | { reason: string } {
  const source = `kube.${ref.plural}`;
  const list = ListBody.safeParse(body);
  if (!list.success) {
    const reason = `the answer is not a ${ref.kind} list: ${describeIssues(list.error, 3)}`;
    sink.reject(source, reason, body);
    return { reason };
  }
  const apiVersion = ref.group ? `${ref.group}/${ref.version}` : ref.version;
  const items: KubeObject[] = [];
  let refused = 0;
  for (const raw of list.data.items ?? []) {
    const o = checkObject(raw, source, sink);
    if (!o) {
      refused++;
      continue;
    }
    o.apiVersion ??= apiVersion;
    o.kind ??= ref.kind;
    items.push(o);
  }
  // The token of the next page when the server paginated (limit/continue); absent or "" on the last page.
  return { items, resourceVersion: list.data.metadata?.resourceVersion ?? "", refused, continue: list.data.metadata?.continue || undefined };
}

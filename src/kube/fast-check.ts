// The watch path's fast lane for the objects the API server sends every time: metadata already in its
// canonical form (strings where ObjectMeta wants text, no nulls) is accepted as it is, without the copy
// zod makes of every object it checks (~3× the cost of JSON.parse itself on a 1.8 kB pod). Anything
// else — a null to drop, a number to turn into text, a missing name — returns null here and takes the
// zod schema (schemas.ts), which coerces or refuses it with the reason. So the result is the same object
// zod would return, only not copied: the schema stays the one definition of what is accepted.
import type { KubeObject } from "./types.ts";

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const optStr = (v: unknown) => v === undefined || typeof v === "string";

function stringMap(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObj(v)) return false;
  for (const k in v) if (typeof v[k] !== "string") return false;
  return true;
}

function ownerRefs(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v)) return false;
  for (const o of v) {
    if (!isObj(o) || typeof o.kind !== "string" || typeof o.name !== "string") return false;
    if (!optStr(o.apiVersion) || !optStr(o.uid) || !(o.controller === undefined || typeof o.controller === "boolean")) return false;
  }
  return true;
}

/** `o` itself when KubeObjectSchema would accept it unchanged; null when it must go through the schema. */
export function canonicalObject(o: unknown): KubeObject | null {
  if (!isObj(o) || !optStr(o.apiVersion) || !optStr(o.kind)) return null;
  const m = o.metadata;
  if (!isObj(m) || typeof m.name !== "string" || m.name.length === 0) return null;
  if (!optStr(m.namespace) || !optStr(m.uid) || !optStr(m.resourceVersion)) return null;
  if (!optStr(m.creationTimestamp) || !optStr(m.deletionTimestamp)) return null;
  if (!(m.generation === undefined || typeof m.generation === "number")) return null;
  if (!stringMap(m.labels) || !stringMap(m.annotations) || !ownerRefs(m.ownerReferences)) return null;
  return o as unknown as KubeObject;
}

const EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED"]);

/** A parsed watch line that is an ADDED/MODIFIED/DELETED event with a canonical object, or null (schema path). */
export function canonicalEvent(v: unknown): { type: "ADDED" | "MODIFIED" | "DELETED"; object: KubeObject } | null {
  if (!isObj(v) || typeof v.type !== "string" || !EVENT_TYPES.has(v.type)) return null;
  for (const k in v) if (k !== "type" && k !== "object") return null; // z.object strips extra keys: let it
  const object = canonicalObject(v.object);
  return object ? { type: v.type as "ADDED" | "MODIFIED" | "DELETED", object } : null;
}

// PATCH bodies: RFC 6902 JSON patch, RFC 7386 merge patch, and strategic merge patch.
// Strategic merge here knows the patchMergeKey of the list fields a controller touches (containers and
// container statuses by name, conditions and addresses by type, ports, volumes, env, owner references,
// taints) and the $patch: delete / replace directives; every other list is replaced, as in merge patch.
// That is the useful core of k8s.io/apimachinery/pkg/util/strategicpatch without the per-type schema.
import { badRequest, SimError } from "./status.ts";

type Json = any;

const isObj = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

function invalidPatch(message: string): SimError {
  return new SimError(422, message, "Invalid");
}

// ---------- RFC 6902 ----------

function parsePointer(p: string): string[] {
  if (p === "") return [];
  if (!p.startsWith("/")) throw invalidPatch(`invalid JSON pointer: ${JSON.stringify(p)}`);
  return p
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: Json, path: string[], op: string): [Json, string] {
  let cur = doc;
  for (const part of path.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(part)] : isObj(cur) ? cur[part] : undefined;
    if (cur === undefined) throw invalidPatch(`${op} operation does not apply: doc is missing path: "/${path.join("/")}"`);
  }
  return [cur, path[path.length - 1]!];
}

function getAt(doc: Json, path: string[]): Json {
  let cur = doc;
  for (const part of path) {
    cur = Array.isArray(cur) ? cur[Number(part)] : isObj(cur) ? cur[part] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function arrayIndex(arr: Json[], key: string, forAdd: boolean): number {
  if (forAdd && key === "-") return arr.length;
  if (!/^\d+$/.test(key)) throw invalidPatch(`invalid array index: ${key}`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i >= arr.length)) throw invalidPatch(`array index out of bounds: ${i}`);
  return i;
}

function addAt(doc: Json, path: string[], value: Json): Json {
  if (path.length === 0) return value;
  const [parent, key] = parentOf(doc, path, "add");
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else if (isObj(parent)) parent[key] = value;
  else throw invalidPatch(`add operation does not apply: "/${path.join("/")}"`);
  return doc;
}

function removeAt(doc: Json, path: string[], op = "remove"): Json {
  const [parent, key] = parentOf(doc, path, op);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false);
    return parent.splice(i, 1)[0];
  }
  if (!isObj(parent) || !(key in parent)) {
    throw invalidPatch(`${op} operation does not apply: doc is missing path: "/${path.join("/")}"`);
  }
  const v = parent[key];
  delete parent[key];
  return v;
}

function deepEqual(a: Json, b: Json): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObj(v)) return v;
  const out: Record<string, Json> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
  return out;
}

export function applyJsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest("json patch must be an array of operations");
  let out = structuredClone(doc);
  for (const op of ops) {
    if (!isObj(op) || typeof op.path !== "string") throw badRequest("invalid json patch operation");
    const path = parsePointer(op.path);
    switch (op.op) {
      case "add":
        out = addAt(out, path, structuredClone(op.value));
        break;
      case "remove":
        removeAt(out, path);
        break;
      case "replace":
        if (path.length === 0) out = structuredClone(op.value);
        else {
          removeAt(out, path, "replace");
          out = addAt(out, path, structuredClone(op.value));
        }
        break;
      case "move": {
        const v = removeAt(out, parsePointer(op.from), "move");
        out = addAt(out, path, v);
        break;
      }
      case "copy": {
        const v = getAt(out, parsePointer(op.from));
        if (v === undefined) throw invalidPatch(`copy operation does not apply: doc is missing from path: "${op.from}"`);
        out = addAt(out, path, structuredClone(v));
        break;
      }
      case "test":
        if (!deepEqual(getAt(out, path), op.value)) {
          throw invalidPatch(`testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return out;
}

// ---------- RFC 7386 ----------

export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

// ---------- strategic merge ----------

const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  containerStatuses: "name",
  initContainerStatuses: "name",
  ephemeralContainerStatuses: "name",
  volumes: "name",
  env: "name",
  imagePullSecrets: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  conditions: "type",
  addresses: "type",
  ownerReferences: "uid",
  taints: "key",
};
/** Primitive lists with patchStrategy "merge": union instead of replace. */
const SET_LISTS = new Set(["finalizers"]);

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (field === "ports") return items.some((i) => isObj(i) && "containerPort" in i) ? "containerPort" : "port";
  return MERGE_KEYS[field];
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}

function mergeList(field: string, cur: Json, patch: Json[]): Json[] {
  const base: Json[] = Array.isArray(cur) ? [...cur] : [];
  if (SET_LISTS.has(field)) {
    const out = [...base];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = mergeKeyFor(field, [...base, ...patch]);
  if (!key || !patch.every(isObj)) return stripDirectives(patch);
  if (patch.some((p) => p.$patch === "replace")) return stripDirectives(patch.filter((p) => p.$patch !== "replace"));
  for (const item of patch) {
    const idx = base.findIndex((b) => isObj(b) && b[key] === item[key]);
    if (item.$patch === "delete") {
      if (idx >= 0) base.splice(idx, 1);
    } else if (idx >= 0) base[idx] = strategicMerge(base[idx], item);
    else base.push(stripDirectives(item));
  }
  return base;
}

export function applyStrategicMergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) throw badRequest("strategic merge patch must be a JSON object");
  return strategicMerge(target, patch);
}

function strategicMerge(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  if (patch.$patch === "replace") return stripDirectives(patch);
  if (patch.$patch === "delete") return undefined;
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = out[field].filter((x: Json) => !v.includes(x));
      continue;
    }
    if (k.startsWith("$")) continue; // $setElementOrder, $retainKeys: ordering hints we do not need
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(k, out[k], v);
    else if (isObj(v)) {
      const merged = strategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
} as const;

/** Apply a PATCH body by Content-Type; 415 for anything else (server-side apply included). */
export function applyPatch(contentType: string, target: Json, body: Json): Json {
  const ct = contentType.split(";")[0]!.trim().toLowerCase();
  if (ct === PATCH_TYPES.json) return applyJsonPatch(target, body);
  if (ct === PATCH_TYPES.merge) return applyMergePatch(target, body);
  if (ct === PATCH_TYPES.strategic) return applyStrategicMergePatch(target, body);
  throw new SimError(
    415,
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
    "UnsupportedMediaType",
  );
}

// Checks a log line against the vendored ECS references (test/fixtures/spec/ecs/): the ecs-logging spec's
// required fields and types, and the ECS field reference's type for every ECS field the line carries.
// A field under a name ECS reserves (error, url, service, ...) that is not in the reference we vendored is
// a violation: it would be mapped by Elasticsearch with ECS's type, not ours.
import fields from "../fixtures/spec/ecs/ecs-fields.json" with { type: "json" };
import spec from "../fixtures/spec/ecs/ecs-logging-spec.json" with { type: "json" };

type Ref = { type: string };
const REF: Record<string, Ref> = fields.fields;
const TOP: ReadonlySet<string> = new Set(fields.topLevelNames);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Leaf paths of a parsed line: dotted keys and nested objects both become "a.b.c". */
function flatten(obj: Record<string, unknown>, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix + k;
    // labels is an object field in its own right (its values are the leaves).
    if (v !== null && typeof v === "object" && !Array.isArray(v) && path !== "labels") flatten(v as Record<string, unknown>, `${path}.`, out);
    else out.set(path, v);
  }
  return out;
}

function typeError(path: string, type: string, v: unknown): string | undefined {
  const ok =
    type === "keyword" || type === "match_only_text" || type === "wildcard" || type === "string"
      ? typeof v === "string"
      : type === "date" || type === "datetime"
        ? typeof v === "string" && ISO.test(v) && !Number.isNaN(Date.parse(v))
        : type === "long" || type === "integer"
          ? Number.isInteger(v)
          : type === "object"
            ? v !== null && typeof v === "object" && Object.values(v).every((x) => typeof x === "string")
            : false;
  return ok ? undefined : `${path}: expected ${type}, got ${JSON.stringify(v)}`;
}

/** Every way `raw` (one log line, with or without its newline) breaks the ECS references; [] when valid. */
export function ecsViolations(raw: string): string[] {
  const text = raw.endsWith("\n") ? raw.slice(0, -1) : raw;
  if (text.includes("\n")) return ["more than one line"];
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return [`not JSON: ${(e as Error).message}`];
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return ["not a JSON object"];
  const top = obj as Record<string, unknown>;
  const flat = flatten(top);
  const out: string[] = [];
  for (const [name, rule] of Object.entries(spec.fields) as [string, { type: string; required: boolean; top_level_field?: boolean }][]) {
    if (rule.required && !flat.has(name)) out.push(`${name}: required by the ecs-logging spec, missing`);
    if (rule.top_level_field && flat.has(name) && !(name in top)) out.push(`${name}: must be a top-level dotted key, not nested`);
    if (flat.has(name)) {
      const err = typeError(name, rule.type, flat.get(name));
      if (err) out.push(err);
    }
  }
  for (const [path, v] of flat) {
    const first = path.split(".")[0]!;
    if (!TOP.has(first)) continue; // a custom field: ECS allows them outside its own names
    const ref = REF[path];
    if (!ref) out.push(`${path}: not a field of the ECS reference (a custom value under an ECS name)`);
    else {
      const err = typeError(path, ref.type, v);
      if (err) out.push(err);
    }
  }
  return out;
}

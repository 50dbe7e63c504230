// Turns a log call's free-form fields into fields that keep the line valid ECS (Elastic Common Schema).
// Caller fields stay top-level (component, path, retryInMs, ...) unless their name is an ECS field set or
// base field: Elasticsearch maps those names as objects of a given shape, so a plain value there
// (`error: "boom"`, `url: "https://..."`) would be rejected or mis-mapped at ingest. Those get their ECS
// form where one exists (error -> error.message/type/code, url -> url.full, traceId/spanId -> trace.id/
// span.id) and otherwise move under the `neuro` namespace.
type Fields = Record<string, unknown>;

/** Top-level names ECS defines (field sets and base fields), ECS 8.x field reference. */
export const ECS_TOP_LEVEL: ReadonlySet<string> = new Set(
  (
    "@timestamp agent as client cloud code_signature container data_stream destination device dll dns ecs elf email " +
    "entity error event faas file geo group hash host http interface labels log macho message network observer " +
    "orchestrator organization os package pe process registry related risk rule server service source span tags " +
    "threat tls trace transaction url user user_agent vlan volume vulnerability x509"
  ).split(" "),
);

/** Where colliding caller fields go (a custom namespace ECS will never define). */
export const CUSTOM_NAMESPACE = "neuro";

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

// Errors do not survive JSON.stringify (all their fields are non-enumerable).
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const e = value as NodeJS.ErrnoException;
    return { name: e.name, message: e.message, ...(e.code ? { code: e.code } : {}) };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** ECS `error.*` from an Error or any other value (a string is the message). No stack: it adds bulk, not meaning. */
function ecsError(value: unknown): Fields {
  if (value instanceof Error) {
    const e = value as NodeJS.ErrnoException;
    return { type: e.name, message: e.message, ...(e.code ? { code: String(e.code) } : {}) };
  }
  return { message: typeof value === "string" ? value : String(value) };
}

/** "log.level" -> "log": a dotted caller key lands in the ECS field set its first segment names. */
function ecsSet(key: string): boolean {
  const dot = key.indexOf(".");
  return ECS_TOP_LEVEL.has(dot < 0 ? key : key.slice(0, dot));
}

function needsRewrite(key: string, value: unknown): boolean {
  return ecsSet(key) || key === "err" || key === "traceId" || key === "spanId" || value instanceof Error || typeof value === "bigint";
}

/**
 * The caller's fields as ECS-safe fields. Returns the same object when nothing needs rewriting (the
 * common case: no copy on the hot path).
 */
export function ecsFields(fields: Fields): Fields {
  let dirty = false;
  for (const key in fields) {
    if (needsRewrite(key, fields[key])) {
      dirty = true;
      break;
    }
  }
  if (!dirty) return fields;
  const out: Fields = {};
  const custom: Fields = {};
  let hasCustom = false;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    if (key === "err" || key === "error") out.error = ecsError(value);
    else if (key === "url" && typeof value === "string") out["url.full"] = value;
    else if (key === "traceId" && typeof value === "string" && TRACE_ID.test(value)) out["trace.id"] = value;
    else if (key === "spanId" && typeof value === "string" && SPAN_ID.test(value)) out["span.id"] = value;
    else if (ecsSet(key) || key === "traceId" || key === "spanId") {
      custom[key] = plain(value);
      hasCustom = true;
    } else out[key] = plain(value);
  }
  if (hasCustom) out[CUSTOM_NAMESPACE] = custom;
  return out;
}

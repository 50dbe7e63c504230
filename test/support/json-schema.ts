// A small JSON-Schema (draft 4-7 subset) validator: exactly the keywords the Elastic APM intake v2
// schemas use (type incl. unions, properties, required, patternProperties, additionalProperties,
// items, minItems, maxLength, minLength, minimum, maximum, pattern, enum, anyOf, allOf, oneOf, not).
// Unknown keywords fail loudly so a schema using more than this is never half-checked.
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  "$id",
  "$schema",
  "title",
  "description",
  "type",
  "properties",
  "required",
  "patternProperties",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "maxLength",
  "minLength",
  "minimum",
  "maximum",
  "pattern",
  "enum",
  "anyOf",
  "allOf",
  "oneOf",
  "not",
  "format",
]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

export function validate(schema: Schema, value: unknown, path = "$"): string[] {
  const errs: string[] = [];
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`json-schema: unsupported keyword ${k} at ${path}`);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) return [`${path}: expected ${types.join("|")}, got ${t}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value))) errs.push(`${path}: not in enum`);
  if (typeof value === "string") {
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) errs.push(`${path}: longer than ${schema.maxLength}`);
    if (typeof schema.minLength === "number" && value.length < schema.minLength) errs.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern).test(value)) errs.push(`${path}: does not match ${schema.pattern}`);
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errs.push(`${path}: below ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) errs.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) errs.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items)
      value.forEach((v, i) => {
        errs.push(...validate(schema.items as Schema, v, `${path}[${i}]`));
      });
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of (schema.required as string[]) ?? []) if (!(r in obj)) errs.push(`${path}: missing required ${r}`);
    const props = (schema.properties as Record<string, Schema>) ?? {};
    const patterns = Object.entries((schema.patternProperties as Record<string, Schema>) ?? {});
    for (const [k, v] of Object.entries(obj)) {
      let matched = false;
      if (props[k]) (matched = true), errs.push(...validate(props[k]!, v, `${path}.${k}`));
      for (const [re, s] of patterns) if (new RegExp(re).test(k)) (matched = true), errs.push(...validate(s, v, `${path}.${k}`));
      if (!matched && schema.additionalProperties === false) errs.push(`${path}: unexpected property ${k}`);
      else if (!matched && typeof schema.additionalProperties === "object")
        errs.push(...validate(schema.additionalProperties as Schema, v, `${path}.${k}`));
    }
  }
  if (schema.allOf) for (const s of schema.allOf as Schema[]) errs.push(...validate(s, value, path));
  if (schema.anyOf && !(schema.anyOf as Schema[]).some((s) => validate(s, value, path).length === 0)) errs.push(`${path}: matches none of anyOf`);
  if (schema.oneOf && (schema.oneOf as Schema[]).filter((s) => validate(s, value, path).length === 0).length !== 1)
    errs.push(`${path}: does not match exactly one of oneOf`);
  if (schema.not && validate(schema.not as Schema, value, path).length === 0) errs.push(`${path}: matches 'not'`);
  return errs;
}

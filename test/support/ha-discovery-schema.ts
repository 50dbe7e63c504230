// Checks a Home Assistant MQTT discovery message against the vendored description of HA's documented
// format (test/fixtures/spec/home-assistant/mqtt-discovery.json): topic, abbreviations expanded, only
// documented keys, required keys, device block, availability, origin, device classes and units.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const SPEC = JSON.parse(readFileSync(join(import.meta.dir, "../fixtures/spec/home-assistant/mqtt-discovery.json"), "utf8"));

function expand(obj: Record<string, unknown>, table: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [table[k] ?? k, v]));
}

/** Problems found (empty: valid). */
export function haDiscoveryProblems(prefix: string, topic: string, payloadText: string): string[] {
  const problems: string[] = [];
  const levels = topic.slice(prefix.length + 1).split("/");
  if (!topic.startsWith(`${prefix}/`) || levels.at(-1) !== "config" || (levels.length !== 3 && levels.length !== 4))
    return [`topic ${topic} does not match ${SPEC.topic.format}`];
  const component = levels[0]!;
  const spec = SPEC.components[component];
  if (!spec) return [`component ${component} is not one this schema describes`];
  const idPattern = new RegExp(SPEC.topic.idPattern);
  for (const id of levels.slice(1, -1)) if (!idPattern.test(id)) problems.push(`topic level ${id} is not ${SPEC.topic.idPattern}`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(payloadText);
  } catch {
    return [`payload is not JSON`];
  }
  const c = expand(raw, SPEC.abbreviations);
  for (const k of Object.keys(c)) {
    if (SPEC.removed[k]) problems.push(`${k}: ${SPEC.removed[k]}`);
    else if (!spec.keys.includes(k)) problems.push(`${k} is not a documented ${component} option`);
  }
  for (const k of spec.required) if (c[k] === undefined) problems.push(`required ${k} missing`);
  if (c.device !== undefined) {
    if (typeof c.unique_id !== "string" || !c.unique_id) problems.push("a device block needs unique_id");
    const d = expand(c.device as Record<string, unknown>, SPEC.deviceAbbreviations);
    for (const k of Object.keys(d)) if (!SPEC.device.keys.includes(k)) problems.push(`device.${k} is not documented`);
    if (!SPEC.device.oneOfRequired.some((k: string) => d[k] !== undefined)) problems.push("device needs identifiers or connections");
    if (d.identifiers !== undefined && !(typeof d.identifiers === "string" || (Array.isArray(d.identifiers) && d.identifiers.length > 0)))
      problems.push("device.identifiers must be a string or a non-empty list");
  }
  if (c.availability !== undefined) {
    if (c.availability_topic !== undefined) problems.push("availability and availability_topic must not be used together");
    if (!Array.isArray(c.availability) || c.availability.length === 0) problems.push("availability must be a non-empty list");
    else
      for (const a of c.availability as Record<string, unknown>[]) {
        const e = expand(a, SPEC.availabilityAbbreviations);
        for (const k of Object.keys(e)) if (!SPEC.availability.keys.includes(k)) problems.push(`availability.${k} is not documented`);
        for (const k of SPEC.availability.required) if (e[k] === undefined) problems.push(`availability.${k} missing`);
      }
  }
  if (c.availability_mode !== undefined && !SPEC.availabilityModes.includes(c.availability_mode))
    problems.push(`availability_mode ${c.availability_mode}`);
  if (c.entity_category !== undefined && !SPEC.entityCategories.includes(c.entity_category)) problems.push(`entity_category ${c.entity_category}`);
  if (c.origin !== undefined) {
    const o = expand(c.origin as Record<string, unknown>, SPEC.originAbbreviations);
    for (const k of Object.keys(o)) if (!SPEC.origin.keys.includes(k)) problems.push(`origin.${k} is not documented`);
    for (const k of SPEC.origin.required) if (o[k] === undefined) problems.push(`origin.${k} missing`);
  }
  if (c.default_entity_id !== undefined && !String(c.default_entity_id).startsWith(`${component}.`))
    problems.push("default_entity_id must be <component>.<id>");
  if (c.device_class !== undefined) {
    if (component === "binary_sensor" && !spec.deviceClasses.includes(c.device_class)) problems.push(`binary_sensor device_class ${c.device_class}`);
    const units = component === "sensor" ? spec.deviceClassUnits[c.device_class as string] : undefined;
    if (component === "sensor" && !units) problems.push(`sensor device_class ${c.device_class} not in this schema`);
    if (units && !units.includes(c.unit_of_measurement)) problems.push(`unit ${c.unit_of_measurement} is not valid for ${c.device_class}`);
  }
  if (c.state_class !== undefined && component === "sensor" && !spec.stateClasses.includes(c.state_class))
    problems.push(`state_class ${c.state_class}`);
  if (c.qos !== undefined && ![0, 1, 2].includes(c.qos as number)) problems.push(`qos ${c.qos}`);
  return problems;
}

// The short diff of a change between two essences: "image web:1.4 → web:1.5", "replicas 3 → 5",
// "cordoned", "data key app.yaml changed". Undefined when nothing that matters changed (a status update, a
// revision annotation set by the controller after the template change already recorded). Pure.
import type { ContainerEssence, Essence } from "./essence.ts";

export type ChangeVerb = "created" | "updated" | "scaled" | "deleted" | "cordoned" | "uncordoned";

export interface EssenceDiff {
  verb: ChangeVerb;
  /** At most MAX_LINES lines, each at most MAX_TEXT characters per value. */
  lines: string[];
}

const MAX_LINES = 8;
const MAX_TEXT = 80;
const short = (s: string | number | undefined): string => {
  const t = s === undefined || s === "" ? "none" : String(s);
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT - 1)}…` : t;
};
const arrow = (what: string, a: string | number | undefined, b: string | number | undefined) => `${what} ${short(a)} → ${short(b)}`;

function flatten(json: string): Record<string, string> {
  if (!json) return {};
  const out: Record<string, string> = {};
  const walk = (v: unknown, path: string) => {
    if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    else out[path] = String(v);
  };
  walk(JSON.parse(json), "");
  return out;
}

function keyedDiff(label: string, a: Record<string, string>, b: Record<string, string>, showValues: boolean): string[] {
  const out: string[] = [];
  for (const k of Object.keys({ ...a, ...b }).sort()) {
    if (a[k] === b[k]) continue;
    if (a[k] === undefined) out.push(showValues ? `${label} +${k}=${short(b[k])}` : `${label} +${k}`);
    else if (b[k] === undefined) out.push(`${label} -${k}`);
    else out.push(showValues ? arrow(`${label} ${k}`, a[k], b[k]) : `${label} ${k} changed`);
  }
  return out;
}

function containerDiff(a: ContainerEssence, b: ContainerEssence, prefix: string): string[] {
  const out: string[] = [];
  if (a.image !== b.image) out.push(arrow(`${prefix}image`, a.image, b.image));
  const added = b.env.filter((e) => !a.env.includes(e));
  const removed = a.env.filter((e) => !b.env.includes(e));
  if (added.length || removed.length) out.push(`${prefix}env ${[...added.map((e) => `+${e}`), ...removed.map((e) => `-${e}`)].join(" ")}`);
  if (a.resources !== b.resources) {
    const fa = flatten(a.resources);
    const fb = flatten(b.resources);
    for (const k of Object.keys({ ...fa, ...fb }).sort()) if (fa[k] !== fb[k]) out.push(arrow(`${prefix}${k}`, fa[k], fb[k]));
  }
  if (a.command !== b.command) out.push(arrow(`${prefix}command`, a.command, b.command));
  return out;
}

function workloadDiff(a: Extract<Essence, { type: "workload" }>, b: Extract<Essence, { type: "workload" }>): EssenceDiff | undefined {
  const lines: string[] = [];
  const several = Math.max(a.containers.length, b.containers.length) > 1;
  for (const c of b.containers) {
    const before = a.containers.find((x) => x.name === c.name);
    if (!before) lines.push(`container +${c.name} (${short(c.image)})`);
    else lines.push(...containerDiff(before, c, several ? `${c.name}: ` : ""));
  }
  for (const c of a.containers) if (!b.containers.some((x) => x.name === c.name)) lines.push(`container -${c.name}`);
  const templateChanged = lines.length > 0;
  if (templateChanged && a.revision !== b.revision && a.revision && b.revision) lines.push(arrow("revision", a.revision, b.revision));
  if (a.replicas !== b.replicas) lines.push(arrow("replicas", a.replicas, b.replicas));
  if (!lines.length) return undefined;
  return { verb: templateChanged ? "updated" : "scaled", lines };
}

/** The change from `a` to `b` (same kind), or undefined when nothing tracked changed. `secret`: hide per-key digests. */
export function diffEssence(a: Essence, b: Essence, secret = false): EssenceDiff | undefined {
  let lines: string[] = [];
  let verb: ChangeVerb = "updated";
  if (a.type === "workload" && b.type === "workload") return cap(workloadDiff(a, b));
  if (a.type === "data" && b.type === "data") {
    lines = keyedDiff("data", a.keys, b.keys, false);
    if (secret && lines.length) lines.push(arrow("hash", combined(a.keys), combined(b.keys)));
  } else if (a.type === "node" && b.type === "node") {
    if (a.unschedulable !== b.unschedulable) verb = b.unschedulable ? "cordoned" : "uncordoned";
    for (const t of b.taints) if (!a.taints.includes(t)) lines.push(`taint +${t}`);
    for (const t of a.taints) if (!b.taints.includes(t)) lines.push(`taint -${t}`);
    lines.push(...keyedDiff("label", a.labels, b.labels, true));
    if (verb !== "updated" && !lines.length) return { verb, lines: [verb] };
  } else if (a.type === "hpa" && b.type === "hpa") {
    if (a.min !== b.min) lines.push(arrow("minReplicas", a.min, b.min));
    if (a.max !== b.max) lines.push(arrow("maxReplicas", a.max, b.max));
    if (a.target !== b.target) lines.push(arrow("target", a.target, b.target));
    if (a.metrics !== b.metrics) lines.push("metrics changed");
  }
  if (verb !== "updated") lines.unshift(verb);
  return lines.length ? cap({ verb, lines }) : undefined;
}

/** One digest over all keys' digests: what a Secret's content was, without its values. */
export function combined(keys: Record<string, string>): string {
  const entries = Object.entries(keys).sort(([x], [y]) => (x < y ? -1 : 1));
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(entries)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function cap(d: EssenceDiff | undefined): EssenceDiff | undefined {
  if (!d || d.lines.length <= MAX_LINES) return d;
  return { verb: d.verb, lines: [...d.lines.slice(0, MAX_LINES - 1), `…and ${d.lines.length - MAX_LINES + 1} more`] };
}

/** What a first sight after the initial sync says (a created object). */
export function createdLines(e: Essence, secret = false): string[] {
  if (e.type === "workload") return e.containers.map((c) => `image ${short(c.image)}`).slice(0, MAX_LINES);
  if (e.type === "data") return [`keys ${short(Object.keys(e.keys).sort().join(","))}`, ...(secret ? [`hash ${combined(e.keys)}`] : [])];
  return [];
}

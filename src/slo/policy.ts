// SLO policies: what a workload promises (p-quantile latency, error ratio), over which windows the
// promise is judged (multi-window, multi-burn-rate pairs from the Google SRE workbook), and what the
// controller may do about it (scale within [min, max] by step, rollback). Declared in YAML in one
// ConfigMap or with `neurocontroller.io/slo-*` annotations on a Deployment; both end in the same zod
// schema, whose errors name the field (or the annotation) at fault. Pure: text in, policies or errors out.
import { parse as parseYaml } from "yaml";
import { describeIssues, z } from "../boundary/reject.ts";
import { parseDuration } from "../config/units.ts";
import type { KubeObject } from "../kube/types.ts";

export const ANNOTATION_PREFIX = "neurocontroller.io/slo-";
/** A YAML value larger than this is refused before parsing (a ConfigMap holds 1 MiB in all). */
export const POLICY_TEXT_MAX = 64 * 1024;
const DAY = 86_400_000;

const duration = (max = 30 * DAY) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = typeof v === "number" ? v * 1000 : parseDuration(v);
    if (ms === undefined || ms <= 0 || ms > max) {
      ctx.addIssue({ code: "custom", message: `expected a duration like "5m" or "1h" (at most ${max / DAY}d), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

/** "1%", "0.5 %" or a fraction 0.01. */
const ratio = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const m = typeof v === "string" ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v) : null;
  const r = typeof v === "number" ? v : m ? Number(m[1]) / 100 : Number.NaN;
  if (!(r > 0 && r < 1)) {
    ctx.addIssue({ code: "custom", message: `expected a ratio like "1%" or 0.01 (above 0, below 100%), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return r;
});

const name = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "expected a Kubernetes name (lower case, digits, '-', '.')");

const BurnWindowSchema = z.strictObject({ long: duration(), short: duration(), factor: z.number().positive().max(1000) });

export const PolicySchema = z
  .strictObject({
    name,
    namespace: name,
    deployment: name,
    /** OTel service.name of the workload's spans; defaults to the Deployment's name. */
    service: z.string().min(1).max(256).optional(),
    objectives: z
      .strictObject({
        latency: z.strictObject({ quantile: z.number().gt(0).lt(1).default(0.99), thresholdMs: z.number().positive().max(3_600_000) }).optional(),
        errorRatio: ratio.optional(),
      })
      .refine((o) => o.latency || o.errorRatio !== undefined, "at least one objective (latency or errorRatio)"),
    /** Multi-window pairs: an objective burns when both windows of any pair exceed its factor. Default: the workbook's page pair. */
    burnRates: z
      .array(BurnWindowSchema)
      .min(1)
      .max(4)
      .default([{ long: 3_600_000, short: 300_000, factor: 14.4 }]),
    /** Windows with fewer requests than this are not judged (too little traffic to tell). */
    minRequests: z.number().int().min(1).max(1_000_000).default(10),
    actions: z
      .array(z.enum(["scale", "rollback"]))
      .max(2)
      .default([]),
    scale: z
      .strictObject({
        min: z.number().int().min(0).max(1000),
        max: z.number().int().min(1).max(1000),
        step: z.number().int().min(1).max(100).default(1),
        /** Scale down only when objectives held comfortably this long, and this long after the last step. */
        stabilization: duration().default(600_000),
        /** "Comfortably": latency and error burn below this fraction of the objective. */
        comfort: z.number().gt(0).lt(1).default(0.5),
      })
      .refine((s) => s.min <= s.max, { message: "min must not exceed max", path: ["min"] })
      .optional(),
  })
  .refine((p) => !p.actions.includes("scale") || p.scale, { message: "actions include scale: scale.min and scale.max are required", path: ["scale"] })
  .refine((p) => p.burnRates.every((w) => w.short < w.long), {
    message: "each pair's short window must be shorter than its long one",
    path: ["burnRates"],
  });

export type Policy = z.output<typeof PolicySchema>;

const DocumentSchema = z.strictObject({ policies: z.array(z.unknown()).max(200) });

export interface PolicyError {
  /** Where: "ConfigMap ns/name key web.yaml: policies.0.scale.max" or "Deployment ns/web annotation neurocontroller.io/slo-scale". */
  where: string;
  message: string;
}

export interface PolicySet {
  policies: Policy[];
  errors: PolicyError[];
}

/** Every policy of a ConfigMap's data (each value a YAML document with `policies:`); a bad one is reported and skipped. */
export function policiesFromConfigMap(where: string, data: Record<string, string>): PolicySet {
  const out: PolicySet = { policies: [], errors: [] };
  for (const [key, text] of Object.entries(data)) {
    const at = `${where} key ${key}`;
    if (text.length > POLICY_TEXT_MAX) {
      out.errors.push({ where: at, message: `${text.length} characters exceed the limit of ${POLICY_TEXT_MAX}` });
      continue;
    }
    let doc: unknown;
    try {
      doc = parseYaml(text, { maxAliasCount: 50 });
    } catch (e) {
      out.errors.push({ where: at, message: `not valid YAML: ${(e as Error).message.split("\n")[0]}` });
      continue;
    }
    const d = DocumentSchema.safeParse(doc);
    if (!d.success) {
      out.errors.push({ where: at, message: describeIssues(d.error) });
      continue;
    }
    d.data.policies.forEach((raw, i) => {
      const p = PolicySchema.safeParse(raw);
      if (p.success) out.policies.push(p.data);
      else out.errors.push({ where: `${at}: policies.${i}`, message: describeIssues(p.error) });
    });
  }
  return out;
}

/** The policy declared by a Deployment's `neurocontroller.io/slo-*` annotations, if any. */
export function policyFromAnnotations(dep: KubeObject): Policy | PolicyError | undefined {
  const a = dep.metadata.annotations ?? {};
  const get = (k: string) => a[`${ANNOTATION_PREFIX}${k}`];
  if (!Object.keys(a).some((k) => k.startsWith(ANNOTATION_PREFIX))) return undefined;
  const where = `Deployment ${dep.metadata.namespace}/${dep.metadata.name}`;
  const raw: Record<string, unknown> = { name: dep.metadata.name, namespace: dep.metadata.namespace, deployment: dep.metadata.name };
  const fields: Record<string, string> = {};
  const num = (v: string) => (/^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v);
  if (get("service")) raw.service = get("service");
  const latency = get("latency");
  if (latency) {
    // "p99<=300ms" or "300ms" (p99).
    const m = /^\s*(?:p(\d{1,2}(?:\.\d+)?)\s*<=?\s*)?(.+)$/.exec(latency)!;
    const ms = parseDuration(m[2]!);
    raw.objectives = { latency: { quantile: m[1] ? Number(m[1]) / 100 : 0.99, thresholdMs: ms ?? m[2] } };
    fields["objectives.latency"] = "latency";
  }
  if (get("error-ratio")) {
    raw.objectives = { ...(raw.objectives as object), errorRatio: num(get("error-ratio")!) };
    fields["objectives.errorRatio"] = "error-ratio";
  }
  if (get("burn-rates")) {
    // "1h/5m:14.4, 6h/30m:6"
    raw.burnRates = get("burn-rates")!
      .split(",")
      .map((pair) => {
        const m = /^\s*([^/\s]+)\s*\/\s*([^:\s]+)\s*:\s*(\S+)\s*$/.exec(pair);
        return m ? { long: m[1], short: m[2], factor: num(m[3]!) } : pair.trim();
      });
    fields.burnRates = "burn-rates";
  }
  if (get("min-requests")) raw.minRequests = num(get("min-requests")!);
  fields.minRequests = "min-requests";
  if (get("actions"))
    raw.actions = get("actions")!
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  fields.actions = "actions";
  if (get("scale")) {
    // "min=2,max=6,step=1,stabilization=10m"
    const s: Record<string, unknown> = {};
    for (const part of get("scale")!.split(",")) {
      const [k, v] = part.split("=").map((x) => x.trim());
      if (k) s[k] = v === undefined ? v : k === "stabilization" ? v : num(v);
    }
    raw.scale = s;
    fields.scale = "scale";
  }
  if (!raw.objectives) raw.objectives = {};
  fields.objectives = "latency or error-ratio";
  const p = PolicySchema.safeParse(raw);
  if (p.success) return p.data;
  const issue = p.error.issues[0]!;
  const path = issue.path.map(String);
  const field = fields[path.slice(0, 2).join(".")] ?? fields[path[0] ?? ""] ?? path.join(".");
  return { where: `${where} annotation ${ANNOTATION_PREFIX}${field}`, message: describeIssues(p.error) };
}

export const isPolicyError = (v: Policy | PolicyError): v is PolicyError => "message" in v && "where" in v;

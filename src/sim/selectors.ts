// labelSelector / fieldSelector query grammar as apimachinery parses it, plus metav1.LabelSelector objects.
import type { KubeObject } from "../kube/types.ts";
import type { SimResource } from "./resources.ts";
import { badRequest } from "./status.ts";

export type Labels = Record<string, string> | undefined;
export type LabelMatcher = (labels: Labels) => boolean;
export type ObjectMatcher = (obj: KubeObject) => boolean;

const always = () => true;

/** Split on commas that are not inside "(...)", so `a in (x,y),b` gives two terms. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

const KEY = "[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?";
const VALUE = "([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?";
const SET_RE = new RegExp(`^(?<key>${KEY})\\s+(?<op>in|notin)\\s*\\((?<values>[^)]*)\\)$`);
const EQ_RE = new RegExp(`^(?<key>${KEY})\\s*(?<op>==|=|!=)\\s*(?<value>${VALUE})$`);
const CMP_RE = new RegExp(`^(?<key>${KEY})\\s*(?<op><|>)\\s*(?<value>-?\\d+)$`);
const EXISTS_RE = new RegExp(`^(?<not>!?)\\s*(?<key>${KEY})$`);

function labelTerm(term: string, whole: string): LabelMatcher {
  let g = SET_RE.exec(term)?.groups;
  if (g) {
    const key = g.key!;
    const values = new Set(g.values!.split(",").map((v) => v.trim()));
    return g.op === "in" ? (l) => l?.[key] !== undefined && values.has(l[key]!) : (l) => l?.[key] === undefined || !values.has(l[key]!);
  }
  g = EQ_RE.exec(term)?.groups;
  if (g) {
    const key = g.key!;
    const v = g.value ?? "";
    return g.op === "!=" ? (l) => l?.[key] !== v : (l) => l?.[key] === v;
  }
  g = CMP_RE.exec(term)?.groups;
  if (g) {
    const key = g.key!;
    const n = Number(g.value);
    const gt = g.op === ">";
    return (l) => {
      const raw = l?.[key];
      if (raw === undefined || !/^-?\d+$/.test(raw)) return false;
      return gt ? Number(raw) > n : Number(raw) < n;
    };
  }
  g = EXISTS_RE.exec(term)?.groups;
  if (g) {
    const key = g.key!;
    return g.not ? (l) => l?.[key] === undefined : (l) => l?.[key] !== undefined;
  }
  throw badRequest(`unable to parse requirement: invalid label selector: "${whole}"`);
}

export function parseLabelSelector(s: string | null | undefined): LabelMatcher {
  if (!s) return always;
  const terms = splitTerms(s).map((t) => labelTerm(t, s));
  return (labels) => terms.every((t) => t(labels));
}

function unescapeField(v: string): string {
  return v.replace(/\\([\\,=])/g, "$1");
}

function fieldValue(obj: KubeObject, path: string): string {
  if (path === "source") return String(obj.source?.component ?? "");
  let cur: any = obj;
  for (const part of path.split(".")) {
    if (cur == null) return "";
    cur = cur[part];
  }
  return cur == null ? "" : String(cur);
}

export function parseFieldSelector(s: string | null | undefined, res: SimResource): ObjectMatcher {
  if (!s) return always;
  const allowed = new Set(["metadata.name", "metadata.namespace", ...res.fields]);
  const terms: ObjectMatcher[] = [];
  // Field values may contain escaped commas, so split on unescaped ones only.
  for (const raw of s.split(/(?<!\\),/)) {
    const term = raw.trim();
    if (!term) continue;
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = m[1]!;
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    const v = unescapeField(m[3]!);
    terms.push(m[2] === "!=" ? (o) => fieldValue(o, field) !== v : (o) => fieldValue(o, field) === v);
  }
  return (o) => terms.every((t) => t(o));
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** metav1.LabelSelector semantics: null/undefined selects nothing, {} selects everything. */
export function labelSelectorMatcher(sel: LabelSelectorObject | null | undefined): LabelMatcher {
  if (!sel) return () => false;
  const ml = Object.entries(sel.matchLabels ?? {});
  const exprs = sel.matchExpressions ?? [];
  return (labels) => {
    for (const [k, v] of ml) if (labels?.[k] !== v) return false;
    for (const e of exprs) {
      const has = labels?.[e.key] !== undefined;
      const val = labels?.[e.key];
      switch (e.operator) {
        case "In":
          if (!has || !(e.values ?? []).includes(val!)) return false;
          break;
        case "NotIn":
          if (has && (e.values ?? []).includes(val!)) return false;
          break;
        case "Exists":
          if (!has) return false;
          break;
        case "DoesNotExist":
          if (has) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  };
}

/** Matcher for one watch/list request: namespace, labels and fields together. */
export function requestMatcher(res: SimResource, ns: string | undefined, labelSel?: string | null, fieldSel?: string | null): ObjectMatcher {
  const lm = parseLabelSelector(labelSel);
  const fm = parseFieldSelector(fieldSel, res);
  if (!ns || !res.namespaced) return (o) => lm(o.metadata.labels) && fm(o);
  return (o) => o.metadata.namespace === ns && lm(o.metadata.labels) && fm(o);
}

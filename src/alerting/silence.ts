// Silences: a time window in which alerts matching every matcher are not notified (they stay in
// their incident and in cleaned_events.log). Matchers name namespace, kind, name, reason or node and
// take shell-style globs (`*` any run of characters, `?` one character); `!=` negates. Kinds compare
// case-insensitively (`kind=pod` means Pod). Like Alertmanager, a silence records who created it and
// why, and is expired by moving its end to now (kept for the audit trail, never deleted on expiry).
import { hashString } from "../model/fingerprint.ts";
import { parseDuration } from "../config/load.ts";
import type { Anomaly } from "../model/anomaly.ts";

export const SILENCE_FIELDS = ["namespace", "kind", "name", "reason", "node"] as const;
export type SilenceField = (typeof SILENCE_FIELDS)[number];

export interface Matcher {
  field: SilenceField;
  /** Glob pattern. */
  value: string;
  negate?: boolean;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  createdAt: number;
  updatedAt: number;
}

export type SilenceTarget = Pick<Anomaly, "namespace" | "kind" | "name" | "reason" | "node">;

export class SilenceError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid silence:\n  ${problems.join("\n  ")}`);
  }
}

const FIELD_LIST = "namespace, kind, name, reason or node";

/** Splits on whitespace and commas outside quotes; quotes are kept (stripped per value later). */
function tokenize(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote = "";
  for (const ch of text) {
    if (quote) {
      current += ch;
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") {
      current += ch;
      quote = ch;
    } else if (/[\s,]/.test(ch)) {
      if (current) out.push(current);
      current = "";
    } else current += ch;
  }
  if (current) out.push(current);
  return out;
}

/**
 * Parses CLI/MQTT matcher syntax: `namespace=shop kind=Pod name=cart-* reason!=BackOff`
 * (whitespace or comma separated; values may be quoted). Collects every problem before throwing.
 */
export function parseMatchers(text: string): Matcher[] {
  const problems: string[] = [];
  const out: Matcher[] = [];
  const tokens = tokenize(text);
  for (const token of tokens) {
    const m = /^([A-Za-z]+)(!=|=)(.*)$/.exec(token);
    if (!m) {
      problems.push(`matcher ${JSON.stringify(token)}: expected field=value or field!=value with field ${FIELD_LIST}`);
      continue;
    }
    const field = m[1]!.toLowerCase();
    let value = m[3]!;
    if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
    if (!(SILENCE_FIELDS as readonly string[]).includes(field)) {
      problems.push(`matcher ${JSON.stringify(token)}: unknown field ${JSON.stringify(m[1])} (expected ${FIELD_LIST})`);
      continue;
    }
    if (value === "") {
      problems.push(`matcher ${JSON.stringify(token)}: ${field} needs a value (use * to match anything)`);
      continue;
    }
    out.push({ field: field as SilenceField, value, ...(m[2] === "!=" ? { negate: true } : {}) });
  }
  if (tokens.length === 0) problems.push("matchers: at least one matcher is required, e.g. namespace=shop name=cart-*");
  if (problems.length) throw new SilenceError(problems);
  return out;
}

export function formatMatchers(matchers: readonly Matcher[]): string {
  return matchers.map((m) => `${m.field}${m.negate ? "!=" : "="}${/[\s,]/.test(m.value) ? JSON.stringify(m.value) : m.value}`).join(" ");
}

const globCache = new Map<string, RegExp>();
function globToRegExp(glob: string, caseInsensitive: boolean): RegExp {
  const cacheKey = `${caseInsensitive ? "i" : "s"}:${glob}`;
  let re = globCache.get(cacheKey);
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    re = new RegExp(`^${body}$`, caseInsensitive ? "i" : "");
    if (globCache.size > 1000) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re;
}

export function matcherMatches(m: Matcher, target: SilenceTarget): boolean {
  const hit = globToRegExp(m.value, m.field === "kind").test(target[m.field] ?? "");
  return m.negate ? !hit : hit;
}

export const isActive = (s: Silence, now: number): boolean => s.startsAt <= now && now < s.endsAt;

/** The first active silence whose matchers all match, if any. */
export function isSilenced(target: SilenceTarget, silences: readonly Silence[], now: number): Silence | undefined {
  return silences.find((s) => isActive(s, now) && s.matchers.every((m) => matcherMatches(m, target)));
}

export interface SilenceInput {
  /** Matchers, or their text form. */
  matchers: Matcher[] | string;
  /** Default: now. */
  startsAt?: number;
  /** Either endsAt or duration ("2h", or ms). */
  endsAt?: number;
  duration?: string | number;
  createdBy?: string;
  comment?: string;
  /** Default: derived from the content (deterministic). */
  id?: string;
}

/** Validates and builds a silence; every problem names its field. Throws SilenceError. */
export function createSilence(input: SilenceInput, now: number): Silence {
  const problems: string[] = [];
  let matchers: Matcher[] = [];
  try {
    matchers = typeof input.matchers === "string" ? parseMatchers(input.matchers) : input.matchers;
  } catch (e) {
    problems.push(...(e instanceof SilenceError ? e.problems : [String(e)]));
  }
  if (typeof input.matchers !== "string") {
    if (matchers.length === 0) problems.push("matchers: at least one matcher is required, e.g. namespace=shop name=cart-*");
    for (const m of matchers) {
      if (!(SILENCE_FIELDS as readonly string[]).includes(m.field)) problems.push(`matchers: unknown field ${JSON.stringify(m.field)} (expected ${FIELD_LIST})`);
      else if (!m.value) problems.push(`matchers: ${m.field} needs a value (use * to match anything)`);
    }
  }
  if (matchers.length > 0 && matchers.every((m) => !m.negate && /^\*+$/.test(m.value))) {
    problems.push("matchers: would silence every alert; name at least one namespace, kind, name, reason or node");
  }
  const startsAt = input.startsAt ?? now;
  if (!Number.isFinite(startsAt)) problems.push("startsAt: expected a time");
  let endsAt = input.endsAt;
  if (input.duration !== undefined) {
    const ms = typeof input.duration === "number" ? input.duration : parseDuration(input.duration);
    if (ms === undefined || !(ms > 0)) problems.push(`duration: expected a positive duration such as "30m" or "2h", got ${JSON.stringify(input.duration)}`);
    else if (endsAt === undefined) endsAt = startsAt + ms;
    else problems.push("duration: give either endsAt or duration, not both");
  }
  if (endsAt === undefined) problems.push("endsAt: required (or a duration)");
  else if (!(endsAt > startsAt)) problems.push("endsAt: must be after startsAt");
  else if (endsAt <= now) problems.push("endsAt: must be in the future");
  const createdBy = (input.createdBy ?? "").trim();
  if (!createdBy) problems.push("createdBy: required (who is silencing)");
  const comment = (input.comment ?? "").trim();
  if (!comment) problems.push("comment: required (why, for the audit trail)");
  if (problems.length) throw new SilenceError(problems);
  const id = input.id ?? hashString(JSON.stringify([matchers, startsAt, endsAt, createdBy, now])).slice(0, 12);
  return { id, matchers, startsAt, endsAt: endsAt!, createdBy, comment, createdAt: now, updatedAt: now };
}

/** Ends a silence now (kept for the audit trail). Already-ended silences are returned unchanged. */
export function expireSilence(s: Silence, now: number): Silence {
  if (s.endsAt <= now) return s;
  return { ...s, endsAt: Math.max(now, s.startsAt), updatedAt: now };
}

/** Drops silences that ended more than `retentionMs` ago (the store's housekeeping). */
export function pruneSilences(silences: readonly Silence[], now: number, retentionMs: number): Silence[] {
  return silences.filter((s) => now - s.endsAt <= retentionMs);
}

// Silences: a time window in which alerts matching every matcher are not notified (they stay in
// their incident and in cleaned_events.log). Matchers name namespace, kind, name, reason or node and
// take shell-style globs (`*` any run of characters, `?` one character); `!=` negates. Kinds compare
// case-insensitively (`kind=pod` means Pod). Like Alertmanager, a silence records who created it and
// why, and is expired by moving its end to now (kept for the audit trail, never deleted on expiry).
// Every input path (CLI, MQTT command, the stored ConfigMap) goes through the same checks: strictly
// typed matchers, bounded strings, a maximum duration, and no matcher set that silences everything
// (decided by testing the matchers against synthetic alerts, see tooBroad).
import { describeIssues, z } from "../boundary/reject.ts";
import { hashString } from "../model/fingerprint.ts";
import { parseDuration } from "../config/units.ts";
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

/** Bounds on everything a silence holds (it is stored in a ConfigMap and printed to terminals). */
export const SILENCE_LIMITS = { matchers: 16, value: 256, createdBy: 128, comment: 1024, id: 64 } as const;
export const DEFAULT_SILENCE_MAX_DURATION_MS = 30 * 24 * 3_600_000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL.test(s), "must not contain control characters");

export const matcherSchema = z.strictObject({
  field: z.enum(SILENCE_FIELDS),
  value: text(SILENCE_LIMITS.value).min(1, "needs a value (use * to match anything)"),
  negate: z.boolean().optional(),
});

/** A silence as stored: what is read back from the ConfigMap is checked against this. */
export const silenceSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  matchers: z.array(matcherSchema).min(1).max(SILENCE_LIMITS.matchers),
  startsAt: z.number().finite(),
  endsAt: z.number().finite(),
  createdBy: text(SILENCE_LIMITS.createdBy),
  comment: text(SILENCE_LIMITS.comment),
  createdAt: z.number().finite(),
  updatedAt: z.number().finite(),
});

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
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    re = new RegExp(`^${body}$`, caseInsensitive ? "i" : "");
    if (globCache.size > 1000) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re;
}

export function matcherMatches(m: Matcher, target: SilenceTarget): boolean {
  // Stored silences are validated when read, but a non-string here must never throw in an alert cycle.
  if (typeof m.value !== "string") return false;
  const value = target[m.field];
  const hit = globToRegExp(m.value, m.field === "kind").test(typeof value === "string" ? value : "");
  return m.negate ? !hit : hit;
}

export const isActive = (s: Silence, now: number): boolean => s.startsAt <= now && now < s.endsAt;

/** The first active silence whose matchers all match, if any. */
export function isSilenced(target: SilenceTarget, silences: readonly Silence[], now: number): Silence | undefined {
  return silences.find((s) => isActive(s, now) && s.matchers.every((m) => matcherMatches(m, target)));
}

/**
 * Alerts nobody would target on purpose: odd values of every shape (empty, one character, digits,
 * punctuation, long, non-ASCII). A silence that matches two of them would also silence alerts about
 * things nobody anticipated: it is refused as too broad. `name=*`, `name=?*`, `namespace!=__nothing__`,
 * `reason!=X node!=Y` all match every one of them.
 */
const STRANGER_VALUES = [
  "",
  "a",
  "e",
  "Z",
  "0",
  "7",
  "-",
  ".",
  "_",
  "zq",
  "q-9",
  "x.y_z",
  "Ü-ñ",
  "w".repeat(63),
  "k8s-0a1b2c3d4e5f",
  "z".repeat(253),
];
export const STRANGER_ALERTS: readonly SilenceTarget[] = STRANGER_VALUES.map((v) => ({ namespace: v, kind: v, name: v, reason: v, node: v }));

/** Why `matchers` would silence (nearly) every alert, or undefined when they are specific enough. */
export function tooBroad(matchers: readonly Matcher[]): string | undefined {
  // As in Alertmanager: some matcher must not match an empty value (negations always do).
  const broad = "would silence every alert; name at least one namespace, kind, name, reason or node";
  const anchored = matchers.some((m) => !matcherMatches(m, { namespace: "", kind: "", name: "", reason: "", node: "" }));
  if (!anchored) return broad;
  const hits = STRANGER_ALERTS.filter((a) => matchers.every((m) => matcherMatches(m, a))).length;
  return hits >= 2 ? broad : undefined;
}

export interface SilenceOptions {
  /** SILENCE_MAX_DURATION: the longest a silence may last (default 30 days). */
  maxDurationMs?: number;
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

/** Matchers given as values (MQTT, stored JSON): each checked against matcherSchema, strictly. */
function checkMatcherValues(raw: unknown, problems: string[]): Matcher[] {
  if (!Array.isArray(raw)) {
    problems.push('matchers: expected matcher text such as "namespace=shop name=cart-*" or a list of {field, value, negate?}');
    return [];
  }
  if (raw.length === 0) problems.push("matchers: at least one matcher is required, e.g. namespace=shop name=cart-*");
  if (raw.length > SILENCE_LIMITS.matchers) problems.push(`matchers: at most ${SILENCE_LIMITS.matchers} matchers`);
  const out: Matcher[] = [];
  raw.slice(0, SILENCE_LIMITS.matchers).forEach((m, i) => {
    const field = (m as { field?: unknown } | null)?.field;
    if (typeof field === "string" && !(SILENCE_FIELDS as readonly string[]).includes(field)) {
      problems.push(`matchers: unknown field ${JSON.stringify(field.slice(0, 40))} (expected ${FIELD_LIST})`);
      return;
    }
    const r = matcherSchema.safeParse(m);
    if (r.success) out.push(r.data);
    else problems.push(`matchers.${i}: ${describeIssues(r.error)}`);
  });
  return out;
}

function checkText(name: "createdBy" | "comment", raw: unknown, problems: string[], missing: string): string {
  if (raw !== undefined && typeof raw !== "string") {
    problems.push(`${name}: expected text`);
    return "";
  }
  const value = (raw ?? "").trim();
  if (!value) problems.push(missing);
  else if (value.length > SILENCE_LIMITS[name]) problems.push(`${name}: at most ${SILENCE_LIMITS[name]} characters (got ${value.length})`);
  else if (CONTROL.test(value)) problems.push(`${name}: must not contain control characters`);
  return value;
}

/** Validates and builds a silence; every problem names its field. Throws SilenceError. */
export function createSilence(input: SilenceInput, now: number, opts: SilenceOptions = {}): Silence {
  const maxMs = opts.maxDurationMs ?? DEFAULT_SILENCE_MAX_DURATION_MS;
  const problems: string[] = [];
  let matchers: Matcher[] = [];
  if (typeof input.matchers === "string") {
    try {
      if (input.matchers.length > SILENCE_LIMITS.matchers * (SILENCE_LIMITS.value + 16)) throw new SilenceError(["matchers: text too long"]);
      matchers = parseMatchers(input.matchers);
      matchers = checkMatcherValues(matchers, problems);
    } catch (e) {
      problems.push(...(e instanceof SilenceError ? e.problems : [String(e)]));
    }
  } else matchers = checkMatcherValues(input.matchers, problems);
  const broad = matchers.length > 0 && problems.length === 0 ? tooBroad(matchers) : undefined;
  if (broad) problems.push(`matchers: ${broad}`);
  const startsAt = input.startsAt ?? now;
  if (typeof startsAt !== "number" || !Number.isFinite(startsAt)) problems.push("startsAt: expected a time");
  else if (startsAt > now + maxMs) problems.push(`startsAt: at most SILENCE_MAX_DURATION (${maxMs} ms) ahead`);
  let endsAt = input.endsAt;
  if (endsAt !== undefined && (typeof endsAt !== "number" || !Number.isFinite(endsAt))) {
    problems.push("endsAt: expected a time");
    endsAt = undefined;
  }
  if (input.duration !== undefined) {
    const d = input.duration;
    const ms = typeof d === "number" ? d : typeof d === "string" && d.length <= 32 ? parseDuration(d) : undefined;
    if (ms === undefined || !Number.isFinite(ms) || !(ms > 0)) {
      problems.push(
        `duration: expected a positive duration such as "30m" or "2h", got ${JSON.stringify(typeof d === "string" ? d.slice(0, 40) : d)}`,
      );
    } else if (ms > maxMs) problems.push(`duration: ${JSON.stringify(d)} is longer than SILENCE_MAX_DURATION (${maxMs} ms)`);
    else if (endsAt === undefined) endsAt = startsAt + ms;
    else problems.push("duration: give either endsAt or duration, not both");
  }
  if (endsAt === undefined) problems.push("endsAt: required (or a duration)");
  else if (!(endsAt > startsAt)) problems.push("endsAt: must be after startsAt");
  else if (endsAt <= now) problems.push("endsAt: must be in the future");
  else if (endsAt - startsAt > maxMs) problems.push(`endsAt: the silence would last longer than SILENCE_MAX_DURATION (${maxMs} ms)`);
  const createdBy = checkText("createdBy", input.createdBy, problems, "createdBy: required (who is silencing)");
  const comment = checkText("comment", input.comment, problems, "comment: required (why, for the audit trail)");
  if (input.id !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(input.id)) problems.push("id: expected 1-64 characters of [A-Za-z0-9_-]");
  if (problems.length) throw new SilenceError(problems);
  const id = input.id ?? hashString(JSON.stringify([matchers, startsAt, endsAt, createdBy, now])).slice(0, 12);
  return { id, matchers, startsAt, endsAt: endsAt!, createdBy, comment, createdAt: now, updatedAt: now };
}

/** Adds `silence` to the list; an id already in the list (active or expired) is never reused or overwritten. */
export function withSilenceAdded(list: readonly Silence[], silence: Silence): Silence[] {
  if (list.some((s) => s.id === silence.id)) throw new SilenceError([`id: a silence with id ${silence.id} already exists (ids are never reused)`]);
  return [...list, silence];
}

/** The id `expire` accepts: exactly one existing silence's id, never empty, never a prefix. */
export function checkExpireId(id: unknown): string {
  if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new SilenceError(["id: expected the exact id of a silence (see 'silence ls')"]);
  return id;
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

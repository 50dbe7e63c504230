// Reads configuration from (lowest to highest precedence) defaults, an env-style file,
// the environment, and command-line overrides. Validates every key with one zod schema built
// from SCHEMA (types, bounds, enums, URLs, files, relations between keys) and reports all bad
// values at once, each naming the key and the expected form, never a secret.
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync, type Stats } from "node:fs";
import { z } from "../boundary/reject.ts";
import {
  MAX_LIST_ITEMS,
  MAX_TEXT_LENGTH,
  durationMax,
  SCHEMA,
  SCHEMA_BY_KEY,
  type BoolKey,
  type ConfigKey,
  type DurationKey,
  type KeyDecl,
  type ListKey,
  type NumberKey,
  type StringKey,
} from "./schema.ts";

export type Value = string | number | boolean | string[];

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1 << 20,
  mb: 1e6,
  mib: 1 << 20,
  g: 1 << 30,
  gb: 1e9,
  gib: 1 << 30,
};

/** Go-style durations ("1m30s", "500ms", "7s"); a bare number means seconds. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === t.length && t.length > 0 ? total : undefined;
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m && SIZE_UNITS[m[2]!.toLowerCase()];
  return m && unit ? Math.floor(Number(m[1]) * unit) : undefined;
}

const EXPECTED: Record<KeyDecl["type"], string> = {
  duration: 'a duration such as "500ms", "7s", "5m" or "1h30m"',
  int: "a whole number",
  float: "a number",
  ratio: "a number from 0 to 1",
  bool: "true or false",
  string: "text",
  list: "a comma-separated list",
  size: 'a size such as "512KiB" or "10MiB"',
  hostport: 'host:port, e.g. "127.0.0.1:9873"',
  url: "an http(s) URL",
  enum: "one of",
  file: "a readable PEM file",
};

/** The file types the loader checks at start-up: must exist, be a regular readable file of PEM text. */
const MAX_PEM_BYTES = 1 << 20;

function fileProblem(path: string): string | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "expected an existing file: not found" : `expected a readable file: cannot stat (${code ?? e})`;
  }
  if (!st.isFile()) return "expected a regular file";
  if (st.size > MAX_PEM_BYTES) return `expected a PEM file of at most ${MAX_PEM_BYTES} bytes, found ${st.size}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return `expected a readable file: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`;
  }
  if (!text.includes("-----BEGIN ")) return 'expected a PEM file: no "-----BEGIN" line';
  // A garbled certificate would otherwise surface only when a channel connects, as a TLS error.
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) return "expected a PEM file of CA certificates: no complete CERTIFICATE block";
  for (const [i, pem] of certs.entries()) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      return `expected a PEM file of CA certificates: certificate ${i + 1} does not parse (${(e as Error).message})`;
    }
  }
  return undefined;
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function urlProblem(decl: KeyDecl, text: string): string | undefined {
  const schemes = decl.schemes ?? ["http", "https"];
  const expected = `a URL with scheme ${oneOf(schemes.map((s) => `${s}://`))}${decl.loopbackHttp ? " (http:// to a loopback address)" : ""} and a host`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `expected ${expected}`;
  }
  const scheme = u.protocol.slice(0, -1);
  const loopbackHttp = decl.loopbackHttp && scheme === "http" && LOOPBACK.test(u.hostname);
  if (!schemes.includes(scheme) && !loopbackHttp) return `expected ${expected}, not ${scheme}://`;
  if (u.hostname === "" || !text.includes("//")) return `expected ${expected}: the host is missing`;
  return undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One zod schema per declared key, from the raw text (after precedence) to the typed value. */
function valueSchema(decl: KeyDecl): z.ZodType<Value, string> {
  const text = z
    .string()
    .max(MAX_TEXT_LENGTH * 4, { error: `expected at most ${MAX_TEXT_LENGTH * 4} characters` })
    .refine((s) => !CONTROL.test(s), { error: "expected no control characters (newline, tab, escape ...)" });
  const expected = EXPECTED[decl.type];
  const bounds = (fmt: (n: number) => string, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z
      .number()
      .min(min, { error: `expected ${expected} of at least ${fmt(min)}` })
      .max(max, { error: `expected ${expected} of at most ${fmt(max)}` });
  const parsed = <T>(parse: (s: string) => T | undefined) =>
    text.transform((s, ctx) => {
      const v = parse(s);
      if (v === undefined) {
        ctx.addIssue({ code: "custom", message: `expected ${expected}` });
        return z.NEVER;
      }
      // Digits beyond a double parse to Infinity: still "too large", with the bound in the message.
      return v === Infinity ? (Number.MAX_VALUE as T) : v;
    });
  const maxLength = decl.maxLength ?? MAX_TEXT_LENGTH;
  const patterned = (s: z.ZodString) => {
    let out = s.max(maxLength, { error: `expected at most ${maxLength} characters` });
    if (decl.pattern) out = out.regex(decl.pattern, { error: `expected ${decl.patternDoc}` });
    return out;
  };
  switch (decl.type) {
    case "duration":
      return parsed(parseDuration).pipe(bounds(formatDuration, decl.min, durationMax(decl)));
    case "int":
      return parsed((s) => (/^\s*-?\d+\s*$/.test(s) ? Number(s) : undefined)).pipe(bounds(String, decl.min, decl.max));
    case "float":
      return parsed((s) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined)).pipe(bounds(String, decl.min, decl.max));
    case "ratio":
      return parsed((s) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined)).pipe(
        z
          .number()
          .min(0, { error: `expected ${expected}` })
          .max(1, { error: `expected ${expected}` }),
      );
    case "size":
      return parsed(parseSize).pipe(bounds(formatSize, decl.min, decl.max));
    case "bool":
      return parsed((s) => BOOLS[s.trim().toLowerCase()]);
    case "enum": {
      const values = decl.values ?? [];
      return text.transform((s) => s.trim().toLowerCase()).pipe(z.enum(values as [string, ...string[]], { error: `expected ${oneOf(values)}` }));
    }
    case "list":
      return text
        .transform((s) =>
          s
            .split(",")
            .map((item) => item.trim())
            .filter(Boolean),
        )
        .pipe(
          z.array(patterned(z.string())).max(decl.maxItems ?? MAX_LIST_ITEMS, { error: `expected at most ${decl.maxItems ?? MAX_LIST_ITEMS} items` }),
        );
    case "hostport":
      return text
        .refine(
          (s) => {
            const m = /^(.*):(\d{1,5})$/.exec(s.trim());
            return !!m && Number(m[2]) <= 65535 && (m[1] === "" || HOSTPORT_HOST.test(m[1]!));
          },
          { error: `expected ${expected}` },
        )
        .transform((s) => s.trim());
    case "url":
      return text
        .transform((s) => s.trim())
        .pipe(z.string().max(maxLength, { error: `expected at most ${maxLength} characters` }))
        .superRefine((s, ctx) => {
          const problem = s === "" ? undefined : urlProblem(decl, s);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        });
    case "file":
      return text
        .transform((s) => s.trim())
        .superRefine((s, ctx) => {
          const problem = s === "" ? undefined : fileProblem(s);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        });
    case "string":
      return text
        .refine((s) => !decl.required || s.trim() !== "", { error: "expected a value: it must not be empty" })
        .pipe(z.union([z.literal(""), patterned(z.string())]));
  }
}

const BOOLS: Record<string, boolean> = { true: true, "1": true, yes: true, on: true, false: false, "0": false, no: false, off: false };
const HOSTPORT_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;

/** Relations between keys, checked once every key is valid on its own. */
const CROSS_KEY_RULES: { keys: [ConfigKey, ConfigKey]; ok: (a: number, b: number) => boolean; expected: string }[] = [
  { keys: ["LEADER_RENEW_DEADLINE", "LEADER_LEASE_DURATION"], ok: (a, b) => a < b, expected: "a duration shorter than LEADER_LEASE_DURATION" },
  { keys: ["LEADER_RETRY_PERIOD", "LEADER_RENEW_DEADLINE"], ok: (a, b) => a < b, expected: "a duration shorter than LEADER_RENEW_DEADLINE" },
  { keys: ["ALERT_RETRY_MIN_BACKOFF", "ALERT_RETRY_MAX_BACKOFF"], ok: (a, b) => a <= b, expected: "a duration of at most ALERT_RETRY_MAX_BACKOFF" },
  { keys: ["AGENT_BIND_TTL", "AGENT_BIND_TTL_MAX"], ok: (a, b) => a <= b, expected: "a duration of at most AGENT_BIND_TTL_MAX" },
];

/** The one schema: every declared key from its raw text, then the relations between keys. */
export const CONFIG_SCHEMA = z
  .object(Object.fromEntries(SCHEMA.map((decl) => [decl.key, valueSchema(decl)])) as Record<ConfigKey, z.ZodType<Value, string>>)
  .pipe(
    z.custom<Record<ConfigKey, Value>>().superRefine((values, ctx) => {
      for (const rule of CROSS_KEY_RULES) {
        const [a, b] = rule.keys;
        if (!rule.ok(values[a] as number, values[b] as number)) {
          ctx.addIssue({ code: "custom", path: [a], message: `expected ${rule.expected} (${formatDuration(values[b] as number)})` });
        }
      }
    }),
  );

/** How a raw value appears in an error message: secrets never, credentials inside a URL never. */
export function shownRaw(decl: KeyDecl, raw: string): string {
  if (decl.secret) return "<redacted>";
  return JSON.stringify(decl.type === "url" ? withoutUserinfo(raw) : raw);
}

/** A URL (even a malformed one) with anything that may be user:password replaced. */
export function withoutUserinfo(url: string): string {
  const at = url.lastIndexOf("@");
  if (at === -1) return url;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? "";
  return `${scheme}<redacted>@${url.slice(at + 1)}`;
}

/** "a, b or c" */
function oneOf(values: readonly string[]): string {
  return values.length < 2 ? values.join("") : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
}

export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ["GiB", 1 << 30],
    ["MiB", 1 << 20],
    ["KiB", 1024],
  ] as const)
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  return `${bytes} bytes`;
}

/** Parses KEY=VALUE lines as systemd's EnvironmentFile= does (comments, optional quotes). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Env-style file (NEURO_CONFIG_FILE or --config). */
  file?: string;
  /** Highest precedence, e.g. from command-line flags. */
  overrides?: Record<string, string>;
}

export class Config {
  private constructor(
    private readonly values: Map<string, Value>,
    private readonly sources: Map<string, string>,
    /** Keys that look like configuration but are not (a typo is otherwise silently ignored). */
    readonly warnings: string[] = [],
  ) {}

  static load(opts: LoadOptions = {}): Config {
    const env = opts.env ?? process.env;
    const problems: string[] = [];
    let fileVals: Record<string, string> = {};
    const file = opts.file ?? env.NEURO_CONFIG_FILE;
    if (file) {
      try {
        fileVals = parseEnvFile(readBounded(file, CONFIG_FILE_MAX_BYTES));
      } catch (e) {
        problems.push(`NEURO_CONFIG_FILE=${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    const raws: Record<string, string> = {};
    const sources = new Map<string, string>();
    for (const decl of SCHEMA) {
      let raw = decl.default;
      let source = "default";
      const fromFileKey = (k: string) => (k in fileVals ? fileVals[k] : undefined);
      const secretFile = decl.secret
        ? (opts.overrides?.[`${decl.key}_FILE`] ?? env[`${decl.key}_FILE`] ?? fromFileKey(`${decl.key}_FILE`))
        : undefined;
      if (fromFileKey(decl.key) !== undefined) [raw, source] = [fileVals[decl.key]!, "file"];
      if (env[decl.key] !== undefined) [raw, source] = [env[decl.key]!, "env"];
      if (secretFile) {
        try {
          raw = readBounded(secretFile, SECRET_FILE_MAX_BYTES).trim();
          source = `${decl.key}_FILE`;
        } catch (e) {
          problems.push(`${decl.key}_FILE=${secretFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      }
      if (opts.overrides?.[decl.key] !== undefined) [raw, source] = [opts.overrides[decl.key]!, "flag"];
      raws[decl.key] = raw;
      sources.set(decl.key, source);
    }
    const warnings = [
      ...unknownKeys(Object.keys(fileVals)).map((w) => `${file}: ${w}`),
      ...unknownKeys(Object.keys(env).filter((k) => KEY_PREFIXES.test(k))).map((w) => `environment: ${w}`),
    ];
    const parsed = CONFIG_SCHEMA.safeParse(raws);
    if (!parsed.success) problems.push(...describeProblems(parsed.error, raws));
    if (problems.length || !parsed.success) throw new ConfigError(problems);
    return new Config(new Map(Object.entries(parsed.data)), sources, warnings);
  }

  /** Defaults only, with some keys overridden: for tests and the demo. */
  static with(overrides: Partial<Record<ConfigKey, string>> = {}): Config {
    return Config.load({ env: {}, overrides });
  }

  /** Any key's typed value (durations in ms, sizes in bytes); prefer the accessors below. */
  value(key: ConfigKey): Value {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`unknown config key ${key}`);
    return v;
  }
  /** Durations in milliseconds. */
  ms(key: DurationKey): number {
    return this.value(key) as number;
  }
  /** Numbers, ratios and sizes (bytes). */
  num(key: NumberKey): number {
    return this.value(key) as number;
  }
  bool(key: BoolKey): boolean {
    return this.value(key) as boolean;
  }
  /** Text, URLs, enum values (lower-case), file paths, host:port. */
  str(key: StringKey): string {
    return this.value(key) as string;
  }
  list(key: ListKey): string[] {
    return this.value(key) as string[];
  }

  /** Effective values for display; secrets redacted. */
  describe(): { key: string; value: string; source: string; secret: boolean }[] {
    return SCHEMA.map((decl) => {
      const v = this.values.get(decl.key)!;
      let shown = Array.isArray(v) ? v.join(",") : decl.type === "duration" ? formatDuration(v as number) : String(v);
      if (decl.type === "size") shown = `${v} bytes`;
      if (decl.type === "url") shown = withoutUserinfo(shown);
      if (decl.secret && shown !== "") shown = "<redacted>";
      return { key: decl.key, value: shown, source: this.sources.get(decl.key)!, secret: !!decl.secret };
    });
  }
}

/** An env-style configuration file is a page of KEY=VALUE lines; a secret is a token or a password. */
const CONFIG_FILE_MAX_BYTES = 1 << 20;
const SECRET_FILE_MAX_BYTES = 64 << 10;

function readBounded(path: string, maxBytes: number): string {
  const size = statSync(path).size;
  if (size > maxBytes) throw new Error(`${size} bytes, more than the ${maxBytes} allowed`);
  return readFileSync(path, "utf8");
}

/** Environment variables with these prefixes are meant for neurocontroller; others (PATH, HOME …) are not ours. */
const KEY_PREFIXES = /^(?:DIAGNOSIS|KUBERNETES_API|ENABLE|MAIL|SLACK|MQTT|ALERT|NEURO|LEADER|RULE|AGENT|TRACE|CLUSTER)_/;
/** Set in the environment by the test suite and the image scripts, not configuration keys. */
const NOT_KEYS = new Set(["NEURO_CONFIG_FILE", "NEURO_SLOW_TESTS"]);

function unknownKeys(names: string[]): string[] {
  const known = (k: string) => SCHEMA_BY_KEY.has(k) || NOT_KEYS.has(k) || (k.endsWith("_FILE") && SCHEMA_BY_KEY.get(k.slice(0, -5))?.secret === true);
  return names
    .filter((k) => !known(k))
    .map((k) => {
      const near = closestKey(k);
      return `unknown key ${k} (ignored)${near ? `; did you mean ${near}?` : ""}`;
    });
}

/** The declared key within a small edit distance of `name`, if any. */
function closestKey(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const decl of SCHEMA) {
    const d = editDistance(name, decl.key, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [decl.key, d];
  }
  return best;
}

function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** One line per bad key ("KEY=\"value\": expected ..."), in schema order, the first problem of each key. */
function describeProblems(err: z.ZodError, raws: Record<string, string>): string[] {
  const byKey = new Map<string, string>();
  for (const issue of err.issues) {
    const key = String(issue.path[0] ?? "");
    const decl = SCHEMA_BY_KEY.get(key);
    if (!decl || byKey.has(key)) continue;
    const item = typeof issue.path[1] === "number" ? ` (item ${issue.path[1] + 1})` : "";
    byKey.set(key, `${key}=${shownRaw(decl, raws[key] ?? "")}${item}: ${issue.message}`);
  }
  if (byKey.size === 0) return err.issues.map((i) => i.message);
  return SCHEMA.filter((d) => byKey.has(d.key)).map((d) => byKey.get(d.key)!);
}

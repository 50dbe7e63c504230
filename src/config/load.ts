// Reads configuration from (lowest to highest precedence) defaults, an env-style file,
// the environment, and command-line overrides. Validates every key with one zod schema built
// from SCHEMA (value-schema.ts: types, bounds, enums, URLs, files, relations between keys) and reports all bad
// values at once, each naming the key and the expected form, never a secret.
import { readFileSync, statSync } from "node:fs";
import type { z } from "../boundary/reject.ts";
import {
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
import { formatDuration } from "./units.ts";
import { CONFIG_SCHEMA, type Value } from "./value-schema.ts";

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

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
const KEY_PREFIXES = /^(?:DIAGNOSIS|KUBERNETES_API|ENABLE|MAIL|SLACK|MQTT|ALERT|NEURO|LEADER|RULE|AGENT|TRACE|CLUSTER|HOST)_/;
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

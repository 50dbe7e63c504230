// Reads configuration from (lowest to highest precedence) defaults, an env-style file,
// the environment, and command-line overrides. Validates every key against SCHEMA and
// reports all bad values at once, each naming the key and the expected form.
import { readFileSync } from "node:fs";
import { SCHEMA, type KeyDecl } from "./schema.ts";

export type Value = string | number | boolean | string[];

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1 << 20, mb: 1e6, mib: 1 << 20, g: 1 << 30, gb: 1e9, gib: 1 << 30 };

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
};

function parseValue(decl: KeyDecl, raw: string): Value | { error: string } {
  const bad = (extra = "") => ({ error: `${decl.key}=${decl.secret ? "<redacted>" : JSON.stringify(raw)}: expected ${EXPECTED[decl.type]}${extra}` });
  const bounded = (n: number, unitFmt: (n: number) => string = String) => {
    if (decl.min !== undefined && n < decl.min) return bad(` of at least ${unitFmt(decl.min)}`);
    if (decl.max !== undefined && n > decl.max) return bad(` of at most ${unitFmt(decl.max)}`);
    return n;
  };
  switch (decl.type) {
    case "duration": {
      const ms = parseDuration(raw);
      return ms === undefined ? bad() : bounded(ms, formatDuration);
    }
    case "int":
      return /^-?\d+$/.test(raw.trim()) ? bounded(Number(raw)) : bad();
    case "float": {
      const n = Number(raw);
      return raw.trim() !== "" && Number.isFinite(n) ? bounded(n) : bad();
    }
    case "ratio": {
      const n = Number(raw);
      return raw.trim() !== "" && n >= 0 && n <= 1 ? n : bad();
    }
    case "bool": {
      const v = raw.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(v)) return true;
      if (["false", "0", "no", "off"].includes(v)) return false;
      return bad();
    }
    case "size": {
      const n = parseSize(raw);
      return n === undefined ? bad() : bounded(n);
    }
    case "list":
      return raw.split(",").map((s) => s.trim()).filter(Boolean);
    case "hostport": {
      const m = /^(.*):(\d+)$/.exec(raw.trim());
      return m && Number(m[2]) <= 65535 ? raw.trim() : bad();
    }
    case "url":
      if (raw.trim() === "") return "";
      try {
        const u = new URL(raw.trim());
        return u.protocol === "http:" || u.protocol === "https:" ? raw.trim() : bad();
      } catch {
        return bad();
      }
    case "string":
      return raw;
  }
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
  ) {}

  static load(opts: LoadOptions = {}): Config {
    const env = opts.env ?? process.env;
    const problems: string[] = [];
    let fileVals: Record<string, string> = {};
    const file = opts.file ?? env.NEURO_CONFIG_FILE;
    if (file) {
      try {
        fileVals = parseEnvFile(readFileSync(file, "utf8"));
      } catch (e) {
        problems.push(`NEURO_CONFIG_FILE=${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
      }
    }
    const values = new Map<string, Value>();
    const sources = new Map<string, string>();
    for (const decl of SCHEMA) {
      let raw = decl.default;
      let source = "default";
      const fromFileKey = (k: string) => (k in fileVals ? fileVals[k] : undefined);
      const secretFile = decl.secret ? (opts.overrides?.[`${decl.key}_FILE`] ?? env[`${decl.key}_FILE`] ?? fromFileKey(`${decl.key}_FILE`)) : undefined;
      if (fromFileKey(decl.key) !== undefined) [raw, source] = [fileVals[decl.key]!, "file"];
      if (env[decl.key] !== undefined) [raw, source] = [env[decl.key]!, "env"];
      if (secretFile) {
        try {
          raw = readFileSync(secretFile, "utf8").trim();
          source = `${decl.key}_FILE`;
        } catch (e) {
          problems.push(`${decl.key}_FILE=${secretFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
        }
      }
      if (opts.overrides?.[decl.key] !== undefined) [raw, source] = [opts.overrides[decl.key]!, "flag"];
      const parsed = parseValue(decl, raw);
      if (typeof parsed === "object" && !Array.isArray(parsed)) {
        problems.push(parsed.error);
        continue;
      }
      values.set(decl.key, parsed);
      sources.set(decl.key, source);
    }
    if (problems.length) throw new ConfigError(problems);
    return new Config(values, sources);
  }

  /** Defaults only, with some keys overridden: for tests and the demo. */
  static with(overrides: Record<string, string> = {}): Config {
    return Config.load({ env: {}, overrides });
  }

  private get(key: string): Value {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`unknown config key ${key}`);
    return v;
  }
  /** Durations in milliseconds. */
  ms(key: string): number {
    return this.get(key) as number;
  }
  num(key: string): number {
    return this.get(key) as number;
  }
  bool(key: string): boolean {
    return this.get(key) as boolean;
  }
  str(key: string): string {
    return this.get(key) as string;
  }
  list(key: string): string[] {
    return this.get(key) as string[];
  }

  /** Effective values for display; secrets redacted. */
  describe(): { key: string; value: string; source: string; secret: boolean }[] {
    return SCHEMA.map((decl) => {
      const v = this.values.get(decl.key)!;
      let shown = Array.isArray(v) ? v.join(",") : decl.type === "duration" ? formatDuration(v as number) : String(v);
      if (decl.type === "size") shown = `${v} bytes`;
      if (decl.secret && shown !== "") shown = "<redacted>";
      return { key: decl.key, value: shown, source: this.sources.get(decl.key)!, secret: !!decl.secret };
    });
  }
}

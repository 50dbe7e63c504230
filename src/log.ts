// The controller's and agent's own structured log: one ECS JSON object per line on stderr, written by pino
// with @elastic/ecs-pino-format ({"log.level","@timestamp",...,"message"}), so Filebeat / Elastic Agent
// ingest it without custom parsing (docs/logging.md). Lines are written synchronously from the logging
// thread: pino's worker-thread transports do not work inside a compiled binary.
// A redaction pass over every finished line is the safety net that keeps secret config values
// (SMTP password, Slack webhook URL, ...) out of the log even when they sneak into an error message.
import type { Config } from "./config/load.ts";
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino from "pino";
import { SCHEMA } from "./config/schema.ts";
import { ecsFields } from "./log-ecs.ts";
import { VERSION } from "./version.ts";

export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line (e.g. {component: "log-writer"}). */
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level?: Level | string;
  /** Literal strings that must never appear in output (values of secret config keys). */
  secrets?: string[];
  /** Where finished lines go (without newline handling: the line ends with "\n"). Default: stderr. */
  write?: (line: string) => void;
  /** Wall clock for the `@timestamp` field; injectable for tests. */
  clock?: () => number;
  /** ECS `service.name` (and `event.dataset`). Default "neurocontroller". */
  service?: string;
}

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const REDACTED = "<redacted>";

export function parseLevel(text: string | undefined): Level {
  const t = (text ?? "").trim().toLowerCase();
  return t in RANK ? (t as Level) : "info";
}

/** Replaces every occurrence of each secret, raw and in its JSON-escaped form. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    // Very short values (e.g. "1") would shred ordinary text; real secrets are longer.
    if (s.length < 4) continue;
    const escaped = JSON.stringify(s).slice(1, -1);
    out = out.split(s).join(REDACTED);
    if (escaped !== s) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

/**
 * Everything in the configuration that must never be printed (for `secrets`): the value of every
 * secret key; for a list-type secret each item and each header value of a name=value item (and the
 * credential after an auth scheme such as "Bearer"); for any URL its user:password, its password
 * (raw and percent-decoded) and, when the URL is itself a secret, its path (webhook tokens live there).
 * Longest first, so a secret that contains another is replaced whole.
 */
export function secretsOf(cfg: Config): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined) => {
    if (s) out.add(s);
  };
  for (const decl of SCHEMA) {
    const v = cfg.value(decl.key);
    const items = Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
    for (const item of items) {
      if (decl.secret) {
        add(item);
        const eq = item.indexOf("=");
        if (decl.type === "list" && eq > 0) {
          const value = item.slice(eq + 1).trim();
          add(value);
          add(/^(?:bearer|basic|apikey|token)\s+(.+)$/i.exec(value)?.[1]);
        }
      }
      if (decl.type === "url") for (const c of urlCredentials(item, !!decl.secret)) add(c);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

function urlCredentials(text: string, secretUrl: boolean): string[] {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return [];
  }
  const out: string[] = [];
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (u.password) out.push(`${u.username}:${u.password}`, u.password, decode(u.password));
  // A bare user name in a URL is usually a token (https://TOKEN@host).
  else if (u.username) out.push(u.username, decode(u.username));
  if (secretUrl && u.pathname.length > 1) out.push(u.pathname + u.search);
  return out;
}

let stderrDestination: pino.DestinationStream | undefined;
/** One synchronous writer on fd 2 per process (sonic-boom, sync: a line is out before the call returns). */
function stderrLine(line: string): void {
  stderrDestination ??= pino.destination({ fd: 2, sync: true });
  stderrDestination.write(line);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = opts.secrets ?? [];
  const write = opts.write ?? stderrLine;
  const clock = opts.clock ?? Date.now;
  const ecs = ecsFormat({ serviceName: opts.service ?? "neurocontroller", serviceVersion: VERSION, apmIntegration: false, convertErr: false });
  const root = pino(
    {
      ...ecs,
      // ecs-pino-format's per-line `log` formatter only copies the object to pull out err/req/res and an
      // APM agent's ids; ecsFields() already did the ECS mapping, so the line is serialised without a copy.
      formatters: { level: ecs.formatters?.level, bindings: ecs.formatters?.bindings },
      level: parseLevel(opts.level),
      base: {},
      timestamp: () => `,"@timestamp":"${new Date(clock()).toISOString()}"`,
    },
    { write: secrets.length ? (line: string) => write(redact(line, secrets)) : write },
  );

  // Levels below the threshold get a no-op, so a disabled debug line costs no field rewriting.
  const off = () => {};
  const on = (level: Level) => root.isLevelEnabled(level);
  const wrap = (p: pino.Logger): Logger => ({
    debug: on("debug") ? (m, f) => (f ? p.debug(ecsFields(f), m) : p.debug(m)) : off,
    info: on("info") ? (m, f) => (f ? p.info(ecsFields(f), m) : p.info(m)) : off,
    warn: on("warn") ? (m, f) => (f ? p.warn(ecsFields(f), m) : p.warn(m)) : off,
    error: (m, f) => (f ? p.error(ecsFields(f), m) : p.error(m)),
    child: (f) => wrap(p.child(ecsFields(f))),
  });
  return wrap(root);
}

/** Discards everything: the default for components constructed without a logger (tests). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });

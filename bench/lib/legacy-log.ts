// The hand-written logger src/log.ts had before pino (commit a654358), kept only as the baseline of
// bench/logging.ts: {"level","time","msg",...fields} per line, process.stderr.write, the same redaction.
// Self-contained (only types from src/log.ts) so loading it does not load pino: the RSS baseline stays clean.
import type { Fields, Level, Logger, LoggerOptions } from "../../src/log.ts";

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function parseLevel(text: string | undefined): Level {
  const t = (text ?? "").trim().toLowerCase();
  return t in RANK ? (t as Level) : "info";
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    const escaped = JSON.stringify(s).slice(1, -1);
    out = out.split(s).join("<redacted>");
    if (escaped !== s) out = out.split(escaped).join("<redacted>");
  }
  return out;
}

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const e = value as NodeJS.ErrnoException;
    return { name: e.name, message: e.message, ...(e.code ? { code: e.code } : {}) };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

export function createLegacyLogger(opts: LoggerOptions = {}): Logger {
  const min = RANK[parseLevel(opts.level)];
  const secrets = opts.secrets ?? [];
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const clock = opts.clock ?? Date.now;
  const make = (base: Fields): Logger => {
    const emit = (level: Level, msg: string, fields?: Fields) => {
      if (RANK[level] < min) return;
      const record: Fields = { level, time: new Date(clock()).toISOString(), msg };
      for (const [k, v] of Object.entries({ ...base, ...fields })) {
        if (k !== "level" && k !== "time" && k !== "msg") record[k] = plain(v);
      }
      let line: string;
      try {
        line = JSON.stringify(record);
      } catch {
        line = JSON.stringify({ level, time: record.time, msg, fields: "<unserialisable>" });
      }
      write(redact(line, secrets) + "\n");
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make({});
}

// The one way input from outside the process is checked: a zod schema per boundary, and a
// RejectSink that counts every refusal by source (neurocontroller_malformed_input_total{source})
// and logs it once per source per interval with the offending payload truncated. Nothing that
// failed its schema may reach state that outlives the process.
import { z } from "zod";

export { z };

/** Where refused input is reported. `source` is a short stable id, e.g. "mqtt.silence-command". */
export interface RejectSink {
  reject(source: string, reason: string, payload?: unknown): void;
}

/** A sink that drops everything (tests and one-shot CLI paths that report errors themselves). */
export const IGNORE_REJECTS: RejectSink = { reject() {} };

/** How much of a refused payload is logged. */
export const LOGGED_PAYLOAD_MAX = 512;

/** A short, single-line preview of any payload (string, bytes or value), at most `max` chars. */
export function preview(payload: unknown, max = LOGGED_PAYLOAD_MAX): string {
  let text: string;
  if (payload === undefined) return "";
  if (typeof payload === "string") text = payload;
  else if (payload instanceof Uint8Array) text = new TextDecoder("utf-8", { fatal: false }).decode(payload.subarray(0, max * 4));
  else {
    try {
      text = JSON.stringify(payload) ?? String(payload);
    } catch {
      text = String(payload);
    }
  }
  // Control characters would let a payload forge log lines or drive a terminal.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** "matchers.0.value: expected string, received number; duration: too long" */
export function describeIssues(err: z.ZodError, maxIssues = 5): string {
  const parts = err.issues.slice(0, maxIssues).map((i) => {
    const path = i.path.map(String).join(".");
    return path ? `${path}: ${i.message}` : i.message;
  });
  if (err.issues.length > maxIssues) parts.push(`(+${err.issues.length - maxIssues} more)`);
  return parts.join("; ");
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Validates `input` against `schema`; on failure reports to `sink` and returns the reason. */
export function parseAt<S extends z.ZodType>(schema: S, input: unknown, source: string, sink: RejectSink): Parsed<z.output<S>> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const reason = describeIssues(r.error);
  sink.reject(source, reason, input);
  return { ok: false, reason };
}

/** JSON text (or bytes) with a size bound, then a schema. Oversize and unparsable input are refusals too. */
export function parseJsonAt<S extends z.ZodType>(
  schema: S,
  raw: string | Uint8Array,
  opts: { source: string; sink: RejectSink; maxBytes: number },
): Parsed<z.output<S>> {
  const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > opts.maxBytes) {
    const reason = `payload of ${size} bytes exceeds the limit of ${opts.maxBytes}`;
    opts.sink.reject(opts.source, reason, typeof raw === "string" ? raw.slice(0, LOGGED_PAYLOAD_MAX) : raw.subarray(0, LOGGED_PAYLOAD_MAX));
    return { ok: false, reason };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
  } catch (e) {
    const reason = `not JSON: ${(e as Error).message}`;
    opts.sink.reject(opts.source, reason, raw);
    return { ok: false, reason };
  }
  return parseAt(schema, value, opts.source, opts.sink);
}

interface CounterLike {
  inc(labels: Record<string, string>, by?: number): void;
}
interface LoggerLike {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * The production sink: every refusal is counted; the first refusal of a source in each
 * `logEveryMs` window is logged with its reason and payload preview, later ones are summarised
 * in the next logged line (`suppressed`), so a flood cannot flood the log.
 */
/**
 * Sources whose payloads may carry secret values (a malformed Secret from the watch stream): their
 * refusals are counted and logged with the reason, never with a payload preview.
 */
const SECRET_BEARING_SOURCE = /secret/i;
const WITHHELD = "(withheld: this source may carry secret values)";

export class CountingRejectSink implements RejectSink {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly counter: CounterLike,
    private readonly log: LoggerLike,
    private readonly clock: () => number = Date.now,
    private readonly logEveryMs = 60_000,
  ) {}

  reject(source: string, reason: string, payload?: unknown): void {
    this.counter.inc({ source });
    const now = this.clock();
    const seen = this.lastLogged.get(source);
    if (seen && now - seen.at < this.logEveryMs) {
      seen.suppressed++;
      return;
    }
    this.log.warn("input refused", {
      source,
      reason: preview(reason),
      payload: SECRET_BEARING_SOURCE.test(source) ? WITHHELD : preview(payload),
      ...(seen?.suppressed ? { suppressed: seen.suppressed } : {}),
    });
    this.lastLogged.set(source, { at: now, suppressed: 0 });
  }
}

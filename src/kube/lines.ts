// Watch-stream framing: one JSON object per line, chunks split anywhere (mid-line, several lines per chunk).
import { IGNORE_REJECTS, parseAt, type RejectSink } from "../boundary/reject.ts";
import { MAX_WATCH_LINE_LENGTH } from "./bounds.ts";
import { canonicalEvent } from "./fast-check.ts";
import { BookmarkObject, checkObject, ErrorStatus, WatchLine } from "./schemas.ts";
import type { KubeObject, WatchEvent } from "./types.ts";

/** A line (or an unterminated stream) longer than the splitter's maximum: the stream cannot be trusted further. */
export class LineTooLongError extends Error {
  constructor(
    readonly length: number,
    readonly max: number,
  ) {
    super(`watch line of ${length}+ characters exceeds the maximum of ${max}`);
    this.name = "LineTooLongError";
  }
}

/**
 * Accumulates decoded text and hands back complete lines (without "\n" / "\r\n"); blank lines dropped.
 * A line longer than `maxLine` characters — complete or still growing — throws LineTooLongError and is
 * dropped, so a stream without a newline cannot grow the process without bound.
 */
export class LineSplitter {
  private rest = "";

  constructor(readonly maxLine = MAX_WATCH_LINE_LENGTH) {}

  push(text: string): string[] {
    if (!text) return [];
    const buf = this.rest + text;
    const out: string[] = [];
    let start = 0;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n", start)) {
      if (nl - start > this.maxLine) this.overflow(nl - start);
      const line = buf.slice(start, nl).trim();
      if (line) out.push(line);
      start = nl + 1;
    }
    if (buf.length - start > this.maxLine) this.overflow(buf.length - start);
    this.rest = buf.slice(start);
    return out;
  }

  private overflow(length: number): never {
    this.rest = "";
    throw new LineTooLongError(length, this.maxLine);
  }

  /** The unterminated tail, if any, when the stream ends. */
  end(): string[] {
    const tail = this.rest.trim();
    this.rest = "";
    return tail ? [tail] : [];
  }

  get pending(): number {
    return this.rest.length;
  }
}

/**
 * One watch line → event, or null when it is not JSON or not a {type, object} event whose object can be
 * used (reported to `sink` under `source`, e.g. "kube.pods"). ERROR carries a Status, BOOKMARK only a
 * resourceVersion; every other event's object must have valid metadata (schemas.ts). Never throws.
 */
export function parseWatchLine(line: string, source = "kube.watch", sink: RejectSink = IGNORE_REJECTS): WatchEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    sink.reject(source, `watch line is not JSON: ${(e as Error).message}`, line);
    return null;
  }
  const fast = canonicalEvent(v); // the usual case, accepted without zod's copy (fast-check.ts)
  if (fast) return fast;
  const ev = parseAt(WatchLine, v, source, sink);
  if (!ev.ok) return null;
  const { type, object } = ev.value;
  if (type === "ERROR") {
    const status = parseAt(ErrorStatus, object, source, sink);
    return status.ok ? { type, object: status.value as unknown as KubeObject } : null;
  }
  if (type === "BOOKMARK") {
    const bookmark = parseAt(BookmarkObject, object, source, sink);
    return bookmark.ok ? { type, object: bookmark.value as unknown as KubeObject } : null;
  }
  const checked = checkObject(object, source, sink);
  return checked ? { type, object: checked } : null;
}

export interface WatchLineReaderOptions {
  maxLine: number;
  /** RejectSink source for refused lines, e.g. "kube.pods". */
  source: string;
  sink: RejectSink;
  /** `lineLength`: the line's length in characters, an upper bound of any string in it (callers skip bound checks with it). */
  onEvent: (ev: WatchEvent, lineLength: number) => void;
  onMalformed: (line: string) => void;
}

/** A watch response's bytes → checked events: decoded (UTF-8 split anywhere), framed with a bounded line, parsed. */
export class WatchLineReader {
  private readonly decoder = new TextDecoder();
  private readonly lines: LineSplitter;

  constructor(private readonly opts: WatchLineReaderOptions) {
    this.lines = new LineSplitter(opts.maxLine);
  }

  /** One chunk; throws LineTooLongError when a line passes the maximum (the stream must be dropped). */
  push(bytes: Uint8Array): void {
    this.deliver(this.lines.push(this.decoder.decode(bytes, { stream: true })));
  }

  /** The stream ended: what the decoder and splitter still hold. */
  end(): void {
    this.deliver(this.lines.push(this.decoder.decode()));
    this.deliver(this.lines.end());
  }

  private deliver(list: string[]): void {
    for (const line of list) {
      const ev = parseWatchLine(line, this.opts.source, this.opts.sink);
      if (ev) this.opts.onEvent(ev, line.length);
      else this.opts.onMalformed(line);
    }
  }
}

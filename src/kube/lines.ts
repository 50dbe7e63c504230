// Watch-stream framing: one JSON object per line, chunks split anywhere (mid-line, several lines per chunk).
import type { WatchEvent, WatchEventType } from "./types.ts";

/** Accumulates decoded text and hands back complete lines (without "\n" / "\r\n"); blank lines dropped. */
export class LineSplitter {
  private rest = "";

  push(text: string): string[] {
    if (!text) return [];
    const buf = this.rest + text;
    const out: string[] = [];
    let start = 0;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n", start)) {
      const line = buf.slice(start, nl).trim();
      if (line) out.push(line);
      start = nl + 1;
    }
    this.rest = buf.slice(start);
    return out;
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

const TYPES = new Set<WatchEventType>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/** One watch line → event, or null when it is not JSON or not a {type, object} event. */
export function parseWatchLine(line: string): WatchEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const { type, object } = v as { type?: unknown; object?: unknown };
  if (typeof type !== "string" || !TYPES.has(type as WatchEventType)) return null;
  if (!object || typeof object !== "object") return null;
  // Everything but ERROR (a Status) must carry metadata.
  if (type !== "ERROR" && typeof (object as { metadata?: unknown }).metadata !== "object") return null;
  return v as WatchEvent;
}

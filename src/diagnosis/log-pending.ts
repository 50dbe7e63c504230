// Lines decided but not yet on disk, and the log's durable length (the cursor). The writer takes
// lines from the head, appends + fsyncs them, then calls complete(): only then are they "logged".
// The controller keeps this queue in state.db (src/store/log-queue.ts) so pending lines survive a
// restart; MemoryLogQueue is for commands and tests that have no state store.
import type { LoggedEntry } from "./reconcile.ts";

/** One decided line: which anomaly key, and the entry the logged set takes once it is written. */
export interface QueuedLine {
  key: string;
  entry: LoggedEntry;
}

export interface PendingRow extends QueuedLine {
  seq: number;
}

/**
 * Where cleaned_events.log stood at the last durable commit: its inode and length. Bytes past
 * `size` in the same inode were appended after that commit (a crash, a failed fsync or a full
 * disk) and are cut off before the next write, so a line is in the file once and whole.
 */
export interface LogCursor {
  ino: number;
  size: number;
}

export interface LogQueue {
  /** Adds lines at the tail, dropping the oldest beyond the bound. Returns how many were dropped. Throws when it cannot persist them. */
  add(lines: readonly QueuedLine[]): number;
  /** The oldest `limit` pending rows. */
  peek(limit: number): PendingRow[];
  /** The rows are on disk: removes them, records them as logged and stores the cursor, atomically. Throws when it cannot. */
  complete(rows: readonly PendingRow[], cursor: LogCursor): void;
  /** Records the cursor alone (after a rotation or a start-up repair). Throws when it cannot. */
  setCursor(cursor: LogCursor): void;
  cursor(): LogCursor | undefined;
  /** The newest pending entry per key: the logged set as it will be once everything pending is written. */
  latestByKey(): Map<string, LoggedEntry>;
  readonly size: number;
  /** Lines dropped because the queue was full (monotonic, this process). */
  readonly dropped: number;
}

export const DEFAULT_PENDING_MAX = 10_000;

/** In memory: what survives is what the process survives. */
export class MemoryLogQueue implements LogQueue {
  private rows: PendingRow[] = [];
  private nextSeq = 1;
  private cur?: LogCursor;
  private droppedTotal = 0;
  /** What complete() recorded, for callers without a store. */
  readonly logged = new Map<string, LoggedEntry>();

  constructor(private readonly max = DEFAULT_PENDING_MAX) {}

  add(lines: readonly QueuedLine[]): number {
    for (const l of lines) this.rows.push({ ...l, seq: this.nextSeq++ });
    const excess = Math.max(0, this.rows.length - Math.max(1, this.max));
    if (excess) this.rows.splice(0, excess);
    this.droppedTotal += excess;
    return excess;
  }

  peek(limit: number): PendingRow[] {
    return this.rows.slice(0, limit);
  }

  complete(rows: readonly PendingRow[], cursor: LogCursor): void {
    const done = new Set(rows.map((r) => r.seq));
    this.rows = this.rows.filter((r) => !done.has(r.seq));
    for (const r of rows) this.logged.set(r.key, r.entry);
    this.cur = cursor;
  }

  setCursor(cursor: LogCursor): void {
    this.cur = cursor;
  }

  cursor(): LogCursor | undefined {
    return this.cur;
  }

  latestByKey(): Map<string, LoggedEntry> {
    return new Map(this.rows.map((r) => [r.key, r.entry]));
  }

  get size(): number {
    return this.rows.length;
  }

  get dropped(): number {
    return this.droppedTotal;
  }
}

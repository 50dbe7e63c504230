// Writer of cleaned_events.log (an external contract: scripts parse it). JSON Lines with the seed's
// fields in the seed's order plus `status`. Appended in batches every DIAGNOSIS_WRITE_INTERVAL,
// rotated by size like logrotate (cleaned_events.log.1 is the newest rotated file). A line is never
// split across files.
// Durability: lines wait in a LogQueue (state.db in the controller) until a batch is appended AND
// fsync'd; only then are they completed (marked logged) together with the file's new length (the
// cursor). Bytes past the cursor — a partial append on a full disk, a batch whose commit failed, a
// crash between the two — are cut off before the next append and at start-up, so every line is in
// the file exactly once and whole. If the directory cannot be written, lines stay queued (bounded,
// oldest dropped and counted) and are retried at every flush; the error is logged once per streak.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/load.ts";
import { silentLogger, type Logger } from "../log.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { DEFAULT_PENDING_MAX, MemoryLogQueue, type LogCursor, type LogQueue, type PendingRow } from "./log-pending.ts";
import type { LogLine, LogStatus } from "./reconcile.ts";

export const LOG_FILE_NAME = "cleaned_events.log";
/** Rows taken from the queue per append (bounds memory when thousands are pending). */
const BATCH_ROWS = 1000;

export interface LogWriterOptions {
  dir: string;
  /** NEURO_LOG_MAX_SIZE: rotate before the file would grow past this many bytes. */
  maxBytes: number;
  /** NEURO_LOG_MAX_FILES: rotated files kept (.1 … .N). */
  maxFiles: number;
  /** Lines kept while the file cannot be written; beyond it the oldest are dropped (counted). Ignored with `queue`. */
  pendingMax?: number;
  /** Where pending lines wait (default: in memory). The controller passes its state.db queue. */
  queue?: LogQueue;
  logger?: Logger;
}

/** What the writer needs of a line (reconcile's LogLine fits; the key is not written). */
export type PendingLine = Pick<LogLine, "anomaly" | "status">;

/** One cleaned_events.log line as an object, keys in contract order. */
export interface LogRecord {
  time: string;
  eventTime: string;
  kind: string;
  namespace: string;
  name: string;
  node: string;
  reason: string;
  message: string;
  severity: string;
  category: string;
  status: LogStatus;
}

export interface FlushResult {
  written: number;
  /** The records appended by this flush (pending ones from earlier failed flushes first). */
  lines: LogRecord[];
  pending: number;
  /** Lines dropped from the pending queue since start (monotonic). */
  dropped: number;
  error?: NodeJS.ErrnoException;
}

/** RFC 3339 UTC with second precision, like the seed's `2025-06-09T08:42:20Z`. */
export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The record for one anomaly; the key order is the contract (`scan --output json` prints the same). */
export function toLogLine(a: Anomaly, writtenAt: number, status: LogStatus): LogRecord {
  return {
    time: rfc3339Seconds(writtenAt),
    eventTime: a.eventTime,
    kind: a.kind,
    namespace: a.namespace,
    name: a.name,
    node: a.node,
    reason: a.reason,
    message: a.message,
    severity: a.severity,
    category: a.category,
    status,
  };
}

export function formatLine(line: PendingLine, writtenAt: number): string {
  return JSON.stringify(toLogLine(line.anomaly, writtenAt, line.status));
}

export class LogWriter {
  readonly path: string;
  readonly queue: LogQueue;
  private writtenTotal = 0;
  private errorsTotal = 0;
  private repaired = false;
  private failure?: { since: number; error: NodeJS.ErrnoException };
  private readonly log: Logger;

  constructor(private readonly opts: LogWriterOptions) {
    this.path = join(opts.dir, LOG_FILE_NAME);
    this.queue = opts.queue ?? new MemoryLogQueue(opts.pendingMax ?? DEFAULT_PENDING_MAX);
    this.log = opts.logger ?? silentLogger;
  }

  static fromConfig(cfg: Config, logger?: Logger, queue?: LogQueue): LogWriter {
    return new LogWriter({
      dir: cfg.str("NEURO_LOG_DIR"),
      maxBytes: cfg.num("NEURO_LOG_MAX_SIZE"),
      maxFiles: cfg.num("NEURO_LOG_MAX_FILES"),
      queue,
      logger,
    });
  }

  /** Queues lines for the next flush (bounded: the oldest are dropped past the queue's maximum). Throws when the queue cannot persist them. */
  enqueue(lines: readonly LogLine[], decidedAt: number = Date.now()): void {
    if (lines.length === 0) return;
    this.queue.add(lines.map((l) => ({ key: l.key, entry: { anomaly: l.anomaly, status: l.status, loggedAt: decidedAt } })));
  }

  /** Appends every pending line, `time` = `now`. Never throws; failures keep lines pending. */
  flush(now: number): FlushResult {
    const lines: LogRecord[] = [];
    let error: NodeJS.ErrnoException | undefined;
    try {
      if (!this.repaired) this.repair();
      if (this.queue.size > 0) this.appendPending(now, lines);
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    const written = lines.length;
    this.writtenTotal += written;
    if (error) this.reportFailure(error, now);
    else if (this.failure && this.queue.size === 0) {
      this.failure = undefined;
      this.log.info("cleaned_events.log is writable again; pending lines written", { path: this.path, written });
    }
    return { written, lines, pending: this.queue.size, dropped: this.queue.dropped, error };
  }

  /** enqueue + flush: one write cycle. */
  append(lines: readonly LogLine[], now: number): FlushResult {
    this.enqueue(lines, now);
    return this.flush(now);
  }

  /**
   * Start-up repair: cuts whatever follows the last durable commit (or, for a file the cursor does
   * not know, a trailing partial line). Runs before the first append; callable earlier so a damaged
   * file is fixed and reported at start-up. Throws when the directory cannot be read or written.
   */
  repair(): void {
    if (!existsSync(this.path)) {
      this.repaired = true;
      return;
    }
    const fd = openSync(this.path, "r+");
    try {
      this.reconcileWithCursor(fd);
      this.repaired = true;
    } finally {
      closeSync(fd);
    }
  }

  get pendingCount(): number {
    return this.queue.size;
  }
  get droppedCount(): number {
    return this.queue.dropped;
  }
  get writtenCount(): number {
    return this.writtenTotal;
  }
  /** Failed flushes (monotonic), for neurocontroller_log_write_errors_total. */
  get errorCount(): number {
    return this.errorsTotal;
  }
  /** Set while the last flush failed: since when, and why. */
  get failing(): { since: number; error: NodeJS.ErrnoException } | undefined {
    return this.failure;
  }

  // Each chunk fits the current file and is one write + fsync + commit. A failure anywhere cuts the
  // file back to the chunk's start, so its lines stay pending and are never written twice.
  private appendPending(now: number, out: LogRecord[]): void {
    mkdirSync(this.opts.dir, { recursive: true });
    let file = this.open();
    try {
      for (;;) {
        const rows = this.queue.peek(BATCH_ROWS);
        if (rows.length === 0) return;
        const { text, taken, records } = this.chunk(rows, now, file.size);
        if (taken === 0) {
          closeSync(file.fd);
          this.rotate();
          file = this.open();
          continue;
        }
        const buf = Buffer.from(text);
        try {
          writeAll(file.fd, buf);
          fsyncSync(file.fd);
          this.queue.complete(rows.slice(0, taken), { ino: file.ino, size: file.size + buf.length });
        } catch (e) {
          this.cutBack(file.fd, file.size);
          throw e;
        }
        file.size += buf.length;
        out.push(...records);
      }
    } finally {
      closeSync(file.fd);
    }
  }

  /** The rows that fit in the file after `size` bytes (an oversized line goes alone into a fresh file). */
  private chunk(rows: PendingRow[], now: number, size: number): { text: string; taken: number; records: LogRecord[] } {
    let text = "";
    let bytes = 0;
    const records: LogRecord[] = [];
    for (const row of rows) {
      const record = toLogLine(row.entry.anomaly, now, row.entry.status);
      const line = JSON.stringify(record) + "\n";
      const n = Buffer.byteLength(line);
      if (size + bytes + n > this.opts.maxBytes && (size > 0 || records.length > 0)) break;
      text += line;
      bytes += n;
      records.push(record);
    }
    return { text, taken: records.length, records };
  }

  /** Opens the active file for appending, repaired against the cursor; a new file is made durable in its directory. */
  private open(): { fd: number; ino: number; size: number } {
    const created = !existsSync(this.path);
    const fd = openSync(this.path, "a+"); // a+: the repair may need to read the tail
    try {
      if (created) fsyncDir(this.opts.dir);
      const { ino, size } = this.reconcileWithCursor(fd);
      return { fd, ino, size };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Makes the file agree with the cursor (see LogCursor) and records where it now ends. */
  private reconcileWithCursor(fd: number): LogCursor {
    const st = fstatSync(fd);
    const ino = Number(st.ino);
    let size = st.size;
    const cur = this.queue.cursor();
    if (cur && cur.ino === ino && size > cur.size) {
      ftruncateSync(fd, cur.size);
      this.log.warn("cut bytes appended to cleaned_events.log after its last durable commit; their lines are still pending and are written again", {
        path: this.path,
        bytes: size - cur.size,
      });
      size = cur.size;
    } else if (!cur || cur.ino !== ino || size < cur.size) {
      // A file this writer has no cursor for (first run, moved by logrotate, restored, truncated —
      // a replaced file may even reuse the inode number): keep it, minus a torn last line.
      const whole = lastNewlineEnd(fd, size);
      if (whole < size) {
        ftruncateSync(fd, whole);
        this.log.warn("cut a partial last line from cleaned_events.log", { path: this.path, bytes: size - whole });
        size = whole;
      }
    }
    if (!cur || cur.ino !== ino || cur.size !== size) this.queue.setCursor({ ino, size });
    return { ino, size };
  }

  private cutBack(fd: number, size: number): void {
    try {
      ftruncateSync(fd, size);
    } catch {
      // The next open() cuts it (same inode, longer than the cursor).
    }
  }

  /** cleaned_events.log -> .1 -> .2 … ; the one that would become .N+1 is deleted. */
  private rotate(): void {
    const n = this.opts.maxFiles;
    rmSync(`${this.path}.${n}`, { force: true });
    for (let i = n - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
  }

  private reportFailure(err: NodeJS.ErrnoException, now: number): void {
    this.errorsTotal++;
    const first = !this.failure;
    this.failure = { since: this.failure?.since ?? now, error: err };
    if (!first) return; // once per streak: a broken disk must not flood the journal every 6 s
    this.log.error(
      `cannot write ${this.path}: ${err.code ?? "error"} (${err.message}). ` +
        `Lines are kept pending (up to the queue's bound, oldest dropped and counted beyond) and retried at every write interval. ` +
        `Fix: make ${this.opts.dir} a writable directory with free space for the controller's user, or point NEURO_LOG_DIR elsewhere.`,
      { path: this.path, errno: err.code, pending: this.queue.size },
    );
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** The length of the file up to and including its last newline (0 when it has none). */
function lastNewlineEnd(fd: number, size: number): number {
  if (size === 0) return 0;
  const block = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const n = readSync(fd, block, 0, end - start, start);
    const i = block.subarray(0, n).lastIndexOf(10);
    if (i >= 0) return start + i + 1;
    end = start;
  }
  return 0;
}

/** A file created or renamed survives a power cut only once its directory entry is on disk too. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is still fsync'd.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

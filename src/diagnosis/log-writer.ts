// Writer of cleaned_events.log (an external contract: scripts parse it). JSON Lines with the seed's
// fields in the seed's order plus `status`. Appended in batches every DIAGNOSIS_WRITE_INTERVAL,
// rotated by size like logrotate (cleaned_events.log.1 is the newest rotated file). A line is never
// split across files. If the directory cannot be written, lines wait in a bounded buffer and are
// retried at the next flush; the error is logged once per failure streak, and the process goes on.
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/load.ts";
import { silentLogger, type Logger } from "../log.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { LogLine, LogStatus } from "./reconcile.ts";

export const LOG_FILE_NAME = "cleaned_events.log";
const DEFAULT_PENDING_MAX = 10_000;

export interface LogWriterOptions {
  dir: string;
  /** NEURO_LOG_MAX_SIZE: rotate before the file would grow past this many bytes. */
  maxBytes: number;
  /** NEURO_LOG_MAX_FILES: rotated files kept (.1 … .N). */
  maxFiles: number;
  /** Lines kept while the file cannot be written; beyond it the oldest are dropped (counted). */
  pendingMax?: number;
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
  /** Lines dropped from the pending buffer since start (monotonic). */
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
  private pending: PendingLine[] = [];
  private droppedTotal = 0;
  private writtenTotal = 0;
  private errorsTotal = 0;
  private failing = false;
  private readonly pendingMax: number;
  private readonly log: Logger;

  constructor(private readonly opts: LogWriterOptions) {
    this.path = join(opts.dir, LOG_FILE_NAME);
    this.pendingMax = Math.max(1, opts.pendingMax ?? DEFAULT_PENDING_MAX);
    this.log = opts.logger ?? silentLogger;
  }

  static fromConfig(cfg: Config, logger?: Logger): LogWriter {
    return new LogWriter({
      dir: cfg.str("NEURO_LOG_DIR"),
      maxBytes: cfg.num("NEURO_LOG_MAX_SIZE"),
      maxFiles: cfg.num("NEURO_LOG_MAX_FILES"),
      logger,
    });
  }

  /** Queues lines for the next flush (bounded: the oldest are dropped past pendingMax). */
  enqueue(lines: readonly PendingLine[]): void {
    for (const l of lines) this.pending.push(l); // no spread: a huge batch must not overflow the stack
    const excess = this.pending.length - this.pendingMax;
    if (excess > 0) {
      this.pending.splice(0, excess);
      this.droppedTotal += excess;
    }
  }

  /** Appends every pending line, `time` = `now`. Never throws; failures keep lines pending. */
  flush(now: number): FlushResult {
    const lines: LogRecord[] = [];
    let error: NodeJS.ErrnoException | undefined;
    if (this.pending.length > 0) {
      try {
        this.appendAll(now, lines);
      } catch (e) {
        error = e as NodeJS.ErrnoException;
      }
    }
    const written = lines.length;
    this.writtenTotal += written;
    if (error) this.reportFailure(error);
    else if (this.failing && this.pending.length === 0) {
      this.failing = false;
      this.log.info("cleaned_events.log is writable again; pending lines written", { path: this.path, written });
    }
    return { written, lines, pending: this.pending.length, dropped: this.droppedTotal, error };
  }

  /** enqueue + flush: what the write cycle calls every DIAGNOSIS_WRITE_INTERVAL. */
  append(lines: readonly PendingLine[], now: number): FlushResult {
    this.enqueue(lines);
    return this.flush(now);
  }

  get pendingCount(): number {
    return this.pending.length;
  }
  get droppedCount(): number {
    return this.droppedTotal;
  }
  get writtenCount(): number {
    return this.writtenTotal;
  }
  /** Failed flushes (monotonic), for neurocontroller_log_write_errors_total. */
  get errorCount(): number {
    return this.errorsTotal;
  }

  // Writes in chunks that fit the current file; each chunk is one append, so on failure the lines
  // of the failed chunk and after stay pending and nothing is written twice.
  private appendAll(now: number, out: LogRecord[]): void {
    mkdirSync(this.opts.dir, { recursive: true });
    // Re-read the size every flush: an external logrotate or a user may have moved the file.
    let size = existsSync(this.path) ? statSync(this.path).size : 0;
    while (this.pending.length > 0) {
      let chunk = "";
      let chunkBytes = 0;
      const records: LogRecord[] = [];
      for (const line of this.pending) {
        const record = toLogLine(line.anomaly, now, line.status);
        const text = JSON.stringify(record) + "\n";
        const bytes = Buffer.byteLength(text);
        // An oversized line still goes out, alone in a fresh file, rather than being lost or split.
        if (size + chunkBytes + bytes > this.opts.maxBytes && (size > 0 || records.length > 0)) break;
        chunk += text;
        chunkBytes += bytes;
        records.push(record);
      }
      if (records.length === 0) {
        this.rotate();
        size = 0;
        continue;
      }
      appendFileSync(this.path, chunk);
      size += chunkBytes;
      this.pending.splice(0, records.length);
      out.push(...records);
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

  private reportFailure(err: NodeJS.ErrnoException): void {
    this.errorsTotal++;
    if (this.failing) return; // once per streak: a broken disk must not flood the journal every 6 s
    this.failing = true;
    this.log.error(
      `cannot write ${this.path}: ${err.code ?? "error"} (${err.message}). ` +
        `Lines are kept in memory (up to ${this.pendingMax}, oldest dropped beyond) and retried at every write interval. ` +
        `Fix: make ${this.opts.dir} a writable directory for the controller's user, or point NEURO_LOG_DIR elsewhere.`,
      { path: this.path, errno: err.code, pending: this.pending.length },
    );
  }
}

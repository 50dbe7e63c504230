// The tamper-evident action log (docs/audit.md): audit.log in NEURO_LOG_DIR, JSON Lines, one ActionRecord per
// entry, each entry carrying the SHA-256 of the previous one (hash chain), fsync'd before append() returns.
// Rotation renames audit.log → audit.log.1 … .N and the new file's first entry chains to the last of the old
// one, so `neurocontroller audit --verify` checks across files. An edited, deleted or reordered entry breaks
// the chain at that entry, and verify names it.
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { ActionRecord } from "../model/action.ts";

export const AUDIT_LOG_NAME = "audit.log";
export const GENESIS = "0".repeat(64);

export interface AuditEntry {
  seq: number;
  /** RFC 3339: when the entry was written. */
  logged: string;
  /** Hash of the previous entry (GENESIS for the first ever). */
  prev: string;
  record: ActionRecord;
  /** SHA-256 over prev and the entry's content (entryHash). */
  hash: string;
}

/** The hash of an entry: over its sequence, time, previous hash and record, in a fixed field order. */
export function entryHash(e: Omit<AuditEntry, "hash">): string {
  return createHash("sha256")
    .update(JSON.stringify([e.seq, e.logged, e.prev, e.record]))
    .digest("hex");
}

/** Files oldest first: audit.log.N … audit.log.1, audit.log (those that exist). */
export function auditFiles(dir: string, maxFiles = 1000): string[] {
  const out: string[] = [];
  for (let i = maxFiles; i >= 1; i--) if (existsSync(join(dir, `${AUDIT_LOG_NAME}.${i}`))) out.push(join(dir, `${AUDIT_LOG_NAME}.${i}`));
  if (existsSync(join(dir, AUDIT_LOG_NAME))) out.push(join(dir, AUDIT_LOG_NAME));
  return out;
}

function lastEntry(files: string[]): { seq: number; hash: string } | undefined {
  for (let i = files.length - 1; i >= 0; i--) {
    const lines = readFileSync(files[i]!, "utf8").split("\n").filter(Boolean);
    for (let j = lines.length - 1; j >= 0; j--) {
      try {
        const e = JSON.parse(lines[j]!) as AuditEntry;
        if (typeof e.seq === "number" && typeof e.hash === "string") return { seq: e.seq, hash: e.hash };
      } catch {
        // a torn last line (power cut mid-write) is skipped; verify reports it
      }
    }
  }
  return undefined;
}

export class AuditLog {
  private fd?: number;
  private seq: number;
  private prev: string;
  private readonly path: string;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = 10 * 1024 * 1024,
    private readonly maxFiles = 10,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, AUDIT_LOG_NAME);
    const last = lastEntry(auditFiles(dir, maxFiles + 1));
    this.seq = last?.seq ?? 0;
    this.prev = last?.hash ?? GENESIS;
  }

  /** Appends one entry and fsyncs it; throws when the disk refuses (the caller logs it). */
  append(record: ActionRecord): AuditEntry {
    const base = { seq: this.seq + 1, logged: new Date(this.now()).toISOString(), prev: this.prev, record };
    const entry: AuditEntry = { ...base, hash: entryHash(base) };
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    this.fd ??= openSync(this.path, "a", 0o640);
    if (fstatSync(this.fd).size > 0 && fstatSync(this.fd).size + line.byteLength > this.maxBytes) this.rotate();
    this.fd ??= openSync(this.path, "a", 0o640);
    writeSync(this.fd, line);
    fsyncSync(this.fd);
    this.seq = entry.seq;
    this.prev = entry.hash;
    return entry;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private rotate(): void {
    this.close();
    rmSync(join(this.dir, `${AUDIT_LOG_NAME}.${this.maxFiles}`), { force: true });
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      const from = join(this.dir, `${AUDIT_LOG_NAME}.${i}`);
      if (existsSync(from)) renameSync(from, join(this.dir, `${AUDIT_LOG_NAME}.${i + 1}`));
    }
    renameSync(this.path, join(this.dir, `${AUDIT_LOG_NAME}.1`));
  }
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** The first broken entry: file, line (1-based), its seq when readable, and what is wrong. */
  broken?: { file: string; line: number; seq?: number; problem: string };
}

/**
 * Checks the chain over every file, oldest first. The oldest kept entry's prev cannot be checked once older
 * files were rotated away (it is GENESIS only when nothing was); every later link is checked.
 */
export function verifyAuditLog(dir: string, maxFiles = 1000): VerifyResult {
  const present = new Set(readAuditLog(dir, 0, maxFiles).map((e) => e.seq));
  let prev: string | undefined;
  let seq: number | undefined;
  let entries = 0;
  for (const file of auditFiles(dir, maxFiles)) {
    const lines = readFileSync(file, "utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const at = { file, line: i + 1 };
      let e: AuditEntry;
      try {
        e = JSON.parse(lines[i]!) as AuditEntry;
      } catch {
        return { ok: false, entries, broken: { ...at, problem: "not a JSON entry (edited or torn)" } };
      }
      const { hash, ...rest } = e;
      if (typeof e.seq !== "number" || typeof hash !== "string") return { ok: false, entries, broken: { ...at, problem: "not an audit entry" } };
      if (entryHash(rest) !== hash) return { ok: false, entries, broken: { ...at, seq: e.seq, problem: "content does not match its hash (edited)" } };
      if (seq !== undefined && e.seq !== seq + 1) {
        const problem =
          e.seq > seq + 1 && !present.has(seq + 1)
            ? `entr${e.seq - seq > 2 ? `ies ${seq + 1}…${e.seq - 1} are` : `y ${seq + 1} is`} missing (deleted)`
            : `entry ${e.seq} is out of order after entry ${seq} (reordered)`;
        return { ok: false, entries, broken: { ...at, seq: e.seq, problem } };
      }
      if (prev !== undefined && e.prev !== prev) {
        return {
          ok: false,
          entries,
          broken: { ...at, seq: e.seq, problem: `previous-hash link broken: entry ${seq} was rewritten with a new hash` },
        };
      }
      if (prev === undefined && e.seq === 1 && e.prev !== GENESIS)
        return { ok: false, entries, broken: { ...at, seq: 1, problem: "first entry does not start the chain" } };
      prev = hash;
      seq = e.seq;
      entries++;
    }
  }
  return { ok: true, entries };
}

/** Entries (oldest first) logged at or after sinceMs; unreadable lines skipped (verify reports them). */
export function readAuditLog(dir: string, sinceMs = 0, maxFiles = 1000): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const file of auditFiles(dir, maxFiles)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as AuditEntry;
        if (Date.parse(e.logged) >= sinceMs) out.push(e);
      } catch {
        // skipped
      }
    }
  }
  return out;
}

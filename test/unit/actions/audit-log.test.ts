// audit.log: a hash chain across rotations; verify passes on a real log and names the first edited, deleted
// or reordered entry (each tampering tried on its own copy, through the CLI too).
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUDIT_LOG_NAME, AuditLog, readAuditLog, verifyAuditLog } from "../../../src/actions/audit-log.ts";
import { startAuditTrail } from "../../../src/actions/audit-trail.ts";
import { ActionJournal } from "../../../src/actions/journal.ts";
import { Config } from "../../../src/config/load.ts";
import { silentLogger } from "../../../src/log.ts";
import type { ActionRecord } from "../../../src/model/action.ts";
import { ActionHistory } from "../../../src/store/action-history.ts";
import { command } from "../../support/controller.ts";

const record = (i: number): ActionRecord => ({
  id: `healing:Node//pi-${i}:cordon:1`,
  time: new Date(Date.UTC(2026, 11, 4, 10, 0, i)).toISOString(),
  source: "healing",
  mode: "dry-run",
  target: { kind: "Node", namespace: "", name: `pi-${i}` },
  step: "cordon",
  outcome: "planned",
  reason: "NotReady for 6m",
  summary: `Would cordon node pi-${i}`,
});

/** A real log of 30 entries over several rotated files. */
function realLog(): string {
  const dir = mkdtempSync(join(tmpdir(), "nc-audit-"));
  const log = new AuditLog(dir, 2048, 20);
  for (let i = 1; i <= 30; i++) log.append(record(i));
  log.close();
  return dir;
}

function tampered(dir: string, edit: (lines: string[]) => void): string {
  const copy = mkdtempSync(join(tmpdir(), "nc-audit-t-"));
  cpSync(dir, copy, { recursive: true });
  const file = join(copy, AUDIT_LOG_NAME);
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  edit(lines);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return copy;
}

const cli = (dir: string) => Bun.spawnSync(command("source", ["audit", "--verify", "--log-dir", dir]), { env: { PATH: process.env.PATH ?? "" } });

describe("audit.log", () => {
  const dir = realLog();
  const current = () => readFileSync(join(dir, AUDIT_LOG_NAME), "utf8").split("\n").filter(Boolean);

  test("rotation keeps the chain: every entry verifies across files, and a reopened log continues it", () => {
    expect(readdirSync(dir).filter((f) => f.startsWith(`${AUDIT_LOG_NAME}.`)).length).toBeGreaterThan(2);
    expect(verifyAuditLog(dir)).toEqual({ ok: true, entries: 30 });
    const again = new AuditLog(dir, 2048, 20);
    expect(again.append(record(31)).seq).toBe(31);
    again.close();
    expect(verifyAuditLog(dir)).toEqual({ ok: true, entries: 31 });
    expect(readAuditLog(dir).map((e) => e.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    const r = cli(dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toContain("chain intact: 31 entries");
  });

  test("an edited entry is named", () => {
    const lines = current();
    const seq = JSON.parse(lines[1]!).seq;
    const copy = tampered(dir, (l) => (l[1] = l[1]!.replace("Would cordon", "Did not cordon")));
    const r = verifyAuditLog(copy);
    expect(r.ok).toBe(false);
    expect(r.broken).toMatchObject({ file: join(copy, AUDIT_LOG_NAME), line: 2, seq, problem: "content does not match its hash (edited)" });
    const out = cli(copy);
    expect(out.exitCode).toBe(1);
    expect(out.stdout.toString()).toContain(`line 2 (entry ${seq}): content does not match its hash (edited)`);
  });

  test("a deleted entry is named", () => {
    const seq = JSON.parse(current()[1]!).seq;
    const r = verifyAuditLog(tampered(dir, (l) => l.splice(1, 1)));
    expect(r.broken).toMatchObject({ line: 2, seq: seq + 1, problem: `entry ${seq} is missing (deleted)` });
  });

  test("reordered entries are named", () => {
    const seq = JSON.parse(current()[1]!).seq;
    const r = verifyAuditLog(tampered(dir, (l) => ([l[1], l[2]] = [l[2]!, l[1]!])));
    expect(r.broken).toMatchObject({ line: 2, seq: seq + 1, problem: `entry ${seq + 1} is out of order after entry ${seq - 1} (reordered)` });
  });

  test("the journal appends every action once; silences and the configuration are recorded as operator actions", () => {
    const logDir = mkdtempSync(join(tmpdir(), "nc-audit-j-"));
    const journal = new ActionJournal(new ActionHistory(new Database(":memory:")), silentLogger);
    const config = Config.with({ NEURO_LOG_DIR: logDir });
    const onSilences = startAuditTrail(config, journal, silentLogger, () => Date.UTC(2026, 11, 4));
    journal.record(record(1));
    journal.record(record(1)); // a replay is not appended again
    const silence = {
      id: "s1",
      matchers: [{ field: "namespace" as const, value: "shop" }],
      startsAt: 1,
      endsAt: 2,
      createdBy: "alice",
      comment: "deploy",
      createdAt: 5,
      updatedAt: 5,
    };
    onSilences([silence]);
    onSilences([silence]);
    const steps = readAuditLog(logDir).map((e) => `${e.record.source}:${e.record.step}:${e.record.actor ?? ""}`);
    expect(steps).toEqual(["operator:config-load:", "healing:cordon:", "operator:silence:alice"]);
    expect(verifyAuditLog(logDir).ok).toBe(true);
    // the same configuration at the next start is not a new entry
    startAuditTrail(config, journal, silentLogger, () => Date.UTC(2026, 11, 5));
    expect(readAuditLog(logDir).length).toBe(3);
  });
});

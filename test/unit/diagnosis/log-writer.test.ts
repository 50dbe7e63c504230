import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Config } from "../../../src/config/load.ts";
import { formatLine, LOG_FILE_NAME, LogWriter, rfc3339Seconds, toLogLine } from "../../../src/diagnosis/log-writer.ts";
import type { LogLine } from "../../../src/diagnosis/reconcile.ts";
import { createLogger } from "../../../src/log.ts";
import { anomalyKey } from "../../../src/model/anomaly.ts";
import { anomaly, T0 } from "./fixtures.ts";

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), "neuro-log-"))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const line = (name: string, status: "firing" | "resolved" = "firing"): LogLine => {
  const a = anomaly({ name });
  return { key: anomalyKey(a), anomaly: a, status };
};

/** Every line of the active file and its rotations, oldest first. */
function allLines(dir: string, maxFiles: number): string[] {
  const out: string[] = [];
  for (let i = maxFiles; i >= 0; i--) {
    const p = join(dir, i === 0 ? LOG_FILE_NAME : `${LOG_FILE_NAME}.${i}`);
    if (existsSync(p)) out.push(...readFileSync(p, "utf8").split("\n").filter(Boolean));
  }
  return out;
}

describe("cleaned_events.log format", () => {
  test("seed fields in seed order, plus status; time in RFC 3339 UTC seconds", () => {
    const text = formatLine(line("web-1"), T0 + 999);
    expect(Object.keys(JSON.parse(text))).toEqual([
      "time",
      "eventTime",
      "kind",
      "namespace",
      "name",
      "node",
      "reason",
      "message",
      "severity",
      "category",
      "status",
    ]);
    expect(JSON.parse(text)).toMatchObject({ time: "2025-06-09T08:42:20Z", eventTime: "2025-06-09T08:42:05Z", status: "firing" });
    expect(rfc3339Seconds(Date.parse("2025-01-02T03:04:05.678Z"))).toBe("2025-01-02T03:04:05Z");
  });
});

describe("CleanedEventLog", () => {
  test("creates the directory and appends batches", () => {
    const dir = join(tmp, "a", "b");
    const w = new LogWriter({ dir, maxBytes: 1 << 20, maxFiles: 3 });
    w.enqueue([line("p1"), line("p2")]);
    expect(existsSync(dir)).toBe(false); // nothing before the flush
    const r = w.flush(T0);
    expect([r.written, r.pending, r.dropped, r.error]).toEqual([2, 0, 0, undefined]);
    expect(r.lines).toEqual([toLogLine(anomaly({ name: "p1" }), T0, "firing"), toLogLine(anomaly({ name: "p2" }), T0, "firing")]);
    w.append([line("p1", "resolved")], T0 + 6000);
    const got = allLines(dir, 3).map((l) => JSON.parse(l));
    expect(got.map((o) => `${o.name}:${o.status}:${o.time}`)).toEqual([
      "p1:firing:2025-06-09T08:42:20Z",
      "p2:firing:2025-06-09T08:42:20Z",
      "p1:resolved:2025-06-09T08:42:26Z",
    ]);
    expect(w.writtenCount).toBe(3);
  });

  test("rotation: .1 exists, at most maxFiles rotations, no line lost or split", () => {
    const maxFiles = 3;
    const maxSize = 2048;
    const w = new LogWriter({ dir: tmp, maxBytes: maxSize, maxFiles });
    // 28 lines of ~250 B = 8 per 2 KiB file: fills exactly the active file + 3 rotations, so nothing ages out.
    const names: string[] = [];
    for (let b = 0; b < 4; b++) {
      const batch = Array.from({ length: 7 }, (_, i) => line(`pod-${b}-${i}`));
      names.push(...batch.map((l) => l.anomaly.name));
      w.append(batch, T0 + b * 6000);
    }
    expect(existsSync(join(tmp, `${LOG_FILE_NAME}.1`))).toBe(true);
    const files = readdirSync(tmp).filter((f) => f.startsWith(LOG_FILE_NAME));
    expect(files.length).toBeLessThanOrEqual(maxFiles + 1);
    for (const f of files) {
      const text = readFileSync(join(tmp, f), "utf8");
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxSize);
      expect(text.endsWith("\n")).toBe(true); // never a partial line at a file's end
    }
    const got = allLines(tmp, maxFiles).map((l) => JSON.parse(l).name); // every line parses whole
    expect(got).toEqual(names); // nothing lost, order kept across files
  });

  test("rotation keeps only the newest maxFiles rotations", () => {
    const w = new LogWriter({ dir: tmp, maxBytes: 1024, maxFiles: 2 });
    for (let i = 0; i < 40; i++) w.append([line(`pod-${i}`)], T0 + i);
    const files = readdirSync(tmp).sort();
    expect(files).toEqual([LOG_FILE_NAME, `${LOG_FILE_NAME}.1`, `${LOG_FILE_NAME}.2`]);
    const kept = allLines(tmp, 2).map((l) => JSON.parse(l).name);
    expect(kept.at(-1)).toBe("pod-39"); // the newest survive, contiguous
    const first = Number(kept[0]!.split("-")[1]);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => `pod-${first + i}`));
  });

  test("a line longer than maxSize is written whole into its own file", () => {
    const w = new LogWriter({ dir: tmp, maxBytes: 1024, maxFiles: 2 });
    const big = line("big");
    big.anomaly.message = "x".repeat(3000);
    w.append([line("small"), big, line("after")], T0);
    expect(allLines(tmp, 2).map((l) => JSON.parse(l).name)).toEqual(["small", "big", "after"]);
  });

  test("unwritable directory: one clear error per failure streak, lines kept and written once fixed", () => {
    const logged: string[] = [];
    const log = createLogger({ level: "debug", write: (l) => logged.push(l), clock: () => T0 });
    const blocker = join(tmp, "afile");
    writeFileSync(blocker, "not a directory");
    const dir = join(blocker, "sub"); // under a regular file: ENOTDIR even for root
    const w = new LogWriter({ dir, maxBytes: 1 << 20, maxFiles: 2, logger: log });

    const r1 = w.append([line("p1")], T0);
    expect(r1.written).toBe(0);
    expect(r1.pending).toBe(1);
    expect(r1.error?.code).toBe("ENOTDIR");
    w.append([line("p2")], T0 + 6000);
    w.flush(T0 + 12_000);
    const errors = logged.map((l) => JSON.parse(l)).filter((o) => o["log.level"] === "error");
    expect(errors.length).toBe(1);
    expect(errors[0].message).toContain(join(dir, LOG_FILE_NAME));
    expect(errors[0].message).toContain("ENOTDIR");
    expect(errors[0].message).toContain("NEURO_LOG_DIR");
    expect(w.errorCount).toBe(3);

    rmSync(blocker); // fixed: the directory can now be created
    const r2 = w.flush(T0 + 18_000);
    expect([r2.written, r2.pending, r2.error]).toEqual([2, 0, undefined]);
    expect(r2.lines.map((l) => [l.name, l.time])).toEqual([
      ["p1", "2025-06-09T08:42:38Z"],
      ["p2", "2025-06-09T08:42:38Z"],
    ]); // time = when written
    expect(allLines(dir, 2).map((l) => JSON.parse(l).name)).toEqual(["p1", "p2"]);
    expect(logged.map((l) => JSON.parse(l)["log.level"])).toEqual(["error", "info"]);

    // A new streak reports again.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, "blocked again");
    w.append([line("p3")], T0 + 24_000);
    expect(logged.filter((l) => JSON.parse(l)["log.level"] === "error").length).toBe(2);
  });

  test("pending buffer is bounded: oldest dropped and counted", () => {
    writeFileSync(join(tmp, "afile"), "");
    const w = new LogWriter({ dir: join(tmp, "afile", "sub"), maxBytes: 1 << 20, maxFiles: 2, pendingMax: 3 });
    const r = w.append(
      ["a", "b", "c", "d", "e"].map((n) => line(n)),
      T0,
    );
    expect([r.pending, r.dropped]).toEqual([3, 2]);
  });

  test("fromConfig uses NEURO_LOG_DIR, NEURO_LOG_MAX_SIZE and NEURO_LOG_MAX_FILES", () => {
    const w = LogWriter.fromConfig(Config.with({ NEURO_LOG_DIR: tmp, NEURO_LOG_MAX_SIZE: "2KiB", NEURO_LOG_MAX_FILES: "2" }));
    expect(w.path).toBe(join(tmp, LOG_FILE_NAME));
    for (let i = 0; i < 30; i++) w.append([line(`p${i}`)], T0);
    expect(readdirSync(tmp).length).toBe(3);
  });
});

// src/log.ts lives at the top of src/; its test sits with the HTTP tests (same "operations" surface).
import { describe, expect, test } from "bun:test";
import { Config } from "../../../src/config/load.ts";
import { createLogger, parseLevel, redact, secretsOf } from "../../../src/log.ts";

const T = Date.parse("2025-06-09T08:42:20Z");

function capture(level = "info", secrets: string[] = []) {
  const lines: string[] = [];
  const log = createLogger({ level, secrets, write: (l) => lines.push(l), clock: () => T });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

describe("logger", () => {
  test("JSON lines with level, time, msg first, then fields", () => {
    const { log, lines, parsed } = capture();
    log.info("started", { version: "0.1.0", nodes: 3 });
    expect(lines).toEqual(['{"level":"info","time":"2025-06-09T08:42:20.000Z","msg":"started","version":"0.1.0","nodes":3}\n']);
    log.child({ component: "store" }).warn("slow flush", { ms: 12 });
    expect(parsed()[1]).toEqual({ level: "warn", time: "2025-06-09T08:42:20.000Z", msg: "slow flush", component: "store", ms: 12 });
  });

  test("levels filter; unknown level means info", () => {
    const { log, parsed } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(parsed().map((o) => o.level)).toEqual(["warn", "error"]);
    expect(parseLevel("DEBUG")).toBe("debug");
    expect(parseLevel("verbose")).toBe("info");
  });

  test("errors are serialised with code and message; reserved keys cannot be overwritten", () => {
    const { log, parsed } = capture();
    const err = Object.assign(new Error("no such dir"), { code: "ENOENT" });
    log.error("failed", { err, level: "debug", msg: "spoof" });
    expect(parsed()[0]).toEqual({
      level: "error",
      time: "2025-06-09T08:42:20.000Z",
      msg: "failed",
      err: { name: "Error", message: "no such dir", code: "ENOENT" },
    });
  });

  test("secret values never appear, raw or JSON-escaped", () => {
    const hook = "https://hooks.slack.com/services/T000/B000/XXXX";
    const quoted = 'pa"ss\\word';
    const { log, lines } = capture("info", [hook, quoted]);
    log.error(`POST ${hook} failed`, { url: hook, password: quoted });
    expect(lines[0]).not.toContain("XXXX");
    expect(lines[0]).not.toContain("ss\\\\word");
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: "POST <redacted> failed", url: "<redacted>", password: "<redacted>" });
    expect(redact("a short x", ["x", ""])).toBe("a short x"); // trivially short values are not scrubbed
  });

  test("secretsOf collects the configured secret values", () => {
    const cfg = Config.with({ MAIL_PASSWORD: "s3cret-pass", SLACK_WEBHOOK_URL: "https://hooks.example/abc" });
    expect(secretsOf(cfg).sort()).toEqual(["/abc", "https://hooks.example/abc", "s3cret-pass"]); // the webhook's path holds its token
    expect(secretsOf(Config.with())).toEqual([]);
  });
});

// src/log.ts lives at the top of src/; its test sits with the HTTP tests (same "operations" surface).
import { describe, expect, test } from "bun:test";
import { Config } from "../../../src/config/load.ts";
import { createLogger, parseLevel, redact, secretsOf } from "../../../src/log.ts";
import { VERSION } from "../../../src/version.ts";
import { ecsViolations } from "../../support/ecs.ts";

const T = Date.parse("2025-06-09T08:42:20Z");
const ECS = { "ecs.version": "8.10.0", "service.name": "neurocontroller", "service.version": VERSION, "event.dataset": "neurocontroller" };

function capture(level = "info", secrets: string[] = [], service?: string) {
  const lines: string[] = [];
  const log = createLogger({ level, secrets, write: (l) => lines.push(l), clock: () => T, service });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

describe("logger (ECS JSON lines)", () => {
  test("one ECS line per call: log.level, @timestamp, ECS service fields, caller fields, message", () => {
    const { log, lines, parsed } = capture();
    log.info("started", { version: "0.1.0", nodes: 3 });
    expect(lines.length).toBe(1);
    expect(lines[0]!.endsWith("}\n")).toBe(true);
    expect(lines[0]!.indexOf("\n")).toBe(lines[0]!.length - 1);
    expect(lines[0]!.startsWith('{"log.level":"info","@timestamp":"2025-06-09T08:42:20.000Z"')).toBe(true);
    expect(parsed()[0]).toEqual({
      "log.level": "info",
      "@timestamp": "2025-06-09T08:42:20.000Z",
      ...ECS,
      version: "0.1.0",
      nodes: 3,
      message: "started",
    });
    log.child({ component: "store" }).warn("slow flush", { ms: 12 });
    expect(parsed()[1]).toEqual({
      "log.level": "warn",
      "@timestamp": "2025-06-09T08:42:20.000Z",
      ...ECS,
      component: "store",
      ms: 12,
      message: "slow flush",
    });
    for (const l of lines) expect(ecsViolations(l)).toEqual([]);
  });

  test("child loggers nest; no key repeats on a line (the ECS bindings are written once)", () => {
    const { log, lines, parsed } = capture("info", [], "neurocontroller-agent");
    log.child({ component: "agent" }).child({ node: "pi-3" }).info("up");
    expect(parsed()[0]).toMatchObject({
      "service.name": "neurocontroller-agent",
      "event.dataset": "neurocontroller-agent",
      component: "agent",
      node: "pi-3",
    });
    const keys = [...lines[0]!.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1]);
    expect(keys.length).toBe(new Set(keys).size);
  });

  test("levels filter; unknown level means info", () => {
    const { log, parsed } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    log.child({ c: 1 }).info("child i");
    expect(parsed().map((o) => o["log.level"])).toEqual(["warn", "error"]);
    expect(parseLevel("DEBUG")).toBe("debug");
    expect(parseLevel("verbose")).toBe("info");
    const dbg = capture("debug");
    dbg.log.debug("d");
    expect(dbg.parsed().map((o) => o["log.level"])).toEqual(["debug"]);
  });

  test("errors become ECS error.*; fields under ECS names cannot overwrite or break the ECS fields", () => {
    const { log, lines, parsed } = capture();
    const err = Object.assign(new Error("no such dir"), { code: "ENOENT" });
    log.error("failed", { err, "log.level": "debug", message: "spoof", "@timestamp": "x", service: "fake", cause: new Error("inner") });
    log.warn("export failed", { error: "HTTP 503", url: "https://apm.example:8200/intake", host: "pi-3" });
    expect(parsed()[0]).toEqual({
      "log.level": "error",
      "@timestamp": "2025-06-09T08:42:20.000Z",
      ...ECS,
      error: { type: "Error", message: "no such dir", code: "ENOENT" },
      cause: { name: "Error", message: "inner" },
      neuro: { "log.level": "debug", message: "spoof", "@timestamp": "x", service: "fake" },
      message: "failed",
    });
    expect(parsed()[1]).toMatchObject({ error: { message: "HTTP 503" }, "url.full": "https://apm.example:8200/intake", neuro: { host: "pi-3" } });
    for (const l of lines) expect(ecsViolations(l)).toEqual([]);
  });

  test("a line about a traced span carries trace.id and span.id", () => {
    const { log, lines, parsed } = capture();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const spanId = "00f067aa0ba902b7";
    log.info("binding ended", { traceId, spanId, reason: "ttl" });
    log.child({ traceId }).info("per-trace child");
    log.info("not a trace id", { traceId: "nope" });
    expect(parsed()[0]).toMatchObject({ "trace.id": traceId, "span.id": spanId, reason: "ttl" });
    expect(parsed()[0].traceId).toBeUndefined();
    expect(parsed()[1]["trace.id"]).toBe(traceId);
    expect(parsed()[2]).toMatchObject({ neuro: { traceId: "nope" } });
    expect(parsed()[2]["trace.id"]).toBeUndefined();
    for (const l of lines) expect(ecsViolations(l)).toEqual([]);
  });

  test("the ECS check itself rejects what Elasticsearch would mis-map", () => {
    const ok = '{"log.level":"info","@timestamp":"2025-06-09T08:42:20.000Z","ecs.version":"8.10.0","message":"m"}';
    expect(ecsViolations(ok)).toEqual([]);
    expect(ecsViolations('{"@timestamp":"2025-06-09T08:42:20.000Z","ecs.version":"8.10.0","message":"m"}')).toEqual([
      "log.level: required by the ecs-logging spec, missing",
    ]);
    expect(ecsViolations(ok.replace('"message":"m"', '"message":"m","error":"boom"'))).toEqual([
      "error: not a field of the ECS reference (a custom value under an ECS name)",
    ]);
    expect(ecsViolations(ok.replace('"log.level":"info"', '"log":{"level":"info"}'))).toEqual([
      "log.level: must be a top-level dotted key, not nested",
    ]);
    expect(ecsViolations(ok.replace("2025-06-09T08:42:20.000Z", "yesterday")).length).toBeGreaterThan(0);
  });

  test("secret values never appear, raw or JSON-escaped, in any field of the ECS line", () => {
    const hook = "https://hooks.slack.com/services/T000/B000/XXXX";
    const quoted = 'pa"ss\\word';
    const { log, lines } = capture("info", [hook, quoted]);
    log.error(`POST ${hook} failed`, { url: hook, password: quoted, err: new Error(`connect ${hook}`), error: `then ${quoted}` });
    log.child({ channel: hook }).warn(`retry ${quoted}`);
    for (const l of lines) {
      expect(l).not.toContain("XXXX");
      expect(l).not.toContain("ss\\\\word");
      expect(ecsViolations(l)).toEqual([]);
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ message: "POST <redacted> failed", "url.full": "<redacted>", password: "<redacted>" });
    expect(JSON.parse(lines[1]!)).toMatchObject({ message: "retry <redacted>", channel: "<redacted>" });
    expect(redact("a short x", ["x", ""])).toBe("a short x"); // trivially short values are not scrubbed
  });

  test("secretsOf collects the configured secret values", () => {
    const cfg = Config.with({ MAIL_PASSWORD: "s3cret-pass", SLACK_WEBHOOK_URL: "https://hooks.example/abc" });
    expect(secretsOf(cfg).sort()).toEqual(["/abc", "https://hooks.example/abc", "s3cret-pass"]); // the webhook's path holds its token
    expect(secretsOf(Config.with())).toEqual([]);
  });
});

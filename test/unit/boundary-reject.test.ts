import { describe, expect, test } from "bun:test";
import { CountingRejectSink, parseAt, parseJsonAt, preview, z } from "../../src/boundary/reject.ts";
import { Registry } from "../../src/http/metrics.ts";

const Cmd = z.object({ action: z.enum(["add", "expire"]), id: z.string().min(1) });

describe("boundary rejects", () => {
  test("a refused payload is counted by source and logged once per window with a truncated, control-free preview", () => {
    const reg = new Registry();
    const counter = reg.counter("malformed_input_total", "x", ["source"]);
    const lines: Record<string, unknown>[] = [];
    let now = 0;
    const sink = new CountingRejectSink(counter, { warn: (_m, f) => lines.push(f!) }, () => now, 1000);
    const bad = { action: "nuke", id: "\u001b[2J".padEnd(2000, "x") };
    expect(parseAt(Cmd, bad, "mqtt.cmd", sink).ok).toBe(false);
    expect(parseAt(Cmd, bad, "mqtt.cmd", sink).ok).toBe(false);
    now = 1500;
    const r = parseJsonAt(Cmd, "{not json", { source: "mqtt.cmd", sink, maxBytes: 100 });
    expect(r.ok).toBe(false);
    expect(counter.get({ source: "mqtt.cmd" })).toBe(3);
    expect(lines.length).toBe(2);
    expect(lines[1]!.suppressed).toBe(1);
    expect(String(lines[0]!.payload)).not.toContain("\u001b");
    expect(String(lines[0]!.payload).length).toBeLessThan(600);
    expect(String(lines[0]!.reason)).toContain("action");
  });

  test("a malformed object from a secret-bearing source is counted and logged without its payload", () => {
    const reg = new Registry();
    const counter = reg.counter("malformed_input_total", "x", ["source"]);
    const lines: Record<string, unknown>[] = [];
    const sink = new CountingRejectSink(counter, { warn: (_m, f) => lines.push(f!) });
    const planted = "planted-secret-value-7f3a";
    sink.reject("kube.secrets", "metadata.name: expected string", { metadata: { name: 5 }, data: { password: planted } });
    sink.reject("kube.configmaps", "metadata.name: expected string", { metadata: { name: 5 }, data: { note: "visible" } });
    expect(counter.get({ source: "kube.secrets" })).toBe(1);
    expect(JSON.stringify(lines[0])).not.toContain(planted);
    expect(lines[0]!.payload).toContain("withheld");
    expect(JSON.stringify(lines[1])).toContain("visible");
  });

  test("oversize JSON is refused before parsing; valid input passes typed", () => {
    const seen: string[] = [];
    const sink = { reject: (_s: string, reason: string) => seen.push(reason) };
    expect(parseJsonAt(Cmd, JSON.stringify({ action: "add", id: "x".repeat(200) }), { source: "s", sink, maxBytes: 100 }).ok).toBe(false);
    expect(seen[0]).toContain("exceeds the limit");
    const ok = parseJsonAt(Cmd, '{"action":"add","id":"a"}', { source: "s", sink, maxBytes: 100 });
    expect(ok).toEqual({ ok: true, value: { action: "add", id: "a" } });
    expect(preview(new TextEncoder().encode("abc"))).toBe("abc");
  });
});

// Exported payloads validate against the Elastic APM intake v2 schemas and the OTLP example's
// shape, and are POSTed (with the right headers) to a local HTTP receiver.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SAMPLE } from "./sample.ts";
import { exportToApm, toApmNdjson } from "../../src/trace/apm.ts";
import { exportToOtlp, otlpTracesUrl, parseHeaderList, toOtlpRequest } from "../../src/trace/otlp.ts";
import { validate } from "../support/json-schema.ts";

const SPEC = resolve(import.meta.dir, "../fixtures/spec");
const schema = (name: string) => JSON.parse(readFileSync(`${SPEC}/elastic-apm-intake-v2/${name}.json`, "utf8"));

describe("Elastic APM intake v2", () => {
  test("metadata + span lines validate against the schemas and join the APM transaction", () => {
    // The validator has teeth: an empty span and a bad type are rejected.
    expect(validate(schema("span"), {}).length).toBeGreaterThan(0);
    expect(
      validate(schema("span"), { id: 1, trace_id: "x", parent_id: "y", name: "n", type: "t", duration: -1, timestamp: 1 }).length,
    ).toBeGreaterThan(0);
    const bodies = toApmNdjson(SAMPLE);
    expect(bodies.map((b) => b.service).sort()).toEqual(["api", "checkout"]);
    for (const { body } of bodies) {
      expect(body.endsWith("\n")).toBe(true);
      const lines = body
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(Object.keys(lines[0])).toEqual(["metadata"]);
      expect(validate(schema("metadata"), lines[0].metadata)).toEqual([]);
      for (const l of lines.slice(1)) {
        expect(Object.keys(l)).toEqual(["span"]);
        expect(validate(schema("span"), l.span)).toEqual([]);
        expect(l.span.id).toMatch(/^[0-9a-f]{16}$/);
      }
    }
    const checkout = bodies
      .find((b) => b.service === "checkout")!
      .body.trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => JSON.parse(l).span);
    expect(checkout).toHaveLength(3); // read aggregate, read outlier, nanosleep
    const agg = checkout.find((s) => s.name === "syscall read")!;
    expect(agg).toMatchObject({
      trace_id: SAMPLE[0]!.traceId,
      parent_id: "00f067aa0ba902b7",
      transaction_id: "a3ce929d0e0e4736",
      type: "syscall",
      subtype: "read",
    });
    expect(agg.composite).toEqual({ compression_strategy: "exact_match", count: 12, sum: 75 });
    expect(agg.timestamp).toBe(Number(BigInt(SAMPLE[0]!.startUnixNano) / 1000n));
    const slow = checkout.find((s) => s.name === "syscall read (slow)")!;
    expect(slow).toMatchObject({ duration: 61, outcome: "failure" });
    // A single call is not a composite (the schema's composite needs count >= 2).
    expect(checkout.find((s) => s.subtype === "clock_nanosleep")!.composite).toBeUndefined();
  });
});

describe("OTLP/HTTP JSON", () => {
  test("has the example's shape: resourceSpans/scopeSpans/spans, hex ids, string nanos", () => {
    const example = JSON.parse(readFileSync(`${SPEC}/otlp/trace.json`, "utf8"));
    const req = toOtlpRequest(SAMPLE) as typeof example;
    const keysOf = (o: object) => Object.keys(o).sort();
    expect(keysOf(req)).toEqual(keysOf(example));
    for (const rs of req.resourceSpans) {
      expect(keysOf(rs)).toEqual(keysOf(example.resourceSpans[0]));
      expect(rs.resource.attributes.find((a: { key: string }) => a.key === "service.name").value.stringValue).toBeString();
      for (const ss of rs.scopeSpans) {
        expect(ss.scope.name).toBeString();
        for (const sp of ss.spans) {
          for (const k of ["traceId", "spanId", "parentSpanId", "name", "startTimeUnixNano", "endTimeUnixNano", "kind", "attributes"])
            expect(sp).toHaveProperty(k);
          expect(sp.traceId).toMatch(/^[0-9a-f]{32}$/);
          expect(sp.spanId).toMatch(/^[0-9a-f]{16}$/);
          expect(sp.startTimeUnixNano).toMatch(/^\d+$/);
          expect(BigInt(sp.endTimeUnixNano) >= BigInt(sp.startTimeUnixNano)).toBe(true);
          expect(typeof sp.kind).toBe(typeof example.resourceSpans[0].scopeSpans[0].spans[0].kind);
          for (const a of sp.attributes) expect(Object.keys(a.value)).toHaveLength(1);
        }
      }
    }
    expect(otlpTracesUrl("http://c:4318/")).toBe("http://c:4318/v1/traces");
    expect(otlpTracesUrl("http://c:4318/v1/traces")).toBe("http://c:4318/v1/traces");
    expect(parseHeaderList(["Authorization=Bearer x=y", "bad"])).toEqual({ authorization: "Bearer x=y" });
  });
});

describe("export over HTTP to a local receiver", () => {
  const got: { path: string; headers: Headers; body: string }[] = [];
  let fail = false;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      got.push({ path: new URL(req.url).pathname, headers: req.headers, body: await req.text() });
      return fail ? new Response("queue full", { status: 503 }) : new Response(null, { status: 202 });
    },
  });
  afterAll(() => server.stop(true));

  test("APM: NDJSON with the secret token; OTLP: JSON with extra headers; errors carry the server's answer", async () => {
    const base = `http://127.0.0.1:${server.port}`;
    expect(await exportToApm({ serverUrl: `${base}/`, secretToken: "tok-123" }, SAMPLE)).toBe(2);
    const apm = got.filter((g) => g.path === "/intake/v2/events");
    expect(apm).toHaveLength(2);
    expect(apm[0]!.headers.get("content-type")).toBe("application/x-ndjson");
    expect(apm[0]!.headers.get("authorization")).toBe("Bearer tok-123");
    for (const g of apm) for (const l of g.body.trimEnd().split("\n")) JSON.parse(l);
    await exportToOtlp({ endpoint: base, headers: { "x-tenant": "edge" } }, SAMPLE);
    const otlp = got.find((g) => g.path === "/v1/traces")!;
    expect(otlp.headers.get("content-type")).toBe("application/json");
    expect(otlp.headers.get("x-tenant")).toBe("edge");
    expect(JSON.parse(otlp.body).resourceSpans.length).toBe(2);
    fail = true;
    await expect(exportToApm({ serverUrl: base, apiKey: "k" }, SAMPLE)).rejects.toThrow("503: queue full");
  });
});

// The OTLP/HTTP intake on the controller's HTTP server, fed by the real OpenTelemetry JS SDK exporters
// (protobuf and JSON): figures appear in the RED windows; malformed, oversize and unauthenticated
// requests are refused with 400/413/401/403 and counted in /metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { CountingRejectSink } from "../../src/boundary/reject.ts";
import { defineControllerMetrics } from "../../src/http/metrics.ts";
import { startHttpServer, type HttpServer } from "../../src/http/server.ts";
import { silentLogger } from "../../src/log.ts";
import { decodeProtobufResponse } from "../../src/slo/otlp-decode.ts";
import { MAX_IN_FLIGHT, OtlpIntake } from "../../src/slo/intake.ts";
import { profile, sendOtlpTraffic } from "../../testkit/otlp-load.ts";

const TOKEN = "otlp-planted-secret-7f3a";
const metrics = defineControllerMetrics();
const intake = new OtlpIntake({
  token: TOKEN,
  maxBodyBytes: 256 * 1024,
  slotMs: 10_000,
  windowMs: 600_000,
  maxServices: 16,
  rejects: new CountingRejectSink(metrics.malformedInput, silentLogger),
  registry: metrics.registry,
});
let server: HttpServer;
let base: string;

/** A second listener on a non-loopback address of this machine, when it has one (auth is off-loopback only). */
let remote: { server: HttpServer; base: string } | undefined;

function nonLoopbackAddress(): string | undefined {
  const { networkInterfaces } = require("node:os") as typeof import("node:os");
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

beforeAll(() => {
  server = startHttpServer({ addr: "127.0.0.1:0", registry: metrics.registry, ready: () => ({ ok: true, reasons: [] }), routes: [intake.route()] });
  base = server.url;
  const addr = nonLoopbackAddress();
  if (addr) {
    const s = startHttpServer({ addr: `${addr}:0`, registry: metrics.registry, ready: () => ({ ok: true, reasons: [] }), routes: [intake.route()] });
    remote = { server: s, base: `http://${addr}:${s.port}` };
  }
});
afterAll(async () => {
  await server.stop();
  await remote?.server.stop();
});

const metricValue = async (line: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(" ").pop()) : 0;
};

describe("OTLP intake with the real OpenTelemetry SDK exporters", () => {
  test("protobuf (gzip) from exporter-trace-otlp-proto: rate, error ratio and p99 per service", async () => {
    const now = Date.now();
    const res = await sendOtlpTraffic({
      url: `${base}/v1/traces`,
      format: "protobuf",
      gzip: true,
      endTimeMs: now,
      spreadMs: 50_000,
      services: [
        {
          service: "checkout",
          namespace: "shop",
          deployment: "checkout",
          requests: 1000,
          latencyMs: profile({ p50: 40, p99: 400 }),
          errorRatio: 0.05,
          childSpans: 1,
        },
        { service: "search", namespace: "shop", requests: 200, latencyMs: 12 },
      ],
    });
    expect(res.errors).toEqual([]);
    expect(res.failed).toBe(0);
    const fig = intake.red.query({ service: "checkout", namespace: "shop", deployment: "checkout" }, 60_000, now);
    expect(fig.requests).toBe(1000); // the child spans are not requests
    expect(fig.errors).toBe(50);
    expect(fig.errorRatio).toBeCloseTo(0.05, 5);
    const p99 = fig.quantile(0.99)!;
    expect(Math.abs(p99 - 400) / 400).toBeLessThan(0.1);
    const p50 = fig.quantile(0.5)!;
    expect(Math.abs(p50 - 40) / 40).toBeLessThan(0.1);
    const search = intake.red.query({ service: "search", namespace: "shop" }, 60_000, now);
    expect(search.requests).toBe(200);
    expect(search.errors).toBe(0);
    expect(Math.abs(search.quantile(0.99)! - 12) / 12).toBeLessThan(0.07);
    expect(await metricValue('neurocontroller_otlp_spans_total{outcome="recorded"}')).toBeGreaterThanOrEqual(1200);
    expect(await metricValue('neurocontroller_otlp_spans_total{outcome="other"}')).toBeGreaterThanOrEqual(1000);
  });

  test("JSON from exporter-trace-otlp-http", async () => {
    const now = Date.now();
    const res = await sendOtlpTraffic({
      url: `${base}/v1/traces`,
      format: "json",
      endTimeMs: now,
      services: [{ service: "cart", namespace: "shop", deployment: "cart", requests: 300, latencyMs: 250, errorRatio: 0.1 }],
    });
    expect(res.failed).toBe(0);
    const fig = intake.red.query({ service: "cart", namespace: "shop", deployment: "cart" }, 60_000, now);
    expect(fig.requests).toBe(300);
    expect(fig.errors).toBe(30);
    expect(Math.abs(fig.quantile(0.99)! - 250) / 250).toBeLessThan(0.07);
    expect(intake.red.services().some((s) => s.service === "cart" && s.deployment === "cart")).toBe(true);
  });
});

describe("refusals are answered and counted", () => {
  const post = (body: BodyInit, headers: Record<string, string>, url = `${base}/v1/traces`) => fetch(url, { method: "POST", body, headers });

  test("malformed protobuf and JSON → 400, counted by source and result", async () => {
    const before = await metricValue('neurocontroller_malformed_input_total{source="otlp"}');
    const bad = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]), { "content-type": "application/x-protobuf" });
    expect(bad.status).toBe(400);
    const notJson = await post("{nope", { "content-type": "application/json" });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).message).toContain("not JSON");
    const wrongShape = await post(JSON.stringify({ resourceSpans: [{ scopeSpans: "x" }] }), { "content-type": "application/json" });
    expect(wrongShape.status).toBe(400);
    expect((await wrongShape.json()).message).toContain("scopeSpans");
    const badGzip = await post("not gzip", { "content-type": "application/json", "content-encoding": "gzip" });
    expect(badGzip.status).toBe(400);
    expect(await metricValue('neurocontroller_malformed_input_total{source="otlp"}')).toBe(before + 4);
    expect(await metricValue('neurocontroller_otlp_requests_total{result="malformed"}')).toBeGreaterThanOrEqual(4);
  });

  test("oversize bodies → 413, before and after gzip decompression", async () => {
    const before = await metricValue('neurocontroller_malformed_input_total{source="otlp"}');
    const big = JSON.stringify({ resourceSpans: [], pad: "x".repeat(300 * 1024) });
    expect((await post(big, { "content-type": "application/json" })).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const res = await post(bomb, { "content-type": "application/json", "content-encoding": "gzip" });
    expect(res.status).toBe(413);
    expect((await res.json()).message).toContain("after decompression");
    expect(await metricValue('neurocontroller_otlp_requests_total{result="too_large"}')).toBe(2);
    expect(await metricValue('neurocontroller_malformed_input_total{source="otlp"}')).toBe(before + 2);
  });

  test("invalid spans are dropped and reported as partial success; the rest count", async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const span = (traceId: string, startNs: bigint, endNs: bigint) => ({
      traceId,
      spanId: "0102030405060708",
      kind: 2,
      startTimeUnixNano: String(startNs),
      endTimeUnixNano: String(endNs),
    });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "partial" } }] },
          scopeSpans: [
            {
              spans: [
                span("0af7651916cd43dd8448eb211c80319c", now - 5_000_000n, now),
                span("00", now, now),
                span("0af7651916cd43dd8448eb211c80319d", now, now - 1n),
              ],
            },
          ],
        },
      ],
    };
    const res = await post(JSON.stringify(body), { "content-type": "application/json" });
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer.partialSuccess.rejectedSpans).toBe("2");
    expect(answer.partialSuccess.errorMessage).toContain("trace id");
    expect(intake.red.query({ service: "partial", namespace: "" }, 60_000, Date.now()).requests).toBe(1);
  });

  test("a span from a clock far ahead counts as ending now and does not push real spans out of the windows", async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const future = now + 80n * 365n * 86_400_000_000_000n;
    const body = (endNs: bigint) => ({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "skewed" } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "1af7651916cd43dd8448eb211c80319c",
                  kind: 2,
                  startTimeUnixNano: String(endNs - 1_000_000n),
                  endTimeUnixNano: String(endNs),
                },
              ],
            },
          ],
        },
      ],
    });
    expect((await post(JSON.stringify(body(future)), { "content-type": "application/json" })).status).toBe(200);
    expect((await post(JSON.stringify(body(now)), { "content-type": "application/json" })).status).toBe(200);
    expect(intake.red.query({ service: "skewed", namespace: "" }, 60_000, Date.now()).requests).toBe(2);
    expect(intake.red.tooOld).toBe(0);
  });

  test("past MAX_IN_FLIGHT requests being read, the next one is answered 429 with Retry-After (memory stays bounded)", async () => {
    const open: ReadableStreamDefaultController<Uint8Array>[] = [];
    const slow = () =>
      intake.handle(
        new Request("http://x/v1/traces", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: new ReadableStream<Uint8Array>({ start: (c) => void open.push(c) }),
        }),
        { remoteAddress: "127.0.0.1" },
      );
    const pending = Array.from({ length: MAX_IN_FLIGHT }, slow);
    const refused = await slow();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await metricValue('neurocontroller_otlp_requests_total{result="busy"}')).toBe(1);
    for (const c of open.slice(0, MAX_IN_FLIGHT)) {
      c.enqueue(new TextEncoder().encode("{}"));
      c.close();
    }
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual(Array(MAX_IN_FLIGHT).fill(200));
    // Once they are done, requests are accepted again.
    expect((await post("{}", { "content-type": "application/json" })).status).toBe(200);
  });

  test("protobuf answers are ExportTraceServiceResponse; wrong media types → 415, other methods → 405", async () => {
    const ok = await post(new Uint8Array(0), { "content-type": "application/x-protobuf" });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("application/x-protobuf");
    expect(decodeProtobufResponse(new Uint8Array(await ok.arrayBuffer())).rejectedSpans).toBe(0);
    expect((await post("x", { "content-type": "text/plain" })).status).toBe(415);
    expect((await fetch(`${base}/v1/traces`)).status).toBe(405);
  });

  test("off the loopback: no or wrong token → 401 (counted), the right token → accepted", async () => {
    if (!remote) {
      // This machine has no non-loopback IPv4 address: the off-loopback path cannot be reached here.
      console.warn("skipped: no non-loopback address on this machine");
      return;
    }
    const url = `${remote.base}/v1/traces`;
    const before = await metricValue('neurocontroller_otlp_requests_total{result="unauthorized"}');
    const none = await post("{}", { "content-type": "application/json" }, url);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await post("{}", { "content-type": "application/json", authorization: "Bearer nope" }, url);
    expect(wrong.status).toBe(401);
    const body = await wrong.text();
    expect(body).toContain("bearer token");
    expect(body).not.toContain(TOKEN);
    expect(await metricValue('neurocontroller_otlp_requests_total{result="unauthorized"}')).toBe(before + 2);
    const res = await sendOtlpTraffic({ url, token: TOKEN, services: [{ service: "remote", namespace: "edge", requests: 10, latencyMs: 5 }] });
    expect(res.failed).toBe(0);
    expect(intake.red.query({ service: "remote", namespace: "edge" }, 60_000, Date.now()).requests).toBe(10);
  });

  test("off the loopback without a configured token → 403 with a clear reason", async () => {
    const open = new OtlpIntake({
      token: "",
      maxBodyBytes: 1024,
      slotMs: 1000,
      windowMs: 10_000,
      maxServices: 2,
      rejects: { reject() {} },
      registry: defineControllerMetrics().registry,
    });
    const res = await open.handle(
      new Request("http://x/v1/traces", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }),
      {
        remoteAddress: "192.0.2.7",
      },
    );
    expect(res.status).toBe(403);
    expect((await res.json()).message).toContain("SLO_OTLP_TOKEN");
    const local = await open.handle(
      new Request("http://x/v1/traces", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }),
      {
        remoteAddress: "127.0.0.1",
      },
    );
    expect(local.status).toBe(200);
  });
});

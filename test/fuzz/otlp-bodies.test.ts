// Fuzz target "otlp-bodies" (docs/fuzzing.md convention: fast-check, fixed seed, saved counter-examples
// replayed first). Every body POSTed to /v1/traces — JSON shapes near the OTLP one, mutated real
// protobuf requests, arbitrary bytes, gzip of any of these — is answered 200, 400 or 413 and never
// throws or 500s; whatever it is, the RED windows stay within their bound.
import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { Registry } from "../../src/http/metrics.ts";
import { OtlpIntake } from "../../src/slo/intake.ts";
import { fc, fuzzAsync } from "./support.ts";

const SEED = 0x14_0715;
const T0 = 1_760_000_000_000;
const intake = new OtlpIntake({
  token: "",
  maxBodyBytes: 64 * 1024,
  slotMs: 1000,
  windowMs: 10_000,
  maxServices: 4,
  rejects: { reject() {} },
  registry: new Registry(),
  clock: () => T0,
});

/** A minimal valid OTLP protobuf request (one server span of service "web"), encoded by hand for the fuzzer to mutate. */
function protobufRequest(): Uint8Array<ArrayBuffer> {
  const field = (n: number, wire: number) => [(n << 3) | wire];
  const len = (bytes: number[]) => [bytes.length, ...bytes];
  const str = (s: string) => [...Buffer.from(s)];
  const fixed64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  const kv = [...field(1, 2), ...len(str("service.name")), ...field(2, 2), ...len([...field(1, 2), ...len(str("web"))])];
  const resource = [...field(1, 2), ...len(kv)];
  const ns = BigInt(T0) * 1_000_000n;
  const span = [
    ...field(1, 2),
    ...len(Array.from({ length: 16 }, (_, i) => i + 1)),
    ...field(2, 2),
    ...len([1, 2, 3, 4, 5, 6, 7, 8]),
    ...field(6, 0),
    2,
    ...field(7, 1),
    ...fixed64(ns - 3_000_000n),
    ...field(8, 1),
    ...fixed64(ns),
  ];
  const scopeSpans = [...field(2, 2), ...len(span)];
  const resourceSpans = [...field(1, 2), ...len(resource), ...field(2, 2), ...len(scopeSpans)];
  return new Uint8Array([...field(1, 2), ...len(resourceSpans)]);
}
const REAL = protobufRequest();

const jsonSpan = fc.record(
  {
    traceId: fc.oneof(fc.constant("5b8efff798038103d269b633813fc60c"), fc.string({ maxLength: 40 })),
    parentSpanId: fc.oneof(fc.constant(""), fc.string({ maxLength: 20 })),
    kind: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.string({ maxLength: 8 })),
    startTimeUnixNano: fc.oneof(fc.constant(String(BigInt(T0) * 1_000_000n)), fc.bigInt({ min: -1n, max: 2n ** 70n }).map(String), fc.double()),
    endTimeUnixNano: fc.oneof(fc.constant(String(BigInt(T0 + 5) * 1_000_000n)), fc.bigInt({ min: -1n, max: 2n ** 70n }).map(String), fc.double()),
    status: fc.oneof(fc.constant(null), fc.record({ code: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })) })),
  },
  { requiredKeys: [] },
);
const jsonBody = fc
  .record({
    resourceSpans: fc.array(
      fc.record(
        {
          resource: fc.record({
            attributes: fc.array(
              fc.record({
                key: fc.oneof(fc.constant("service.name"), fc.constant("k8s.namespace.name"), fc.string({ maxLength: 10 })),
                value: fc.anything({ maxDepth: 2 }),
              }),
              { maxLength: 4 },
            ),
          }),
          scopeSpans: fc.array(fc.record({ spans: fc.array(jsonSpan, { maxLength: 4 }) }), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  })
  .map((v) => ({ type: "application/json", bytes: new Uint8Array(Buffer.from(JSON.stringify(v))) }));

const mutatedProtobuf = fc
  .array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), cut: fc.boolean() }), { maxLength: 6 })
  .map((edits) => {
    let bytes = Uint8Array.from(REAL);
    for (const e of edits) {
      const at = e.at % Math.max(1, bytes.length);
      if (e.cut) bytes = bytes.slice(0, at);
      else bytes[at] = e.byte;
    }
    return { type: "application/x-protobuf", bytes };
  });
const rawBytes = fc.record({ type: fc.constantFrom("application/json", "application/x-protobuf"), bytes: fc.uint8Array({ maxLength: 300 }) });

const body = fc.tuple(fc.oneof(jsonBody, mutatedProtobuf, rawBytes), fc.boolean()).map(([b, gzip]) => ({ ...b, gzip }));

describe("fuzz: OTLP request bodies", () => {
  test("every body is answered 200, 400 or 413; the windows stay bounded", async () => {
    await fuzzAsync("otlp-bodies", SEED, body, async (b) => {
      const bytes = b.gzip ? gzipSync(b.bytes) : b.bytes;
      const headers: Record<string, string> = { "content-type": b.type };
      if (b.gzip) headers["content-encoding"] = "gzip";
      const res = await intake.handle(new Request("http://127.0.0.1/v1/traces", { method: "POST", body: new Uint8Array(bytes), headers }), {
        remoteAddress: "127.0.0.1",
      });
      expect([200, 400, 413]).toContain(res.status);
      await res.arrayBuffer();
      expect(intake.red.services().length).toBeLessThanOrEqual(4);
      expect(intake.red.retainedBuckets()).toBeLessThanOrEqual(intake.red.maxRetainedBuckets);
    });
    // The unmutated request is a valid one, so the property is not vacuous.
    const ok = await intake.handle(
      new Request("http://127.0.0.1/v1/traces", { method: "POST", body: REAL, headers: { "content-type": "application/x-protobuf" } }),
      { remoteAddress: "127.0.0.1" },
    );
    expect(ok.status).toBe(200);
    expect(intake.red.query({ service: "web", namespace: "" }, 10_000, T0).requests).toBeGreaterThan(0);
  }, 120_000);
});

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeJson, decodeProtobuf, otlpJsonRequestSchema, serviceKeyOf } from "../../../src/slo/otlp-decode.ts";

const NOW_NS = 1_700_000_000_000_000_000n;

function request(spans: Record<string, unknown>[], attrs: Record<string, string> = { "service.name": "web" }) {
  return {
    resourceSpans: [
      {
        resource: { attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })) },
        scopeSpans: [{ scope: { name: "x" }, spans }],
      },
    ],
  };
}
const decode = (body: unknown) => decodeJson(otlpJsonRequestSchema.parse(body));

describe("OTLP decoding", () => {
  test("entry spans are SERVER spans and root spans that are not CLIENT/PRODUCER; ERROR status is an error", () => {
    const base = { traceId: "5B8EFFF798038103D269B633813FC60C", startTimeUnixNano: String(NOW_NS), endTimeUnixNano: String(NOW_NS + 2_500_000n) };
    const out = decode(
      request([
        { ...base, kind: 2, parentSpanId: "eee19b7ec3c1b174", status: { code: 2 } },
        { ...base, kind: 1 },
        { ...base, kind: 3 },
        { ...base, kind: 1, parentSpanId: "eee19b7ec3c1b174" },
        { ...base, kind: 5, startTimeUnixNano: Number(NOW_NS / 1000n) * 1000, endTimeUnixNano: Number(NOW_NS / 1000n) * 1000 + 1_000_000 },
      ]),
    );
    expect(out.rejected).toBe(0);
    expect(out.spans.map((s) => s.entry)).toEqual([true, true, false, false, true]);
    expect(out.spans[0]).toMatchObject({ traceId: "5b8efff798038103d269b633813fc60c", error: true, durationMs: 2.5, endTimeMs: 1_700_000_000_002 });
    expect(out.spans[1]!.error).toBe(false);
  });

  test("resource attributes map to the workload: service.name, k8s.namespace.name, k8s.deployment.name", () => {
    const m = (o: Record<string, string>) => serviceKeyOf(new Map(Object.entries(o)));
    expect(m({ "service.name": "web", "k8s.namespace.name": "shop", "k8s.deployment.name": "web-v2" })).toEqual({
      service: "web",
      namespace: "shop",
      deployment: "web-v2",
    });
    expect(m({ "service.name": "web" })).toEqual({ service: "web", namespace: "" });
    expect(m({ "k8s.deployment.name": "web" })).toBeUndefined();
    expect(m({ "service.name": "a/b" })).toBeUndefined();
    expect(m({ "service.name": "x".repeat(300) })).toBeUndefined();
    expect(m({ "service.name": "web", "k8s.namespace.name": "bad name" })).toEqual({ service: "web", namespace: "" });
  });

  test("invalid spans are rejected one by one with a reason; the others are kept", () => {
    const ok = { traceId: "5b8efff798038103d269b633813fc60c", kind: 2, startTimeUnixNano: String(NOW_NS), endTimeUnixNano: String(NOW_NS + 1n) };
    const out = decode(
      request([
        ok,
        { ...ok, traceId: "00000000000000000000000000000000" },
        { ...ok, traceId: "zz" },
        { ...ok, endTimeUnixNano: "1" },
        { ...ok, startTimeUnixNano: undefined },
      ]),
    );
    expect(out.spans.length).toBe(1);
    expect(out.rejected).toBe(4);
    expect(out.firstRejection).toContain("trace id");
    const noService = decode(request([ok], {}));
    expect(noService.rejected).toBe(1);
    expect(noService.firstRejection).toContain("service.name");
  });

  test("the JSON schema refuses wrong shapes (the request answers 400)", () => {
    for (const bad of [
      { resourceSpans: {} },
      { resourceSpans: [{ scopeSpans: [{ spans: [{ kind: "SERVER" }] }] }] },
      { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: "-1" }] }] }] },
    ])
      expect(otlpJsonRequestSchema.safeParse(bad).success).toBe(false);
  });

  test("arbitrary bytes never crash the protobuf decoder: they decode or throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          const out = decodeProtobuf(bytes);
          expect(out.spans.length + out.rejected).toBeGreaterThanOrEqual(0);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

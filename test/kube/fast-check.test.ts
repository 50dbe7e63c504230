// The watch path's fast lane (src/kube/fast-check.ts) must accept exactly what the zod schema accepts
// unchanged: every object it lets through is what KubeObjectSchema returns, and everything the schema
// refuses or rewrites (nulls, numbers as text, missing names) is left to the schema.
import { describe, expect, test } from "bun:test";
import type { RejectSink } from "../../src/boundary/reject.ts";
import { canonicalEvent, canonicalObject } from "../../src/kube/fast-check.ts";
import { parseWatchLine } from "../../src/kube/lines.ts";
import { checkObject, KubeObjectSchema } from "../../src/kube/schemas.ts";

/** Collects refusals (reasons) so a test can count them. */
const collecting = (): RejectSink & { reasons: string[] } => {
  const reasons: string[] = [];
  return { reasons, reject: (_source: string, reason: string) => void reasons.push(reason) };
};

const pod = () => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-1",
    namespace: "shop",
    uid: "u-1",
    resourceVersion: "42",
    generation: 3,
    creationTimestamp: "2026-01-01T00:00:00Z",
    labels: { app: "web" },
    annotations: { note: "x" },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-abc", uid: "u-0", controller: true }],
  },
  spec: { nodeName: "pi-1" },
  status: { phase: "Running" },
});

// Values that are canonical, need coercion, or are invalid, per metadata field.
const variants: unknown[] = [
  undefined,
  null,
  "",
  "s",
  0,
  7,
  true,
  {},
  [],
  { a: "b" },
  { a: 1 },
  { a: null },
  [{ kind: "K", name: "n" }],
  [{ kind: 1, name: "n" }],
  [null],
];
const fields = [
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "labels",
  "annotations",
  "ownerReferences",
];

describe("canonicalObject agrees with KubeObjectSchema", () => {
  test("a canonical pod is accepted as the same object (no copy), equal to the schema's output", () => {
    const o = pod();
    expect(canonicalObject(o)).toBe(o as never);
    expect(canonicalObject(o)).toEqual(KubeObjectSchema.parse(pod()) as never);
  });

  test("every field × value variant: accepted only when the schema returns it unchanged", () => {
    let fast = 0;
    let slow = 0;
    for (const field of fields)
      for (const value of variants) {
        const o = pod() as Record<string, any>;
        if (value === undefined) delete o.metadata[field];
        else o.metadata[field] = structuredClone(value);
        const z = KubeObjectSchema.safeParse(structuredClone(o));
        const f = canonicalObject(o);
        if (f) {
          fast++;
          expect(z.success).toBe(true);
          expect(JSON.parse(JSON.stringify(f))).toEqual(JSON.parse(JSON.stringify(z.data)));
        } else slow++;
        // Whatever the lane, checkObject gives the schema's verdict.
        const sink = collecting();
        const c = checkObject(structuredClone(o), "test", sink);
        expect(c !== null).toBe(z.success);
        expect(sink.reasons.length).toBe(z.success ? 0 : 1);
        if (c) expect(JSON.parse(JSON.stringify(c))).toEqual(JSON.parse(JSON.stringify(z.data)));
      }
    expect(fast).toBeGreaterThan(10);
    expect(slow).toBeGreaterThan(50);
  });

  test("top-level apiVersion/kind that are not strings, and non-objects, take the schema", () => {
    expect(canonicalObject({ ...pod(), kind: 5 })).toBeNull();
    expect(canonicalObject(null)).toBeNull();
    expect(canonicalObject([pod()])).toBeNull();
    expect(canonicalObject({ metadata: null })).toBeNull();
  });
});

describe("canonicalEvent and parseWatchLine", () => {
  test("ADDED/MODIFIED/DELETED with a canonical object take the fast lane; BOOKMARK/ERROR and extra keys do not", () => {
    for (const type of ["ADDED", "MODIFIED", "DELETED"]) expect(canonicalEvent({ type, object: pod() })?.type).toBe(type as never);
    expect(canonicalEvent({ type: "BOOKMARK", object: { metadata: { resourceVersion: "1" } } })).toBeNull();
    expect(canonicalEvent({ type: "ERROR", object: { code: 410 } })).toBeNull();
    expect(canonicalEvent({ type: "ADDED", object: pod(), extra: 1 })).toBeNull();
    expect(canonicalEvent({ type: "added", object: pod() })).toBeNull();
  });

  test("a line with null namespace and numeric label is coerced by the schema; a nameless one is refused and counted", () => {
    const o = pod() as Record<string, any>;
    o.metadata.namespace = null;
    o.metadata.labels = { n: 5 };
    const ev = parseWatchLine(JSON.stringify({ type: "MODIFIED", object: o }));
    expect(ev?.object.metadata.namespace).toBeUndefined();
    expect(ev?.object.metadata.labels).toEqual({ n: "5" });
    const sink = collecting();
    const bad = pod() as Record<string, any>;
    bad.metadata.name = "";
    expect(parseWatchLine(JSON.stringify({ type: "ADDED", object: bad }), "kube.pods", sink)).toBeNull();
    expect(sink.reasons).toHaveLength(1);
  });
});

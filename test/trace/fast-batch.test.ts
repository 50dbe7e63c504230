// The span intake's fast lane (canonicalSpanBatch in src/trace/types.ts) must never be looser than the
// schema: every batch it lets through is one spanBatchSchema returns unchanged, and parseSpanBatch's
// verdict (and refusal count) is always the schema's.
import { describe, expect, test } from "bun:test";
import type { RejectSink } from "../../src/boundary/reject.ts";
import { canonicalSpanBatch, parseSpanBatch, spanBatchSchema } from "../../src/trace/types.ts";

const span = () => ({
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  parentId: "00f067aa0ba902b7",
  transactionId: "a3ce929d0e0e4736",
  service: "checkout",
  pid: 1234,
  threads: 2,
  syscall: "read",
  nr: 0,
  count: 12,
  totalNs: 75_000,
  maxNs: 61_000,
  startUnixNano: "1764892800000000000",
  endUnixNano: "1764892800000090000",
  slow: [{ tid: 1235, startUnixNano: "1764892800000001000", durNs: 61_000, ret: -11 }],
});
const batch = () => ({
  v: 1,
  node: "pi-1",
  arch: "arm64",
  seq: 7,
  sentAt: "2026-12-04T23:00:00Z",
  drops: { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 },
  spans: [span(), { ...span(), transactionId: undefined }],
});

const values: unknown[] = [
  undefined,
  null,
  "",
  "x",
  "pi 1",
  "0".repeat(32),
  "4bf92f3577b34da6a3ce929d0e0e4736",
  "00f067aa0ba902b7",
  "123",
  "-1",
  0,
  -1,
  1.5,
  4095,
  4096,
  2 ** 53,
  1e300,
  true,
  {},
  [],
  [{}],
];

function verdicts(o: Record<string, any>) {
  const z = spanBatchSchema.safeParse(structuredClone(o));
  const fast = canonicalSpanBatch(structuredClone(o));
  if (fast) {
    expect(z.success).toBe(true);
    expect(JSON.parse(JSON.stringify(fast))).toEqual(JSON.parse(JSON.stringify(z.data)));
  }
  const reasons: string[] = [];
  const sink: RejectSink = { reject: (_s, reason) => void reasons.push(reason) };
  const parsed = parseSpanBatch(JSON.stringify(o), { sink, topicNode: typeof o.node === "string" ? o.node : undefined });
  expect(parsed !== undefined).toBe(z.success);
  expect(reasons).toHaveLength(z.success ? 0 : 1);
  if (parsed) expect(JSON.parse(JSON.stringify(parsed))).toEqual(JSON.parse(JSON.stringify(z.data)));
  return fast !== null;
}

describe("canonicalSpanBatch is never looser than spanBatchSchema", () => {
  test("a batch as agents publish it takes the fast lane and is the schema's output", () => {
    const b = batch();
    expect(canonicalSpanBatch(b)).toBe(b as never);
    expect(verdicts(batch())).toBe(true);
  });

  test("every batch, drops, span and slow-call field × value variant: same verdict and output as the schema", () => {
    let fast = 0;
    let total = 0;
    const setters: [string, (o: Record<string, any>, v: unknown) => void][] = [];
    for (const k of ["v", "node", "arch", "seq", "sentAt", "drops", "spans", "extra"]) setters.push([k, (o, v) => (o[k] = v)]);
    for (const k of ["batches", "orphanEvents", "extra"]) setters.push([`drops.${k}`, (o, v) => (o.drops[k] = v)]);
    for (const k of Object.keys(span()).concat("extra")) setters.push([`span.${k}`, (o, v) => (o.spans[0][k] = v)]);
    for (const k of ["tid", "startUnixNano", "durNs", "ret", "extra"]) setters.push([`slow.${k}`, (o, v) => (o.spans[0].slow[0][k] = v)]);
    for (const [, set] of setters)
      for (const v of values) {
        const o = batch() as Record<string, any>;
        set(o, structuredClone(v));
        total++;
        if (verdicts(o)) fast++;
      }
    expect(fast).toBeGreaterThan(20); // the lane is used …
    expect(total - fast).toBeGreaterThan(300); // … and most variants go to the schema
  });

  test("sizes: more than 16 slow calls or 2,000 spans is refused by the schema, not waved through", () => {
    const many = batch() as Record<string, any>;
    many.spans[0].slow = Array.from({ length: 17 }, () => span().slow[0]);
    expect(canonicalSpanBatch(many)).toBeNull();
    expect(verdicts(many)).toBe(false);
  });
});

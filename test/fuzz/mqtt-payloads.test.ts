// Fuzz target "mqtt-payloads" (issue 10 convention: fast-check, fixed seed, 10,000 runs per
// property, shrunk counter-examples kept in regressions/mqtt-payloads.json and replayed here).
// Every payload the project accepts over MQTT — silence commands, span batches, the signed command
// envelope — either parses into something safe to keep or is refused with a reason; nothing throws.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAt } from "../../src/boundary/reject.ts";
import { silenceCommandSchema } from "../../src/alerting/silence-command.ts";
import {
  checkExpireId,
  createSilence,
  DEFAULT_SILENCE_MAX_DURATION_MS,
  isSilenced,
  SILENCE_FIELDS,
  SilenceError,
  silenceSchema,
  STRANGER_ALERTS,
  tooBroad,
} from "../../src/alerting/silence.ts";
import { CommandVerifier, signCommand } from "../../src/mqtt/signed-command.ts";
import { TraceAggregator } from "../../src/trace/aggregate.ts";
import { syscallLatencyAnomalies } from "../../src/trace/alert.ts";
import { parseSpanBatch } from "../../src/trace/types.ts";

const SEED = 0x10_2026;
const RUNS = 10_000;
const T0 = 1_760_000_000_000;
const REGRESSIONS = JSON.parse(readFileSync(join(import.meta.dir, "regressions/mqtt-payloads.json"), "utf8")) as {
  silenceCommands: unknown[];
  spanBatches: unknown[];
  envelopes: unknown[];
};
const ignore = { reject() {} };
/** Small generated values: the shapes matter, not the volume (each target stays within seconds). */
const small = { maxDepth: 2, maxKeys: 4 };
const anything = () => fc.anything(small);
const json = () => fc.json({ maxDepth: 1 });
/** Cheap JSON-ish values (fast-check's deep JSON generators dominate the run time otherwise). */
const scalar = () => fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
/** Per test: 10,000 runs take a few seconds alone, more on a busy CI machine. */
const FUZZ_TIMEOUT_MS = 60_000;

/** The silence command path: schema, then createSilence. Only a refusal (SilenceError) may come out, or a safe silence. */
function silenceCommand(payload: unknown): "refused" | "accepted" {
  const parsed = parseAt(silenceCommandSchema, payload, "fuzz", ignore);
  if (!parsed.ok) return "refused";
  try {
    if (parsed.value.action === "expire") return (checkExpireId(parsed.value.id), "accepted");
    const s = createSilence({ ...parsed.value, matchers: parsed.value.matchers as never, createdBy: "fuzz" }, T0);
    // what is accepted is safe to store and to evaluate in every alert cycle
    expect(silenceSchema.safeParse(s).success).toBe(true);
    expect(tooBroad(s.matchers)).toBeUndefined();
    expect(s.endsAt - s.startsAt).toBeLessThanOrEqual(DEFAULT_SILENCE_MAX_DURATION_MS);
    expect(STRANGER_ALERTS.filter((a) => isSilenced(a, [s], T0)).length).toBeLessThan(2);
    return "accepted";
  } catch (e) {
    if (e instanceof SilenceError) return "refused";
    throw e;
  }
}

/** The span batch path: parse, then everything the bridge does with an accepted batch. */
function spanBatch(payload: string): void {
  const b = parseSpanBatch(payload, { sink: ignore, topicNode: "pi-1" });
  if (!b) return;
  expect(b.node).toBe("pi-1");
  const agg = new TraceAggregator(100);
  agg.ingest(b);
  agg.ingest(b);
  syscallLatencyAnomalies(
    agg.take().map((s) => ({ ...s })),
    1,
  );
}

const globText = fc.stringMatching(/^[a-z*?!=_.-]{0,8}$/);
const matcherArb = fc.oneof(
  fc.record(
    { field: fc.constantFrom(...SILENCE_FIELDS), value: globText, negate: fc.option(fc.boolean(), { nil: undefined }) },
    { requiredKeys: ["field", "value"] },
  ),
  fc.record({ field: fc.oneof(fc.string(), fc.constantFrom(...SILENCE_FIELDS)), value: anything() }),
  anything(),
);
const commandArb = fc.oneof(
  fc.record(
    {
      action: fc.constantFrom("add", "expire", "ADD", undefined),
      matchers: fc.oneof(
        fc.array(matcherArb, { maxLength: 4 }),
        fc.array(fc.tuple(fc.constantFrom(...SILENCE_FIELDS), fc.constantFrom("=", "!="), globText)).map((ms) => ms.map((m) => m.join("")).join(" ")),
        anything(),
      ),
      duration: fc.oneof(fc.constantFrom("1h", "30d", "31d", "876000h", "0s", "-1h", "1e3", ""), fc.double(), fc.integer(), anything()),
      comment: fc.oneof(fc.string({ maxLength: 20 }), anything()),
      id: fc.oneof(fc.string(), anything()),
      endsAt: fc.oneof(fc.double(), fc.integer({ min: T0 - 10, max: T0 + 40 * 86_400_000 })),
    },
    { requiredKeys: [] },
  ),
  anything(),
);

const VALID_SPAN = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  parentId: "00f067aa0ba902b7",
  service: "checkout",
  pid: 1,
  threads: 1,
  syscall: "read",
  nr: 0,
  count: 2,
  totalNs: 10,
  maxNs: 6,
  startUnixNano: "1000",
  endUnixNano: "2000",
  slow: [{ tid: 1, startUnixNano: "1001", durNs: 6, ret: 0 }],
};
const VALID_BATCH = {
  v: 1,
  node: "pi-1",
  arch: "aarch64",
  seq: 1,
  sentAt: "x",
  drops: { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 },
  spans: [VALID_SPAN],
};
/** A valid batch with one field (top level, in a span, or in a slow call) replaced or removed. */
const mutatedBatchArb = fc
  .record({
    where: fc.constantFrom("batch", "span", "slow"),
    key: fc.constantFrom(...new Set([...Object.keys(VALID_BATCH), ...Object.keys(VALID_SPAN), "tid", "durNs", "ret", "__proto__"])),
    value: fc.option(fc.oneof(anything(), fc.string(), fc.double(), fc.constantFrom("1e9", "-1", "0x10", "99999999999999999999999")), {
      nil: undefined,
    }),
  })
  .map(({ where, key, value }) => {
    const b = structuredClone(VALID_BATCH) as Record<string, unknown> & { spans: Record<string, unknown>[] };
    const target = where === "batch" ? b : where === "span" ? b.spans[0]! : (b.spans[0]!.slow as Record<string, unknown>[])[0]!;
    if (value === undefined) delete target[key];
    else target[key] = value;
    return JSON.stringify(b);
  });

describe("fuzz: MQTT payloads", () => {
  test("regression fixtures replay: every issue-10 reproduction is refused", () => {
    for (const c of REGRESSIONS.silenceCommands) expect({ c, r: silenceCommand(c) }).toEqual({ c, r: "refused" });
    for (const b of REGRESSIONS.spanBatches) {
      spanBatch(JSON.stringify(b));
      expect(parseSpanBatch(JSON.stringify(b), { sink: ignore, topicNode: "pi-1" })).toBeUndefined();
    }
    const v = new CommandVerifier({ keys: ["k".repeat(32)], maxAgeMs: 60_000, sink: ignore, source: "fuzz", clock: () => T0 });
    for (const e of REGRESSIONS.envelopes) expect(v.verify(JSON.stringify(e), "silence").ok).toBe(false);
  });

  test(
    "silence commands: refused with a reason or accepted as a safe, bounded, specific silence",
    () => {
      fc.assert(
        fc.property(commandArb, (c) => void silenceCommand(c)),
        { seed: SEED, numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  test(
    "span batches: any mutation of a valid batch is refused or processed without an exception",
    () => {
      fc.assert(
        fc.property(fc.oneof(mutatedBatchArb, fc.string(), json()), (p) => spanBatch(p)),
        { seed: SEED, numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  test(
    "signed envelope: arbitrary input never verifies; a signed command verifies once; any change breaks it",
    () => {
      const key = "fuzz-key-0123456789abcdef";
      let now = T0;
      const v = new CommandVerifier({ keys: [key], maxAgeMs: 60_000, sink: ignore, source: "fuzz", clock: () => now });
      const fields = ["kind", "kid", "signer", "ts", "nonce", "payload", "sig"] as const;
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.dictionary(fc.constantFrom(...fields, "v", "x"), scalar(), { maxKeys: 8 }).map((o) => JSON.stringify(o)),
          ),
          fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(scalar(), fc.array(scalar(), { maxLength: 3 })), { maxKeys: 4 }),
          fc.string({ minLength: 1, maxLength: 20 }),
          fc.constantFrom(...fields),
          scalar(),
          (junk, payload, signer, field, replacement) => {
            now += 1;
            expect(v.verify(junk, "silence").ok).toBe(false);
            // biome-ignore lint/suspicious/noControlCharactersInRegex: the signer must not carry control characters
            const env = signCommand("silence", payload, { key, signer: signer.replace(/[\u0000-\u001f\u007f-\u009f]/g, "_"), now });
            const text = JSON.stringify(env);
            const changed = JSON.stringify({ ...env, [field]: replacement });
            if (changed !== text && JSON.stringify(JSON.parse(changed)) !== text) expect(v.verify(changed, "silence").ok).toBe(false);
            expect(v.verify(text, "silence").ok).toBe(true);
            expect(v.verify(text, "silence").ok).toBe(false);
          },
        ),
        { seed: SEED, numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

// Fuzz target: watch lines and list items (src/kube/lines.ts, schemas.ts, bounds.ts). Whatever the
// server sends, parsing never throws; what it accepts has the identity every part of the controller
// reads (string name, namespace, resourceVersion, string labels); what it refuses is reported once.
import { expect, test } from "bun:test";
import type { RejectSink } from "../../src/boundary/reject.ts";
import { mayHoldLongStrings, truncateLongStrings } from "../../src/kube/bounds.ts";
import { parseWatchLine } from "../../src/kube/lines.ts";
import { checkObject } from "../../src/kube/schemas.ts";
import { objectKey, type KubeObject } from "../../src/kube/types.ts";
import { fc, fuzz } from "./support.ts";

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double(), fc.constant(""));
const loose = fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 }));
/** Metadata that is sometimes right, often nearly right (wrong types, missing, null). */
const metadata = fc.oneof(
  loose,
  fc.record(
    {
      name: loose,
      namespace: loose,
      uid: loose,
      resourceVersion: loose,
      generation: loose,
      creationTimestamp: loose,
      deletionTimestamp: loose,
      labels: fc.oneof(loose, fc.dictionary(fc.string({ maxLength: 8 }), loose, { maxKeys: 3 })),
      annotations: fc.oneof(loose, fc.dictionary(fc.string({ maxLength: 8 }), loose, { maxKeys: 3 })),
      ownerReferences: fc.oneof(
        loose,
        fc.array(fc.record({ kind: loose, name: loose, uid: loose, controller: loose }, { requiredKeys: [] }), { maxLength: 2 }),
      ),
    },
    { requiredKeys: [] },
  ),
);
const object = fc.oneof(loose, fc.record({ metadata, spec: loose, status: loose, code: loose, message: loose }, { requiredKeys: [] }));
const event = fc.record(
  { type: fc.oneof(fc.constantFrom("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"), loose), object },
  { requiredKeys: [] },
);
const line = fc.oneof(
  event.map((e) => JSON.stringify(e)),
  fc.string({ maxLength: 60 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

function counting() {
  const seen = { n: 0 };
  const sink: RejectSink = { reject: () => void seen.n++ };
  return { sink, seen };
}

function expectUsable(o: KubeObject): void {
  const m = o.metadata;
  expect(typeof m.name).toBe("string");
  expect(m.name.length).toBeGreaterThan(0);
  for (const f of ["namespace", "uid", "resourceVersion"] as const) if (m[f] !== undefined) expect(typeof m[f]).toBe("string");
  for (const map of [m.labels, m.annotations]) if (map) for (const v of Object.values(map)) expect(typeof v).toBe("string");
  if (m.ownerReferences) for (const r of m.ownerReferences) expect([typeof r.kind, typeof r.name]).toEqual(["string", "string"]);
  expect(typeof objectKey(o)).toBe("string");
}

test("watch-line: any line parses or is refused (reported once), never throws; accepted objects are usable", () => {
  fuzz("watch-line", 0x3a7c, line, (text) => {
    const { sink, seen } = counting();
    const ev = parseWatchLine(text, "kube.fuzz", sink);
    if (!ev) return expect(seen.n).toBe(1);
    expect(seen.n).toBe(0);
    expect(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]).toContain(ev.type);
    if (ev.type !== "ERROR" && ev.type !== "BOOKMARK") expectUsable(ev.object);
  });
}, 60_000);

test("list-item: any item is usable or refused (reported once); strings over the bound are cut", () => {
  fuzz("list-item", 0x5e1f, fc.oneof(object, fc.record({ metadata, message: fc.string({ maxLength: 300 }) })), (item) => {
    const { sink, seen } = counting();
    const copy = structuredClone(item);
    const o = checkObject(copy, "kube.fuzz", sink);
    expect(seen.n).toBe(o ? 0 : 1);
    if (!o) return;
    expectUsable(o);
    truncateLongStrings(o, 16);
    const stack: unknown[] = [o];
    while (stack.length) {
      const v = stack.pop();
      if (typeof v === "string") expect(v.length).toBeLessThanOrEqual(16);
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) stack.push(k, x);
    }
  });
}, 60_000);

test("list page: when the text shows no stretch past the bound, the walk would cut nothing (quotes, backslashes, unicode)", () => {
  const tricky = fc.string({ unit: fc.constantFrom("a", '"', "\\", "\u00e9", "\ud83d\ude00", "\n", "/"), maxLength: 40 });
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      tricky,
      fc.integer(),
      fc.constant(null),
      fc.array(tie("v"), { maxLength: 4 }),
      fc.dictionary(tricky, tie("v"), { maxKeys: 4 }),
    ),
  })).v;
  fuzz("list-page-long-strings", 0x10c5, fc.tuple(value, fc.integer({ min: 1, max: 24 })), ([v, max]) => {
    const text = JSON.stringify(v);
    if (mayHoldLongStrings(text, max)) return;
    expect(truncateLongStrings(JSON.parse(text), max)).toBe(0);
  });
}, 60_000);

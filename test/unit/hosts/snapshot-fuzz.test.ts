// Hostile host snapshots (fast-check, fixed seed): any payload on <prefix>/hosts/<node> either parses into
// a snapshot the rules and the intake handle, or is refused with a reason and counted; nothing throws, and
// what is accepted yields only Host anomalies about the topic's node with bounded messages.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeThrottled } from "../../../agent/host-health-readers.ts";
import { Collector } from "../../../src/diagnosis/collector.ts";
import { HostHealthIntake } from "../../../src/hosts/intake.ts";
import { DEFAULT_HOST_THRESHOLDS } from "../../../src/hosts/rules.ts";
import { parseHostSnapshot } from "../../../src/hosts/snapshot.ts";

const SEED = 0x16_2026;
const T0 = 1_760_000_000_000;
const valid = {
  v: 1,
  node: "pi-3",
  time: new Date(T0).toISOString(),
  intervalSeconds: 15,
  temperature: { celsius: 48.3, zone: "cpu-thermal" },
  throttled: decodeThrottled(0x50005),
  rootFs: { mount: "/", usedPercent: 95, sizeBytes: 1e9, readOnly: true },
  filesystems: [{ mount: "/", fs: "/dev/mmcblk0p2", type: "ext4", sizeBytes: 1e9, usedPercent: 95 }],
  memory: { totalBytes: 1, availableBytes: 1, swapTotalBytes: 0, swapUsedBytes: 0 },
  load: { avg1: 0.1, cpus: 4 },
  network: { rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 },
  storage: { device: "mmcblk0", lifeTimeA: 1, lifeTimeB: 1, lifeUsedPercent: 10, preEol: "normal" },
  ioErrors: { count: 0, sources: [] },
  clock: { synchronized: false, source: "adjtimex", uptimeSeconds: 1 },
};
const value = () =>
  fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.anything({ maxDepth: 2, maxKeys: 4 }));

function run(payload: string): void {
  const observed: { key: string; anomalies: { kind: string; name: string; message: string }[] }[] = [];
  const collector = new Collector();
  const sink = {
    observe: (key: string, anomalies: never[], now: number) => (observed.push({ key, anomalies }), collector.observe(key, anomalies, now)),
  };
  const refusals: string[] = [];
  const intake = new HostHealthIntake(sink, DEFAULT_HOST_THRESHOLDS, () => false, { reject: (_s, reason) => void refusals.push(reason) });
  const accepted = intake.accept("pi-3", payload, false, T0);
  intake.evaluate(T0 + 3_600_000); // stale, Node not Ready: the last findings are evaluated too
  if (!accepted) {
    expect(refusals.length).toBe(1);
    expect(observed).toEqual([]);
    return;
  }
  for (const o of observed) {
    expect(o.key).toBe("Host/pi-3");
    for (const a of o.anomalies) {
      expect(a.kind).toBe("Host");
      expect(a.name).toBe("pi-3");
      expect(a.message.length).toBeLessThan(1000);
    }
  }
}

describe("host snapshot fuzz", () => {
  test("any JSON value is accepted safely or refused with a reason", () => {
    fc.assert(
      fc.property(value(), (v) => run(JSON.stringify(v) ?? "null")),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test("a valid snapshot with one field replaced by anything", () => {
    const keys = Object.keys(valid);
    fc.assert(
      fc.property(fc.constantFrom(...keys), value(), (key, v) => run(JSON.stringify({ ...valid, [key]: v }))),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test("nested fields replaced by anything", () => {
    const nested: [string, string][] = [
      ["temperature", "celsius"],
      ["throttled", "raw"],
      ["rootFs", "usedPercent"],
      ["rootFs", "readOnly"],
      ["clock", "synchronized"],
      ["storage", "preEol"],
      ["filesystems", "0"],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...nested), value(), ([outer, inner], v) => {
        const copy = structuredClone(valid) as Record<string, any>;
        copy[outer][inner] = v;
        run(JSON.stringify(copy));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test("the intact snapshot is accepted (the generators start from something valid)", () => {
    expect(parseHostSnapshot(JSON.stringify(valid))).toBeDefined();
  });
});

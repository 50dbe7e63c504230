// The Host rules and the controller's intake: each anomaly fires on its condition and resolves when it
// clears; stale snapshots mean HostUnreported only while the Node is Ready; malformed, oversized and
// misaddressed snapshots are refused and counted; a host anomaly roots its Node's and Pods' incident.
import { describe, expect, test } from "bun:test";
import { decodeThrottled } from "../../../agent/host-health-readers.ts";
import { correlate, emptyIncidentState, rootOf } from "../../../src/correlation/incidents.ts";
import { Collector } from "../../../src/diagnosis/collector.ts";
import { HostHealthIntake } from "../../../src/hosts/intake.ts";
import { DEFAULT_HOST_THRESHOLDS as T, hostFindings, type HostReport } from "../../../src/hosts/rules.ts";
import { HOST_SNAPSHOT_MAX_BYTES, type HostSnapshot } from "../../../src/hosts/snapshot.ts";
import { anomalyKey } from "../../../src/model/anomaly.ts";
import { memCache, T0 } from "../../support/fixtures.ts";
import { activeOf, nodeDown, podCrash } from "../alerting/helpers.ts";

function snap(o: Partial<HostSnapshot> = {}): HostSnapshot {
  return {
    v: 1,
    node: "pi-3",
    time: new Date(T0).toISOString(),
    intervalSeconds: 15,
    temperature: { celsius: 48.3, zone: "cpu-thermal" },
    throttled: decodeThrottled(0),
    rootFs: { mount: "/", usedPercent: 40, sizeBytes: 32e9, readOnly: false },
    filesystems: null,
    memory: null,
    load: null,
    network: null,
    storage: null,
    ioErrors: null,
    clock: { synchronized: true, source: "adjtimex", uptimeSeconds: 100 },
    ...o,
  };
}
const report = (s: HostSnapshot, o: Partial<HostReport> = {}): HostReport => ({ snapshot: s, receivedAt: T0, skewMs: 0, ...o });
const reasons = (r: HostReport, ready: boolean | undefined = true, now = T0) =>
  hostFindings(r, ready, now, T).map((f) => `${f.reason}:${f.severity}`);

describe("Host rules", () => {
  test("a healthy Pi raises nothing", () => {
    expect(reasons(report(snap()))).toEqual([]);
  });

  test("under-voltage now is critical; since boot only is no anomaly (it cannot clear before a reboot)", () => {
    expect(reasons(report(snap({ throttled: decodeThrottled(0x1) })))).toEqual(["UnderVoltage:critical"]);
    expect(reasons(report(snap({ throttled: decodeThrottled(0x50000) })))).toEqual([]);
  });

  test("throttled, frequency capped or soft limit now raise Throttled; the message names what", () => {
    for (const bits of [0x2, 0x4, 0x8]) expect(reasons(report(snap({ throttled: decodeThrottled(bits) })))).toEqual(["Throttled:warning"]);
    const [f] = hostFindings(report(snap({ throttled: decodeThrottled(0x6) })), true, T0, T);
    expect(f!.message).toContain("throttled, ARM frequency capped");
  });

  test("temperature: warning from 80 °C, critical from 85 °C (configurable)", () => {
    expect(reasons(report(snap({ temperature: { celsius: 79.9 } })))).toEqual([]);
    expect(reasons(report(snap({ temperature: { celsius: 80 } })))).toEqual(["HighTemperature:warning"]);
    expect(reasons(report(snap({ temperature: { celsius: 86.1 } })))).toEqual(["HighTemperature:critical"]);
    expect(hostFindings(report(snap({ temperature: { celsius: 70 } })), true, T0, { ...T, temperatureWarning: 65 })).toHaveLength(1);
  });

  test("disk: the fullest filesystem decides; squashfs images are full by design", () => {
    expect(reasons(report(snap({ rootFs: { mount: "/", usedPercent: 91, sizeBytes: 1e9, readOnly: false } })))).toEqual(["DiskAlmostFull:warning"]);
    const fs = [
      { mount: "/var/lib/rancher", fs: "/dev/sda1", type: "ext4", sizeBytes: 1e11, usedPercent: 98 },
      { mount: "/snap/core", fs: "/dev/loop0", type: "squashfs", sizeBytes: 1e8, usedPercent: 100 },
    ];
    const [f] = hostFindings(report(snap({ filesystems: fs })), true, T0, T);
    expect(`${f!.reason}:${f!.severity}`).toBe("DiskAlmostFull:critical");
    expect(f!.message).toContain("/var/lib/rancher");
    expect(reasons(report(snap({ filesystems: [fs[1]!] })))).toEqual([]);
  });

  test("read-only root is critical; unknown (null) is not an anomaly", () => {
    expect(reasons(report(snap({ rootFs: { mount: "/", usedPercent: 40, sizeBytes: 1, readOnly: true } })))).toEqual([
      "RootFilesystemReadOnly:critical",
    ]);
    expect(reasons(report(snap({ rootFs: { mount: "/", usedPercent: 40, sizeBytes: 1, readOnly: null } })))).toEqual([]);
  });

  test("clock: unsynchronised NTP or skew beyond HOST_CLOCK_SKEW_MAX; unknown is not an anomaly", () => {
    expect(reasons(report(snap({ clock: { synchronized: false, source: "adjtimex", uptimeSeconds: 1 } })))).toEqual(["ClockUnsynchronized:warning"]);
    const [f] = hostFindings(report(snap(), { skewMs: -12_300 }), true, T0, T);
    expect(f!.message).toContain("12.3 s behind");
    expect(reasons(report(snap({ clock: { synchronized: null, source: null, uptimeSeconds: null } }), { skewMs: null }))).toEqual([]);
  });

  test("stale snapshot: HostUnreported (only) while the Node is Ready; last findings kept while it is not; nothing for an unknown node", () => {
    const r = report(snap({ throttled: decodeThrottled(0x1) }));
    const late = T0 + 4 * 15_000 + 1;
    expect(reasons(r, true, T0 + 60_000)).toEqual(["UnderVoltage:critical"]);
    expect(reasons(r, true, late)).toEqual(["HostUnreported:warning"]);
    expect(reasons(r, false, late)).toEqual(["UnderVoltage:critical"]);
    expect(hostFindings(r, undefined, late, T)).toEqual([]); // the Node was deleted and the agent is gone
  });
});

function intakeRig(ready: Record<string, boolean> = { "pi-3": true }) {
  const refused: string[] = [];
  const collector = new Collector();
  const intake = new HostHealthIntake(collector, T, (n) => ready[n], { reject: (source, reason) => void refused.push(`${source}: ${reason}`) });
  return { intake, collector, refused };
}

describe("HostHealthIntake", () => {
  test("fires through the collector and resolves when the snapshot clears; eventTime is when it began", () => {
    const transitions: string[] = [];
    const c = new Collector(undefined, (t) => transitions.push(`${t.type}:${t.anomaly.reason}:${t.anomaly.eventTime}`));
    const i2 = new HostHealthIntake(c, T, () => true, { reject() {} });
    i2.accept("pi-3", JSON.stringify(snap({ throttled: decodeThrottled(0x50005) })), false, T0);
    i2.evaluate(T0);
    i2.accept("pi-3", JSON.stringify(snap({ throttled: decodeThrottled(0x50005), time: new Date(T0 + 15_000).toISOString() })), false, T0 + 15_000);
    i2.evaluate(T0 + 15_000);
    i2.accept("pi-3", JSON.stringify(snap({ throttled: decodeThrottled(0x50000), time: new Date(T0 + 30_000).toISOString() })), false, T0 + 30_000);
    i2.evaluate(T0 + 30_000);
    const t0 = new Date(T0).toISOString().replace(/\.\d+Z$/, "Z");
    expect(transitions).toEqual([`firing:UnderVoltage:${t0}`, `firing:Throttled:${t0}`, `resolved:UnderVoltage:${t0}`, `resolved:Throttled:${t0}`]);
    expect(i2.size).toBe(1);
  });

  test("refused and counted: not JSON, wrong shape, oversized, another node's snapshot on this node's topic", () => {
    const { intake, refused } = intakeRig();
    expect(intake.accept("pi-3", "{oops", false, T0)).toBe(false);
    expect(intake.accept("pi-3", JSON.stringify({ ...snap(), temperature: { celsius: "hot" } }), false, T0)).toBe(false);
    expect(intake.accept("pi-3", JSON.stringify({ ...snap(), pad: "x".repeat(HOST_SNAPSHOT_MAX_BYTES) }), false, T0)).toBe(false);
    expect(intake.accept("pi-3", JSON.stringify(snap({ node: "pi-4" })), false, T0)).toBe(false);
    expect(intake.accept("pi-3", JSON.stringify({ ...snap(), throttled: { ...decodeThrottled(1), raw: "0x1; rm -rf" } }), false, T0)).toBe(false);
    expect(refused).toHaveLength(5);
    expect(refused.every((r) => r.startsWith("mqtt.host-snapshot: "))).toBe(true);
    expect(refused[3]).toContain('"pi-4" published on the topic of node "pi-3"');
    expect(intake.size).toBe(0);
  });

  test("skew is measured on live snapshots only; a retained one keeps the last measurement", () => {
    const { intake } = intakeRig();
    intake.accept("pi-3", JSON.stringify(snap({ time: new Date(T0 - 30_000).toISOString() })), true, T0);
    expect(intake.report("pi-3")!.skewMs).toBeNull();
    intake.accept("pi-3", JSON.stringify(snap({ time: new Date(T0 + 5_000).toISOString() })), false, T0);
    expect(intake.report("pi-3")!.skewMs).toBe(5_000);
  });

  test("skew is judged against the API server's clock when its Date header gave an offset", () => {
    let apiOffset: number | undefined = 3_000; // the API server's clock is 3 s ahead of the controller's
    const intake = new HostHealthIntake(
      new Collector(),
      T,
      () => true,
      { reject() {} },
      () => apiOffset,
    );
    intake.accept("pi-3", JSON.stringify(snap({ time: new Date(T0 + 3_000).toISOString() })), false, T0);
    expect(intake.report("pi-3")!.skewMs).toBe(0); // in step with the API server: no skew, whatever the controller's clock says
    apiOffset = undefined;
    intake.accept("pi-3", JSON.stringify(snap({ time: new Date(T0 + 3_000).toISOString() })), false, T0);
    expect(intake.report("pi-3")!.skewMs).toBe(3_000);
  });

  test("an empty retained payload forgets the node and resolves what it had raised", () => {
    const transitions: string[] = [];
    const c = new Collector(undefined, (t) => transitions.push(`${t.type}:${t.anomaly.reason}`));
    const intake = new HostHealthIntake(c, T, () => true, { reject() {} });
    intake.accept("pi-3", JSON.stringify(snap({ rootFs: { mount: "/", usedPercent: 1, sizeBytes: 1, readOnly: true } })), false, T0);
    intake.evaluate(T0);
    intake.accept("pi-3", "", true, T0 + 1000);
    intake.evaluate(T0 + 1000);
    expect(transitions).toEqual(["firing:RootFilesystemReadOnly", "resolved:RootFilesystemReadOnly"]);
    expect(intake.size).toBe(0);
  });
});

describe("correlation", () => {
  test("the node's NotReady and its Pods' anomalies join the host incident, the host anomaly as root, with a 'detected N s before' note", () => {
    const host = {
      kind: "Host",
      namespace: "",
      name: "pi-3",
      node: "pi-3",
      reason: "UnderVoltage",
      severity: "critical" as const,
      category: "Host",
      message: "pi-3 is under-voltage now.",
      eventTime: new Date(T0).toISOString().replace(/\.\d+Z$/, "Z"),
    };
    const first = correlate(emptyIncidentState(), activeOf(host), memCache(), T0);
    expect(first.changes.map((c) => c.type)).toEqual(["opened"]);
    const later = new Date(T0 + 40_000).toISOString().replace(/\.\d+Z$/, "Z");
    const down = nodeDown("pi-3", { eventTime: later });
    const crash = podCrash("web-1", "pi-3", { eventTime: later });
    const unrelated = podCrash("api-1", "pi-1");
    const second = correlate(first.state, activeOf(host, down, crash, unrelated), memCache(), T0 + 40_000);
    const incident = second.changes.find((c) => c.type === "updated")!.incident;
    expect(incident.id).toBe(first.changes[0]!.incident.id);
    expect(rootOf(incident).key).toBe(anomalyKey(host));
    expect(incident.members.map((m) => m.anomaly.reason)).toEqual(["UnderVoltage", "NodeNotReady", "CrashLoopBackOff"]);
    const nodeMember = incident.members[1]!;
    expect(nodeMember.anomaly.message).toEndWith("— under-voltage detected 40 s before (UnderVoltage on host pi-3).");
    expect(incident.members[2]!.anomaly.message).toContain("under-voltage detected 40 s before");
    expect(second.changes.some((c) => c.type === "opened" && c.incident.members[0]!.anomaly.name === "api-1")).toBe(true);
    // a silent agent (HostUnreported) is no cause for the Pods on its node
    const silent = { ...host, reason: "HostUnreported", severity: "warning" as const };
    const apart = correlate(emptyIncidentState(), activeOf(silent, podCrash("web-9", "pi-3")), memCache(), T0);
    expect(apart.changes.map((c) => c.incident.members.map((m) => m.anomaly.reason))).toEqual([["HostUnreported"], ["CrashLoopBackOff"]]);
    // deterministic: the next pass does not stack notes
    const third = correlate(second.state, activeOf(host, down, crash, unrelated), memCache(), T0 + 45_000);
    expect(third.changes).toEqual([]);
  });
});

// The Host rules: what a node's last host-health snapshot (and its age) says is wrong, as findings with
// a reason, a severity and an actionable message. Pure: the report, the Node's readiness and `now` in,
// findings out. src/hosts/intake.ts turns them into anomalies (kind Host, name = node).
import type { Severity } from "../model/anomaly.ts";
import type { HostSnapshot } from "./snapshot.ts";

export interface HostThresholds {
  temperatureWarning: number;
  temperatureCritical: number;
  diskWarningPercent: number;
  diskCriticalPercent: number;
  clockSkewMaxMs: number;
  /** Intervals without a snapshot before HostUnreported. */
  unreportedAfter: number;
}

export const DEFAULT_HOST_THRESHOLDS: HostThresholds = {
  temperatureWarning: 80,
  temperatureCritical: 85,
  diskWarningPercent: 90,
  diskCriticalPercent: 97,
  clockSkewMaxMs: 2000,
  unreportedAfter: 4,
};

/** A node's last snapshot as the controller received it. */
export interface HostReport {
  snapshot: HostSnapshot;
  /** Controller clock when it arrived (a retained snapshot: when the subscription delivered it). */
  receivedAt: number;
  /** Node clock minus the API server's (the controller's until the API answered), from the last live snapshot; null: unknown. */
  skewMs: number | null;
}

export interface HostFinding {
  reason: HostReason;
  severity: Severity;
  message: string;
}

export const HOST_REASONS = [
  "UnderVoltage",
  "Throttled",
  "HighTemperature",
  "DiskAlmostFull",
  "RootFilesystemReadOnly",
  "ClockUnsynchronized",
  "HostUnreported",
] as const;
export type HostReason = (typeof HOST_REASONS)[number];

// Filesystems that are full by design (images, read-only media) are never "almost full".
const ALWAYS_FULL = new Set(["squashfs", "iso9660", "udf", "erofs", "cramfs"]);

const fmtBytes = (n: number | null) =>
  n === null ? "" : n >= 2 ** 30 ? ` of ${(n / 2 ** 30).toFixed(1)} GiB` : ` of ${(n / 2 ** 20).toFixed(0)} MiB`;

/** True when the snapshot is older than `unreportedAfter` of its own intervals (by the controller's clock). */
export function isStale(report: HostReport, now: number, t: HostThresholds): boolean {
  return now - report.receivedAt > t.unreportedAfter * report.snapshot.intervalSeconds * 1000;
}

/**
 * Findings for one node. `nodeReady`: the Kubernetes Node's Ready condition (undefined: no such Node).
 * A stale snapshot is still evidence while the Node is not Ready (the under-voltage that took it down);
 * while the Node is Ready it means the agent stopped reporting (HostUnreported, nothing else).
 */
export function hostFindings(report: HostReport, nodeReady: boolean | undefined, now: number, t: HostThresholds): HostFinding[] {
  const s = report.snapshot;
  const node = s.node;
  if (isStale(report, now, t)) {
    if (nodeReady === true) {
      const age = Math.round((now - report.receivedAt) / 1000);
      return [
        {
          reason: "HostUnreported",
          severity: "warning",
          message: `No host-health snapshot from the agent on ${node} for ${age} s (it reports every ${s.intervalSeconds} s) while its Node is Ready: the agent stopped or cannot reach the MQTT broker. Check it with "systemctl status neurocontroller-agent" on ${node}.`,
        },
      ];
    }
    if (nodeReady === undefined) return []; // no such Node and no news: nothing to say about it
  }
  const out: HostFinding[] = [];
  const th = s.throttled;
  const temp = s.temperature ? ` SoC temperature ${s.temperature.celsius} °C.` : "";
  if (th?.underVoltageNow) {
    out.push({
      reason: "UnderVoltage",
      severity: "critical",
      message: `${node} is under-voltage now (firmware get_throttled ${th.raw}): its supply delivers too little power, so the Pi throttles, may corrupt its SD card or reboot. Use a supply rated for the model (5.1 V, 3 A for a Pi 4, 5 A for a Pi 5) and a short, thick cable; USB devices drawing power make it worse.`,
    });
  }
  if (th && (th.throttledNow || th.freqCappedNow || th.softTempLimitNow)) {
    const what = [th.throttledNow && "throttled", th.freqCappedNow && "ARM frequency capped", th.softTempLimitNow && "soft temperature limit active"]
      .filter(Boolean)
      .join(", ");
    out.push({
      reason: "Throttled",
      severity: "warning",
      message: `${node}'s CPU is slowed by its firmware now (${what}; get_throttled ${th.raw}).${temp} Pods on it run slower than elsewhere; check cooling (heatsink, fan, airflow) and the power supply.`,
    });
  }
  if (s.temperature && s.temperature.celsius >= t.temperatureWarning) {
    const critical = s.temperature.celsius >= t.temperatureCritical;
    out.push({
      reason: "HighTemperature",
      severity: critical ? "critical" : "warning",
      message: `${node}'s SoC is at ${s.temperature.celsius} °C (warning from ${t.temperatureWarning} °C, critical from ${t.temperatureCritical} °C): the firmware throttles the CPU from about 80 °C and hard at 85 °C. Check the heatsink or fan, the case's airflow and the room temperature.`,
    });
  }
  const disk = fullestFilesystem(s);
  if (disk && disk.usedPercent >= t.diskWarningPercent) {
    out.push({
      reason: "DiskAlmostFull",
      severity: disk.usedPercent >= t.diskCriticalPercent ? "critical" : "warning",
      message: `Filesystem ${disk.mount} on ${node} is ${disk.usedPercent} % full${fmtBytes(disk.sizeBytes)} (warning from ${t.diskWarningPercent} %, critical from ${t.diskCriticalPercent} %). The kubelet evicts pods under disk pressure and a full SD card risks corruption: prune unused images (crictl rmi --prune) and logs (journalctl --vacuum-size=100M).`,
    });
  }
  if (s.rootFs?.readOnly === true) {
    out.push({
      reason: "RootFilesystemReadOnly",
      severity: "critical",
      message: `${node}'s root filesystem is mounted read-only: the kernel does this after I/O errors, usually a failing SD card${s.ioErrors?.count ? ` (${s.ioErrors.count} I/O errors counted)` : ""}. The kubelet and containerd cannot write; back up, check "dmesg" for mmc errors and replace the card (an SSD lasts longer).`,
    });
  }
  const skewed = report.skewMs !== null && Math.abs(report.skewMs) > t.clockSkewMaxMs;
  if (s.clock?.synchronized === false || skewed) {
    const why = [
      s.clock?.synchronized === false && `not synchronised with NTP (${s.clock.source ?? "kernel"})`,
      skewed && `${(Math.abs(report.skewMs!) / 1000).toFixed(1)} s ${report.skewMs! > 0 ? "ahead of" : "behind"} the API server's clock`,
    ]
      .filter(Boolean)
      .join(" and ");
    out.push({
      reason: "ClockUnsynchronized",
      severity: "warning",
      message: `${node}'s clock is ${why}. A Pi has no battery-backed clock: TLS certificates, Lease renewals and log times break when it drifts. Check systemd-timesyncd or chrony and that the node reaches its NTP servers.`,
    });
  }
  return out;
}

function fullestFilesystem(s: HostSnapshot): { mount: string; usedPercent: number; sizeBytes: number | null } | undefined {
  const candidates: { mount: string; usedPercent: number; sizeBytes: number | null }[] = [];
  if (s.rootFs?.usedPercent != null) candidates.push({ mount: s.rootFs.mount, usedPercent: s.rootFs.usedPercent, sizeBytes: s.rootFs.sizeBytes });
  for (const f of s.filesystems ?? [])
    if (!ALWAYS_FULL.has(f.type)) candidates.push({ mount: f.mount, usedPercent: f.usedPercent, sizeBytes: f.sizeBytes });
  return candidates.sort((a, b) => b.usedPercent - a.usedPercent)[0];
}

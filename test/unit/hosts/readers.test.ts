// The agent's host readers over fake /sys + /proc trees: every throttling bit, read-only root, SD/eMMC
// wear, temperature zone choice, I/O error counters, and absent files reported as absent (null).
import { afterEach, describe, expect, test } from "bun:test";
import { collectHostSnapshot } from "../../../agent/host-health.ts";
import {
  decodeThrottled,
  parseThrottledText,
  readClockSynchronized,
  readIoErrors,
  readNetworkErrors,
  readRootReadOnly,
  readStorageWear,
  readTemperature,
  readThrottled,
  THROTTLE_BITS,
} from "../../../agent/host-health-readers.ts";
import { hostSnapshotSchema } from "../../../src/hosts/snapshot.ts";
import { HostTree, PI_MOUNTS } from "./host-tree.ts";

let trees: HostTree[] = [];
const tree = () => {
  const t = new HostTree();
  trees.push(t);
  return t;
};
afterEach(() => {
  for (const t of trees) t.cleanup();
  trees = [];
});
const noVcgencmd = () => {
  throw new Error("vcgencmd must not run under a fake root");
};
const noSystem = async () => ({ filesystems: null, memory: null, load: null });

describe("get_throttled", () => {
  const flags = Object.keys(THROTTLE_BITS) as (keyof typeof THROTTLE_BITS)[];

  for (const flag of flags) {
    test(`bit ${THROTTLE_BITS[flag]} alone sets ${flag} and nothing else`, () => {
      const t = tree()
        .pi()
        .throttled((1 << THROTTLE_BITS[flag]).toString(16));
      const decoded = readThrottled(t.root, noVcgencmd)!;
      for (const other of flags) expect(decoded[other]).toBe(other === flag);
      expect(decoded.raw).toBe(`0x${(1 << THROTTLE_BITS[flag]).toString(16)}`);
    });
  }

  test("0x50005 (the classic weak supply): under-voltage and throttled now and since boot", () => {
    expect(decodeThrottled(0x50005)).toEqual({
      raw: "0x50005",
      underVoltageNow: true,
      freqCappedNow: false,
      throttledNow: true,
      softTempLimitNow: false,
      underVoltageSinceBoot: true,
      freqCappedSinceBoot: false,
      throttledSinceBoot: true,
      softTempLimitSinceBoot: false,
    });
  });

  test("sysfs hex without 0x, vcgencmd's throttled=0x…, garbage refused", () => {
    expect(parseThrottledText("50005\n")).toBe(0x50005);
    expect(parseThrottledText("throttled=0x80008")).toBe(0x80008);
    expect(parseThrottledText("throttled=oops")).toBeUndefined();
    const t = tree().pi().throttled("not a number");
    expect(readThrottled(t.root, noVcgencmd)).toBeNull();
  });

  test("no firmware file: absent (null), not healthy — and vcgencmd is only asked on the real root", () => {
    const t = tree().pi().remove("sys/devices");
    expect(readThrottled(t.root, noVcgencmd)).toBeNull();
    expect(readThrottled("/", () => "throttled=0x4")?.throttledNow).toBe(process.platform === "linux" ? !existsGetThrottled() : true);
  });
});

function existsGetThrottled(): boolean {
  try {
    require("node:fs").accessSync("/sys/devices/platform/soc/soc:firmware/get_throttled");
    return true;
  } catch {
    return false;
  }
}

describe("temperature", () => {
  test("cpu-thermal preferred over other zones; millidegrees to one decimal", () => {
    const t = tree()
      .write("sys/class/thermal/thermal_zone0/type", "acpitz\n")
      .write("sys/class/thermal/thermal_zone0/temp", "27800\n")
      .write("sys/class/thermal/thermal_zone1/type", "cpu-thermal\n")
      .write("sys/class/thermal/thermal_zone1/temp", "81234\n");
    expect(readTemperature(t.root)).toEqual({ celsius: 81.2, zone: "cpu-thermal" });
  });

  test("no cpu-thermal: the first zone with a reading; unreadable or absurd readings skipped; none: null", () => {
    const t = tree()
      .write("sys/class/thermal/thermal_zone0/temp", "garbage\n")
      .write("sys/class/thermal/thermal_zone1/temp", "999999999\n")
      .write("sys/class/thermal/thermal_zone2/type", "soc\n")
      .write("sys/class/thermal/thermal_zone2/temp", "55000\n");
    expect(readTemperature(t.root)).toEqual({ celsius: 55, zone: "soc" });
    expect(readTemperature(tree().root)).toBeNull();
  });
});

describe("root filesystem, wear, I/O errors, clock", () => {
  test("mountinfo: the superblock's ro (kernel remount after errors) counts, a read-only bind mount of / (ProtectSystem) does not", () => {
    const line = (mountOpts: string, superOpts: string) => `29 1 179:2 / / ${mountOpts} shared:1 - ext4 /dev/mmcblk0p2 ${superOpts}\n`;
    const t = tree().write("proc/mounts", "/dev/mmcblk0p2 / ext4 ro 0 0\n");
    t.write("proc/self/mountinfo", `${line("ro,relatime", "rw,errors=remount-ro")}30 29 0:5 / /dev rw - devtmpfs udev rw\n`);
    expect(readRootReadOnly(t.root)).toBe(false);
    t.write("proc/self/mountinfo", line("ro,relatime", "ro,errors=remount-ro"));
    expect(readRootReadOnly(t.root)).toBe(true);
    t.write("proc/self/mountinfo", `${line("rw", "rw")}31 29 179:2 / / ro,relatime - ext4 /dev/mmcblk0p2 ro\n`); // the last / wins
    expect(readRootReadOnly(t.root)).toBe(true);
    // a container: its own overlay on /, the node's / bind-mounted at the root prefix (hostPath "/" at /host)
    const overlay = "500 400 0:50 / / ro,relatime - overlay overlay rw,lowerdir=/l\n";
    t.write("proc/self/mountinfo", `${overlay}501 500 179:2 / ${t.root} ro,relatime - ext4 /dev/mmcblk0p2 ro,errors=remount-ro\n`);
    expect(readRootReadOnly(t.root)).toBe(true);
    t.write("proc/self/mountinfo", `${overlay}501 500 179:2 / ${t.root} ro,relatime - ext4 /dev/mmcblk0p2 rw\n`);
    expect(readRootReadOnly(t.root)).toBe(false);
  });

  test("without mountinfo: /proc/mounts, the last / entry wins; rw root is false; neither file: null", () => {
    const t = tree().write("proc/mounts", `${PI_MOUNTS}\n/dev/mmcblk0p2 / ext4 ro,noatime 0 0\n`);
    expect(readRootReadOnly(t.root)).toBe(true);
    expect(readRootReadOnly(tree().pi().root)).toBe(false);
    expect(readRootReadOnly(tree().root)).toBeNull();
  });

  test("SD/eMMC life time bands and pre-EOL state; absent files: null", () => {
    const t = tree().write("sys/block/mmcblk0/device/life_time", "0x09 0x03\n").write("sys/block/mmcblk0/device/pre_eol_info", "0x02\n");
    expect(readStorageWear(t.root)).toEqual({ device: "mmcblk0", lifeTimeA: 9, lifeTimeB: 3, lifeUsedPercent: 90, preEol: "warning" });
    const past = tree().write("sys/block/mmcblk0/device/life_time", "0x0b 0x0b\n");
    expect(readStorageWear(past.root)).toMatchObject({ lifeUsedPercent: 110, preEol: null });
    expect(readStorageWear(tree().root)).toBeNull();
  });

  test("ext4 errors_count and block ioerr_cnt are summed; none present: null", () => {
    const t = tree()
      .write("sys/fs/ext4/mmcblk0p2/errors_count", "3\n")
      .write("sys/block/sda/device/ioerr_cnt", "0x2\n")
      .write("sys/block/mmcblk0/device/life_time", "0x01 0x01\n");
    expect(readIoErrors(t.root)).toEqual({ count: 5, sources: ["ext4/mmcblk0p2", "block/sda"] });
    expect(readIoErrors(tree().root)).toBeNull();
  });

  test("network errors and drops summed over interfaces except loopback; no interface: null", () => {
    const t = tree()
      .write("sys/class/net/lo/statistics/rx_errors", "999\n")
      .write("sys/class/net/eth0/statistics/rx_errors", "2\n")
      .write("sys/class/net/eth0/statistics/tx_errors", "1\n")
      .write("sys/class/net/eth0/statistics/rx_dropped", "10\n")
      .write("sys/class/net/eth0/statistics/tx_dropped", "0\n")
      .write("sys/class/net/veth1/statistics/rx_dropped", "5\n");
    expect(readNetworkErrors(t.root)).toEqual({ rxErrors: 2, txErrors: 1, rxDropped: 15, txDropped: 0 });
    expect(readNetworkErrors(tree().root)).toBeNull();
  });

  test("clock under a fake root: the timesyncd marker says synchronised, its absence says unknown (never unsynchronised)", () => {
    expect(readClockSynchronized(tree().pi().root)).toEqual({ synchronized: true, source: "timesyncd" });
    expect(readClockSynchronized(tree().root, () => undefined)).toEqual({ synchronized: null, source: null });
    expect(readClockSynchronized(tree().root, () => 5)).toEqual({ synchronized: false, source: "adjtimex" }); // one kernel clock, any root
    expect(readClockSynchronized("/", () => 5)).toEqual({ synchronized: false, source: "adjtimex" });
    expect(readClockSynchronized("/", () => 0)).toEqual({ synchronized: true, source: "adjtimex" });
  });
});

describe("snapshot", () => {
  test("a healthy Pi tree gives a complete snapshot that satisfies the published schema", async () => {
    const t = tree().pi();
    const s = await collectHostSnapshot({ node: "pi-3", root: t.root, intervalMs: 15_000, now: () => Date.parse("2026-01-02T03:04:05Z") }, noSystem);
    expect(hostSnapshotSchema.safeParse(s).success).toBe(true);
    expect(s).toMatchObject({
      v: 1,
      node: "pi-3",
      time: "2026-01-02T03:04:05.000Z",
      intervalSeconds: 15,
      temperature: { celsius: 48.3 },
      throttled: { raw: "0x0", underVoltageNow: false, underVoltageSinceBoot: false },
      rootFs: { mount: "/", readOnly: false, usedPercent: null, sizeBytes: null },
      storage: { lifeUsedPercent: 20, preEol: "normal" },
      clock: { synchronized: true, uptimeSeconds: 3600.25 },
    });
  });

  test("an empty tree (not a Pi, nothing readable): every Pi figure is null, none claims health", async () => {
    const s = await collectHostSnapshot({ node: "x", root: tree().root, intervalMs: 15_000 }, noSystem);
    expect(hostSnapshotSchema.safeParse(s).success).toBe(true);
    expect([s.temperature, s.throttled, s.rootFs, s.storage, s.ioErrors, s.memory, s.filesystems]).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    // the clock is the kernel's (one per machine, whatever the root prefix), never assumed synchronised
    expect(s.clock!.uptimeSeconds).toBeNull();
    expect(s.clock!.source === "adjtimex" ? typeof s.clock!.synchronized : s.clock).toEqual(
      s.clock!.source === "adjtimex" ? "boolean" : { synchronized: null, source: null, uptimeSeconds: null },
    );
  });

  test("systeminformation hanging does not stop the snapshot (its figures are absent past the bound)", async () => {
    const t = tree().pi();
    const never = () => new Promise<never>(() => {});
    const { SYSTEM_FIGURES_TIMEOUT_MS } = await import("../../../agent/host-health.ts");
    expect(SYSTEM_FIGURES_TIMEOUT_MS).toBeLessThanOrEqual(15_000); // below the default interval
    const s = await collectHostSnapshot({ node: "pi-3", root: t.root, intervalMs: 15_000 }, never, 50);
    expect(s.memory).toBeNull();
    expect(s.temperature?.celsius).toBe(48.3);
  });

  test("systeminformation failing does not lose the Pi figures", async () => {
    const t = tree().pi().throttled("0x50005");
    const s = await collectHostSnapshot({ node: "pi-3", root: t.root, intervalMs: 15_000 }, () => Promise.reject(new Error("df missing")));
    expect(s.throttled?.underVoltageNow).toBe(true);
    expect(s.memory).toBeNull();
  });
});

// The figures of a Raspberry Pi that only the kernel's and the firmware's own files have: SoC
// temperature, firmware throttling flags, a root filesystem remounted read-only, SD/eMMC wear, I/O error
// counters, clock synchronisation. Every file is read under one root prefix (NEURO_HOST_ROOT) so tests
// point it at a fake /sys + /proc tree. A file that is missing or unreadable gives null: absent, never healthy.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HostSnapshot, ThrottledFlags } from "../src/hosts/snapshot.ts";

/** Reads a small text file under `root`; undefined when it does not exist or cannot be read. */
export function readUnder(root: string, path: string, maxBytes = 64 * 1024): string | undefined {
  try {
    const text = readFileSync(join(root, path), "utf8");
    return text.length > maxBytes ? text.slice(0, maxBytes) : text;
  } catch {
    return undefined;
  }
}

function listUnder(root: string, dir: string): string[] {
  try {
    return readdirSync(join(root, dir)).sort();
  } catch {
    return [];
  }
}

// ---------- throttling (firmware get_throttled) ----------

/** Bits of the firmware's get_throttled value (Raspberry Pi documentation, `vcgencmd get_throttled`). */
export const THROTTLE_BITS = {
  underVoltageNow: 0,
  freqCappedNow: 1,
  throttledNow: 2,
  softTempLimitNow: 3,
  underVoltageSinceBoot: 16,
  freqCappedSinceBoot: 17,
  throttledSinceBoot: 18,
  softTempLimitSinceBoot: 19,
} as const;

export function decodeThrottled(value: number): ThrottledFlags {
  const bit = (n: number) => ((value >>> n) & 1) === 1;
  return {
    raw: `0x${(value >>> 0).toString(16)}`,
    underVoltageNow: bit(THROTTLE_BITS.underVoltageNow),
    freqCappedNow: bit(THROTTLE_BITS.freqCappedNow),
    throttledNow: bit(THROTTLE_BITS.throttledNow),
    softTempLimitNow: bit(THROTTLE_BITS.softTempLimitNow),
    underVoltageSinceBoot: bit(THROTTLE_BITS.underVoltageSinceBoot),
    freqCappedSinceBoot: bit(THROTTLE_BITS.freqCappedSinceBoot),
    throttledSinceBoot: bit(THROTTLE_BITS.throttledSinceBoot),
    softTempLimitSinceBoot: bit(THROTTLE_BITS.softTempLimitSinceBoot),
  };
}

/** "0x50005", "50005" (the sysfs file is hex without 0x) or vcgencmd's "throttled=0x50005". */
export function parseThrottledText(text: string): number | undefined {
  const m = /^(?:throttled=)?(?:0x)?([0-9a-f]{1,8})$/i.exec(text.trim());
  return m ? parseInt(m[1]!, 16) : undefined;
}

export const GET_THROTTLED_PATH = "sys/devices/platform/soc/soc:firmware/get_throttled";

/**
 * The sysfs file of Raspberry Pi OS kernels first; `vcgencmd get_throttled` when the file is absent and
 * the tool is installed (only on the real root: a fake tree must not be mixed with the machine's figures).
 */
export function readThrottled(root: string, vcgencmd: () => string | undefined = runVcgencmd): ThrottledFlags | null {
  const file = readUnder(root, GET_THROTTLED_PATH);
  let value = file === undefined ? undefined : parseThrottledText(file);
  if (value === undefined && file === undefined && root === "/") {
    const out = vcgencmd();
    value = out === undefined ? undefined : parseThrottledText(out);
  }
  return value === undefined ? null : decodeThrottled(value);
}

function runVcgencmd(): string | undefined {
  const tool = Bun.which("vcgencmd");
  if (!tool) return undefined;
  const r = Bun.spawnSync([tool, "get_throttled"], { stdout: "pipe", stderr: "ignore", timeout: 2000 });
  return r.exitCode === 0 ? r.stdout.toString() : undefined;
}

// ---------- temperature ----------

/** The `cpu-thermal` zone (a Pi's SoC) when there is one, else the first zone with a plausible reading. */
export function readTemperature(root: string): HostSnapshot["temperature"] {
  const zones = listUnder(root, "sys/class/thermal").filter((z) => /^thermal_zone\d+$/.test(z));
  const readings: { zone: string; type: string; celsius: number }[] = [];
  for (const zone of zones) {
    const raw = readUnder(root, `sys/class/thermal/${zone}/temp`)?.trim();
    if (!raw || !/^-?\d+$/.test(raw)) continue;
    const celsius = Math.round(Number(raw) / 100) / 10; // millidegrees → one decimal
    if (celsius < -100 || celsius > 250) continue;
    readings.push({ zone, type: readUnder(root, `sys/class/thermal/${zone}/type`)?.trim() ?? "", celsius });
  }
  const pick = readings.find((r) => r.type === "cpu-thermal") ?? readings[0];
  return pick ? { celsius: pick.celsius, zone: (pick.type || pick.zone).slice(0, 64) } : null;
}

// ---------- root filesystem, storage wear, I/O errors ----------

/**
 * Whether the root filesystem itself is read-only: the **superblock** options of "/" in
 * /proc/self/mountinfo (what the kernel sets when it remounts after I/O errors, errors=remount-ro). The
 * per-mount options are not used: systemd's ProtectSystem=strict (the agent's unit) bind-mounts / read-only
 * in the agent's own namespace, which says nothing about the node. Without mountinfo, /proc/mounts (the last
 * entry for "/" wins, as in the kernel's view). Null when neither can be read.
 */
export function readRootReadOnly(root: string): boolean | null {
  const mountinfo = readUnder(root, "proc/self/mountinfo", 1024 * 1024);
  if (mountinfo !== undefined) {
    // The node's / bind-mounted at the root prefix (a DaemonSet's hostPath "/" at /host) shares its
    // superblock: its entry tells. Else the entry of "/" itself.
    const prefix = root.replace(/\/+$/, "") || "/";
    for (const target of prefix === "/" ? ["/"] : [prefix, "/"]) {
      let readOnly: boolean | null = null;
      for (const line of mountinfo.split("\n")) {
        const f = line.split(" ");
        const dash = f.indexOf("-");
        if (dash < 6 || f[4] !== target || f.length < dash + 4) continue;
        readOnly = f[dash + 3]!.split(",").includes("ro");
      }
      if (readOnly !== null) return readOnly;
    }
  }
  const mounts = readUnder(root, "proc/mounts", 1024 * 1024);
  if (mounts === undefined) return null;
  let readOnly: boolean | null = null;
  for (const line of mounts.split("\n")) {
    const f = line.split(" ");
    if (f.length < 4 || f[1] !== "/" || f[2] === "rootfs") continue;
    readOnly = f[3]!.split(",").includes("ro");
  }
  return readOnly;
}

const hexByte = (s: string | undefined) => (s && /^0x[0-9a-f]{1,2}$/i.test(s) ? parseInt(s, 16) : null);

/**
 * eMMC 5.0+ (and some SD cards) report wear as two estimates in bands of 10 % (JEDEC: 0x01 = 0–10 %
 * used, … 0x0a = 90–100 %, 0x0b = past the rated life) and a pre-end-of-life state (1 normal, 2 warning
 * = 80 % of reserved blocks consumed, 3 urgent).
 */
export function readStorageWear(root: string, device = "mmcblk0"): NonNullable<HostSnapshot["storage"]> | null {
  const lifeTime = readUnder(root, `sys/block/${device}/device/life_time`)?.trim();
  const preEolRaw = readUnder(root, `sys/block/${device}/device/pre_eol_info`)?.trim();
  if (lifeTime === undefined && preEolRaw === undefined) return null;
  const [a, b] = (lifeTime ?? "").split(/\s+/);
  const lifeTimeA = hexByte(a);
  const lifeTimeB = hexByte(b);
  const bands = [lifeTimeA, lifeTimeB].filter((x): x is number => x !== null && x > 0);
  const worst = bands.length ? Math.max(...bands) : null;
  const preEolCode = hexByte(preEolRaw);
  const preEol = preEolCode === 1 ? "normal" : preEolCode === 2 ? "warning" : preEolCode === 3 ? "urgent" : null;
  return { device, lifeTimeA, lifeTimeB, lifeUsedPercent: worst === null ? null : Math.min(worst * 10, 110), preEol };
}

/**
 * Error counters the kernel keeps: ext4's per-filesystem errors_count and SCSI/USB disks' ioerr_cnt. An SD
 * card behind the mmc driver has no counter; absent counters give null.
 */
export function readIoErrors(root: string): HostSnapshot["ioErrors"] {
  let total = 0;
  const sources: string[] = [];
  for (const fs of listUnder(root, "sys/fs/ext4")) {
    const v = readUnder(root, `sys/fs/ext4/${fs}/errors_count`)?.trim();
    if (v === undefined || !/^\d+$/.test(v)) continue;
    total += Number(v);
    sources.push(`ext4/${fs}`);
  }
  for (const dev of listUnder(root, "sys/block")) {
    const v = readUnder(root, `sys/block/${dev}/device/ioerr_cnt`)?.trim();
    const n = v === undefined ? undefined : parseInt(v, v.startsWith("0x") ? 16 : 10);
    if (n === undefined || Number.isNaN(n)) continue;
    total += n;
    sources.push(`block/${dev}`);
  }
  return sources.length ? { count: Math.min(total, Number.MAX_SAFE_INTEGER), sources: sources.slice(0, 32) } : null;
}

// ---------- network ----------

const NET_COUNTERS = ["rx_errors", "tx_errors", "rx_dropped", "tx_dropped"] as const;

/**
 * Receive/transmit errors and drops summed over every interface but loopback, from
 * /sys/class/net/<iface>/statistics (systeminformation's networkStats("*") runs a shell per interface
 * and synchronous ones to list them: a K3s node has a veth per Pod, and the agent's event loop must not block).
 */
export function readNetworkErrors(root: string): HostSnapshot["network"] {
  const totals = { rx_errors: 0, tx_errors: 0, rx_dropped: 0, tx_dropped: 0 };
  let seen = 0;
  for (const iface of listUnder(root, "sys/class/net")) {
    if (iface === "lo") continue;
    for (const c of NET_COUNTERS) {
      const v = readUnder(root, `sys/class/net/${iface}/statistics/${c}`)?.trim();
      if (v === undefined || !/^\d+$/.test(v)) continue;
      totals[c] = Math.min(Number.MAX_SAFE_INTEGER, totals[c] + Number(v));
      seen++;
    }
  }
  return seen ? { rxErrors: totals.rx_errors, txErrors: totals.tx_errors, rxDropped: totals.rx_dropped, txDropped: totals.tx_dropped } : null;
}

// ---------- clock ----------

/**
 * Kernel NTP state: adjtimex(2) returns TIME_ERROR (5) while the clock is unsynchronised (what
 * timedatectl's NTPSynchronized shows). Under another root prefix, systemd-timesyncd's
 * /run/systemd/timesync/synchronized marker there says synchronised first (tests control it); else the kernel
 * answers (one clock per machine, containers included). `timedatectl` only on the real root.
 */
export function readClockSynchronized(
  root: string,
  adjtimex: () => number | undefined = kernelTimeState,
): { synchronized: boolean | null; source: string | null } {
  if (root !== "/" && existsSync(join(root, "run/systemd/timesync/synchronized"))) return { synchronized: true, source: "timesyncd" };
  const state = adjtimex();
  if (state !== undefined && state >= 0) return { synchronized: state !== 5, source: "adjtimex" };
  if (root !== "/") return { synchronized: null, source: null };
  const out = Bun.which("timedatectl")
    ? Bun.spawnSync(["timedatectl", "show", "-p", "NTPSynchronized", "--value"], { stderr: "ignore", timeout: 2000 })
    : undefined;
  const v = out?.exitCode === 0 ? out.stdout.toString().trim() : "";
  return v === "yes" || v === "no" ? { synchronized: v === "yes", source: "timedatectl" } : { synchronized: null, source: null };
}

let adjtimexFn: ((buf: Uint8Array) => number) | null | undefined;

/** adjtimex(2) with modes = 0 (read only) through libc; undefined when libc cannot be opened. */
function kernelTimeState(): number | undefined {
  if (adjtimexFn === undefined) {
    adjtimexFn = null;
    for (const lib of ["libc.so.6", "libc.musl-aarch64.so.1", "libc.musl-x86_64.so.1"]) {
      try {
        const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
        const h = dlopen(lib, { adjtimex: { args: [FFIType.ptr], returns: FFIType.i32 } });
        adjtimexFn = (buf) => h.symbols.adjtimex(buf);
        break;
      } catch {}
    }
  }
  if (!adjtimexFn) return undefined;
  const timex = new Uint8Array(256); // struct timex is 208 bytes on 64-bit Linux; modes (first field) = 0
  return adjtimexFn(timex);
}

export function readUptimeSeconds(root: string): number | null {
  const v = readUnder(root, "proc/uptime")?.trim().split(/\s+/)[0];
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

// A fake host tree (/sys, /proc, /run) under a temporary directory, the way NEURO_HOST_ROOT sees a node.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const PI_MOUNTS = [
  "/dev/mmcblk0p2 / ext4 rw,noatime 0 0",
  "/dev/mmcblk0p1 /boot/firmware vfat rw,relatime 0 0",
  "tmpfs /run tmpfs rw,nosuid,nodev 0 0",
].join("\n");

export class HostTree {
  readonly root = mkdtempSync(join(tmpdir(), "neuro-host-"));

  write(path: string, content: string): this {
    const file = join(this.root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    return this;
  }

  remove(path: string): this {
    rmSync(join(this.root, path), { force: true, recursive: true });
    return this;
  }

  /** A Raspberry Pi 4 in good health: cpu-thermal at 48.3 °C, get_throttled 0, rw root, eMMC wear 0x01. */
  pi(): this {
    return this.write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n")
      .write("sys/class/thermal/thermal_zone0/temp", "48312\n")
      .write("sys/devices/platform/soc/soc:firmware/get_throttled", "0\n")
      .write("proc/mounts", `${PI_MOUNTS}\n`)
      .write("proc/uptime", "3600.25 7000.10\n")
      .write("sys/block/mmcblk0/device/life_time", "0x01 0x02\n")
      .write("sys/block/mmcblk0/device/pre_eol_info", "0x01\n")
      .write("run/systemd/timesync/synchronized", "");
  }

  throttled(hex: string): this {
    return this.write("sys/devices/platform/soc/soc:firmware/get_throttled", `${hex}\n`);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

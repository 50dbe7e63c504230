// The flashing path: image/build-image.sh builds the Raspberry Pi arm64 image, the Pi boot files are
// checked by content (QEMU cannot emulate a Pi 4), then the very same disk image boots under
// qemu-system-aarch64 -M virt -cpu cortex-a72 with the kernel + initrd taken from its boot partition,
// and a marker unit (added with --overlay) reports over the serial console what the node reached,
// including `neurocontroller agent --self-test` (real eBPF on the arm64 kernel: bpf() needs a full VM)
// and that a node flashed without MQTT settings has no failed unit (its own loopback broker).
// Slow (a cold build runs arm64 maintainer scripts and an initramfs under qemu-user; the boot is fully
// emulated): runs only with NEURO_SLOW_TESTS=1; CI runs it as its own time-bounded step (docs/ci.md).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { cacheDir } from "../support/rootfs.ts";
import { waitFor } from "../../testkit/wait.ts";

const REPO = resolve(import.meta.dir, "../..");
const SLOW = process.env.NEURO_SLOW_TESTS === "1";
const log = (l: string) => console.log(`[image-test] ${l}`);
const work = SLOW ? mkdtempSync("/var/tmp/neuro-image-test-") : "";
const img = join(work, "node.img");
const FAT = `${img}@@1M`; // mtools: the boot partition starts at 1 MiB (build-image.sh's layout)
let qemu: Subprocess | undefined;

async function run(cmd: string[], opts: { stream?: boolean } = {}): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      const text = dec.decode(chunk, { stream: true });
      out += text;
      if (opts.stream) process.stdout.write(text);
    }
  };
  await Promise.all([pump(p.stdout), pump(p.stderr)]);
  return { code: await p.exited, out };
}

const MARKER_UNIT = `[Unit]
Description=Test marker: report the node state on the serial console
After=neurocontroller.service neurocontroller-firstboot.service
[Service]
Type=oneshot
StandardOutput=tty
TTYPath=/dev/ttyAMA0
ExecStart=/usr/local/sbin/neuro-marker
[Install]
WantedBy=multi-user.target
`;
// Inside the guest a bounded poll is fine: it is the guest's own boot, not test synchronisation.
const MARKER_SCRIPT = `#!/bin/sh
exec >/dev/ttyAMA0 2>&1
for i in $(seq 1 240); do
  s=$(systemctl is-active neurocontroller.service)
  a=$(systemctl is-active neurocontroller-agent.service)
  [ "$s" = active ] && [ "$a" = active ] && [ -s /var/lib/neurocontroller/demo/log/cleaned_events.log ] \
    && journalctl -u neurocontroller-agent.service -o cat --no-pager | grep -q 'connected to the MQTT broker' && break
  sleep 1
done
sync
# the user-facing node check, as root: real eBPF on the arm64 kernel (no MQTT needed)
st=$(/usr/local/bin/neurocontroller agent --self-test 2>&1); rc=$?
echo "$st" | sed 's/^/NEURO-SELFTEST-LOG /'
echo "NEURO-SELFTEST-LOG $(uname -r) fork-format: $(grep -o 'child_pid;[[:space:]]*offset:[0-9]*' /sys/kernel/tracing/events/sched/sched_process_fork/format 2>&1) kernel-btf: $(ls /sys/kernel/btf/vmlinux 2>&1)"
echo "NEURO-SELFTEST rc=$rc $(echo "$st" | grep -m1 -e '^self-test: ok' -e '^self-test: FAILED' | cut -c1-400)"
a=$(systemctl is-active neurocontroller-agent.service)
why=$(journalctl -u neurocontroller-agent.service -o cat --no-pager | grep -m1 'agent:' | tr -d '\\n' | cut -c1-160)
# why the controller restarted, if it did (first lines of its journal that are not demo output)
echo "NEURO-JOURNAL $(journalctl -u neurocontroller.service -o cat --no-pager | grep -v -e '^──' -e 'FIRING' -e 'RESOLVED' | head -8 | tr '\n' '|' | cut -c1-600)"
# the node's default broker: units that failed, the broker's listeners, the agent's connection to it
echo "NEURO-FAILED [$(systemctl --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')]"
echo "NEURO-BROKER mosquitto=$(systemctl is-active mosquitto.service) listen=[$(ss -Hltn 'sport = :1883' | awk '{print $4}' | tr '\n' ' ')] mqtt_url=$(sed -n 's/^MQTT_URL=//p' /etc/neurocontroller/neurocontroller.env) agent_restarts=$(systemctl show -p NRestarts --value neurocontroller-agent.service) agent_connected=$(journalctl -u neurocontroller-agent.service -o cat --no-pager | grep -c 'connected to the MQTT broker') controller_connected=$(journalctl -u neurocontroller.service -o cat --no-pager | grep -c 'connected to the MQTT broker')"
echo "NEURO-MARKER controller=$s restarts=$(systemctl show -p NRestarts --value neurocontroller.service) agent=$a hostname=$(hostname) env=$(stat -c %a /etc/neurocontroller/neurocontroller.env) cluster=$(sed -n 's/^CLUSTER_ID=//p' /etc/neurocontroller/neurocontroller.env) cgroup=$(stat -fc %T /sys/fs/cgroup) slice_mem=$(systemctl show -p MemoryMax --value neurocontroller.slice) events=$(wc -l </var/lib/neurocontroller/demo/log/cleaned_events.log) real_log=$(cat /var/log/neurocontroller/cleaned_events.log 2>/dev/null | wc -l) agent_reason=[$why]"
`;

describe.skipIf(!SLOW)("Raspberry Pi image (NEURO_SLOW_TESTS=1)", () => {
  afterAll(async () => {
    qemu?.kill("SIGKILL");
    await qemu?.exited;
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test(
    "build-image.sh builds the image (progress below)",
    async () => {
      // both binaries + SHA256SUMS (reused when their inputs did not change)
      const build = await run(["bun", join(REPO, "scripts/build.ts"), "--all", "--no-zst"], { stream: true });
      expect(build.code).toBe(0);
      expect(existsSync(join(REPO, "dist/neurocontroller-linux-arm64"))).toBe(true);
      const overlay = join(work, "overlay");
      mkdirSync(join(overlay, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
      mkdirSync(join(overlay, "usr/local/sbin"), { recursive: true });
      writeFileSync(join(overlay, "etc/systemd/system/neuro-marker.service"), MARKER_UNIT);
      writeFileSync(join(overlay, "usr/local/sbin/neuro-marker"), MARKER_SCRIPT, { mode: 0o755 });
      Bun.spawnSync([
        "ln",
        "-s",
        "/etc/systemd/system/neuro-marker.service",
        join(overlay, "etc/systemd/system/multi-user.target.wants/neuro-marker.service"),
      ]);
      const started = Date.now();
      // The root filesystem is cached with the other test trees (NEURO_TEST_CACHE), keyed by its package list.
      const cache = join(cacheDir(), "image");
      const r = await run(["bash", join(REPO, "image/build-image.sh"), "--out", img, "--overlay", overlay, "--cache", cache], { stream: true });
      log(`build-image.sh exited ${r.code} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
      expect(r.code).toBe(0);
      expect(existsSync(img)).toBe(true);
    },
    40 * 60_000,
  );

  test("MBR with a FAT boot and an ext4 root partition", async () => {
    const r = await run(["sfdisk", "--dump", img]);
    expect(r.out).toContain("label: dos");
    expect(r.out).toMatch(/start=\s*2048, size=\s*524288, type=c, bootable/);
    expect(r.out).toMatch(/type=83/);
  });

  test("Pi boot files by content: config.txt, cmdline.txt root=, bcm2711/bcm2837 DTBs, kernel + initrd", async () => {
    const dir = (await run(["mdir", "-b", "-i", FAT, "::/"])).out;
    for (const dtb of ["bcm2711-rpi-4-b.dtb", "bcm2837-rpi-3-b.dtb", "bcm2837-rpi-3-b-plus.dtb"]) expect(dir).toContain(dtb);
    const config = (await run(["mtype", "-i", FAT, "::config.txt"])).out;
    expect(config).toMatch(/arm_64bit=1/);
    const kernel = /^kernel=(\S+)/m.exec(config)?.[1];
    const initrd = /^initramfs (\S+)/m.exec(config)?.[1];
    expect(kernel).toMatch(/^vmlinuz-.*arm64$/);
    expect(initrd).toMatch(/^initrd\.img-.*arm64$/);
    expect(dir).toContain(`::/${kernel}`);
    expect(dir).toContain(`::/${initrd}`);
    const cmdline = (await run(["mtype", "-i", FAT, "::cmdline.txt"])).out;
    expect(cmdline).toContain("root=LABEL=RASPIROOT");
    log(`config.txt kernel=${kernel} initramfs=${initrd}; cmdline.txt: ${cmdline.trim()}`);
  });

  test(
    "boots under qemu-system-aarch64 (virt, cortex-a72): first-boot config applied, no failed unit, controller and agent active",
    async () => {
      // What a user drops on the boot partition after flashing.
      const files = join(work, "bootcfg");
      mkdirSync(files);
      writeFileSync(join(files, "hostname"), "neuro-vm-test\n");
      writeFileSync(join(files, "neurocontroller.env"), "CLUSTER_ID=vm-test\nENABLE_SLACK_ALERT=false\nENABLE_EMAIL_ALERT=false\n");
      writeFileSync(join(files, "authorized_keys"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheImageTest0000000000000000000 test\n");
      for (const f of ["hostname", "neurocontroller.env", "authorized_keys"])
        expect((await run(["mcopy", "-o", "-i", FAT, join(files, f), `::${f}`])).code).toBe(0);
      const config = (await run(["mtype", "-i", FAT, "::config.txt"])).out;
      const kernel = join(work, "vmlinuz");
      const initrd = join(work, "initrd.img");
      await run(["mcopy", "-o", "-i", FAT, `::${/^kernel=(\S+)/m.exec(config)![1]}`, kernel]);
      await run(["mcopy", "-o", "-i", FAT, `::${/^initramfs (\S+)/m.exec(config)![1]}`, initrd]);

      const started = Date.now();
      let serial = "";
      qemu = Bun.spawn(
        [
          "qemu-system-aarch64",
          "-M",
          "virt",
          "-cpu",
          "cortex-a72",
          "-smp",
          "2",
          "-m",
          "1024",
          "-nographic",
          "-monitor",
          "none",
          "-kernel",
          kernel,
          "-initrd",
          initrd,
          "-append",
          "root=LABEL=RASPIROOT rw console=ttyAMA0 systemd.unified_cgroup_hierarchy=1",
          "-drive",
          `if=none,file=${img},format=raw,id=hd0`,
          "-device",
          "virtio-blk-pci,drive=hd0",
          "-netdev",
          "user,id=n0",
          "-device",
          "virtio-net-pci,netdev=n0",
        ],
        { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
      );
      void (async () => {
        const dec = new TextDecoder();
        for await (const chunk of qemu!.stdout as ReadableStream<Uint8Array>) serial += dec.decode(chunk, { stream: true });
      })();
      let lastReported = 0;
      const marker = await waitFor(
        () => {
          const lines = serial.split("\n");
          for (const l of lines.slice(lastReported, -1))
            if (/login:|Reached target|firstboot|Started neurocontroller|Failed/.test(l))
              log(`+${((Date.now() - started) / 1000).toFixed(0)}s serial: ${l.trim().slice(0, 140)}`);
          lastReported = Math.max(lastReported, lines.length - 1);
          if (qemu!.exitCode !== null) throw new Error(`qemu exited ${qemu!.exitCode}`);
          return /NEURO-MARKER (.*)/.exec(serial)?.[1];
        },
        { timeoutMs: 20 * 60_000, intervalMs: 500, message: () => `the marker line (serial tail:\n${serial.split("\n").slice(-30).join("\n")})` },
      );
      log(`marker after ${((Date.now() - started) / 1000).toFixed(0)} s: ${marker}`);
      const login = /login:/.test(serial);
      log(`login prompt seen: ${login}`);
      expect(serial).toMatch(
        /neurocontroller-firstboot: applied: hostname=neuro-vm-test neurocontroller.env authorized_keys ssh-host-keys local-broker mqtt=local/,
      );
      log(`controller journal: ${/NEURO-JOURNAL (.*)/.exec(serial)?.[1] ?? "(not yet printed)"}`);
      expect(marker).toMatch(/controller=active restarts=\d+ /);
      expect(marker).toContain("hostname=neuro-vm-test");
      expect(marker).toContain("env=600 cluster=vm-test");
      expect(marker).toContain("cgroup=cgroup2fs");
      expect(marker).toContain("slice_mem=268435456");
      expect(marker).toMatch(/events=[1-9]/); // the demo cluster's anomalies were written (no cluster configured)…
      expect(marker).toContain("real_log=0 "); // …in the demo directory: the node's real log has nothing made up
      // No MQTT settings on the card: the node's own broker (mosquitto on loopback, the Ansible role's config)
      // is the default, so nothing failed and the agent is active and connected to it.
      const failed = /NEURO-FAILED \[(.*)\]/.exec(serial)?.[1];
      const broker = /NEURO-BROKER (.*)/.exec(serial)?.[1];
      log(`failed units: [${failed}]; ${broker}`);
      expect(failed?.trim()).toBe("");
      expect(marker).toContain("agent=active");
      expect(broker).toContain("mosquitto=active listen=[127.0.0.1:1883 ]");
      expect(broker).toContain("mqtt_url=mqtt://127.0.0.1:1883");
      expect(broker).toContain("agent_restarts=0");
      expect(broker).toMatch(/agent_connected=[1-9]/);
      // eBPF on arm64 for real: the shipped no-BTF object loads, attaches and measures a bound child.
      for (const l of serial.split("\n").filter((l) => l.includes("NEURO-SELFTEST-LOG"))) log(l.trim().slice(0, 400));
      const selfTest = /NEURO-SELFTEST rc=(\d+) (.*)/.exec(serial);
      log(`self-test: ${selfTest?.[0].trim() ?? "(no NEURO-SELFTEST line)"}`);
      expect(selfTest?.[1]).toBe("0");
      expect(selfTest![2]).toMatch(
        /^self-test: ok arch=aarch64 kernel=\S+-arm64 btf=not-used attached=raw_syscalls observed (clock_)?nanosleep x1 total \d+ ms inherited (clock_)?nanosleep x1 total \d+ ms detached=ok/,
      );
      expect(Number(/observed \S+ x1 total (\d+) ms/.exec(selfTest![2])![1])).toBeGreaterThanOrEqual(270);
      qemu.kill("SIGKILL");
      await qemu.exited;
      // secrets were moved off the FAT partition
      const dir = (await run(["mdir", "-b", "-i", FAT, "::/"])).out;
      expect(dir).not.toContain("neurocontroller.env");
    },
    22 * 60_000,
  );
});

// A cached Debian bookworm root filesystem for tests that boot real systemd (systemd-nspawn -b) or
// build images. Shared by the systemd tests and the Ansible/image tests, so keep the API small:
//
//   const golden = await ensureRootfs({ extraPackages: ["python3"] });   // built once, reused across runs
//   const root   = await cloneRootfs(golden);                            // a private, writable copy per test
//   ...boot it (test/support/nspawn.ts)...; await removeRootfs(root);
//
// The golden tree is never booted or written by tests: two test files (or two engineers' suites) may
// boot copies of it at the same time. Building takes ~1-3 min (debootstrap from deb.debian.org);
// a lock directory serialises concurrent builders and a marker file marks a finished tree, so an
// interrupted build is never mistaken for a cached one.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, renameSync, writeFileSync, readFileSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { waitFor } from "../../testkit/wait.ts";

export interface RootfsOptions {
  arch?: "amd64" | "arm64";
  suite?: string;
  /** Packages on top of the base set (systemd, systemd-sysv, dbus). Part of the cache key. */
  extraPackages?: string[];
  /** Default /var/cache/neurocontroller-test, or $NEURO_TEST_CACHE. */
  cacheDir?: string;
  mirror?: string;
  log?: (line: string) => void;
}

export const BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "ca-certificates"];
const MARKER = ".neuro-rootfs-complete";

export function cacheDir(opts: RootfsOptions = {}): string {
  return opts.cacheDir ?? process.env.NEURO_TEST_CACHE ?? "/var/cache/neurocontroller-test";
}

/** Path of the cached tree for these options (exists only after ensureRootfs). */
export function rootfsPath(opts: RootfsOptions = {}): string {
  const arch = opts.arch ?? "amd64";
  const suite = opts.suite ?? "bookworm";
  const extra = [...new Set(opts.extraPackages ?? [])].sort();
  // The plain name for the base set (what docs and humans look for), a hash suffix for variants.
  const suffix = extra.length ? "-" + createHash("sha256").update(extra.join(",")).digest("hex").slice(0, 8) : "";
  return join(cacheDir(opts), `rootfs-${suite}-${arch}${suffix}`);
}

async function run(cmd: string[], log: (l: string) => void, env?: Record<string, string>): Promise<void> {
  log(`$ ${cmd.join(" ")}`);
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if ((await p.exited) !== 0) {
    throw new Error(`${cmd[0]} failed (${p.exitCode}):\n${(out + err).split("\n").slice(-30).join("\n")}`);
  }
}

/** Installs host tools the builder needs (debootstrap, qemu-user-static for arm64). */
async function ensureHostTools(arch: string, log: (l: string) => void): Promise<void> {
  const need: string[] = [];
  if (!Bun.which("debootstrap")) need.push("debootstrap");
  if (arch === "arm64" && !Bun.which("qemu-aarch64-static")) need.push("qemu-user-static", "binfmt-support");
  if (!need.length) return;
  await run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", ...need], log, {
    DEBIAN_FRONTEND: "noninteractive",
  });
}

/** Makes the emulated second stage of a foreign (arm64) debootstrap possible on an x86 host. */
async function enableBinfmt(log: (l: string) => void): Promise<void> {
  if (!existsSync("/proc/sys/fs/binfmt_misc/register")) {
    await run(["mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"], log);
  }
  if (!existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
    await run(["update-binfmts", "--enable", "qemu-aarch64"], log);
  }
}

/** Post-debootstrap tweaks so the tree boots cleanly as a container with host networking. */
function prepareForContainer(root: string): void {
  writeFileSync(join(root, "etc/hostname"), "neuro-test\n");
  // An empty machine-id makes systemd generate one on first boot (each clone gets its own).
  writeFileSync(join(root, "etc/machine-id"), "");
  // No getty on the pipe console: it would only fight the harness for the console.
  for (const unit of ["console-getty.service", "getty@.service", "serial-getty@.service"]) {
    const link = join(root, "etc/systemd/system", unit);
    rmSync(link, { force: true });
    Bun.spawnSync(["ln", "-s", "/dev/null", link]);
  }
  // Noisy but harmless apt timers would start downloads inside a test container.
  for (const unit of ["apt-daily.timer", "apt-daily-upgrade.timer"]) {
    const link = join(root, "etc/systemd/system", unit);
    rmSync(link, { force: true });
    Bun.spawnSync(["ln", "-s", "/dev/null", link]);
  }
}

/**
 * Returns the path of a finished bookworm rootfs, building it on first use. Idempotent and safe to call
 * concurrently from several processes (a lock directory; waiters poll for the marker).
 */
export async function ensureRootfs(opts: RootfsOptions = {}): Promise<string> {
  const log = opts.log ?? ((l: string) => console.log(`[rootfs] ${l}`));
  const arch = opts.arch ?? "amd64";
  const suite = opts.suite ?? "bookworm";
  const mirror = opts.mirror ?? process.env.NEURO_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
  const dest = rootfsPath(opts);
  if (existsSync(join(dest, MARKER))) return dest;

  mkdirSync(dirname(dest), { recursive: true });
  const lock = `${dest}.lock`;
  // mkdir is atomic: whoever creates the lock builds; the others wait for the marker. A lock older than
  // 30 minutes is from a killed build and is broken.
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(dest, MARKER))) return dest;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      log(`waiting for another build of ${dest}`);
      await waitFor(() => existsSync(join(dest, MARKER)) || !existsSync(lock), { timeoutMs: 20 * 60_000, intervalMs: 2000 });
    }
  }
  try {
    if (existsSync(join(dest, MARKER))) return dest;
    await ensureHostTools(arch, log);
    const tmp = `${dest}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    const include = [...BASE_PACKAGES, ...(opts.extraPackages ?? [])].join(",");
    const started = Date.now();
    log(`debootstrap ${suite} ${arch} (minbase + ${include}) → ${dest}; this takes a few minutes once, then it is cached`);
    if (arch === "amd64") {
      await run(["debootstrap", "--variant=minbase", `--include=${include}`, "--arch=amd64", suite, tmp, mirror], log);
    } else {
      await enableBinfmt(log);
      await run(["debootstrap", "--variant=minbase", `--include=${include}`, "--arch", arch, "--foreign", suite, tmp, mirror], log);
      // The static emulator inside the tree lets the kernel run arm64 binaries for the chroot.
      Bun.spawnSync(["cp", "/usr/bin/qemu-aarch64-static", join(tmp, "usr/bin/")]);
      log("second stage (emulated arm64, ~3 min)");
      await run(["chroot", tmp, "/debootstrap/debootstrap", "--second-stage"], log);
    }
    prepareForContainer(tmp);
    // Package lists only bloat every clone; apt-get update inside the container recreates them.
    rmSync(join(tmp, "var/cache/apt/archives"), { recursive: true, force: true });
    mkdirSync(join(tmp, "var/cache/apt/archives/partial"), { recursive: true });
    writeFileSync(join(tmp, MARKER), JSON.stringify({ suite, arch, include, builtAt: new Date().toISOString() }) + "\n");
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
    log(`rootfs ready in ${Math.round((Date.now() - started) / 1000)} s`);
    return dest;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A private writable copy of a golden tree (cp -a; ~2-5 s for the ~200 MB base). Default location
 * /var/tmp/neuro-rootfs-XXXX (same disk as the cache, not tmpfs).
 */
export async function cloneRootfs(golden: string, dest?: string): Promise<string> {
  if (!existsSync(join(golden, MARKER))) throw new Error(`${golden} is not a finished rootfs (no ${MARKER})`);
  const target = dest ?? `/var/tmp/neuro-rootfs-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  rmSync(target, { recursive: true, force: true });
  await run(["cp", "-a", "--reflink=auto", golden, target], () => {});
  rmSync(join(target, MARKER), { force: true });
  return target;
}

/** Removes a clone (never the cached golden tree). */
export async function removeRootfs(root: string): Promise<void> {
  if (existsSync(join(root, MARKER))) throw new Error(`refusing to remove the cached rootfs ${root}`);
  // A booted container may have left mounts behind if it was killed; unmount before rm -rf.
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m === root || m.startsWith(root + "/"))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
  rmSync(root, { recursive: true, force: true });
}

// The agent's libraries for an architecture the host has no multiarch packages for (arm64 on an x86
// builder): the cross sysroot (libc6-arm64-cross) carries glibc but not libbpf1, and the agent
// dlopen()s libbpf.so.1 at run time, so without it the DaemonSet on a Pi cannot load its probe.
// Fetched once from the Debian mirror with apt in a private state directory (the host's dpkg and apt
// configuration are untouched), unpacked with dpkg-deb, and cached.
import { $ } from "bun";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

/** Debian packages providing libbpf.so.1 and what it links (libelf.so.1, libz.so.1). */
export const AGENT_LIB_PACKAGES = ["libbpf1", "libelf1", "zlib1g"];

export function foreignLibCache(): string {
  return process.env.NEURO_BUILD_CACHE ?? join(process.env.HOME ?? "/root", ".cache/neurocontroller-build");
}

/** Library directories of the unpacked packages for `debArch` (e.g. "arm64"), fetching them if needed. */
export async function foreignAgentLibDirs(debArch: string, triplet: string, cache = foreignLibCache()): Promise<string[]> {
  const root = join(cache, `agent-libs-${debArch}`);
  const dirs = [join(root, "lib", triplet), join(root, "usr/lib", triplet)];
  if (existsSync(join(root, ".complete"))) return dirs;
  const work = `${root}.partial`;
  rmSync(work, { recursive: true, force: true });
  const lists = join(work, "apt/lists");
  const archives = join(work, "apt/cache/archives");
  const debs = join(work, "debs");
  for (const d of [join(lists, "partial"), join(archives, "partial"), debs]) mkdirSync(d, { recursive: true });
  const apt = [
    "-o",
    `Dir::State::Lists=${lists}`,
    "-o",
    `Dir::Cache=${join(work, "apt/cache")}`,
    "-o",
    "Dir::State::status=/dev/null",
    "-o",
    `APT::Architecture=${debArch}`,
    "-o",
    `APT::Architectures::=${debArch}`,
    "-o",
    "Debug::NoLocking=1",
    "-o",
    "APT::Sandbox::User=root",
  ];
  const update = await $`apt-get ${apt} update -qq`.quiet().nothrow();
  if (update.exitCode !== 0) throw new Error(`apt-get update for ${debArch} failed: ${update.stderr.toString().trim()}`);
  const pkgs = AGENT_LIB_PACKAGES.map((p) => `${p}:${debArch}`);
  const dl = await $`apt-get ${apt} download ${pkgs}`.cwd(debs).quiet().nothrow();
  if (dl.exitCode !== 0) throw new Error(`apt-get download ${pkgs.join(" ")} failed: ${dl.stderr.toString().trim()}`);
  const unpacked = join(work, "root");
  for (const deb of readdirSync(debs).filter((f) => f.endsWith(".deb"))) await $`dpkg-deb -x ${join(debs, deb)} ${unpacked}`.quiet();
  rmSync(root, { recursive: true, force: true });
  renameSync(unpacked, root);
  rmSync(work, { recursive: true, force: true });
  await Bun.write(join(root, ".complete"), `${pkgs.join(" ")}\n`);
  return dirs;
}

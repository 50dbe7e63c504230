// The release binaries (npm run build): both architectures built offline from the pinned runtimes,
// stamped with the commit, summed; the arm64 one really runs version / check-config / scan against the
// simulator under qemu-user as a Raspberry Pi 3 (cortex-a53) and Pi 4 (cortex-a72) CPU.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compress, writeSums } from "../../scripts/artifacts.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { crashLoopPod, healPod, seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DIST = join(ROOT, "dist");
const ARM64 = join(DIST, "neurocontroller-linux-arm64");
const X64 = join(DIST, "neurocontroller-linux-x64");
const SYSROOT = "/usr/aarch64-linux-gnu";
const log = (s: string) => console.log(`[binaries] ${s}`);

// Asynchronous on purpose: the simulator serves from this process's event loop.
async function run(cmd: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn(cmd, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

async function arm64(cpu: string, args: string[]) {
  const started = Date.now();
  const r = await run(["qemu-aarch64-static", "-L", SYSROOT, "-cpu", cpu, ARM64, ...args]);
  log(`qemu ${cpu}: ${args[0]} → exit ${r.code} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return r;
}

function elfMachine(file: string): number {
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(20);
  readSync(fd, buf, 0, 20, 0);
  closeSync(fd);
  expect(buf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  return buf.readUInt16LE(18);
}

const sha256 = async (file: string) => new Bun.CryptoHasher("sha256").update(await Bun.file(file).arrayBuffer()).digest("hex");

describe("release binaries", () => {
  let sim: Simulator;
  let seeded: SeededCluster;
  let commit: string;

  beforeAll(async () => {
    // Reuses dist/ when the sources did not change (input hash), so this is quick after test/run.sh.
    log("bun scripts/build.ts --all --no-zst");
    const started = Date.now();
    const b = await run(["bun", "scripts/build.ts", "--all", "--no-zst"], { HOME: process.env.HOME ?? "/root" });
    for (const line of (b.out + b.err).trim().split("\n")) log(`  ${line}`);
    expect(b.code).toBe(0);
    log(`build step ${((Date.now() - started) / 1000).toFixed(1)} s`);
    commit = (await run(["git", "rev-parse", "--short=12", "HEAD"])).out.trim();
    sim = await startSimulator({ tls: true, clientCertAuth: true });
    seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 2, replicasPerDeployment: 2 });
  }, 240_000);
  afterAll(() => sim?.stop());

  test("package.json pins both runtimes at the bun version, with lockfile integrity", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    for (const name of ["@oven/bun-linux-aarch64", "@oven/bun-linux-x64"]) {
      expect(pkg.optionalDependencies[name]).toBe(pkg.devDependencies.bun);
      expect(lock.packages[`node_modules/${name}`].version).toBe(pkg.devDependencies.bun);
      expect(lock.packages[`node_modules/${name}`].integrity).toMatch(/^sha512-/);
    }
    expect(pkg.scripts.build).toBe("bun scripts/build.ts --all");
  });

  test("both binaries exist for their architecture and SHA256SUMS verifies", async () => {
    expect(elfMachine(ARM64)).toBe(183); // EM_AARCH64
    expect(elfMachine(X64)).toBe(62); // EM_X86_64
    log(`sizes: arm64 ${(statSync(ARM64).size / 1e6).toFixed(1)} MB, x64 ${(statSync(X64).size / 1e6).toFixed(1)} MB`);
    const sums = readFileSync(join(DIST, "SHA256SUMS"), "utf8");
    expect(sums).toContain("  neurocontroller-linux-arm64\n");
    expect(sums).toContain("  neurocontroller-linux-x64\n");
    // sha256sum resolves the names relative to its cwd
    const v = Bun.spawnSync(["sha256sum", "--strict", "-c", "SHA256SUMS"], { cwd: DIST });
    expect(v.stdout.toString()).toMatch(/neurocontroller-linux-arm64: OK/);
    expect(v.exitCode).toBe(0);
  });

  test(".zst copies decompress to the summed binaries", async () => {
    // The release build (npm run build) writes them at -19 (~80 s each); when dist has none, the same
    // code path runs here at a fast level on a copy, so the step is still exercised.
    let dir = DIST;
    let names = ["neurocontroller-linux-arm64", "neurocontroller-linux-x64"].filter((n) => existsSync(join(DIST, `${n}.zst`)));
    if (names.length === 0) {
      dir = mkdtempSync(join(tmpdir(), "neuro-zst-"));
      copyFileSync(ARM64, join(dir, "neurocontroller-linux-arm64"));
      await compress(join(dir, "neurocontroller-linux-arm64"), 3);
      writeSums(dir);
      names = ["neurocontroller-linux-arm64"];
      log("no .zst in dist/ (run npm run build): exercised compress() at -3 on a copy");
    }
    for (const n of names) {
      const zst = join(dir, `${n}.zst`);
      log(`${n}.zst ${(statSync(zst).size / 1e6).toFixed(1)} MB`);
      const d = await run(["sh", "-c", `zstd -dc '${zst}' | sha256sum`]);
      expect(d.out.split(" ")[0]).toBe(await sha256(join(dir, n)));
    }
    const v = Bun.spawnSync(["sha256sum", "--strict", "-c", "SHA256SUMS"], { cwd: dir });
    expect(v.stdout.toString()).toContain(`${names[0]}.zst: OK`);
    expect(v.exitCode).toBe(0);
    if (dir !== DIST) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  // Three commands per CPU, each a cold start of the 110 MB binary under emulation (~5-15 s): the
  // three run concurrently. a53 scans the healthy cluster (exit 0), a72 the same with a fault (exit 3).
  for (const [cpu, faulty] of [
    ["cortex-a53", false],
    ["cortex-a72", true],
  ] as const) {
    test(`arm64 on ${cpu}: version shows the commit, check-config passes, scan ${faulty ? "finds a crash loop" : "of a healthy cluster is clean"}`, async () => {
      const pod = seeded.deployments[0]!.pods[0]!;
      if (faulty) crashLoopPod(sim.store, "default", pod);
      try {
        const [v, c, s] = await Promise.all([
          arm64(cpu, ["version"]),
          arm64(cpu, ["check-config"]),
          arm64(cpu, ["scan", "--kubeconfig", sim.kubeconfig(), "--output", "json"]),
        ]);
        expect(v.code).toBe(0);
        expect(v.out).toContain(`commit ${commit}`);
        expect(v.out).toContain("linux-arm64");
        expect(c.code).toBe(0);
        expect(c.out).toContain("configuration is valid");
        if (!faulty) {
          expect(s.err).toBe("");
          expect(s.out).toBe("");
          expect(s.code).toBe(0);
        } else {
          expect(s.code).toBe(3);
          const lines = s.out
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));
          expect(lines.find((l) => l.reason === "CrashLoopBackOff")).toMatchObject({ kind: "Pod", name: pod, namespace: "default" });
        }
      } finally {
        if (faulty) healPod(sim.store, "default", pod);
      }
    }, 120_000);
  }
});

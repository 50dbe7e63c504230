// Resolves the Bun runtime a cross-compiled binary is built from, pinned by package.json/package-lock.json,
// so `bun build --compile` never downloads anything at build time (compile.executablePath).
//
// The runtimes are `optionalDependencies` (exact version = the `bun` devDependency): npm installs only
// the one matching the host's cpu and silently skips the other (a plain devDependency with a foreign
// `cpu` field makes `npm ci` fail with EBADPLATFORM). The missing one is fetched with `npm pack` —
// exactly the version and sha512 integrity recorded in package-lock.json — into a cache directory and
// reused from there; a tarball whose integrity differs from the lockfile is rejected.
import { $ } from "bun";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export type Target = "linux-x64" | "linux-arm64";
export const TARGETS: Target[] = ["linux-x64", "linux-arm64"];

const PACKAGE: Record<Target, string> = {
  "linux-x64": "@oven/bun-linux-x64",
  "linux-arm64": "@oven/bun-linux-aarch64",
};

export function runtimeCacheDir(): string {
  return process.env.NEURO_BUILD_CACHE ?? join(process.env.HOME ?? "/root", ".cache/neurocontroller-build");
}

interface Pin {
  name: string;
  version: string;
  integrity: string;
}

function pinFor(root: string, target: Target): Pin {
  const name = PACKAGE[target];
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const entry = lock.packages?.[`node_modules/${name}`];
  const bunVersion = lock.packages?.["node_modules/bun"]?.version;
  if (!entry?.version || !entry?.integrity) throw new Error(`${name} is not pinned in package-lock.json`);
  // The compiled binary embeds this runtime; a different version from the bun we build with is a trap.
  if (bunVersion && entry.version !== bunVersion) {
    throw new Error(`${name}@${entry.version} in the lockfile differs from bun@${bunVersion}: pin the same version`);
  }
  return { name, version: entry.version, integrity: entry.integrity };
}

function integrityOf(file: string, algo: string): string {
  return `${algo}-${createHash(algo).update(readFileSync(file)).digest("base64")}`;
}

/** Path of the pinned `bun` executable for `target` (downloading the pinned tarball once if npm skipped it). */
export async function runtimeFor(root: string, target: Target, log: (l: string) => void = console.log): Promise<string> {
  const pin = pinFor(root, target);
  const installed = join(root, "node_modules", pin.name);
  if (existsSync(join(installed, "bin/bun"))) {
    const v = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).version;
    if (v === pin.version) return join(installed, "bin/bun");
    log(`node_modules/${pin.name} is ${v}, lockfile pins ${pin.version}: using the cache`);
  }
  const dir = join(runtimeCacheDir(), `${pin.name.replace("/", "__")}-${pin.version}`);
  const exe = join(dir, "package/bin/bun");
  if (existsSync(exe)) return exe;

  log(`fetching ${pin.name}@${pin.version} (npm pack, pinned by package-lock.json) into ${dir}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await $`npm pack ${pin.name}@${pin.version} --pack-destination ${tmp} --silent`.cwd(tmp).quiet();
  const tgz = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
  if (!tgz) throw new Error(`npm pack produced no tarball in ${tmp}`);
  const algo = pin.integrity.split("-")[0]!;
  const got = integrityOf(join(tmp, tgz), algo);
  if (got !== pin.integrity) throw new Error(`${tgz}: integrity ${got} does not match package-lock.json ${pin.integrity}`);
  await $`tar -xzf ${join(tmp, tgz)} -C ${tmp}`.quiet();
  rmSync(join(tmp, tgz));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return exe;
}

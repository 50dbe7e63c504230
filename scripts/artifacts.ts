// Release artifacts next to the compiled binaries: freshness stamps, .zst copies, SHA256SUMS.
import { $ } from "bun";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

// Everything that can change the bytes of the binary. node_modules is covered by the lockfile.
const INPUT_DIRS = ["src", "agent"];
const INPUT_FILES = ["package.json", "package-lock.json", "tsconfig.json", "bunfig.toml", "scripts/build.ts", "scripts/runtimes.ts"];

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/** Hash of the build inputs plus the stamp (commit) and the target; equal hash = the binary is fresh. */
export function inputHash(root: string, target: string, stamp: string): string {
  const files: string[] = [];
  for (const d of INPUT_DIRS) walk(join(root, d), files);
  for (const f of INPUT_FILES) if (existsSync(join(root, f))) files.push(join(root, f));
  const h = createHash("sha256").update(`${target}\0${stamp}\0${Bun.version}\0`);
  for (const f of files.sort()) h.update(relative(root, f)).update("\0").update(readFileSync(f)).update("\0");
  return h.digest("hex");
}

const stampFile = (outfile: string) => `${outfile}.inputs`;

export function isFresh(outfile: string, hash: string): boolean {
  return existsSync(outfile) && existsSync(stampFile(outfile)) && readFileSync(stampFile(outfile), "utf8").trim() === hash;
}

export function markFresh(outfile: string, hash: string): void {
  writeFileSync(stampFile(outfile), hash + "\n");
  // A .zst of the previous build must not survive next to (and be summed with) a new binary.
  rmSync(`${outfile}.zst`, { force: true });
}

/** outfile.zst at `level` (-19 for releases: ~112 MB → ~40 MB; ~80 s per binary on 2 cores). */
export async function compress(outfile: string, level = 19): Promise<string> {
  const zst = `${outfile}.zst`;
  if (existsSync(zst) && statSync(zst).mtimeMs >= statSync(outfile).mtimeMs) return zst;
  // Compression takes minutes: if a concurrent build replaces the binary meanwhile, the result is of
  // the old one and must not be published next to the new one.
  const before = statSync(outfile);
  await $`zstd -${level} -T0 -q -f ${outfile} -o ${zst}.tmp`;
  const after = statSync(outfile);
  if (after.ino !== before.ino || after.mtimeMs !== before.mtimeMs) {
    rmSync(`${zst}.tmp`, { force: true });
    throw new Error(`${outfile} changed while it was being compressed: run the build again`);
  }
  renameSync(`${zst}.tmp`, zst);
  return zst;
}

/** Writes SHA256SUMS (sha256sum -c format) for every binary and .zst in `dir`. */
export function writeSums(dir: string, prefix = "neurocontroller-"): string {
  const lines = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && !/\.(inputs|new|tmp)$/.test(f) && !f.includes("-oci-"))
    .sort()
    .map(
      (f) =>
        `${createHash("sha256")
          .update(readFileSync(join(dir, f)))
          .digest("hex")}  ${f}`,
    );
  const path = join(dir, "SHA256SUMS");
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

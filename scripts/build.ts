// Compiles src/main.ts into a single self-contained binary per target (bun build --compile).
// Usage: bun scripts/build.ts [--target linux-x64|linux-arm64|host] [--outdir dist]
import { $ } from "bun";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1]!;
};
const root = resolve(import.meta.dir, "..");
const outdir = resolve(root, flag("outdir", "dist"));
const hostTarget = `linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
const target = flag("target", "host") === "host" ? hostTarget : flag("target", "host");

const commit = (await $`git -C ${root} rev-parse --short=12 HEAD`.nothrow().quiet()).stdout.toString().trim() || "unknown";
const dirty = (await $`git -C ${root} status --porcelain --untracked-files=no`.nothrow().quiet()).stdout.toString().trim() ? "-dirty" : "";
const buildDate = new Date().toISOString().replace(/\.\d+Z$/, "Z");

// The eBPF object first (no-op with a note when clang is absent: the committed object is embedded).
await $`bun ${join(root, "agent/build-bpf.ts")}`.nothrow();

mkdirSync(outdir, { recursive: true });
const outfile = join(outdir, `neurocontroller-${target}`);
const result = await Bun.build({
  entrypoints: [join(root, "src/main.ts")],
  compile: { target: `bun-${target}` as Bun.Build.Target, outfile },
  minify: true,
  sourcemap: "none",
  define: {
    NEURO_BUILD_COMMIT: JSON.stringify(commit + dirty),
    NEURO_BUILD_DATE: JSON.stringify(buildDate),
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (${commit}${dirty})`);

// Compiles agent/bpf/*.bpf.c into the committed objects (agent/bpf/*.bpf.o) with Debian clang.
// The object is committed so a binary built where clang is absent still embeds it; the build
// recompiles when clang is present and the test suite checks the committed bytes are reproducible.
//
// Reproducible by flags: -fdebug-prefix-map removes the checkout path and the multiarch include
// directory from the DWARF/BTF, so the same source gives the same bytes on any x86_64/arm64 host.
// Usage: bun agent/build-bpf.ts [--check] [--out DIR]
import { $ } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const BPF_DIR = resolve(import.meta.dir, "bpf");

function multiarch(): string {
  return process.arch === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
}

/** The exact clang command line for one source; `cwd` must be BPF_DIR. */
export function clangArgs(source: string, out: string): string[] {
  const inc = `/usr/include/${multiarch()}`;
  return [
    "-target",
    "bpf",
    "-O2",
    "-g",
    // linux/types.h needs asm/types.h, which lives in the multiarch directory (identical content on every arch).
    "-idirafter",
    inc,
    `-fdebug-prefix-map=${BPF_DIR}=.`,
    `-fdebug-prefix-map=${inc}=/usr/include/multiarch`,
    "-Wall",
    "-Werror",
    "-c",
    source,
    "-o",
    out,
  ];
}

export async function hasClang(): Promise<boolean> {
  return (await $`clang --version`.nothrow().quiet()).exitCode === 0;
}

/** Builds every bpf/*.bpf.c into `outDir`; returns the object paths. */
export async function buildBpf(outDir = BPF_DIR): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const outs: string[] = [];
  for (const f of readdirSync(BPF_DIR)
    .filter((n) => n.endsWith(".bpf.c"))
    .sort()) {
    const out = join(outDir, f.replace(/\.c$/, ".o"));
    const r = await $`clang ${clangArgs(f, out)}`.cwd(BPF_DIR).nothrow().quiet();
    if (r.exitCode !== 0) throw new Error(`clang failed for ${f}:\n${r.stderr.toString()}`);
    outs.push(out);
  }
  return outs;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (!(await hasClang())) {
    console.log("build-bpf: clang not found; using the committed agent/bpf/*.bpf.o (apt install clang llvm libbpf-dev to rebuild)");
    process.exit(0);
  }
  const check = args.includes("--check");
  const outDir = check ? `/tmp/neuro-bpf-check-${process.pid}` : resolve(args[args.indexOf("--out") + 1] ?? BPF_DIR);
  const outs = await buildBpf(args.includes("--out") || check ? outDir : BPF_DIR);
  if (check) {
    let stale = 0;
    for (const o of outs) {
      const committed = join(BPF_DIR, o.split("/").pop()!);
      if (!existsSync(committed) || !readFileSync(committed).equals(readFileSync(o))) {
        console.error(`build-bpf: ${committed} is out of date: run 'bun agent/build-bpf.ts' and commit it`);
        stale++;
      }
    }
    process.exit(stale ? 1 : 0);
  }
  for (const o of outs) console.log(`build-bpf: ${o}`);
}

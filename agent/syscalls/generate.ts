// Generates the per-architecture syscall name tables from the kernel UAPI headers (linux-libc-dev):
//   x86_64:  /usr/include/x86_64-linux-gnu/asm/unistd_64.h (or /usr/include/asm/unistd_64.h)
//   aarch64: /usr/include/asm-generic/unistd.h, preprocessed the way arm64's asm/unistd.h includes it
// Since Linux 5.1 every architecture numbers new syscalls alike from 424 up, so those go to one shared
// table (unified.json) and the per-architecture tables stop below 424.
// The output is committed data (agent/syscalls/{x86_64,aarch64,unified}.json, read by index.ts) so
// building never needs the headers.
// Usage: bun agent/syscalls/generate.ts
import { $ } from "bun";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Resolves `#define __NR_x <number | __NR3264_x>` lines (clang -dM output) into number → name. */
export function parseDefines(text: string): Map<number, string> {
  const raw = new Map<string, string>();
  for (const m of text.matchAll(/^#define (__NR3264_\w+|__NR_\w+) (\S+)$/gm)) raw.set(m[1]!, m[2]!);
  const value = (v: string, depth = 0): number | undefined => {
    if (/^\d+$/.test(v)) return Number(v);
    const inner = /^\(?(__NR\w+)\)?$/.exec(v);
    return inner && depth < 4 && raw.has(inner[1]!) ? value(raw.get(inner[1]!)!, depth + 1) : undefined;
  };
  const out = new Map<number, string>();
  for (const [k, v] of raw) {
    if (!k.startsWith("__NR_") || k === "__NR_syscalls" || k === "__NR_arch_specific_syscall") continue;
    const n = value(v);
    if (n !== undefined && !out.has(n)) out.set(n, k.slice(5));
  }
  return out;
}

/** First syscall number shared by all architectures (Linux 5.1, pidfd_send_signal). */
export const UNIFIED_FIRST = 424;

/** Names of numbers [from, to) ("" = unassigned), without trailing unassigned slots. */
function slice(table: Map<number, string>, from: number, to: number): string[] {
  const names = Array.from({ length: to - from }, (_, i) => table.get(from + i) ?? "");
  while (names.length && !names.at(-1)) names.pop();
  return names;
}

/** JSON with eight names a line, so a diff of a regenerated table stays readable. */
function json(fields: Record<string, unknown>, names: string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < names.length; i += 8)
    lines.push(
      `    ${names
        .slice(i, i + 8)
        .map((n) => JSON.stringify(n))
        .join(", ")}`,
    );
  const head = Object.entries(fields)
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`)
    .join("");
  return `{\n${head}  "names": [\n${lines.join(",\n")}\n  ]\n}\n`;
}

function renderArch(arch: string, source: string, table: Map<number, string>): string {
  return json({ generatedBy: "agent/syscalls/generate.ts — do not edit", source, arch, first: 0 }, slice(table, 0, UNIFIED_FIRST));
}

/** The numbers from UNIFIED_FIRST up, which every architecture must agree on. */
export function unifiedTable(tables: Map<number, string>[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const t of tables) {
    for (const [nr, name] of t) {
      if (nr < UNIFIED_FIRST) continue;
      const seen = out.get(nr);
      if (seen !== undefined && seen !== name) throw new Error(`syscall ${nr} is ${seen} on one architecture and ${name} on another`);
      out.set(nr, name);
    }
  }
  return out;
}

function renderUnified(table: Map<number, string>): string {
  const names = slice(table, UNIFIED_FIRST, Math.max(UNIFIED_FIRST, ...table.keys()) + 1);
  return json(
    { generatedBy: "agent/syscalls/generate.ts — do not edit", note: "the same on every architecture since Linux 5.1", first: UNIFIED_FIRST },
    names,
  );
}

if (import.meta.main) {
  const dir = import.meta.dir;
  const x86 = ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"].find(existsSync);
  if (!x86) throw new Error("x86_64 unistd_64.h not found: apt install linux-libc-dev");
  const x86Table = parseDefines(await Bun.file(x86).text());
  writeFileSync(join(dir, "x86_64.json"), renderArch("x86_64", x86, x86Table));
  // arm64 uses the generic table; these are the __ARCH_WANT_* switches of arch/arm64/include/uapi/asm/unistd.h.
  const wants = ["RENAMEAT", "NEW_STAT", "SET_GET_RLIMIT", "TIME32_SYSCALLS", "MEMFD_SECRET", "SYS_CLONE3"].map((w) => `-D__ARCH_WANT_${w}`);
  const generic = (await $`clang -E -dM -D__BITS_PER_LONG=64 ${wants} -x c /usr/include/asm-generic/unistd.h`.quiet()).stdout.toString();
  const armTable = parseDefines(generic);
  writeFileSync(join(dir, "aarch64.json"), renderArch("aarch64", "/usr/include/asm-generic/unistd.h (arm64 __ARCH_WANT_* set)", armTable));
  writeFileSync(join(dir, "unified.json"), renderUnified(unifiedTable([x86Table, armTable])));
  console.log(`x86_64: ${x86Table.size} syscalls, aarch64: ${armTable.size} syscalls`);
}

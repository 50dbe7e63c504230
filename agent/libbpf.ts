// bun:ffi bindings for the few libbpf.so.1 entry points the agent uses (libbpf >= 1.0 semantics:
// functions return NULL / -errno, never ERR_PTR). Opened lazily so the rest of the binary runs
// on machines without libbpf, and a missing library becomes a clear, actionable error.
import { dlopen, ptr, type Pointer } from "bun:ffi";

const SYMBOLS = {
  bpf_object__open_mem: { args: ["ptr", "usize", "ptr"], returns: "ptr" },
  bpf_object__load: { args: ["ptr"], returns: "i32" },
  bpf_object__close: { args: ["ptr"], returns: "void" },
  bpf_object__find_program_by_name: { args: ["ptr", "cstring"], returns: "ptr" },
  bpf_object__find_map_by_name: { args: ["ptr", "cstring"], returns: "ptr" },
  bpf_map__fd: { args: ["ptr"], returns: "i32" },
  bpf_map__set_max_entries: { args: ["ptr", "u32"], returns: "i32" },
  bpf_program__attach: { args: ["ptr"], returns: "ptr" },
  bpf_program__set_autoload: { args: ["ptr", "bool"], returns: "i32" },
  bpf_link__destroy: { args: ["ptr"], returns: "i32" },
  bpf_map_update_elem: { args: ["i32", "ptr", "ptr", "u64"], returns: "i32" },
  bpf_map_lookup_elem: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  bpf_map_lookup_and_delete_elem: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  bpf_map_delete_elem: { args: ["i32", "ptr"], returns: "i32" },
  bpf_map_get_next_key: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  ring_buffer__new: { args: ["i32", "function", "ptr", "ptr"], returns: "ptr" },
  ring_buffer__consume: { args: ["ptr"], returns: "i32" },
  ring_buffer__free: { args: ["ptr"], returns: "void" },
  libbpf_num_possible_cpus: { args: [], returns: "i32" },
  libbpf_get_error: { args: ["ptr"], returns: "i64" },
  libbpf_strerror: { args: ["i32", "ptr", "usize"], returns: "i32" },
  libbpf_version_string: { args: [], returns: "cstring" },
} as const;

export type LibBpf = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export class AgentEnvironmentError extends Error {}

let lib: LibBpf | undefined;
let loadedFrom: string | undefined;

/** Candidate paths: the soname first (ld.so search path), then Debian's multiarch locations. */
const CANDIDATES = [
  "libbpf.so.1",
  "/usr/lib/x86_64-linux-gnu/libbpf.so.1",
  "/usr/lib/aarch64-linux-gnu/libbpf.so.1",
  "/usr/lib64/libbpf.so.1",
  "/usr/lib/libbpf.so.1",
];

export function libbpf(): LibBpf {
  if (lib) return lib;
  const errors: string[] = [];
  for (const path of CANDIDATES) {
    try {
      lib = dlopen(path, SYMBOLS).symbols;
      loadedFrom = path;
      return lib;
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message}`);
    }
  }
  throw new AgentEnvironmentError(
    `libbpf.so.1 not found (the eBPF agent needs libbpf >= 1.0): install it with 'apt install libbpf1' ` +
      `(Debian/Raspberry Pi OS) or 'dnf install libbpf'.\n  tried: ${errors.join("\n         ")}`,
  );
}

/** Which candidate was opened and libbpf's own version ("v1.1"), opening it if needed. */
export function libbpfInfo(): { path: string; version: string } {
  const l = libbpf();
  return { path: loadedFrom!, version: String(l.libbpf_version_string()) };
}

/** Errno name for the few codes the agent explains. */
export function errnoName(code: number): string {
  const n = Math.abs(code);
  return (
    ({ 1: "EPERM", 2: "ENOENT", 7: "E2BIG", 12: "ENOMEM", 13: "EACCES", 22: "EINVAL", 38: "ENOSYS", 95: "EOPNOTSUPP" } as Record<number, string>)[
      n
    ] ?? `errno ${n}`
  );
}

/** libbpf's own message for a negative error code. */
export function strerror(code: number): string {
  const buf = new Uint8Array(256);
  libbpf().libbpf_strerror(code, ptr(buf), buf.length);
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/** struct bpf_object_open_opts (libbpf 1.x, 80 bytes on LP64; `sz` lets libbpf accept older/newer layouts). */
export function openOpts(opts: { objectName?: string; btfCustomPath?: string }): { buf: Uint8Array; keep: unknown[] } {
  const buf = new Uint8Array(80);
  const view = new DataView(buf.buffer);
  const keep: unknown[] = [];
  view.setBigUint64(0, 80n, true);
  const cstr = (s: string) => {
    const b = Buffer.from(`${s}\0`);
    keep.push(b); // keep the memory alive while libbpf holds the pointer
    return BigInt(ptr(b));
  };
  if (opts.objectName) view.setBigUint64(8, cstr(opts.objectName), true);
  if (opts.btfCustomPath) view.setBigUint64(48, cstr(opts.btfCustomPath), true);
  return { buf, keep };
}

export type { Pointer };

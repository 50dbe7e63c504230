// Loads the syscall-latency BPF object through libbpf (bun:ffi), attaches its tracepoints, and
// gives typed access to its maps. The ring buffer is drained by a timer calling
// ring_buffer__consume: a blocking ring_buffer__poll stalls the traced process in some VMs
// (docs/architecture.md, "Platform facts"), and consume never blocks the event loop either.
import { dlopen, JSCallback, ptr, read, type Pointer } from "bun:ffi";
import { existsSync, readFileSync } from "node:fs";
import defaultObjectPath from "./bpf/syscall_latency.bpf.o" with { type: "file" };
import { AgentEnvironmentError, libbpf, openOpts, strerror } from "./libbpf.ts";
import { explainBpfError, preflight } from "./preflight.ts";

/** Layouts shared with syscall_latency.bpf.c. */
export const POOL_PROCESS = 1;
export const POOL_INHERITED = 2;
/** A tgid whose threads are bound (not the process): lets the probe tell an untraced process by one lookup. */
export const POOL_TGID_GATE = 4;
const DROP_NAMES = ["ringbuf", "aggFull", "startFull", "poolFull"] as const;
const CFG_SLOW_NS = 0;
const CFG_INHERIT = 1;
/**
 * sched_process_fork's layout differs between kernels: child_pid's offset → the program written for it
 * (comm as __data_loc on newer kernels, char[16] on Debian bookworm's 6.1 and older ones).
 */
export const FORK_PROGRAMS: Readonly<Record<number, string>> = { 20: "on_fork", 44: "on_fork_comm_array" };
const SLOW_EVENT_SIZE = 40; // sizeof(struct slow_event)

export type Drops = Record<(typeof DROP_NAMES)[number], number>;

export interface SlowEvent {
  /** CLOCK_MONOTONIC ns of the syscall's entry (see monoToUnixNano). */
  startNs: bigint;
  durNs: number;
  ret: number;
  bindId: number;
  tid: number;
  nr: number;
  pid: number;
}

export interface AggRecord {
  bindId: number;
  tid: number;
  nr: number;
  count: number;
  totalNs: number;
  maxNs: number;
  firstNs: bigint;
  lastNs: bigint;
}

export interface ProbeOptions {
  /** Object bytes; default: the embedded agent/bpf/syscall_latency.bpf.o. */
  object?: Uint8Array;
  /** libbpf's btf_custom_path (tests point it at a nonexistent file to prove no kernel BTF is needed). */
  btfCustomPath?: string;
  ringbufBytes?: number;
  /** Syscalls at least this long are sent individually through the ring buffer (0: none). */
  slowThresholdNs?: number;
  /** Children of bound threads inherit the binding in-kernel. */
  inherit?: boolean;
  onSlow?: (e: SlowEvent) => void;
  /** Ring-buffer consume period; 0 disables the timer (call consume() yourself). */
  consumeIntervalMs?: number;
  mountTracefs?: boolean;
}

const SYSCALL_PROGRAMS = ["on_sys_enter", "on_sys_exit"];
/** Closes a dead thread's start slot (optional only so that the bench can --compare an older object). */
const THREAD_EXIT_PROGRAM = "on_thread_exit";

/** child_pid's offset from a sched_process_fork format file's text (undefined when absent). */
export function parseForkChildPidOffset(format: string): number | undefined {
  const m = /field:pid_t child_pid;\s*offset:(\d+);/.exec(format);
  return m ? Number(m[1]) : undefined;
}

/**
 * The fork program matching this kernel's sched_process_fork layout, or undefined when inheritance is off;
 * throws when it is on and the layout is unknown.
 */
export function forkProgram(tracefs: string, inherit: boolean): string | undefined {
  if (!inherit) return undefined;
  const file = `${tracefs}/events/sched/sched_process_fork/format`;
  let off: number | undefined;
  try {
    off = parseForkChildPidOffset(readFileSync(file, "utf8"));
  } catch {
    // unreadable: reported below
  }
  const prog = off === undefined ? undefined : FORK_PROGRAMS[off];
  if (prog) return prog;
  throw new AgentEnvironmentError(
    `${file}: ${off === undefined ? "no readable child_pid field" : `child_pid at offset ${off}, a layout this agent does not know (${Object.keys(FORK_PROGRAMS).join(" or ")})`}, ` +
      "so children cannot inherit bindings: set AGENT_INHERIT_CHILDREN=false to run without that",
  );
}

export async function embeddedObject(): Promise<Uint8Array> {
  return new Uint8Array(await Bun.file(defaultObjectPath).arrayBuffer());
}

export class SyscallProbe {
  private links: Pointer[] = [];
  private rb: Pointer | null = null;
  private cb: JSCallback | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private fds!: Record<"pool" | "aggs" | "drops" | "config" | "slow_events", number>;
  private readonly ncpu: number;
  /** Slow events delivered into JS since open. */
  eventsIn = 0;
  /** The programs attached (the fork one depends on the kernel's tracepoint layout). */
  readonly attached: string[] = [];

  private constructor(
    private obj: Pointer,
    private readonly keep: unknown[],
    private readonly opts: ProbeOptions,
    private readonly tracefs: string,
  ) {
    this.ncpu = libbpf().libbpf_num_possible_cpus();
  }

  /** Opens, loads and attaches; throws AgentEnvironmentError with the reason when it cannot. */
  static async open(opts: ProbeOptions = {}): Promise<SyscallProbe> {
    const { tracefs } = preflight({ mountTracefs: opts.mountTracefs });
    const lib = libbpf();
    const bytes = opts.object ?? (await embeddedObject());
    const o = openOpts({ objectName: "syscall_latency", btfCustomPath: opts.btfCustomPath });
    const obj = lib.bpf_object__open_mem(ptr(bytes), bytes.length, ptr(o.buf)) as Pointer | null;
    if (!obj) throw explainBpfError("open", Number(lib.libbpf_get_error(null)));
    const probe = new SyscallProbe(obj, [bytes, o], opts, tracefs);
    try {
      probe.load();
      return probe;
    } catch (e) {
      probe.close();
      throw e;
    }
  }

  private load(): void {
    const lib = libbpf();
    if (this.opts.ringbufBytes) {
      const m = lib.bpf_object__find_map_by_name(this.obj, Buffer.from("slow_events\0"));
      // Ring buffer size must be a power-of-two multiple of the page size.
      const size = Math.max(4096, 2 ** Math.ceil(Math.log2(this.opts.ringbufBytes)));
      if (m) lib.bpf_map__set_max_entries(m, size);
    }
    // Only the fork program for this kernel's layout is loaded (none without inheritance).
    const fork = forkProgram(this.tracefs, this.opts.inherit !== false);
    for (const name of Object.values(FORK_PROGRAMS)) {
      const prog = name === fork ? null : this.program(name, false);
      if (prog) lib.bpf_program__set_autoload(prog, false);
    }
    const programs = [...SYSCALL_PROGRAMS, ...(this.program(THREAD_EXIT_PROGRAM, false) ? [THREAD_EXIT_PROGRAM] : []), ...(fork ? [fork] : [])];
    const err = lib.bpf_object__load(this.obj);
    if (err) throw explainBpfError("load", err, strerror(err));
    // Map fds exist only after load.
    const fd = (name: string) => {
      const m = lib.bpf_object__find_map_by_name(this.obj, Buffer.from(`${name}\0`));
      if (!m) throw new Error(`BPF object has no map '${name}'`);
      return lib.bpf_map__fd(m);
    };
    this.fds = { pool: fd("pool"), aggs: fd("aggs"), drops: fd("drops"), config: fd("config"), slow_events: fd("slow_events") };
    this.setConfig(CFG_SLOW_NS, BigInt(Math.round(this.opts.slowThresholdNs ?? 0)));
    this.setConfig(CFG_INHERIT, this.opts.inherit === false ? 0n : 1n);
    for (const name of programs) {
      const link = lib.bpf_program__attach(this.program(name)) as Pointer | null;
      if (!link) {
        const code = Number(lib.libbpf_get_error(null));
        throw explainBpfError(`attach of ${name}`, code, strerror(code));
      }
      this.links.push(link);
      this.attached.push(name);
    }
    this.cb = new JSCallback((_ctx: Pointer, data: Pointer, size: number) => this.onSample(data, size), {
      args: ["ptr", "ptr", "usize"],
      returns: "i32",
    });
    this.rb = lib.ring_buffer__new(this.fds.slow_events, this.cb.ptr!, null, null) as Pointer | null;
    if (!this.rb) throw explainBpfError("ring buffer setup", Number(lib.libbpf_get_error(null)));
    const every = this.opts.consumeIntervalMs ?? 50;
    if (every > 0) this.timer = setInterval(() => this.consume(), every);
  }

  private program(name: string): Pointer;
  private program(name: string, required: false): Pointer | null;
  private program(name: string, required = true): Pointer | null {
    const prog = libbpf().bpf_object__find_program_by_name(this.obj, Buffer.from(`${name}\0`)) as Pointer | null;
    if (!prog && required) throw new Error(`BPF object has no program '${name}'`);
    return prog;
  }

  private onSample(data: Pointer, size: number | bigint): number {
    if (Number(size) < SLOW_EVENT_SIZE) return 0;
    this.eventsIn++;
    this.opts.onSlow?.({
      startNs: read.u64(data, 0),
      durNs: Number(read.u64(data, 8)),
      ret: Number(read.i64(data, 16)),
      bindId: read.u32(data, 24),
      tid: read.u32(data, 28),
      nr: read.u32(data, 32),
      pid: read.u32(data, 36),
    });
    return 0;
  }

  /** Drains the ring buffer without blocking; returns the number of events handled. */
  consume(): number {
    if (!this.rb) return 0;
    return libbpf().ring_buffer__consume(this.rb);
  }

  private setConfig(slot: number, value: bigint): void {
    const k = new Uint32Array([slot]);
    const v = new BigUint64Array([value]);
    libbpf().bpf_map_update_elem(this.fds.config, ptr(k), ptr(v), 0n);
  }

  setSlowThresholdNs(ns: number): void {
    this.setConfig(CFG_SLOW_NS, BigInt(Math.round(ns)));
  }

  /** Adds or replaces a pool entry (processWide: `id` is a pid and covers all its threads). */
  poolSet(id: number, bindId: number, processWide: boolean): boolean {
    const k = new Uint32Array([id]);
    const v = new Uint32Array([bindId, processWide ? POOL_PROCESS : 0]);
    if (!processWide) {
      // The probe looks up the tgid first: a bound thread's process needs a key in the pool (a gate, binding
      // nothing). NOEXIST: the process's own binding, when there is one, already is that key.
      const tgid = tgidOf(id);
      if (tgid !== undefined && tgid !== id) {
        const gate = new Uint32Array([0, POOL_TGID_GATE]);
        libbpf().bpf_map_update_elem(this.fds.pool, ptr(new Uint32Array([tgid])), ptr(gate), 1n /* BPF_NOEXIST */);
      }
    }
    return libbpf().bpf_map_update_elem(this.fds.pool, ptr(k), ptr(v), 0n) === 0;
  }

  poolDelete(id: number): void {
    libbpf().bpf_map_delete_elem(this.fds.pool, ptr(new Uint32Array([id])));
    // Gates of processes that are gone (a live one costs its process one extra lookup per syscall, no more).
    for (const g of this.poolEntries(true)) if (g.flags & POOL_TGID_GATE && !existsSync(`/proc/${g.id}`)) this.poolDeleteKey(g.id);
  }

  private poolDeleteKey(id: number): void {
    libbpf().bpf_map_delete_elem(this.fds.pool, ptr(new Uint32Array([id])));
  }

  /** Every pool entry, including those the kernel added at fork (gate entries, which bind nothing, only with `gates`). */
  poolEntries(gates = false): { id: number; bindId: number; flags: number }[] {
    const out: { id: number; bindId: number; flags: number }[] = [];
    const v = new Uint32Array(2);
    for (const key of this.keys(this.fds.pool, 4)) {
      if (libbpf().bpf_map_lookup_elem(this.fds.pool, ptr(key), ptr(v)) === 0 && (gates || !(v[1]! & POOL_TGID_GATE)))
        out.push({ id: new Uint32Array(key.buffer)[0]!, bindId: v[0]!, flags: v[1]! });
    }
    return out;
  }

  /** Reads and removes every aggregate (atomically per key, so no in-kernel update is lost). */
  drainAggregates(): AggRecord[] {
    const lib = libbpf();
    const out: AggRecord[] = [];
    const v = new BigUint64Array(5);
    for (const key of this.keys(this.fds.aggs, 16)) {
      if (lib.bpf_map_lookup_and_delete_elem(this.fds.aggs, ptr(key), ptr(v)) !== 0) continue;
      const k = new Uint32Array(key.buffer);
      out.push({
        bindId: k[0]!,
        tid: k[1]!,
        nr: k[2]!,
        count: Number(v[0]),
        totalNs: Number(v[1]),
        maxNs: Number(v[2]),
        firstNs: v[3]!,
        lastNs: v[4]!,
      });
    }
    return out;
  }

  /** Keys first, then values: deleting while walking with get_next_key would restart the walk. */
  private keys(fd: number, size: number): Uint8Array[] {
    const lib = libbpf();
    const keys: Uint8Array[] = [];
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(size);
      if (lib.bpf_map_get_next_key(fd, prev ? ptr(prev) : null, ptr(next)) !== 0) break;
      keys.push(next);
      prev = next;
      if (keys.length > 1_000_000) break; // a map cannot be this big; guards against a walk that never ends
    }
    return keys;
  }

  /** Drop counters summed over CPUs. */
  drops(): Drops {
    const out = {} as Drops;
    const v = new BigUint64Array(this.ncpu);
    DROP_NAMES.forEach((name, i) => {
      const ok = libbpf().bpf_map_lookup_elem(this.fds.drops, ptr(new Uint32Array([i])), ptr(v)) === 0;
      out[name] = ok ? v.reduce((s, x) => s + Number(x), 0) : 0;
    });
    return out;
  }

  /** Detaches every program and frees the object; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const lib = libbpf();
    if (this.rb) {
      lib.ring_buffer__consume(this.rb);
      lib.ring_buffer__free(this.rb);
      this.rb = null;
    }
    for (const l of this.links.splice(0)) lib.bpf_link__destroy(l);
    lib.bpf_object__close(this.obj);
    this.cb?.close();
    this.cb = null;
    this.keep.length = 0;
  }
}

/** CLOCK_MONOTONIC (bpf_ktime_get_ns) → Unix epoch ns, from one paired reading of both clocks. */
export function monoToUnixNano(mono: bigint): bigint {
  return mono + monoOffset();
}

let offset: bigint | undefined;
function monoOffset(): bigint {
  if (offset === undefined) {
    // bpf_ktime_get_ns is CLOCK_MONOTONIC; Bun's hrtime is not the same clock, so ask libc.
    const libc = dlopen("libc.so.6", { clock_gettime: { args: ["i32", "ptr"], returns: "i32" } });
    const ts = new BigInt64Array(2);
    const CLOCK_MONOTONIC = 1;
    libc.symbols.clock_gettime(CLOCK_MONOTONIC, ptr(ts));
    const w = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    libc.close();
    offset = w - (ts[0]! * 1_000_000_000n + ts[1]!);
  }
  return offset;
}

/** The process (thread group) a thread belongs to, from /proc; undefined when the thread is gone. */
function tgidOf(tid: number): number | undefined {
  try {
    const m = /^Tgid:\s+(\d+)$/m.exec(readFileSync(`/proc/${tid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

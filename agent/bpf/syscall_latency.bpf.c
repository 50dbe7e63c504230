// SPDX-License-Identifier: GPL-2.0
// Syscall latency of the threads in the trace pool.
//
// Portable by construction: no vmlinux.h, no CO-RE (bpf_core_read), no pt_regs macros. The syscall
// programs are raw tracepoints (not BTF-typed tp_btf): their context is the tracepoint's own arguments,
// (struct pt_regs *regs, long id) at sys_enter and (regs, long ret) at sys_exit, of which only the
// second is read, so the pt_regs layout never matters (the thread-exit one reads none). A raw tracepoint skips the perf trace-event
// record the kernel fills for a classic tracepoint program before running it, which roughly halves
// what attaching costs every syscall of every process (bench/agent-overhead.ts). The fork program's
// context is written from /sys/kernel/tracing/events/sched/sched_process_fork/format, the same on
// x86_64 and arm64 (both LP64), so this one object loads on kernels without BTF (stock Raspberry Pi
// OS) and on both architectures. Only the object's own BTF (map definitions, line info) is used;
// libbpf never needs the kernel's. Where a layout changed between kernel versions
// (sched_process_fork), user space reads the offset from the format file at load.
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL"; // bpf_ktime_get_ns / ringbuf are GPL-only helpers on old kernels

/* Raw tracepoint arguments (struct bpf_raw_tracepoint_args: u64 args[]) of raw_syscalls' sys_enter
 * (regs, id) and sys_exit (regs, ret). */
#define RAW_ARG_ID 1
#define RAW_ARG_RET 1

/* sched/sched_process_fork has two layouts in the kernels we meet, hence two programs; the loader reads
 * child_pid's offset from the tracepoint's format file and loads only the matching one (a program that
 * reads past a tracepoint's record cannot attach to it):
 *   on_fork:            comm as __data_loc (newer kernels, e.g. 6.18): child_pid at 20;
 *   on_fork_comm_array: comm as char[16] (Debian bookworm's 6.1 and older kernels): child_pid at 44. */
struct fork_ctx {
	__u64 common;
	__u32 parent_comm_loc;
	__s32 parent_pid;
	__u32 child_comm_loc;
	__s32 child_pid;
};

struct fork_ctx_comm_array {
	__u64 common;
	char parent_comm[16];
	__s32 parent_pid;
	char child_comm[16];
	__s32 child_pid;
};

/* Pool entry: which binding a thread (or a whole process) belongs to. */
#define POOL_PROCESS 1 /* key is a tgid: every thread of the process matches */
#define POOL_INHERITED 2 /* added in-kernel at fork/clone; user space cleans it up with its binding */
/* Gate entry keyed by a tgid whose threads (not the process) are bound: user space adds it with a thread's
 * binding, so that every traced thread's tgid is a key of the pool and an untraced process is told by ONE
 * lookup on its tgid. It binds nothing itself (bind_id 0). */
#define POOL_TGID_GATE 4
struct pool_val {
	__u32 bind_id;
	__u32 flags;
};

struct start_val {
	__u64 ts; /* enter time; 0: no syscall open */
	__u32 bind_id;
	__u32 nr;
	__u32 tid; /* the thread holding an array slot */
	__u32 spilled; /* sticky: a thread of this slot's index had to use the spill map */
};

struct agg_key {
	__u32 bind_id;
	__u32 tid;
	__u32 nr;
	__u32 pad;
};

struct agg_val {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 first_ns; /* enter time of the first call (CLOCK_MONOTONIC) */
	__u64 last_ns;  /* exit time of the last call */
};

/* Ring-buffer record of one syscall slower than the threshold. */
struct slow_event {
	__u64 start_ns;
	__u64 dur_ns;
	__s64 ret;
	__u32 bind_id;
	__u32 tid;
	__u32 nr;
	__u32 pid;
};

/* Index of drop counters (percpu, summed by user space). */
#define DROP_RINGBUF 0
#define DROP_AGG_FULL 1
#define DROP_START_FULL 2
#define DROP_POOL_FULL 3
#define DROP_SLOTS 4

/* Index of config values. */
#define CFG_SLOW_NS 0
#define CFG_INHERIT 1
#define CFG_SLOTS 2

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pool_val);
} pool SEC(".maps");

/* A traced thread's start slot: opened (ts set) at sys_enter, closed (ts = 0) at sys_exit, kept for the
 * thread's next syscall, and closed when the thread exits (exit_group never reaches sys_exit). An array
 * indexed by tid & (START_SLOTS - 1): its lookup is inlined to a few instructions, where a hash lookup
 * costs ~30 ns per program on this VM (bpf_stats), which sys_exit paid for EVERY syscall of every process.
 * A thread whose slot holds another thread's open syscall (tids equal modulo START_SLOTS, both traced)
 * goes to the spill hash and marks the slot, so only threads of a marked index ever look there.
 * Not atomic: two traced threads of one index claiming a free slot at the same instant may mix one
 * record; nothing else writes a thread's slot. */
#ifndef START_SLOTS /* overridable so a test build can force every thread through the spill path */
#define START_SLOTS 16384 /* a power of two; 384 KiB */
#endif
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, START_SLOTS);
	__type(key, __u32);
	__type(value, struct start_val);
} start_slots SEC(".maps");

/* Spill of start_slots, keyed by tid: only threads whose slot another traced thread's open syscall holds,
 * so small; LRU in case a thread's exit is never seen. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2048);
	__type(key, __u32);
	__type(value, struct start_val);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct agg_key);
	__type(value, struct agg_val);
} aggs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* resized by the loader before load */
} slow_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CFG_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} config SEC(".maps");

static __always_inline void count_drop(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &slot);
	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline __u64 config_get(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&config, &slot);
	return v ? *v : 0;
}

/* A thread matches by its own tid, or by its tgid when the process as a whole is bound (a thread's own
 * binding wins). Every traced thread's tgid is a pool key (its process's binding, its own when it is the
 * main thread, or a gate entry), so the common case, a process nobody traces, costs one lookup and out. */
static __always_inline struct pool_val *pool_match(__u64 pid_tgid)
{
	__u32 tid = (__u32)pid_tgid;
	__u32 tgid = pid_tgid >> 32;
	struct pool_val *p = bpf_map_lookup_elem(&pool, &tgid);
	if (!p)
		return 0;
	if (tid != tgid) {
		struct pool_val *t = bpf_map_lookup_elem(&pool, &tid);
		if (t && !(t->flags & POOL_TGID_GATE))
			return t;
		return (p->flags & POOL_PROCESS) ? p : 0;
	}
	return (p->flags & POOL_TGID_GATE) ? 0 : p;
}

SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pool_val *p = pool_match(pid_tgid);
	if (!p)
		return 0; /* the common case: one hash lookup (on the tgid) and out, no map update */
	__u32 tid = (__u32)pid_tgid;
	__u32 bind_id = p->bind_id;
	__u32 idx = tid & (START_SLOTS - 1);
	/* A thread keeps its slot between syscalls and rewrites it in place: no map update on this path. */
	struct start_val *slot = bpf_map_lookup_elem(&start_slots, &idx);
	if (!slot)
		return 0;
	if (slot->tid != tid) {
		if (slot->ts) {
			/* another thread's syscall is open in this slot */
			slot->spilled = 1;
			struct start_val s = { .ts = bpf_ktime_get_ns(), .bind_id = bind_id, .nr = (__u32)ctx->args[RAW_ARG_ID], .tid = tid };
			if (bpf_map_update_elem(&starts, &tid, &s, BPF_ANY))
				count_drop(DROP_START_FULL);
			return 0;
		}
		slot->tid = tid; /* a free slot: this thread's from now on */
	}
	slot->bind_id = bind_id;
	slot->nr = (__u32)ctx->args[RAW_ARG_ID];
	slot->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int on_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u32 idx = tid & (START_SLOTS - 1);
	/* The start slot, not the pool: a syscall that began while bound is still counted. */
	struct start_val *slot = bpf_map_lookup_elem(&start_slots, &idx);
	if (!slot)
		return 0;
	__u64 start;
	__u32 bind_id, nr;
	if (slot->tid == tid && slot->ts) {
		start = slot->ts;
		bind_id = slot->bind_id;
		nr = slot->nr;
		slot->ts = 0; /* closed; the slot stays this thread's */
	} else {
		if (!slot->spilled)
			return 0; /* the common case for a process nobody traces: one inlined array read */
		struct start_val *s = bpf_map_lookup_elem(&starts, &tid);
		if (!s || !s->ts)
			return 0;
		start = s->ts;
		bind_id = s->bind_id;
		nr = s->nr;
		bpf_map_delete_elem(&starts, &tid);
	}
	__u64 now = bpf_ktime_get_ns();
	__u64 dur = now - start;

	struct agg_key k = { .bind_id = bind_id, .tid = tid, .nr = nr };
	struct agg_val *a = bpf_map_lookup_elem(&aggs, &k);
	if (!a) {
		struct agg_val init = { .count = 1, .total_ns = dur, .max_ns = dur, .first_ns = start, .last_ns = now };
		/* NOEXIST: if user space drained and another CPU re-created it meanwhile, fall through to update */
		if (bpf_map_update_elem(&aggs, &k, &init, BPF_NOEXIST) == 0)
			goto slow;
		a = bpf_map_lookup_elem(&aggs, &k);
		if (!a) {
			count_drop(DROP_AGG_FULL);
			goto slow;
		}
	}
	/* One writer per key (the key holds the tid), so plain stores are race-free. */
	a->count += 1;
	a->total_ns += dur;
	if (dur > a->max_ns)
		a->max_ns = dur;
	a->last_ns = now;
slow:;
	__u64 threshold = config_get(CFG_SLOW_NS);
	if (threshold == 0 || dur < threshold)
		return 0;
	struct slow_event *e = bpf_ringbuf_reserve(&slow_events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF);
		return 0;
	}
	e->start_ns = start;
	e->dur_ns = dur;
	e->ret = (__s64)ctx->args[RAW_ARG_RET];
	e->bind_id = bind_id;
	e->tid = tid;
	e->nr = nr;
	e->pid = pid_tgid >> 32;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* A thread that exits closes its start slot: exit_group and exit never reach sys_exit, and an open slot
 * left behind would send a later thread of the same index to the spill map. Runs for every thread exit
 * on the host: one inlined array read. */
SEC("raw_tracepoint/sched_process_exit")
int on_thread_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 idx = tid & (START_SLOTS - 1);
	struct start_val *slot = bpf_map_lookup_elem(&start_slots, &idx);
	if (!slot)
		return 0;
	if (slot->tid == tid)
		slot->ts = 0;
	else if (slot->spilled)
		bpf_map_delete_elem(&starts, &tid);
	return 0;
}

/* Children (processes and threads) of a bound thread inherit its binding. */
static __always_inline int inherit(__u32 child)
{
	if (!config_get(CFG_INHERIT))
		return 0;
	struct pool_val *p = pool_match(bpf_get_current_pid_tgid());
	if (!p)
		return 0;
	/* A new process's pid is its tgid, so POOL_PROCESS covers its future threads; for a new thread the
	 * key equals its tid and matches directly. */
	struct pool_val v = { .bind_id = p->bind_id, .flags = POOL_PROCESS | POOL_INHERITED };
	if (bpf_map_update_elem(&pool, &child, &v, BPF_NOEXIST) == 0)
		return 0;
	/* A stale gate entry of a dead process whose pid was reused binds nothing: the child's binding replaces it. */
	struct pool_val *old = bpf_map_lookup_elem(&pool, &child);
	if (!old || !(old->flags & POOL_TGID_GATE) || bpf_map_update_elem(&pool, &child, &v, BPF_EXIST))
		count_drop(DROP_POOL_FULL);
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct fork_ctx *ctx)
{
	return inherit((__u32)ctx->child_pid);
}

SEC("tracepoint/sched/sched_process_fork")
int on_fork_comm_array(struct fork_ctx_comm_array *ctx)
{
	return inherit((__u32)ctx->child_pid);
}

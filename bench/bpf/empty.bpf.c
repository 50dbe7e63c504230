// SPDX-License-Identifier: GPL-2.0
// The physical floor of the agent's probe (bench/agent-overhead.ts): the same two raw_syscalls
// tracepoints with programs that do nothing, as classic tracepoint and as raw tracepoint programs.
// Attaching any program turns on the kernel's syscall tracepoint path for every task; what the real
// probe costs an untraced process above this is its own.
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/raw_syscalls/sys_enter")
int empty_enter(void *ctx)
{
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int empty_exit(void *ctx)
{
	return 0;
}

/* The same floor for raw tracepoints (what the agent's probe attaches since it stopped using classic
 * tracepoint programs): the kernel runs the program on the tracepoint's arguments, without first filling
 * a perf trace-event record. */
SEC("raw_tracepoint/sys_enter")
int empty_raw_enter(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int empty_raw_exit(void *ctx)
{
	return 0;
}

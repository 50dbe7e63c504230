import { describe, expect, test } from "bun:test";
import { RedWindows } from "../../../src/slo/red.ts";
import { SyscallJoin } from "../../../src/slo/syscall-join.ts";
import type { SyscallSpan } from "../../../src/trace/types.ts";

const T0 = 1_700_000_000_000;
const svc = { service: "checkout", namespace: "shop", deployment: "checkout" };
const traceId = (i: number) => i.toString(16).padStart(32, "a");

function span(i: number, maxMs: number): SyscallSpan {
  const end = BigInt(T0 + 1000) * 1_000_000n;
  return {
    traceId: traceId(i),
    parentId: "00f067aa0ba902b7",
    service: "checkout",
    pid: 1,
    threads: 1,
    syscall: "read",
    nr: 0,
    count: 3,
    totalNs: maxMs * 2e6,
    maxNs: maxMs * 1e6,
    startUnixNano: String(end - 5_000_000n),
    endUnixNano: String(end),
    slow: [],
  };
}

describe("SyscallJoin", () => {
  test("syscall spans of a known trace are recorded under its service at once", () => {
    const windows = new RedWindows({ slotMs: 1000, windowMs: 60_000 });
    const join = new SyscallJoin(windows, { clock: () => T0 + 2000 });
    join.entrySpan(traceId(1), svc);
    join.syscallSpans([span(1, 8), span(1, 2), span(2, 50)]);
    const fig = windows.query(svc, 60_000, T0 + 2000);
    expect(fig.requests).toBe(2);
    expect(fig.quantile(1)).toBeCloseTo(8, 0);
    expect(join.stats.joined).toBe(2);
    expect(join.size.pendingTraces).toBe(1); // trace 2 waits for its entry span
  });

  test("syscall spans that arrive before the entry span wait, then join when it comes", () => {
    const windows = new RedWindows({ slotMs: 1000, windowMs: 60_000 });
    const join = new SyscallJoin(windows, { clock: () => T0 + 2000 });
    join.syscallSpans([span(7, 30), span(7, 40)]);
    expect(windows.query(svc, 60_000, T0 + 2000).requests).toBe(0);
    join.entrySpan(traceId(7), svc);
    const fig = windows.query(svc, 60_000, T0 + 2000);
    expect(fig.requests).toBe(2);
    expect(Math.abs(fig.quantile(1)! - 40) / 40).toBeLessThan(0.07);
    expect(join.size.pendingTraces).toBe(0);
  });

  test("both maps stay bounded whatever the number of traces; what is dropped is counted", () => {
    const windows = new RedWindows({ slotMs: 1000, windowMs: 60_000 });
    const join = new SyscallJoin(windows, { clock: () => T0 + 2000, maxTraces: 100, maxPendingTraces: 50, maxPendingPerTrace: 4 });
    for (let i = 0; i < 10_000; i++) join.entrySpan(traceId(i), svc);
    for (let i = 20_000; i < 30_000; i++) join.syscallSpans([span(i, 1)]);
    join.syscallSpans(Array.from({ length: 10 }, () => span(29_999, 1)));
    expect(join.size).toEqual({ traces: 100, pendingTraces: 50 });
    // 9,950 traces pushed out of the pending buffer, and 10 more spans than trace 29,999 may hold (1 + 10 − 4 = 7).
    expect(join.stats.pendingDropped).toBe(9_950 + 7);
    // The most recent entry spans are the ones remembered.
    join.syscallSpans([span(9_999, 3)]);
    expect(join.stats.joined).toBe(1);
  });
});

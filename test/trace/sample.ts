// Aggregated spans shared by the trace tests.
import type { AggregatedSpan } from "../../src/trace/aggregate.ts";

const now = BigInt(Date.now()) * 1_000_000n;
export const SAMPLE: AggregatedSpan[] = [
  {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentId: "00f067aa0ba902b7", transactionId: "a3ce929d0e0e4736", service: "checkout",
    pid: 1234, threads: 2, syscall: "read", nr: 0, count: 12, totalNs: 75_000_000, maxNs: 61_000_000,
    startUnixNano: now.toString(), endUnixNano: (now + 90_000_000n).toString(), node: "pi-1",
    slow: [{ tid: 1235, startUnixNano: (now + 1_000_000n).toString(), durNs: 61_000_000, ret: -11 }],
  },
  {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentId: "00f067aa0ba902b7", service: "checkout",
    pid: 1234, threads: 1, syscall: "clock_nanosleep", nr: 230, count: 1, totalNs: 30_000_000, maxNs: 30_000_000,
    startUnixNano: now.toString(), endUnixNano: (now + 30_000_000n).toString(), node: "pi-1", slow: [],
  },
  {
    traceId: "0af7651916cd43dd8448eb211c80319c", parentId: "b7ad6b7169203331", service: "api",
    pid: 99, threads: 1, syscall: "write", nr: 1, count: 3, totalNs: 3000, maxNs: 1500,
    startUnixNano: now.toString(), endUnixNano: (now + 5000n).toString(), node: "pi-2", slow: [],
  },
];


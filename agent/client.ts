// Client helper for applications: bind the current process (or a thread) to the trace of the
// request it is serving, and unbind when the request ends. Never throws and never slows a
// request noticeably: a missing agent just means no syscall spans (short timeout, result ignored).
//
//   import { TraceAgentClient } from "neurocontroller/agent/client.ts";
//   const agent = new TraceAgentClient();
//   await agent.withTrace({ traceId, spanId, service: "checkout" }, () => handle(req));

export interface TraceContext {
  traceId: string;
  spanId: string;
  transactionId?: string;
  service?: string;
  /** Default: this process. */
  pid?: number;
  tid?: number;
  ttlMs?: number;
}

export interface ClientOptions {
  socketPath?: string;
  timeoutMs?: number;
}

export const DEFAULT_SOCKET = "/run/neurocontroller/agent.sock";

export class TraceAgentClient {
  private readonly socketPath: string;
  private readonly timeoutMs: number;
  /** Last error, for diagnostics (calls themselves never throw). */
  lastError: string | undefined;

  constructor(opts: ClientOptions = {}) {
    this.socketPath = opts.socketPath ?? process.env.NEURO_AGENT_SOCKET ?? DEFAULT_SOCKET;
    this.timeoutMs = opts.timeoutMs ?? 250;
  }

  private async post(path: string, body: unknown): Promise<boolean> {
    try {
      const res = await fetch(`http://agent${path}`, {
        method: "POST",
        unix: this.socketPath,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const json = (await res.json()) as { ok: boolean; error?: string };
      this.lastError = json.ok ? undefined : json.error;
      return json.ok;
    } catch (e) {
      this.lastError = (e as Error).message;
      return false;
    }
  }

  /** Binds; returns whether the agent accepted it. */
  bind(ctx: TraceContext): Promise<boolean> {
    const who = ctx.tid !== undefined ? { tid: ctx.tid } : { pid: ctx.pid ?? process.pid };
    return this.post("/bind", {
      ...who,
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      transactionId: ctx.transactionId,
      service: ctx.service,
      ttlMs: ctx.ttlMs,
    });
  }

  unbind(sel: { pid?: number; tid?: number; traceId?: string } = {}): Promise<boolean> {
    const body = sel.tid !== undefined || sel.traceId !== undefined ? sel : { pid: sel.pid ?? process.pid };
    return this.post("/unbind", body);
  }

  /** Binds for the duration of `fn` (unbinds even when it throws). */
  async withTrace<T>(ctx: TraceContext, fn: () => T | Promise<T>): Promise<T> {
    await this.bind(ctx);
    try {
      return await fn();
    } finally {
      await this.unbind(ctx.tid !== undefined ? { tid: ctx.tid } : { pid: ctx.pid ?? process.pid });
    }
  }
}

/** Parses a W3C `traceparent` header ("00-<trace>-<span>-<flags>") into ids. */
export function parseTraceparent(header: string | null | undefined): { traceId: string; spanId: string } | undefined {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec((header ?? "").trim());
  return m ? { traceId: m[1]!, spanId: m[2]! } : undefined;
}

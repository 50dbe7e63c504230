// How applications reach the trace pool: a local Unix-socket HTTP/JSON server and MQTT bind
// messages (<prefix>/trace/bind/<node>). Both speak the same JSON:
//   POST /bind   {"pid"|"tid": n, "traceId": 32 hex, "spanId": 16 hex, "transactionId"?, "service"?, "ttlMs"?}
//   POST /unbind {"pid"|"tid": n} or {"traceId": ...}
//   MQTT: the same objects plus "action": "bind" | "unbind".
// The socket's file mode limits who may trace (any process bound is observed).
import { chmodSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { describeIssues, z } from "../src/boundary/reject.ts";
import { BindError, type BindRequest, type TracePool } from "./pool.ts";

/** MQTT bind messages are tiny; anything bigger is refused before it is parsed. */
export const BIND_MESSAGE_MAX_BYTES = 4096;
const id = z
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);
/** The shape of a bind/unbind message (both transports); the pool checks the semantics. */
export const bindMessageSchema = z.object({
  action: z.enum(["bind", "unbind"]).optional(),
  pid: id.optional(),
  tid: id.optional(),
  traceId: z.string().max(64).optional(),
  spanId: z.string().max(32).optional(),
  transactionId: z.string().max(32).optional(),
  service: z.string().max(128).optional(),
  ttlMs: z.number().finite().nonnegative().optional(),
});

export interface BindMessage extends Partial<BindRequest> {
  action?: "bind" | "unbind";
}

export type BindResult = { ok: true; bindId?: number; expiresAt?: string; ended?: number } | { ok: false; error: string };

/** Applies one bind/unbind message to the pool (shared by both transports). */
export function applyBindMessage(pool: TracePool, msg: unknown, action?: "bind" | "unbind"): BindResult {
  if (!msg || typeof msg !== "object" || Array.isArray(msg)) return { ok: false, error: "expected a JSON object" };
  const parsed = bindMessageSchema.safeParse(msg);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error) };
  const m: BindMessage = parsed.data;
  const what = action ?? m.action ?? "bind";
  try {
    if (what === "unbind") {
      if (m.pid === undefined && m.tid === undefined && m.traceId === undefined) return { ok: false, error: "unbind needs pid, tid or traceId" };
      return { ok: true, ended: pool.unbind({ pid: m.pid, tid: m.tid, traceId: m.traceId }) };
    }
    if (what !== "bind") return { ok: false, error: `unknown action '${String(what)}'` };
    const b = pool.bind({
      pid: m.pid,
      tid: m.tid,
      traceId: m.traceId!,
      spanId: m.spanId!,
      transactionId: m.transactionId,
      service: m.service,
      ttlMs: m.ttlMs,
    });
    return { ok: true, bindId: b.bindId, expiresAt: new Date(b.expiresAt).toISOString() };
  } catch (e) {
    if (e instanceof BindError) return { ok: false, error: e.message };
    throw e;
  }
}

export interface BindServerOptions {
  path: string;
  /** Octal file mode of the socket, e.g. 0o660. */
  mode: number;
  stats?: () => unknown;
}

/** Listens on a Unix socket; returns a stop function. */
export function startBindServer(pool: TracePool, opts: BindServerOptions): { stop(): void; path: string } {
  mkdirSync(dirname(opts.path), { recursive: true, mode: 0o755 });
  // A socket left by a crashed agent would make listen fail with EADDRINUSE.
  if (existsSync(opts.path)) rmSync(opts.path);
  const server = Bun.serve({
    unix: opts.path,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === "/healthz") return Response.json({ ok: true });
      if (req.method === "GET" && url.pathname === "/stats") return Response.json(opts.stats?.() ?? {});
      const action = url.pathname === "/bind" ? "bind" : url.pathname === "/unbind" ? "unbind" : undefined;
      if (!action) return Response.json({ ok: false, error: "POST /bind or /unbind; GET /stats" }, { status: 404 });
      if (req.method !== "POST") return Response.json({ ok: false, error: "use POST" }, { status: 405 });
      let body: unknown;
      try {
        body = await req.json();
      } catch {
        return Response.json({ ok: false, error: "body is not JSON" }, { status: 400 });
      }
      const r = applyBindMessage(pool, body, action);
      return Response.json(r, { status: r.ok ? 200 : 400 });
    },
  });
  chmodSync(opts.path, opts.mode);
  return {
    path: opts.path,
    stop() {
      server.stop(true);
      rmSync(opts.path, { force: true });
    },
  };
}

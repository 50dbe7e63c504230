// The extension point of the controller's HTTP server: a feature (OTLP intake, audit webhook, status
// page) registers routes instead of editing server.ts. A route owns its method checks, its
// authentication (bearerMatches, isLoopback) and its body limit (use readBoundedBody); a throwing handler
// answers 500 and never takes the listener down.
import { timingSafeEqual } from "node:crypto";

export interface RequestInfo {
  /** The peer's address as the socket saw it ("" when unknown). */
  remoteAddress: string;
}

export interface HttpRoute {
  /** Exact path ("/v1/traces") or a prefix ending in "/" ("/api/v1/"); "/" alone is exact (it would swallow the probes). */
  path: string;
  handle(req: Request, info: RequestInfo): Response | Promise<Response>;
}

export function findRoute(routes: readonly HttpRoute[], req: Request): HttpRoute | undefined {
  const path = new URL(req.url).pathname;
  const route = routes.find((r) => r.path === path) ?? routes.find((r) => r.path !== "/" && r.path.endsWith("/") && path.startsWith(r.path));
  if (!route) return undefined;
  return {
    path: route.path,
    handle: async (r, info) => {
      try {
        return await route.handle(r, info);
      } catch (e) {
        return new Response(`internal error: ${(e as Error).message}\n`, { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
      }
    },
  };
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/**
 * Reads at most `limit` bytes of the body; more throws BodyTooLarge (answer 413) without buffering the rest.
 * A Content-Length over the limit is refused before reading.
 */
export async function readBoundedBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge(limit);
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Constant-time check of `Authorization: Bearer <token>`; false when no token is configured. */
export function bearerMatches(req: Request, token: string): boolean {
  if (!token) return false;
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "");
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True for loopback peers (127.0.0.0/8, ::1, IPv4-mapped loopback). */
export function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

// /healthz, /readyz and /metrics on one small Bun.serve listener (default 127.0.0.1:9873), plus the
// routes features register (OTLP intake, audit webhook, status page): each route owns its own
// authentication and body limits (see routes.ts). Liveness and readiness are separate on purpose: a
// standby controller or one waiting for its informers to sync is alive (do not restart it) but not ready.
import type { Registry } from "./metrics.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { findRoute, type HttpRoute } from "./routes.ts";

export interface Readiness {
  ok: boolean;
  reasons: string[];
  /** Ready but impaired (an output failing): /readyz stays 200 and lists these (see docs/reliability.md). */
  degraded?: string[];
}

export interface HttpServerOptions {
  /** host:port; port 0 picks a free port (tests). "[::1]:0" for IPv6. Or give hostname + port. */
  addr?: string;
  hostname?: string;
  port?: number;
  registry: Registry;
  ready: () => Readiness;
  /** Liveness of the process loop (e.g. last tick recent enough). Default: always alive. */
  alive?: () => boolean;
  /** Feature routes, matched before the built-in probes' 404; see routes.ts. */
  routes?: readonly HttpRoute[];
}

export interface HttpServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function parseHostPort(addr: string): { hostname: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(addr.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`invalid listen address ${JSON.stringify(addr)}: expected host:port`);
  return { hostname: m[1] || "0.0.0.0", port: Number(m[2]) };
}

const text = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

function readyResponse(req: Request, r: Readiness): Response {
  const status = r.ok ? 200 : 503;
  const wantsJson = (req.headers.get("accept") ?? "").includes("application/json") || new URL(req.url).searchParams.has("json");
  const degraded = r.degraded ?? [];
  const state = !r.ok ? "not ready" : degraded.length ? "degraded" : "ready";
  if (wantsJson) return Response.json({ ok: r.ok, status: state, reasons: r.reasons, degraded }, { status });
  const list = (xs: string[]) => xs.map((x) => `- ${x}`).join("\n");
  if (!r.ok) return text(`not ready:\n${list(r.reasons)}\n`, status);
  return text(degraded.length ? `ok (degraded):\n${list(degraded)}\n` : "ok\n", status);
}

export function startHttpServer(opts: HttpServerOptions): HttpServer {
  const { hostname, port } = opts.addr !== undefined ? parseHostPort(opts.addr) : { hostname: opts.hostname ?? "127.0.0.1", port: opts.port ?? 0 };
  const alive = opts.alive ?? (() => true);
  const server = Bun.serve({
    hostname,
    port,
    fetch(req, srv) {
      const route = opts.routes?.length ? findRoute(opts.routes, req) : undefined;
      if (route) return route.handle(req, { remoteAddress: srv.requestIP(req)?.address ?? "" });
      if (req.method !== "GET" && req.method !== "HEAD") return text("method not allowed\n", 405, { allow: "GET, HEAD" });
      try {
        switch (new URL(req.url).pathname) {
          case "/healthz":
            return alive() ? text("ok\n") : text("process loop stalled\n", 503);
          case "/readyz":
            return readyResponse(req, opts.ready());
          case "/metrics":
            return new Response(opts.registry.render(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
          default:
            return text("not found: try /healthz, /readyz or /metrics\n", 404);
        }
      } catch (e) {
        // A throwing probe must answer 500, not take the listener down.
        return text(`internal error: ${(e as Error).message}\n`, 500);
      }
    },
  });
  const shownHost = hostname.includes(":") ? `[${hostname}]` : hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  return {
    url: `http://${shownHost}:${server.port}`,
    port: server.port ?? port,
    stop: async () => {
      await server.stop(true);
    },
  };
}

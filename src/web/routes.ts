// The status page's routes on the controller's HTTP server: GET / (server-rendered HTML), GET
// /api/v1/status and /api/v1/incidents (the same view-model as JSON) and GET /api/v1/events (Server-Sent
// Events: the view again, as a rendered fragment, whenever it changed). Read-only: every other method is
// 405, so nothing here can change state. The live stream is shared: one view is built per interval for
// all clients, only while someone is connected, and at most WEB_SSE_MAX_CLIENTS streams are served.
import type { HttpRoute } from "../http/routes.ts";
import type { StatusView } from "../status/view-model.ts";
import { viewKey } from "../status/view-model.ts";
import { authorized, sessionCookie, tokenParamMatches, type WebAccess } from "./access.ts";
import { PAGE_CSP, pageTitle, renderContent, renderLogin, renderPage } from "./page.ts";

export interface StatusWebOptions {
  access: WebAccess;
  view: () => StatusView;
  updateMs: number;
  maxClients: number;
  /** Told the number of connected live clients whenever it changes (a gauge). */
  onClients?: (n: number) => void;
  /** Keep-alive comment when nothing was sent for this long (below Bun's 10 s idle timeout). */
  keepAliveMs?: number;
}

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const json = (body: unknown, status = 200, extra: Record<string, string> = {}) =>
  Response.json(body, { status, headers: { ...SECURITY_HEADERS, ...extra } });
const text = (body: string, status: number, extra: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS, ...extra } });
const html = (body: string, status = 200, extra: Record<string, string> = {}) =>
  new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": PAGE_CSP, ...SECURITY_HEADERS, ...extra },
  });

const CHALLENGE = { "www-authenticate": 'Bearer realm="neurocontroller"' };
const encoder = new TextEncoder();

interface LiveClient {
  send(chunk: Uint8Array): void;
  close(): void;
}

export class StatusWeb {
  readonly routes: HttpRoute[];
  private readonly clients = new Set<LiveClient>();
  private timer?: ReturnType<typeof setInterval>;
  private lastKey = "";
  private lastSentAt = 0;
  private lastEvent?: Uint8Array;

  constructor(private readonly opts: StatusWebOptions) {
    this.routes = [
      { path: "/", handle: (req) => this.page(req) },
      { path: "/api/v1/", handle: (req) => this.api(req) },
    ];
  }

  get liveClients(): number {
    return this.clients.size;
  }

  /** Ends every live stream (shutdown). */
  stop(): void {
    for (const c of [...this.clients]) c.close();
    this.clients.clear();
    this.sync();
  }

  private refusal(req: Request): Response | undefined {
    if (req.method !== "GET" && req.method !== "HEAD") return text("method not allowed: the status page is read-only\n", 405, { allow: "GET, HEAD" });
    if (this.opts.access.mode === "refused") return text(`${this.opts.access.reason}\n`, 503);
    return undefined;
  }

  private page(req: Request): Response {
    const refused = this.refusal(req);
    if (refused) return refused;
    const url = new URL(req.url);
    const given = url.searchParams.get("token");
    if (given !== null) {
      if (!tokenParamMatches(this.opts.access, given)) return html(renderLogin(true), 401, CHALLENGE);
      // The token leaves the address bar (and the history) at once; the cookie holds an HMAC of it.
      const secure = url.protocol === "https:";
      return new Response(null, {
        status: 303,
        headers: { location: "/", "set-cookie": sessionCookie(this.opts.access, secure), ...SECURITY_HEADERS },
      });
    }
    if (!authorized(this.opts.access, req)) return html(renderLogin(false), 401, CHALLENGE);
    return html(renderPage(this.opts.view()));
  }

  private api(req: Request): Response {
    const refused = this.refusal(req);
    if (refused) return refused;
    if (!authorized(this.opts.access, req)) return json({ error: "unauthorized: send Authorization: Bearer <WEB_TOKEN>" }, 401, CHALLENGE);
    switch (new URL(req.url).pathname) {
      case "/api/v1/status":
        return json(this.opts.view());
      case "/api/v1/incidents": {
        const v = this.opts.view();
        return json({ v: v.v, generatedAt: v.generatedAt, clusterId: v.clusterId, incidents: v.incidents });
      }
      case "/api/v1/events":
        return this.events(req);
      default:
        return json({ error: "not found: /api/v1/status, /api/v1/incidents or /api/v1/events" }, 404);
    }
  }

  private events(req: Request): Response {
    if (this.clients.size >= this.opts.maxClients)
      return text(`too many live connections (WEB_SSE_MAX_CLIENTS=${this.opts.maxClients}); reload later\n`, 503, { "retry-after": "10" });
    let client: LiveClient | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = {
          send: (chunk) => {
            try {
              controller.enqueue(chunk);
            } catch {
              this.drop(client!);
            }
          },
          close: () => {
            try {
              controller.close();
            } catch {}
            this.drop(client!);
          },
        };
        // The current picture at once: a new page is live from its first event (and when it is newer than
        // what the others were sent, they get it too).
        const before = this.lastKey;
        const event = this.currentEvent();
        if (this.lastKey !== before) for (const c of [...this.clients]) c.send(event);
        this.clients.add(client);
        this.sync();
        client.send(encoder.encode("retry: 3000\n\n"));
        client.send(event);
      },
      cancel: () => {
        if (client) this.drop(client);
      },
    });
    req.signal.addEventListener("abort", () => client && this.drop(client), { once: true });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive", ...SECURITY_HEADERS },
    });
  }

  private drop(client: LiveClient): void {
    if (this.clients.delete(client)) this.sync();
  }

  /** The tick runs only while a live client is connected. */
  private sync(): void {
    this.opts.onClients?.(this.clients.size);
    if (this.clients.size > 0 && !this.timer) this.timer = setInterval(() => this.tick(), this.opts.updateMs);
    if (this.clients.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.lastKey = "";
      this.lastEvent = undefined;
    }
  }

  private currentEvent(): Uint8Array {
    const view = this.opts.view();
    const key = viewKey(view);
    if (key !== this.lastKey || !this.lastEvent) {
      this.lastKey = key;
      const data = JSON.stringify({ verdict: view.verdict, title: pageTitle(view), generatedAt: view.generatedAt, html: renderContent(view) });
      this.lastEvent = encoder.encode(`event: status\ndata: ${data}\n\n`);
    }
    return this.lastEvent;
  }

  private tick(): void {
    const before = this.lastKey;
    const event = this.currentEvent();
    const now = Date.now();
    if (this.lastKey !== before) {
      for (const c of [...this.clients]) c.send(event);
      this.lastSentAt = now;
    } else if (now - this.lastSentAt >= (this.opts.keepAliveMs ?? 5000)) {
      const ping = encoder.encode(": keep-alive\n\n");
      for (const c of [...this.clients]) c.send(ping);
      this.lastSentAt = now;
    }
  }
}

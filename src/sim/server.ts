// HTTP(S) front: authentication, fault injection, Status errors, connection tracking, stop/restart.
// node:https rather than Bun.serve: Bun.serve can only refuse a bad client certificate in the handshake,
// but kube-apiserver completes the handshake and answers 401 (a bearer token must still get in), which
// needs the per-connection verdict node:tls exposes as socket.authorized.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { SimCerts } from "./certs.ts";
import type { Faults } from "./faults.ts";
import { route, type RouteContext } from "./routes.ts";
import { SimError, statusBody } from "./status.ts";

export interface ServerConfig {
  host: string;
  tls: boolean;
  clientCertAuth: boolean;
  token?: string;
  certs?: SimCerts;
}

export class SimServer {
  private server?: http.Server;
  private sockets = new Set<Socket>();
  requests = 0;
  port = 0;

  constructor(
    private cfg: ServerConfig,
    private ctx: Omit<RouteContext, "serverAddress">,
    private faults: Faults,
  ) {}

  private build(): http.Server {
    const handler = (req: IncomingMessage, resp: ServerResponse) => void this.handle(req, resp);
    const { certs } = this.cfg;
    const server: http.Server = this.cfg.tls
      ? https.createServer(
          { cert: certs!.serverCert, key: certs!.serverKey, ca: certs!.ca, requestCert: this.cfg.clientCertAuth, rejectUnauthorized: false },
          handler,
        )
      : http.createServer(handler);
    const track = (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    };
    server.on("connection", track);
    if (this.cfg.tls) server.on("secureConnection", track);
    server.on("clientError", (_e: Error, s: Socket) => s.destroy());
    return server;
  }

  listen(port: number): Promise<number> {
    const server = this.build();
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, this.cfg.host, () => {
        server.off("error", reject);
        this.port = (server.address() as { port: number }).port;
        resolve(this.port);
      });
    });
  }

  killSockets(): void {
    for (const s of [...this.sockets]) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.ctx.hub.closeAll();
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.killSockets();
    server.closeAllConnections?.();
    await closed;
  }

  private authenticated(req: IncomingMessage): boolean {
    const { tls, clientCertAuth, token } = this.cfg;
    const certRequired = tls && clientCertAuth;
    if (!certRequired && !token) return true;
    if (certRequired && (req.socket as TLSSocket).authorized) return true;
    const auth = req.headers.authorization;
    return !!token && auth === `Bearer ${token}`;
  }

  private send(resp: ServerResponse, code: number, body: unknown, text = false, extra: Record<string, string> = {}): void {
    if (resp.headersSent) {
      if (!resp.writableEnded) resp.end();
      return;
    }
    const payload = text ? String(body) : JSON.stringify(body);
    resp.writeHead(code, {
      "Content-Type": text ? "text/plain; charset=utf-8" : "application/json",
      "Cache-Control": "no-cache, private",
      "Content-Length": String(Buffer.byteLength(payload)),
      ...extra,
    });
    resp.end(payload);
  }

  private sendError(resp: ServerResponse, e: SimError): void {
    const extra: Record<string, string> = e.code === 429 || e.code === 503 ? { "Retry-After": "1" } : {};
    this.send(resp, e.code, statusBody(e.code, e.message, e.reason, e.details), false, extra);
  }

  private async handle(req: IncomingMessage, resp: ServerResponse): Promise<void> {
    this.requests++;
    const target = req.url ?? "/";
    const method = req.method ?? "GET";
    try {
      if (!this.authenticated(req)) throw new SimError(401, "Unauthorized", "Unauthorized");
      if (this.faults.delay > 0) await Bun.sleep(this.faults.delay);
      const injected = this.faults.take(method, target);
      if (injected !== undefined) throw new SimError(injected, `injected fault: ${method} ${target}`);
      let bodyText: Promise<string> | undefined;
      const reply = await route(
        { ...this.ctx, serverAddress: `${this.cfg.host}:${this.port}` },
        {
          method,
          url: new URL(target, "http://sim"),
          contentType: String(req.headers["content-type"] ?? ""),
          body: () => (bodyText ??= readBody(req)),
        },
        resp,
      );
      if (reply !== "streamed") this.send(resp, reply.code, reply.body, reply.text);
    } catch (e) {
      if (e instanceof SimError) this.sendError(resp, e);
      else if (e instanceof SyntaxError) this.sendError(resp, new SimError(400, `invalid JSON: ${e.message}`));
      else this.sendError(resp, new SimError(500, `Internal error occurred: ${(e as Error)?.message ?? e}`));
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

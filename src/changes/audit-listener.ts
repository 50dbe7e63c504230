// The client-certificate audit webhook (AUDIT_WEBHOOK_ADDR): a separate HTTPS listener that asks every
// client for a certificate and verifies it against AUDIT_WEBHOOK_CLIENT_CA_FILE; a post without a valid one
// is refused with 401. node:https is used (as the simulator does) because it exposes the TLS socket's
// verification result per request.
import { readFileSync } from "node:fs";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Config } from "../config/load.ts";
import { AUDIT_PATH, AUDIT_SOURCE, handleAuditBatch, type AuditWebhookOptions } from "./audit-webhook.ts";

export interface AuditListener {
  url: string;
  stop(): Promise<void>;
}

function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, "") || "0.0.0.0", port: Number(addr.slice(i + 1)) };
}

/** Streams the body into a fetch Request so the shared handler (bounded read, zod) applies. */
function toRequest(req: IncomingMessage, url: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
      req.on("end", () => controller.close());
      req.on("error", (e) => controller.error(e));
    },
    cancel() {
      req.destroy();
    },
  });
  return new Request(url, { method: req.method, headers, body: req.method === "POST" ? body : undefined, duplex: "half" } as RequestInit);
}

export function startAuditListener(config: Config, o: AuditWebhookOptions, onError: (e: Error) => void = () => {}): AuditListener {
  const { host, port } = hostPort(config.str("AUDIT_WEBHOOK_ADDR"));
  const server = https.createServer(
    {
      cert: readFileSync(config.str("AUDIT_WEBHOOK_CERT_FILE")),
      key: readFileSync(config.str("AUDIT_WEBHOOK_KEY_FILE")),
      ca: readFileSync(config.str("AUDIT_WEBHOOK_CLIENT_CA_FILE")),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req: IncomingMessage, resp: ServerResponse) => void serve(req, resp),
  );
  const serve = async (req: IncomingMessage, resp: ServerResponse) => {
    const send = (status: number, text: string) => {
      if (!resp.headersSent) resp.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      resp.end(text);
      if (status >= 400) req.resume();
    };
    try {
      if (new URL(req.url ?? "/", "https://x").pathname !== AUDIT_PATH) return send(404, "not found\n");
      if (!(req.socket as TLSSocket).authorized) {
        o.count?.("unauthorized");
        o.sink.reject(`${AUDIT_SOURCE}.auth`, "no client certificate signed by AUDIT_WEBHOOK_CLIENT_CA_FILE");
        return send(401, "client certificate required\n");
      }
      const r = await handleAuditBatch(toRequest(req, `https://${host}:${port}${AUDIT_PATH}`), o);
      send(r.status, await r.text());
    } catch (e) {
      send(500, `internal error: ${(e as Error).message}\n`);
    }
  };
  server.on("clientError", (_e, s) => s.destroy());
  server.on("error", onError); // EADDRINUSE and the like: told, never an uncaught exception
  server.listen(port, host);
  const bound = () => (server.address() as { port: number } | null)?.port ?? port;
  return {
    get url() {
      return `https://${host.includes(":") ? `[${host}]` : host}:${bound()}${AUDIT_PATH}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

// How one request to the API server is built from the Connection: URL and query, auth headers, TLS options.
import type { Connection } from "./kubeconfig.ts";

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Default 30 s; 0 = none. */
  timeoutMs?: number;
}

export function requestUrl(server: string, path: string, query?: Query): string {
  let u = server + (path.startsWith("/") ? path : `/${path}`);
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") q.set(k, String(v));
    const s = q.toString();
    if (s) u += (u.includes("?") ? "&" : "?") + s;
  }
  return u;
}

export function requestHeaders(connection: Connection, userAgent: string, accept: string, contentType?: string): Record<string, string> {
  const h: Record<string, string> = { Accept: accept, "User-Agent": userAgent };
  if (contentType) h["Content-Type"] = contentType;
  const { token, basic } = connection;
  const t = typeof token === "function" ? token() : token;
  if (t) h.Authorization = `Bearer ${t}`;
  else if (basic) h.Authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`;
  return h;
}

/** Bun fetch's `tls` option: the kubeconfig's CA, client certificate/key, verification and server name. */
export function fetchTls({ ca, cert, key, rejectUnauthorized, serverName }: Connection["tls"]): Record<string, unknown> {
  const tls: Record<string, unknown> = { rejectUnauthorized };
  if (ca) tls.ca = ca;
  if (cert && key) Object.assign(tls, { cert, key });
  if (serverName) tls.serverName = serverName;
  return tls;
}

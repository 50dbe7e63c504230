// Who may see the status page and its API. On a loopback NEURO_HTTP_ADDR without WEB_TOKEN the page is
// open (only this host reaches it). Reachable from the network it needs WEB_TOKEN — as a bearer token
// (scripts) or, for browsers, one visit to /?token=… that sets an HttpOnly cookie holding an HMAC of the
// token (the cookie never carries the token itself). Without WEB_TOKEN there the page is refused, with a
// message saying why; /healthz, /readyz and /metrics are not affected.
import { createHmac, timingSafeEqual } from "node:crypto";
import { bearerMatches } from "../http/routes.ts";

export const COOKIE_NAME = "neuro_web";
const COOKIE_MAX_AGE_S = 30 * 24 * 3600;

export type WebAccess = { mode: "open" } | { mode: "token"; token: string } | { mode: "refused"; reason: string };

/** Loopback host names and addresses a listener can be bound to. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || h.startsWith("127.") || h.startsWith("::ffff:127.");
}

/** Shorter tokens are guessable: the page is refused rather than protected by one. */
export const WEB_TOKEN_MIN_LENGTH = 16;

export function webAccess(listenHost: string, addr: string, token: string): WebAccess {
  if (token && token.length < WEB_TOKEN_MIN_LENGTH)
    return {
      mode: "refused",
      reason: `status page refused: WEB_TOKEN is shorter than ${WEB_TOKEN_MIN_LENGTH} characters (generate one with: openssl rand -hex 24). /healthz, /readyz and /metrics are served as before.`,
    };
  if (token) return { mode: "token", token };
  if (isLoopbackHost(listenHost)) return { mode: "open" };
  return {
    mode: "refused",
    reason:
      `status page refused: NEURO_HTTP_ADDR=${addr} is reachable from the network and WEB_TOKEN is not set. ` +
      "Set WEB_TOKEN (see docs/status-page.md), bind NEURO_HTTP_ADDR to 127.0.0.1, or set WEB_ENABLED=false. " +
      "/healthz, /readyz and /metrics are served as before.",
  };
}

const sessionValue = (token: string) => createHmac("sha256", token).update("neurocontroller status page session").digest("hex");

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** True when the request may read the page and its API. */
export function authorized(access: WebAccess, req: Request): boolean {
  if (access.mode === "open") return true;
  if (access.mode === "refused") return false;
  if (bearerMatches(req, access.token)) return true;
  const cookie = cookieOf(req, COOKIE_NAME);
  return cookie !== undefined && equal(cookie, sessionValue(access.token));
}

/** A `?token=` login: true when it is the right token (compared in constant time). */
export function tokenParamMatches(access: WebAccess, given: string): boolean {
  return access.mode === "token" && equal(given, access.token);
}

export function sessionCookie(access: WebAccess, secure: boolean): string {
  if (access.mode !== "token") return "";
  return `${COOKIE_NAME}=${sessionValue(access.token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}${secure ? "; Secure" : ""}`;
}

/** One line for check-config: whether the page is served, to whom, or why not. */
export function describeWebAccess(enabled: boolean, listen: { hostname: string } | null, addr: string, token: string): string {
  if (!enabled) return "off (WEB_ENABLED=false)";
  if (!listen) return "off (NEURO_HTTP_ADDR port 0: no HTTP endpoint)";
  const access = webAccess(listen.hostname, addr, token);
  if (access.mode === "refused") return access.reason.replace(/^status page /, "");
  return access.mode === "open" ? `on at http://${addr}/ (loopback only, no token)` : `on at http://${addr}/ (WEB_TOKEN required)`;
}

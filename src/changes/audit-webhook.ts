// POST /audit/webhook: the cluster's audit trail (kube-apiserver --audit-webhook-config-file, batch mode,
// audit.k8s.io/v1 EventList). Authenticated by bearer token (AUDIT_WEBHOOK_TOKEN) here, or by client
// certificate on the separate TLS listener (audit-listener.ts). Keeps the successful writes on tracked kinds
// (create/update/patch/delete, scale, eviction) and exec/attach/port-forward, and hands them to the tracker.
// Request and response objects are never read, even when a verbose policy sends them: they may hold secrets,
// and a refused body is counted and logged without its content.
import { z } from "zod";
import { parseAt, type RejectSink } from "../boundary/reject.ts";
import { BodyTooLarge, bearerMatches, readBoundedBody, type HttpRoute, type RequestInfo } from "../http/routes.ts";
import type { AuditedWrite } from "./tracker.ts";

export const AUDIT_PATH = "/audit/webhook";
export const AUDIT_SOURCE = "audit.webhook";

const RESOURCE_KINDS: Record<string, string> = {
  deployments: "Deployment",
  statefulsets: "StatefulSet",
  daemonsets: "DaemonSet",
  configmaps: "ConfigMap",
  secrets: "Secret",
  nodes: "Node",
  horizontalpodautoscalers: "HorizontalPodAutoscaler",
  pods: "Pod",
};
const WRITE_VERBS = new Set(["create", "update", "patch", "delete"]);
const POD_SESSIONS = new Set(["exec", "attach", "portforward"]);

const text = (max: number) => z.string().max(max);
const eventSchema = z.object({
  stage: text(64),
  verb: text(64),
  user: z.object({ username: text(512).optional() }),
  impersonatedUser: z.object({ username: text(512).optional() }).optional(),
  objectRef: z
    .object({
      resource: text(253).optional(),
      namespace: text(253).optional(),
      name: text(253).optional(),
      subresource: text(64).optional(),
    })
    .optional(),
  responseStatus: z.object({ code: z.number().int().optional() }).optional(),
  stageTimestamp: text(64).optional(),
  requestReceivedTimestamp: text(64).optional(),
});
const eventListSchema = z.object({
  apiVersion: z.literal("audit.k8s.io/v1"),
  kind: z.literal("EventList"),
  items: z.array(z.unknown()).max(100_000),
});

export type AuditEvent = z.infer<typeof eventSchema>;

/** The write an audit event records, or undefined when it is not one we keep. */
export function keptWrite(e: AuditEvent): AuditedWrite | undefined {
  if (e.stage !== "ResponseComplete") return undefined; // one event per request (RequestReceived comes first)
  const code = e.responseStatus?.code;
  if (code !== undefined && (code < 200 || code >= 300) && code !== 101) return undefined; // refused writes changed nothing
  const ref = e.objectRef;
  const kind = ref?.resource ? RESOURCE_KINDS[ref.resource] : undefined;
  if (!ref?.name || !kind) return undefined;
  const sub = ref.subresource ?? "";
  let verb: string;
  if (kind === "Pod") {
    if (POD_SESSIONS.has(sub)) verb = sub;
    else if (sub === "eviction" && e.verb === "create") verb = "evicted";
    else return undefined;
  } else if (sub === "scale" && (e.verb === "update" || e.verb === "patch")) verb = "scaled";
  else if (sub === "" && WRITE_VERBS.has(e.verb)) verb = e.verb;
  else return undefined;
  const user = e.user.username ?? "unknown";
  const imp = e.impersonatedUser?.username;
  const time = Date.parse(e.stageTimestamp ?? e.requestReceivedTimestamp ?? "");
  if (!Number.isFinite(time)) return undefined;
  return { time, user: imp ? `${imp} (impersonated by ${user})` : user, verb, kind, namespace: ref.namespace ?? "", name: ref.name };
}

export interface AuditIntakeStats {
  received: number;
  kept: number;
  malformed: number;
}

export interface AuditWebhookOptions {
  /** Bearer token; empty: the route refuses everything (use the client-certificate listener). */
  token: string;
  maxBodyBytes: number;
  sink: RejectSink;
  onWrite: (w: AuditedWrite) => void;
  /** Counted outcomes: "kept", "ignored", "malformed", "unauthorized", "too_large", "bad_request". */
  count?: (outcome: string, n?: number) => void;
}

const plain = (body: string, status: number) => new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** Handles one batch whose sender is already authenticated. */
export async function handleAuditBatch(req: Request, o: AuditWebhookOptions): Promise<Response> {
  const count = o.count ?? (() => {});
  if (req.method !== "POST") return plain("method not allowed", 405);
  let body: Uint8Array;
  try {
    body = await readBoundedBody(req, o.maxBodyBytes);
  } catch (e) {
    if (!(e instanceof BodyTooLarge)) throw e;
    count("too_large");
    o.sink.reject(AUDIT_SOURCE, e.message);
    return plain(e.message, 413);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch (e) {
    count("bad_request");
    o.sink.reject(AUDIT_SOURCE, `not JSON: ${(e as Error).message}`);
    return plain("body is not JSON", 400);
  }
  // No payload handed to the sink: an audit body may carry request objects (Secret data) under a verbose policy.
  const list = parseAt(eventListSchema, json, AUDIT_SOURCE, { reject: (s, reason) => o.sink.reject(s, reason) });
  if (!list.ok) {
    count("bad_request");
    return plain(`not an audit.k8s.io/v1 EventList: ${list.reason}`, 400);
  }
  let kept = 0;
  let malformed = 0;
  for (const item of list.value.items) {
    const r = eventSchema.safeParse(item);
    if (!r.success) {
      malformed++;
      continue;
    }
    const w = keptWrite(r.data);
    if (!w) continue;
    o.onWrite(w);
    kept++;
  }
  if (malformed) o.sink.reject(`${AUDIT_SOURCE}.event`, `${malformed} audit event(s) did not match audit.k8s.io/v1 Event`);
  count("kept", kept);
  count("malformed", malformed);
  count("ignored", list.value.items.length - kept - malformed);
  return plain(`accepted ${kept} of ${list.value.items.length}`, 200);
}

/** The route on the controller's HTTP server: bearer token only. */
export function auditWebhookRoute(o: AuditWebhookOptions): HttpRoute {
  return {
    path: AUDIT_PATH,
    handle: (req: Request, _info: RequestInfo) => {
      if (!bearerMatches(req, o.token)) {
        o.count?.("unauthorized");
        o.sink.reject(`${AUDIT_SOURCE}.auth`, "missing or wrong bearer token");
        return plain("unauthorized", 401);
      }
      return handleAuditBatch(req, o);
    },
  };
}

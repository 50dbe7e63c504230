// Request routing: URL → resource/namespace/name/subresource, then list/watch/get/create/update/patch/delete.
import type { ServerResponse } from "node:http";
import type { KubeObject } from "../kube/types.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, VERSION_INFO, type Served } from "./discovery.ts";
import { reconcileDeployment, scaleOf } from "./deployments.ts";
import { evict } from "./eviction.ts";
import { deletePod, type VersionInfo } from "./node-lifecycle.ts";
import { applyPatch } from "./patch.ts";
import { apiVersionOf, resourcesIn, type SimResource } from "./resources.ts";
import { requestMatcher } from "./selectors.ts";
import { badRequest, notFound, SimError, statusBody } from "./status.ts";
import type { SimStore, UpdateMode } from "./store.ts";
import type { WatchHub } from "./watch.ts";

export interface RouteContext {
  store: SimStore;
  hub: WatchHub;
  served: Served;
  serverAddress: string;
  /** /version's answer. */
  version: VersionInfo;
  /** Dead-node pod deletion semantics (node-lifecycle.ts). */
  lifecycle: boolean;
}

export interface Request {
  method: string;
  url: URL;
  contentType: string;
  body: () => Promise<string>;
}

/** `streamed` means the handler took over the response (watch). */
export type Reply = { code: number; body: unknown; text?: boolean } | "streamed";

const ok = (body: unknown, code = 200): Reply => ({ code, body });
const pathNotFound = () => new SimError(404, "the server could not find the requested resource", "NotFound");
const methodNotAllowed = (method: string) =>
  new SimError(405, `the server does not allow this method on the requested resource`, "MethodNotAllowed", {
    causes: [{ message: `method ${method} not allowed` }],
  });

interface Target {
  res: SimResource;
  ns?: string;
  name?: string;
  sub?: string;
  watchPath: boolean;
}

function parseTarget(group: string, version: string, rest: string[], served: Served): Target {
  const list = resourcesIn(group, version, served);
  if (list.length === 0) throw pathNotFound();
  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  const find = (plural: string | undefined) => list.find((r) => r.plural === plural);
  let t: Target | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3 && find(rest[2])?.namespaced) {
    t = { res: find(rest[2])!, ns: rest[1], name: rest[3], sub: rest[4], watchPath };
    if (rest.length > 5) throw pathNotFound();
  } else {
    const res = find(rest[0]);
    if (!res || rest.length > 3) throw pathNotFound();
    // A namespaced resource addressed without a namespace is only a collection (all-namespaces list/watch).
    if (res.namespaced && rest.length > 1) throw pathNotFound();
    t = { res, name: rest[1], sub: rest[2], watchPath };
  }
  if (t.sub && !t.res.subresources.includes(t.sub)) throw pathNotFound();
  if (t.sub === "eviction" && served.policyV1 === false) throw pathNotFound();
  return t;
}

async function readJson(req: Request): Promise<KubeObject> {
  const text = await req.body();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${(e as Error).message}`);
  }
}

function checkIdentity(t: Target, obj: KubeObject, forUpdate: boolean): void {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw badRequest("request body must be a JSON object");
  const want = apiVersionOf(t.res);
  if (obj.apiVersion && obj.apiVersion !== want) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${want})`);
  }
  if (obj.kind && obj.kind !== t.res.kind) throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${t.res.kind})`);
  obj.kind = t.res.kind;
  obj.apiVersion = want;
  obj.metadata ??= { name: "" };
  if (t.res.namespaced) {
    if (obj.metadata.namespace && obj.metadata.namespace !== t.ns) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    obj.metadata.namespace = t.ns;
  }
  if (forUpdate && obj.metadata.name !== t.name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${t.name})`);
  }
}

const CONTINUE_EXPIRED =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

function listBody(ctx: RouteContext, t: Target, q: URLSearchParams): unknown {
  const match = requestMatcher(t.res, t.ns, q.get("labelSelector"), q.get("fieldSelector"));
  const cont = q.get("continue");
  let token: { rv: string; start: string } | undefined;
  if (cont) {
    try {
      token = JSON.parse(Buffer.from(cont, "base64url").toString());
      if (typeof token?.start !== "string") throw new Error("no start key");
    } catch {
      throw badRequest("continue key is not valid: incorrect encoded start resourceVersion");
    }
  }
  let items = ctx.store.peekAll(t.res, t.ns, token?.start).filter(match);
  let rv = ctx.store.resourceVersion();
  const meta: Record<string, unknown> = {};
  const limit = Number(q.get("limit") ?? 0);
  if (token) {
    // etcd compacted past the list's snapshot: kube-apiserver's 410 Expired (its handleCompactedErrorForPaging).
    if (ctx.store.compactedPast(Number(token.rv))) throw new SimError(410, CONTINUE_EXPIRED, "Expired");
    rv = token.rv;
  }
  if (limit > 0 && items.length > limit) {
    const rest = items.length - limit;
    items = items.slice(0, limit);
    meta.continue = Buffer.from(JSON.stringify({ rv, start: keyOf(items[items.length - 1]!) })).toString("base64url");
    meta.remainingItemCount = rest;
  }
  // Items in a list carry no kind/apiVersion, as kube-apiserver serialises them.
  return {
    kind: t.res.listKind,
    apiVersion: apiVersionOf(t.res),
    metadata: { resourceVersion: rv, ...meta },
    items: items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
  };
}

function keyOf(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function resetStatusOnCreate(t: Target, obj: KubeObject): void {
  // The real registries' PrepareForCreate discard client-sent status for resources with a status subresource.
  if (!t.res.subresources.includes("status")) return;
  if (t.res.kind === "Pod") obj.status = { phase: "Pending" };
  else delete obj.status;
}

/** Namespaces kube-apiserver creates itself, plus any Namespace object (scenarios seeding the store directly skip this check). */
const SYSTEM_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);
function namespaceExists(ctx: RouteContext, ns: string): boolean {
  return SYSTEM_NAMESPACES.has(ns) || ctx.store.get("namespaces", undefined, ns) !== undefined;
}

async function collection(ctx: RouteContext, t: Target, req: Request, resp: ServerResponse): Promise<Reply> {
  const q = req.url.searchParams;
  if (req.method === "GET") {
    const watch = t.watchPath || q.get("watch") === "true" || q.get("watch") === "1";
    if (!watch) return ok(listBody(ctx, t, q));
    const rv = q.get("resourceVersion") ?? undefined;
    // As kube-apiserver 1.20's watch cache: a 500 without a reason, Go's ParseUint error in the message.
    if (rv && !/^\d+$/.test(rv))
      throw new SimError(500, `resourceVersion: Invalid value: "${rv}": strconv.ParseUint: parsing "${rv}": invalid syntax`, "");
    const match = requestMatcher(t.res, t.ns, q.get("labelSelector"), q.get("fieldSelector"));
    ctx.hub.start(resp, {
      res: t.res,
      namespace: t.ns,
      match,
      resourceVersion: rv,
      bookmarks: q.get("allowWatchBookmarks") === "true" || q.get("allowWatchBookmarks") === "1",
      sendInitialEvents: q.get("sendInitialEvents") === "true",
      timeoutSeconds: q.get("timeoutSeconds") ? Number(q.get("timeoutSeconds")) : undefined,
    });
    return "streamed";
  }
  if (req.method === "POST" && (t.ns || !t.res.namespaced)) {
    const obj = await readJson(req);
    checkIdentity(t, obj, false);
    // As kube-apiserver: a resourceVersion on create is refused (500 from the storage layer), and the namespace must exist.
    if (obj.metadata.resourceVersion) throw new SimError(500, "resourceVersion should not be set on objects to be created", "");
    if (t.ns && !namespaceExists(ctx, t.ns)) throw notFound("namespaces", "", t.ns);
    resetStatusOnCreate(t, obj);
    return ok(ctx.store.create(obj), 201);
  }
  if (req.method === "DELETE") {
    const match = requestMatcher(t.res, t.ns, q.get("labelSelector"), q.get("fieldSelector"));
    const gone = ctx.store
      .peekAll(t.res, t.ns)
      .filter(match)
      .map((o) => ctx.store.delete(t.res, o.metadata.namespace, o.metadata.name));
    return ok({ kind: t.res.listKind, apiVersion: apiVersionOf(t.res), metadata: { resourceVersion: ctx.store.resourceVersion() }, items: gone });
  }
  throw methodNotAllowed(req.method);
}

async function item(ctx: RouteContext, t: Target, req: Request): Promise<Reply> {
  const { store } = ctx;
  const name = t.name!;
  const mode: UpdateMode = t.sub === "status" ? "status" : "main";
  if (t.sub === "eviction") {
    if (req.method !== "POST") throw methodNotAllowed(req.method);
    const text = await req.body();
    const body = text ? JSON.parse(text) : undefined;
    return ok(evict(store, ctx.served, t.ns!, name, body, ctx.lifecycle), 201);
  }
  if (t.sub === "scale") return scale(ctx, t, req);
  switch (req.method) {
    case "GET": {
      const obj = store.peek(t.res, t.ns, name);
      if (!obj) throw notFound(t.res.plural, t.res.group, name);
      return ok(obj);
    }
    case "PUT": {
      const obj = await readJson(req);
      checkIdentity(t, obj, true);
      return ok(afterWrite(ctx, t, store.update(obj, { mode })));
    }
    case "PATCH": {
      const cur = store.peek(t.res, t.ns, name);
      if (!cur) throw notFound(t.res.plural, t.res.group, name);
      const patched = applyPatch(req.contentType, cur, await readJson(req)) as KubeObject;
      if (!patched || typeof patched !== "object" || !patched.metadata) throw badRequest("patch removed the object's metadata");
      patched.kind = t.res.kind;
      patched.apiVersion = apiVersionOf(t.res);
      patched.metadata.name = name;
      if (t.res.namespaced) patched.metadata.namespace = t.ns;
      return ok(afterWrite(ctx, t, store.update(patched, { mode })));
    }
    case "DELETE": {
      if (t.sub) throw methodNotAllowed(req.method);
      const text = await req.body();
      const opts = text ? JSON.parse(text) : undefined;
      const gone = t.res.kind === "Pod" ? deletePod(store, t.ns!, name, opts, ctx.lifecycle) : store.delete(t.res, t.ns, name, opts?.preconditions);
      // Pods answer with the object (graceful deletion); other registries with a Success Status.
      if (t.res.kind === "Pod") return ok(gone);
      return ok({
        ...statusBody(200, ""),
        details: { name, group: t.res.group, kind: t.res.plural, uid: gone.metadata.uid },
      });
    }
    default:
      throw methodNotAllowed(req.method);
  }
}

/** The deployment controller's turn after a write to a Deployment's spec (the written object is what the client gets back). */
function afterWrite(ctx: RouteContext, t: Target, written: KubeObject): KubeObject {
  if (t.res.kind === "Deployment" && t.sub !== "status") reconcileDeployment(ctx.store, t.ns!, t.name!);
  return written;
}

/** deployments/<name>/scale: GET the autoscaling/v1 Scale, PUT or PATCH it to set spec.replicas. */
async function scale(ctx: RouteContext, t: Target, req: Request): Promise<Reply> {
  const cur = ctx.store.peek(t.res, t.ns, t.name!);
  if (!cur) throw notFound(t.res.plural, t.res.group, t.name!);
  if (req.method === "GET") return ok(scaleOf(cur));
  if (req.method !== "PUT" && req.method !== "PATCH") throw methodNotAllowed(req.method);
  const body = await readJson(req);
  const next = (req.method === "PUT" ? body : applyPatch(req.contentType, scaleOf(cur), body)) as KubeObject;
  const replicas = next?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new SimError(422, `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}`, "Invalid");
  }
  const rv = next.metadata?.resourceVersion;
  const updated = ctx.store.update(
    { ...cur, metadata: { ...cur.metadata, resourceVersion: rv || cur.metadata.resourceVersion }, spec: { ...cur.spec, replicas } },
    { mode: "main" },
  );
  reconcileDeployment(ctx.store, t.ns!, t.name!);
  return ok(scaleOf(ctx.store.get(t.res, t.ns, t.name!) ?? updated));
}

export async function route(ctx: RouteContext, req: Request, resp: ServerResponse): Promise<Reply> {
  const segs = req.url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const head = segs[0];
  // /healthz, /readyz, /livez and their per-check sub-paths (e.g. /readyz/ping) are all healthy.
  if (head === "healthz" || head === "readyz" || head === "livez") return { code: 200, body: "ok", text: true };
  if (segs.length === 1 && head === "version") return ok({ ...VERSION_INFO, ...ctx.version });
  if (head === "api") {
    if (segs.length === 1) return ok(apiVersions(ctx.serverAddress));
    if (segs.length === 2) return ok(apiResourceList("", segs[1]!, ctx.served) ?? notFoundThrow());
    return dispatch(ctx, parseTarget("", segs[1]!, segs.slice(2), ctx.served), req, resp);
  }
  if (head === "apis") {
    if (segs.length === 1) return ok(apiGroupList(ctx.served));
    if (segs.length === 2) return ok(apiGroup(segs[1]!, ctx.served) ?? notFoundThrow());
    if (segs.length === 3) return ok(apiResourceList(segs[1]!, segs[2]!, ctx.served) ?? notFoundThrow());
    return dispatch(ctx, parseTarget(segs[1]!, segs[2]!, segs.slice(3), ctx.served), req, resp);
  }
  throw pathNotFound();
}

function notFoundThrow(): never {
  throw pathNotFound();
}

function dispatch(ctx: RouteContext, t: Target, req: Request, resp: ServerResponse): Promise<Reply> {
  return t.name === undefined ? collection(ctx, t, req, resp) : item(ctx, t, req);
}
